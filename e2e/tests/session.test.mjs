// The saved session (localStorage): a reload resumes paused runs and replays, the bare address
// brings the last session back, and a corrupt saved session is set aside with a notice.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useLab, eventually, DEFAULTS, ANSWER, SESSION_KEY } from './lab-page.mjs';

const lab = useLab();

async function expectDPaused(p) {
  await p.expectField('D', 'answer', /^Paused: send_email is waiting/);
  assert.equal(await p.card('D').approve.isVisible(), true, 'D offers Approve');
}

async function expectMPaused(p) {
  await p.expectField('M', 'answer', /^Paused: update_records is waiting/);
  await p.expectFacts('M', { 'records updated': '1 of 100' });
  assert.equal(await p.card('M').approve.isVisible(), true, 'M offers to confirm the other 99');
}

/** The saved session, parsed (fails if it is missing or not JSON). */
async function savedSession(p) {
  const raw = await p.storage(SESSION_KEY);
  assert.ok(raw, 'a session is saved');
  return JSON.parse(raw);
}

describe('saved session', () => {
  test('a reload keeps D and M paused, and keeps a decision once made', async () => {
    await lab.withLab('', async (p) => {
      await expectDPaused(p);
      await expectMPaused(p);
      await p.reload();
      await expectDPaused(p);
      await expectMPaused(p);

      // Decide M; a reload keeps M decided and D still paused.
      await p.card('M').approve.click();
      await p.expectQuery({ scope_confirm: 'approve' });
      await p.expectFacts('M', { 'records updated': '100 of 100' });
      await p.reload();
      await p.expectFacts('M', { 'records updated': '100 of 100' });
      assert.equal(await p.card('M').approve.count(), 0);
      await expectDPaused(p);
    });
  });

  test('a card that was replaying resumes its replay after a reload', async () => {
    await lab.withLab('', async (p) => {
      // F's run is the longest (11 s of virtual time), so its replay is still going after a reload.
      const f = p.card('F');
      const full = await f.drawnCount();
      await f.play.click();
      await eventually(async () => assert.equal(await f.isPlaying(), true));
      await eventually(async () => assert.deepEqual((await savedSession(p)).playing?.[0], 'F', 'the session saves the replay'));

      await p.reload();
      assert.equal(await f.isPlaying(), true, 'right after the reload, F\'s button reads ■ Stop replay');
      assert.equal(await f.timeline.locator('line.playhead').count(), 1, 'the playhead is drawn');
      assert.ok((await f.drawnCount()) < full, 'the replay is part-way, not the whole run');
      assert.equal(await p.card('A').isPlaying(), false, 'only F resumes');

      // Stopping it is saved too: the next reload does not replay.
      await f.play.click();
      await eventually(async () => assert.equal(await f.isPlaying(), false));
      await eventually(async () => assert.equal((await savedSession(p)).playing ?? null, null));
      await p.reload();
      assert.equal(await f.isPlaying(), false);
      assert.equal(await f.drawnCount(), full);
    });
  });

  test('the bare address brings back the saved settings; a link with a query wins', async () => {
    await lab.withLab('', async (p) => {
      await p.setSlider('failures', 1);
      await p.setSlider('rungs_down', 3);
      await p.card('M').deny.click();
      await p.expectQuery({ failures: '1', rungs_down: '3', scope_confirm: 'deny' });
      await eventually(async () => {
        const s = new URLSearchParams((await savedSession(p)).settings);
        assert.equal(s.get('failures'), '1');
        assert.equal(s.get('rungs_down'), '3');
      });

      await p.goto('');
      await p.expectQuery({ failures: '1', rungs_down: '3', scope_confirm: 'deny' });
      await p.expectOutput('failures', '1');
      await p.expectVerdict('A', /recovered on attempt 2/);
      await p.expectFacts('H', { 'answered by': 'advisory mode' });
      await p.expectField('M', 'answer', /^Stopped after the test record/);

      // A shared link shows what it says, not this browser's session.
      await p.goto('failures=3');
      await p.expectQuery({ failures: '3' });
      await p.expectField('A', 'answer', /^Service unavailable/);
    });
  });

  test('a corrupt saved session is set aside with a notice; the page starts fresh and works', async () => {
    await lab.withLab('failures=4', async (p) => {
      await p.page.evaluate((k) => localStorage.setItem(k, '{garbage'), SESSION_KEY);

      await p.goto('');
      await p.notice.waitFor();
      assert.match(await p.notice.innerText(), /saved session could not be read/);
      await p.expectNoQuery();
      await p.expectOutput('failures', '2');
      await p.expectField('A', 'answer', ANSWER);
      assert.equal(await p.storage(`${SESSION_KEY}.unreadable`), '{garbage', 'the unreadable session is kept aside');

      // The page works and saves a good session again.
      await p.setSlider('failures', 1);
      await p.expectVerdict('A', /recovered on attempt 2/);
      await eventually(async () => assert.equal(new URLSearchParams((await savedSession(p)).settings).get('failures'), '1'));
      assert.equal(await p.storage(`${SESSION_KEY}.unreadable`), '{garbage');
    });
  });
});
