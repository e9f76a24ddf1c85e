// ▶ Play: a card's run replayed in real time on its timeline.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useLab, eventually, SAFE_MESSAGE } from './lab-page.mjs';

describe('replay', () => {
  const lab = useLab();

  async function expectPlaying(card, playing) {
    await eventually(async () => {
      assert.equal(await card.play.getAttribute('aria-pressed'), String(playing), 'aria-pressed');
      assert.equal((await card.play.innerText()).trim(), playing ? '■ Stop replay' : '▶ Play', 'play label');
    });
  }

  test('play draws the run progressively, a second press stops it', async () => {
    await lab.withLab('', async (p) => {
      const a = p.card('A');
      const full = await a.drawnCount();
      assert.ok(full >= 5, `A's timeline has several bars and marks (got ${full})`);
      assert.equal(await a.timeline.locator('line.playhead').count(), 0);

      await a.play.click();
      await expectPlaying(a, true);
      const early = await a.drawnCount();
      assert.ok(early < full, `early in the replay fewer elements are drawn (${early} < ${full})`);
      assert.equal(await a.timeline.locator('line.playhead').count(), 1, 'a playhead is drawn');

      // The drawing grows while the replay runs (A's run lasts about 1.6s of real time).
      await eventually(
        async () => {
          const now = await a.drawnCount();
          assert.ok(now > early && now < full, `drawing grows during the replay (${early} → ${now} of ${full})`);
          assert.equal(await a.play.getAttribute('aria-pressed'), 'true');
        },
        { timeout: 1500, interval: 20 },
      );

      await a.play.click();
      await expectPlaying(a, false);
      assert.equal(await a.drawnCount(), full, 'stopping shows the whole run again');
      assert.equal(await a.timeline.locator('line.playhead').count(), 0, 'no playhead after stopping');
    });
  });

  test('a replay ends by itself and the whole run is drawn again', async () => {
    await lab.withLab('', async (p) => {
      const a = p.card('A');
      const full = await a.timeline.innerHTML();
      await a.play.click();
      await expectPlaying(a, true);
      // At most 8 s of real time (the page's cap); A's run is about 1.6 s.
      await eventually(async () => assert.equal(await a.play.getAttribute('aria-pressed'), 'false'), { timeout: 10000, interval: 50 });
      await expectPlaying(a, false);
      assert.equal(await a.timeline.innerHTML(), full, 'the timeline is back to the full run');
    });
  });

  test('moving a slider during a replay does not break the page', async () => {
    await lab.withLab(
      '',
      async (p, fresh) => {
        const a = p.card('A');
        await a.play.click();
        await expectPlaying(a, true);

        await p.setSlider('failures', 4);
        await p.expectOutput('failures', '4');
        await p.expectField('A', 'answer', SAFE_MESSAGE);
        await p.expectField('A', 'degraded', 'True');
        await p.expectQuery({ failures: '4' });

        // The stale replay stops; the timeline then shows the new run in full, exactly as a
        // fresh page with the same link draws it.
        await eventually(async () => assert.equal(await a.play.getAttribute('aria-pressed'), 'false'), { timeout: 10000, interval: 50 });
        await expectPlaying(a, false);
        await fresh.gotoUrl(await p.href());
        assert.equal(await a.timeline.innerHTML(), await fresh.card('A').timeline.innerHTML());

        // Play still works afterwards, and other cards can replay at the same time.
        const c = p.card('C');
        await a.play.click();
        await c.play.click();
        await expectPlaying(a, true);
        await expectPlaying(c, true);
        await a.play.click();
        await expectPlaying(a, false);
        await expectPlaying(c, true);
        await c.play.click();
        await expectPlaying(c, false);
      },
      { secondPage: true },
    );
  });

  test('replaying card D while deciding keeps the decision', async () => {
    await lab.withLab('', async (p) => {
      const d = p.card('D');
      await d.play.click();
      await expectPlaying(d, true);
      await d.approve.click();
      await p.expectField('D', 'answer', 'Email sent to all-staff@example.com.');
      await p.expectQuery({ approval: 'approve' });
      await eventually(async () => assert.equal(await d.play.getAttribute('aria-pressed'), 'false'), { timeout: 10000, interval: 50 });
    });
  });
});
