// The link in the address bar: it reproduces the page, and a broken one never breaks it.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useLab, eventually, LETTERS, DEFAULTS, DEFAULT_QUERY, SAFE_MESSAGE, ANSWER } from './lab-page.mjs';

const SHARED =
  'failures=3&max_steps=2&timeout=1.5&attempts=4&base_delay=0.25&jitter=full&seed=7&approval=approve';

const lab = useLab();

describe('the link reproduces the page', () => {

  test('a link with non-default values sets the knobs and the cards, and survives a reload', async () => {
    await lab.withLab(SHARED, async (p) => {
      assert.equal(await p.notice.count(), 0, 'a good link shows no notice');

      // The knobs show the link's values.
      const knobs = await p.knobValues();
      assert.equal(knobs.failures, '3');
      assert.equal(knobs.max_steps, '2');
      assert.equal(knobs.timeout, '1.5s');
      assert.equal(knobs.attempts, '4');
      assert.equal(knobs.base_delay, '0.25s');
      assert.equal(knobs.seed, '7');
      assert.equal(knobs['seed-input'], '7');
      assert.equal(knobs.jitter, 'full');
      assert.equal(await p.knob('failures').inputValue(), '3');
      assert.equal(await p.knob('timeout').inputValue(), '1.5');

      // The cards reflect them.
      const s = await p.snapshotAll();
      assert.equal(s.A.answer, ANSWER, 'A: 3 failures < 4 attempts recovers');
      assert.equal(s.A.degraded, 'False');
      assert.match(s.A.verdict, /^✓ handled: retry recovered on attempt 4 /);
      assert.match(s.A.used, /jitter\s*full/);
      assert.equal(s.B.answer, 'Stopped: exceeded 2 steps (possible runaway loop)');
      assert.equal(s.B.steps, '3');
      assert.equal(s.D.answer, 'Email sent to all-staff@example.com.');
      assert.equal(s.D.blocked, '[]');
      assert.equal(s.E.answer, ANSWER, 'E: a 1.5s timeout lets the 1.5s call finish');
      assert.equal(s.E.degraded, 'False');

      // The address bar is rewritten to the short permalink: every value that differs from the
      // defaults, and nothing else (breaker_threshold 3 and breaker_cooldown 5 are defaults).
      await p.expectQuery({ approval: 'approve' });
      assert.deepEqual(await p.contractQuery(), {
        failures: '3',
        max_steps: '2',
        timeout: '1.5',
        attempts: '4',
        base_delay: '0.25',
        seed: '7',
        jitter: 'full',
        approval: 'approve',
      });

      // Determinism: a reload shows exactly the same texts, jitter included.
      await p.reload();
      assert.deepEqual(await p.snapshotAll(), s, 'same results and verdicts after a reload');
      assert.deepEqual(await p.knobValues(), knobs);
    });
  });

  test('a link copied after moving the knobs opens the same page elsewhere', async () => {
    await lab.withLab(
      '',
      async (p, q) => {
        await p.setSlider('failures', 4);
        await p.setSlider('max_steps', 7);
        await p.setSlider('timeout', 0.35);
        await p.openAdvanced();
        await p.setSlider('attempts', 6);
        await p.setSlider('base_delay', 0.15);
        await p.setSlider('breaker_threshold', 2);
        await p.setSlider('breaker_cooldown', 1.5);
        await p.setSeed(31337);
        await p.setJitter('decorrelated');
        await p.card('D').deny.click();
        await p.expectQuery({
          failures: '4',
          max_steps: '7',
          timeout: '0.35',
          attempts: '6',
          base_delay: '0.15',
          breaker_threshold: '2',
          breaker_cooldown: '1.5',
          seed: '31337',
          jitter: 'decorrelated',
          approval: 'deny',
        });
        const link = await p.href();
        const cards = await p.snapshotAll();
        const knobs = await p.knobValues();

        // Another visitor (fresh context, no shared state) opens the copied link.
        await q.gotoUrl(link);
        assert.equal(await q.notice.count(), 0);
        assert.deepEqual(await q.knobValues(), knobs, 'same knob values');
        assert.deepEqual(await q.snapshotAll(), cards, 'same results and verdicts');
        assert.equal(await q.href(), link, 'the link is already canonical');
      },
      { secondPage: true },
    );
  });
});

