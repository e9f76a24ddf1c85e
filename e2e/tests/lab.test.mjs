// The lab with its defaults: what every card shows when a visitor just opens the page.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { saveScreenshot } from '../lib/harness.mjs';
import { useLab, eventually, LETTERS, DEFAULTS, SAFE_MESSAGE, ANSWER } from './lab-page.mjs';

describe('the lab with its defaults', () => {
  const lab = useLab();

  test('every card shows the lab\'s default outcome, without errors; screenshots saved', async () => {
    await lab.withLab('', async (p) => {
      const s = await p.snapshotAll();

      // A: the flaky model fails twice, the third attempt works.
      assert.equal(s.A.answer, ANSWER);
      assert.equal(s.A.steps, '2');
      assert.equal(s.A.blocked, '[]');
      assert.equal(s.A.degraded, 'False');
      assert.equal(s.A.verdict, '✓ handled: retry recovered on attempt 3 after waiting 0.5s and 1.0s');

      // B: the runaway loop is stopped by the step cap.
      assert.equal(s.B.answer, 'Stopped: exceeded 4 steps (possible runaway loop)');
      assert.equal(s.B.steps, '5');
      assert.equal(s.B.degraded, 'True');
      assert.match(s.B.verdict, /^✓ handled: /);

      // C: the service is down; the agent degrades to a safe message.
      assert.equal(s.C.answer, SAFE_MESSAGE);
      assert.equal(s.C.degraded, 'True');
      assert.match(s.C.verdict, /^⚠ degraded safely: /);

      // D: the risky tool waits for a human.
      assert.match(s.D.answer, /^Paused: send_email is waiting/);
      assert.equal(s.D.blocked, '[]', 'nothing is blocked while it waits');
      assert.match(s.D.verdict, /^… waiting: /);
      assert.equal(await p.card('D').tone(), 'waiting');
      assert.equal(await p.card('D').approve.isVisible(), true, 'D offers Approve while paused');
      assert.equal(await p.card('D').deny.isVisible(), true, 'D offers Deny while paused');
      assert.equal(await p.card('D').askAgain.count(), 0, 'no ask-again before a decision');

      // E: the slow call (1.5s) hits the 0.05s timeout.
      assert.match(s.E.used, /slow call takes\s*1\.5s/);
      assert.equal(s.E.answer, SAFE_MESSAGE);
      assert.equal(s.E.degraded, 'True');
      assert.match(s.E.verdict, /gave up on the hung call 3 times, each time after 0\.05s/);
      // The handout's own line for E, on the card.
      assert.match(await p.card('E').root.getByTestId('lines').innerText(), /caught: call timed out after 0\.05s/);

      // F: the circuit breaker.
      assert.match(
        s.F.verdict,
        /^✓ handled: the breaker opened at 1\.56s after 3 failures in a row; 6 requests failed fast /,
      );

      // Every card has its timeline and its buttons.
      for (const l of LETTERS) {
        const c = p.card(l);
        assert.ok((await c.drawnCount()) > 0, `card ${l} draws a timeline`);
        assert.equal((await c.play.innerText()).trim(), '▶ Play', `card ${l} play label`);
        assert.equal(await c.play.getAttribute('aria-pressed'), 'false', `card ${l} play not pressed`);
        assert.equal(await c.copy.isVisible(), true, `card ${l} has a copy button`);
      }

      // No notice for a clean link, and a page at its defaults has no query at all.
      assert.equal(await p.notice.count(), 0);
      await p.expectNoQuery();

      await saveScreenshot(p.page, 'page-full');
      for (const l of LETTERS) await saveScreenshot(p.card(l).root, `card-${l}`);

      const bad = lab.server.requests.filter((r) => r.status >= 400);
      assert.deepEqual(bad, [], 'no request to the server failed');
    });
  });

  test('reset brings every knob and card back to the defaults, and the URL too', async () => {
    await lab.withLab('failures=5&max_steps=9&timeout=2&attempts=2&base_delay=1&seed=77&breaker_threshold=6&breaker_cooldown=10&jitter=equal&approval=deny', async (p) => {
      const defaults = await lab.withLab(
        '',
        async (q) => ({ cards: await q.snapshotAll(), knobs: await q.knobValues() }),
        { assertNoErrors: false },
      );
      assert.notDeepEqual(await p.snapshotAll(), defaults.cards, 'the non-default link changes the cards');

      await p.reset.click();
      await p.expectNoQuery();
      assert.deepEqual(await p.knobValues(), defaults.knobs);
      assert.deepEqual(await p.snapshotAll(), defaults.cards);
    });
  });

  test('Copy transcript puts the run and its link on the clipboard', async () => {
    await lab.withLab(
      '',
      async (p) => {
        const a = p.card('A');
        await a.copy.click();
        const status = a.root.locator('.copy-status');
        await eventually(async () => assert.equal((await status.innerText()).trim(), 'Transcript copied.'));
        const copied = await p.page.evaluate(() => navigator.clipboard.readText());
        assert.match(copied, /^Agent Reliability Lab, card A: /);
        assert.ok(copied.includes('verdict: handled: retry recovered on attempt 3 after waiting 0.5s and 1.0s'), copied);
        assert.ok(copied.includes(`link: ${await p.href()}`), 'the transcript ends with the permalink');
        assert.equal(await a.root.locator('textarea').count(), 0, 'no fallback text when the copy worked');
      },
      {
        beforeGoto: (p) =>
          p.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(lab.server.url).origin }),
      },
    );
  });

  test('when the clipboard is refused, the transcript is shown to select by hand', async () => {
    await lab.withLab(
      '',
      async (p) => {
        const c = p.card('C');
        await c.copy.click();
        const fallback = c.root.locator('textarea');
        await fallback.waitFor();
        assert.match(await c.root.locator('.copy-status').innerText(), /^Could not copy/);
        const text = await fallback.inputValue();
        assert.match(text, /^Agent Reliability Lab, card C: /);
        assert.ok(text.includes(`link: ${await p.href()}`));
      },
      {
        // Make this browser refuse clipboard writes, as one without the permission does.
        beforeGoto: (p) =>
          p.context.addInitScript(() => {
            navigator.clipboard.writeText = () => Promise.reject(new DOMException('Write permission denied.', 'NotAllowedError'));
          }),
      },
    );
  });
});