describe('a broken link', () => {

  test('lists every ignored value, keeps the good ones, uses defaults for the rest', async () => {
    await lab.withLab('max_steps=99&timeout=abc&jitter=wild&bogus=1&failures=3&attempts=4&approval=maybe', async (p) => {
      await p.notice.waitFor();
      const items = (await p.notice.locator('li').allInnerTexts()).map((t) => t.trim());
      assert.deepEqual(items, [
        'max_steps="99" ignored: must be 1 to 12; using the default 4',
        'timeout="abc" ignored: is not a number; using the default 0.05',
        'jitter="wild" ignored: must be one of none, full, equal, decorrelated; using the default none',
        'approval="maybe" ignored: must be one of pending, approve, deny; using the default pending',
        'unknown setting `bogus` ignored',
      ]);
      assert.equal(await p.notice.getAttribute('role'), 'alert');

      // Broken values fall back to the defaults…
      const knobs = await p.knobValues();
      assert.equal(knobs.max_steps, '4');
      assert.equal(knobs.timeout, '0.05s');
      assert.equal(knobs.jitter, 'none');
      // …and the good ones are kept.
      assert.equal(knobs.failures, '3');
      assert.equal(knobs.attempts, '4');

      const s = await p.snapshotAll();
      assert.equal(s.A.answer, ANSWER, 'A with failures 3 and attempts 4 recovers');
      assert.match(s.A.verdict, /^✓ handled: retry recovered on attempt 4 /);
      assert.equal(s.B.answer, 'Stopped: exceeded 4 steps (possible runaway loop)');
      assert.equal(s.B.steps, '5');
      assert.match(s.D.answer, /^Paused: send_email is waiting/);
      assert.equal(s.E.answer, SAFE_MESSAGE);
      assert.match(s.E.verdict, /gave up on the hung call 4 times, each time after 0\.05s/);

      // The address bar drops what was ignored and keeps only what differs from the defaults.
      await p.expectQuery({ max_steps: undefined, timeout: undefined, jitter: undefined, failures: '3', attempts: '4', bogus: undefined, approval: undefined });
      assert.deepEqual(await p.query(), { failures: '3', attempts: '4' });

      // The page still works: a slider moves the cards.
      await p.setSlider('max_steps', 6);
      await p.expectField('B', 'answer', 'Stopped: exceeded 6 steps (possible runaway loop)');

      // The notice can be dismissed.
      await p.notice.getByRole('button', { name: 'Dismiss' }).click();
      await eventually(async () => assert.equal(await p.notice.count(), 0));
    });
  });

  test('reset also clears the notice', async () => {
    await lab.withLab('max_steps=99', async (p) => {
      await p.notice.waitFor();
      await p.reset.click();
      await eventually(async () => assert.equal(await p.notice.count(), 0));
      await p.expectNoQuery();
    });
  });

  test('a repeated setting: the first value is used and the second is reported', async () => {
    await lab.withLab('failures=1&failures=5', async (p) => {
      await p.notice.waitFor();
      assert.match(await p.notice.innerText(), /`failures` appears more than once; only its first value was read/);
      assert.equal(await p.outputText('failures'), '1');
      assert.match(await p.card('A').verdict(), /recovered on attempt 2/);
    });
  });

  for (const garbage of ['?%%%&=&timeout=', '?&&&', '?timeout=1e400&failures=-0&seed=1.5', '?jitter=%F0%9F%92%A5&%E0%A4=x&max_steps=%', '?' + 'x'.repeat(4000)]) {
    test(`garbage ${JSON.stringify(garbage.slice(0, 40))} does not blank the page`, async () => {
      await lab.withLab(garbage, async (p) => {
        // Every card renders, with the defaults' outcomes.
        for (const l of LETTERS) {
          assert.equal(await p.card(l).root.isVisible(), true, `card ${l} visible`);
        }
        await p.expectField('B', 'answer', 'Stopped: exceeded 4 steps (possible runaway loop)');
        await p.expectField('E', 'answer', SAFE_MESSAGE);
        assert.equal(await p.outputText('timeout'), '0.05s');
        assert.equal(await p.outputText('max_steps'), '4');
        assert.equal(await p.knob('failures').isVisible(), true);
        // The page is still interactive.
        await p.setSlider('failures', 4);
        await p.expectField('A', 'degraded', 'True');
      });
    });
  }

  test('an old long link spelling every default opens without a notice and becomes the short link', async () => {
    await lab.withLab(DEFAULT_QUERY, async (p) => {
      assert.equal(await p.notice.count(), 0);
      await p.expectNoQuery();
      await p.expectField('A', 'answer', ANSWER);
    });
  });
});
