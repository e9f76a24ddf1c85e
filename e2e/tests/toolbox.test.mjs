// The failure-first toolbox (cards G–N, each with its own knobs) and the header's kill switch.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { saveScreenshot } from '../lib/harness.mjs';
import { useLab, eventually, ALL_LETTERS, TOOLBOX, ANSWER, SAFE_MESSAGE, KILLED } from './lab-page.mjs';

const lab = useLab();

describe('toolbox cards G–N', () => {
  test('every toolbox card has a result, a verdict and a timeline (screenshots card-G … card-N)', async () => {
    await lab.withLab('', async (p) => {
      for (const l of TOOLBOX) {
        const c = p.card(l);
        assert.notEqual(await c.field('answer'), '', `card ${l} has an answer`);
        assert.match(await c.field('steps'), /^\d+$/, `card ${l} steps`);
        assert.ok((await c.tone()) !== null, `card ${l} has a verdict with a tone: ${await c.verdict()}`);
        assert.ok((await c.drawnCount()) >= 1, `card ${l}'s timeline draws its run`);
        assert.equal(await c.play.isVisible(), true, `card ${l} has ▶ Play`);
        assert.equal(await c.exportButton.isVisible(), true, `card ${l} has Export trace`);
        await saveScreenshot(c.root, `card-${l}`);
      }
    });
  });

  test('G: a blind retry charges the card twice; idempotency keys make it once', async () => {
    await lab.withLab('', async (p) => {
      const g = p.card('G');
      const box = g.knob('idempotency');
      assert.equal(await box.isChecked(), false, 'idempotency keys are off by default');
      await p.expectFacts('G', { charges: '2', duplicates: '1', 'with keys it would be': '1 charge' });
      await p.expectVerdict('G', /^✗ not recovered: .*charged the card again: 2 charges/);

      await box.check();
      await p.expectQuery({ idempotency: 'on' });
      await p.expectFacts('G', { charges: '1', duplicates: '0' });
      await p.expectVerdict('G', /^✓ handled: .*charged once$/);
      assert.match(await g.field('answer'), /^Payment done: charged \$25\.00/);

      await box.uncheck();
      await p.expectQuery({ idempotency: undefined }); // off is the default: the short link leaves it out
      await p.expectFacts('G', { charges: '2', duplicates: '1' });
    });
  });

  test('H: every rung down the fallback ladder is named and counted', async () => {
    await lab.withLab('', async (p) => {
      await p.expectFacts('H', { 'answered by': 'backup (simpler prompt)', 'fallbacks used': '1' });
      assert.equal(await p.card('H').tone(), 'handled');
      const ladder = [
        [0, 'primary', '0', ANSWER, 'no fault'],
        [2, 'cached answer', '2', /^The answer is 391\. \(cached answer/, 'handled'],
        [3, 'advisory mode', '3', /^Suggestion for a human:/, 'handled'],
        [4, 'none', '3', SAFE_MESSAGE, 'degraded safely'],
        [1, 'backup (simpler prompt)', '1', /^The answer is 391\. \(backup model/, 'handled'],
      ];
      for (const [rungs, by, used, answer, tone] of ladder) {
        await p.setSlider('rungs_down', rungs);
        await p.expectQuery({ rungs_down: rungs === 1 ? undefined : rungs }); // 1 is the default: left out of the link
        await p.expectFacts('H', { 'answered by': by, 'fallbacks used': used });
        await p.expectField('H', 'answer', answer);
        assert.equal(await p.card('H').tone(), tone, `H's tone with ${rungs} rungs down`);
      }
      await p.setSlider('rungs_down', 4);
      await p.expectField('H', 'degraded', 'True');
    });
  });

  test('I: repeated errors hand off with a ticket a human can copy; too late a threshold files none', async () => {
    await lab.withLab(
      '',
      async (p) => {
        const i = p.card('I');
        const ticket = i.root.getByTestId('handoff');
        await p.expectField('I', 'answer', /^Escalated to a human \(ticket TCK-[0-9a-f]+\): 503 Service Unavailable from model primary, 3 times\.$/);
        const terms = await ticket.evaluate((t) =>
          Object.fromEntries([...t.querySelectorAll('dt')].map((dt) => [dt.textContent.trim(), dt.nextElementSibling.textContent.trim()])),
        );
        assert.deepEqual(Object.keys(terms), ['user asked', 'plan', 'steps done', 'failing step', 'error', 'next step']);
        assert.equal(terms['user asked'], 'What is 17 x 23?');
        assert.equal(terms.error, '503 Service Unavailable');
        assert.ok(terms['next step'].length > 0, 'the ticket suggests a next step');

        await ticket.getByTestId('copy-ticket').click();
        await eventually(async () => assert.match(await ticket.locator('.copy-status').innerText(), /copied/i));
        const copied = JSON.parse(await p.page.evaluate(() => navigator.clipboard.readText()));
        assert.equal(copied.user_input, 'What is 17 x 23?');
        assert.equal(copied.error, '503 Service Unavailable');
        assert.equal(copied.failing_step, terms['failing step']);
        assert.ok(Array.isArray(copied.plan) && copied.plan.length >= 1, 'the JSON ticket has the plan');

        await p.setSlider('escalate_after', 1);
        await p.expectField('I', 'answer', /from model primary, once\.$/);
        assert.equal(await ticket.count(), 1, 'a ticket after one error');

        for (const n of [7, 8]) {
          await p.setSlider('escalate_after', n);
          await p.expectQuery({ escalate_after: n });
          await p.expectField('I', 'answer', SAFE_MESSAGE);
          await eventually(async () => assert.equal(await ticket.count(), 0, `no ticket with escalate_after ${n}`));
          await p.expectVerdict('I', /^⚠ degraded safely: no model returned the same error often enough to escalate/);
        }
      },
      { permissions: ['clipboard-read', 'clipboard-write'] },
    );
  });

  test('J: whichever budget is reached first stops the run and is marked fired', async () => {
    await lab.withLab('', async (p) => {
      const gauges = p.card('J').root.locator('[data-testid="gauges"] li');
      const fired = async () => {
        assert.equal(await gauges.count(), 4, 'four gauges');
        const names = await gauges.evaluateAll((ls) => ls.map((l) => l.querySelector('.gauge-name').textContent.trim()));
        assert.deepEqual(names.map((n) => n.replace(/\s*■ fired$/, '')), ['turn', 'token', 'cost', 'wall-time']);
        const on = await p.card('J').root.locator('[data-testid="gauges"] li.fired').allInnerTexts();
        assert.equal(on.length, 1, `exactly one gauge fired: ${JSON.stringify(on)}`);
        assert.match(on[0], /■ fired/);
        return on[0].split(/\s/)[0];
      };
      await eventually(async () => assert.equal(await fired(), 'token'));
      await p.expectVerdict('J', /^✓ handled: the token cap fired first/);
      await p.expectField('J', 'answer', /^Stopped: token budget of 8000 used up/);

      await p.setSlider('max_turns', 3);
      await p.expectQuery({ max_turns: 3 });
      await p.expectVerdict('J', '✓ handled: the turn cap fired first');
      await eventually(async () => assert.equal(await fired(), 'turn'));

      await p.setSlider('max_turns', 10);
      await p.setSlider('max_cost', 0.01);
      await p.expectVerdict('J', '✓ handled: the cost cap fired first');
      await eventually(async () => assert.equal(await fired(), 'cost'));

      await p.setSlider('max_cost', 0.05);
      await p.setSlider('max_wall', 0.1);
      await p.expectVerdict('J', '✓ handled: the wall-time cap fired first');
      await eventually(async () => assert.equal(await fired(), 'wall-time'));
      await p.expectField('J', 'degraded', 'True');
    });
  });

  test('K: the switch flipped mid-run stops it within one step, unless the step cap comes first', async () => {
    await lab.withLab('', async (p) => {
      await p.expectField('K', 'answer', KILLED);
      await p.expectVerdict('K', /stopped within one step$/);
      const at01 = Number(await p.card('K').field('steps'));

      await p.setSlider('kill_at', 0.3);
      await p.expectQuery({ kill_at: '0.3' });
      await p.expectField('K', 'answer', KILLED);
      await eventually(async () => assert.ok(Number(await p.card('K').field('steps')) > at01, 'a later switch lets more steps run'));

      await p.setSlider('kill_at', 0.5);
      await p.expectField('K', 'answer', /^Stopped: exceeded \d+ steps/);
      await p.expectVerdict('K', /^✓ handled: the step cap stopped the loop at step 13 \(max_steps 12\) at [\d.]+s, before the kill switch went on$/);
    });
  });

  test('L: transient errors are retried, permanent ones are not', async () => {
    await lab.withLab('', async (p) => {
      await p.expectFacts('L', { 'retry?': 'yes', 'backoff?': 'yes' });
      await p.expectField('L', 'answer', ANSWER);
      for (const err of ['500', 'timeout', 'network', '429']) {
        await p.select('error', err);
        await p.expectQuery({ error: err });
        await p.expectFacts('L', { 'retry?': 'yes' });
        await p.expectField('L', 'answer', ANSWER);
        await p.expectField('L', 'degraded', 'False');
      }
      // 429 waits as long as the server's Retry-After says.
      await p.expectVerdict('L', /waiting 2\.0s and 2\.0s/);

      for (const err of ['400', '401', '403', '404', 'invalid_args']) {
        await p.select('error', err);
        await p.expectQuery({ error: err });
        await p.expectFacts('L', { 'retry?': 'no', 'backoff?': 'no' });
        await p.expectField('L', 'degraded', 'True');
        await p.expectVerdict('L', /not retried/);
      }
      await p.select('error', '400');
      await p.expectFacts('L', { 'alert a human?': 'yes' });
      // A permanent error says so, instead of "try again later".
      await p.expectField('L', 'answer', /^Sorry, I could not do that: the service rejected the request \(400 Bad Request\)\. Trying again will not help/);
      await p.expectField('L', 'steps', /^[01]$/);
    });
  });

  test('M: a bulk change pauses after one test record until a human confirms or stops it', async () => {
    await lab.withLab('', async (p) => {
      const m = p.card('M');
      await p.expectField('M', 'answer', /^Paused: update_records is waiting/);
      await p.expectFacts('M', { 'records updated': '1 of 100' });
      assert.equal(await m.tone(), 'waiting');
      assert.equal((await m.approve.innerText()).trim(), '✓ Confirm the other 99');
      assert.equal((await m.deny.innerText()).trim(), '✗ Stop here');

      await m.approve.click();
      await p.expectQuery({ scope_confirm: 'approve' });
      await p.expectFacts('M', { 'records updated': '100 of 100' });
      assert.equal(await m.approve.count(), 0, 'the decision buttons go once decided');

      await m.askAgain.click();
      await p.expectFacts('M', { 'records updated': '1 of 100' });
      await m.deny.click();
      await p.expectQuery({ scope_confirm: 'deny' });
      await p.expectFacts('M', { 'records updated': '1 of 100' });
      await eventually(async () => assert.notEqual(await m.tone(), 'waiting'));
      assert.doesNotMatch(await m.field('answer'), /^Paused/);
    });
  });

  test('N: below the critic threshold the answer is revised once, never more', async () => {
    await lab.withLab('', async (p) => {
      await p.expectFacts('N', { 'critic scores': '5/10 then 8/10' });
      await p.expectVerdict('N', /revised once/);

      await p.setSlider('critic_threshold', 5);
      await p.expectQuery({ critic_threshold: 5 });
      await p.expectFacts('N', { 'critic scores': '5/10' });
      await p.expectVerdict('N', '• no fault');

      for (const t of [9, 10]) {
        await p.setSlider('critic_threshold', t);
        await p.expectFacts('N', { 'critic scores': '5/10 then 8/10' });
        await p.expectVerdict('N', /one revision is the limit/);
      }
    });
  });
});

describe('kill switch', () => {
  async function expectSwitch(p, on) {
    await eventually(async () => {
      assert.equal(await p.killSwitch.getAttribute('aria-pressed'), String(on));
      assert.equal((await p.killSwitch.innerText()).trim(), on ? '■ Kill switch ON: runs stopped' : 'Kill switch: off');
    });
    await p.expectQuery({ kill: on ? 'on' : undefined });
  }

  /** Polls until every card shows the kill switch's stop, before its first step. */
  async function expectAllKilled(p) {
    for (const l of ALL_LETTERS) {
      if (l === 'F') await p.expectField('F', 'answer', '1 of 12 requests: 0 answered, 1 stopped by the kill switch; 0 calls reached the service');
      else await p.expectField(l, 'answer', KILLED);
      await p.expectField(l, 'steps', '0');
    }
  }

  test('on stops every run before its first step; off brings the runs back', async () => {
    await lab.withLab('', async (p) => {
      await expectSwitch(p, false);
      const before = {};
      for (const l of ALL_LETTERS) before[l] = await p.card(l).snapshot();

      await p.killSwitch.click();
      await expectSwitch(p, true);
      await expectAllKilled(p);

      // The link keeps it on.
      await p.reload();
      await expectSwitch(p, true);
      await expectAllKilled(p);

      await p.killSwitch.click();
      await expectSwitch(p, false);
      await p.expectField('A', 'answer', ANSWER);
      for (const l of ALL_LETTERS) {
        await eventually(async () => assert.deepEqual(await p.card(l).snapshot(), before[l], `card ${l} is back to its run`));
      }
    });
  });

  test(
    'while on, every verdict says the kill switch stopped the run',
    async () => {
      await lab.withLab('kill=on', async (p) => {
        await expectAllKilled(p);
        const wrong = [];
        for (const l of ALL_LETTERS) {
          const v = await p.card(l).verdict();
          if (!/kill switch/.test(v)) wrong.push(`${l}: ${v}`);
        }
        assert.deepEqual(wrong, [], 'verdicts that do not mention the kill switch');
      });
    },
  );

  test('flipped during a replay of B, B stops where its replay was and the replay ends', async () => {
    await lab.withLab('', async (p) => {
      const b = p.card('B');
      const fullSteps = Number(await b.field('steps'));
      const full = await b.drawnCount();
      await b.play.click();
      await eventually(async () => assert.equal(await b.isPlaying(), true));
      // Let the replay get past its first step (the drawing grows), then flip the switch.
      const early = await b.drawnCount();
      await eventually(async () => assert.ok((await b.drawnCount()) > early, 'the replay advances'), { timeout: 5000, interval: 20 });
      await p.killSwitch.click();
      await expectSwitch(p, true);

      await p.expectField('B', 'answer', KILLED);
      const steps = Number(await b.field('steps'));
      assert.ok(steps >= 1 && steps <= fullSteps, `B stopped where the replay was: ${steps} step(s) (full run: ${fullSteps})`);
      await eventually(async () => assert.equal(await b.isPlaying(), false, 'B\'s replay stopped'));
      await p.expectField('A', 'steps', '0'); // a card that was not replaying stops before its first step

      await p.killSwitch.click();
      await expectSwitch(p, false);
      await p.expectField('B', 'answer', 'Stopped: exceeded 4 steps (possible runaway loop)');
      await p.expectField('B', 'steps', String(fullSteps));
      await eventually(async () => assert.equal(await b.drawnCount(), full));
    });
  });

  test('D paused for approval: its Approve and Deny go while the switch is on and come back after', async () => {
    await lab.withLab('', async (p) => {
      const d = p.card('D');
      await p.expectField('D', 'answer', /^Paused: send_email is waiting/);
      assert.equal(await d.approve.isVisible(), true);

      await p.killSwitch.click();
      await expectSwitch(p, true);
      await p.expectField('D', 'answer', KILLED);
      await eventually(async () => {
        assert.equal(await d.approve.count(), 0, 'no Approve while the switch is on');
        assert.equal(await d.deny.count(), 0, 'no Deny while the switch is on');
      });
      assert.equal(await p.card('M').approve.count(), 0, 'nor on M');

      await p.killSwitch.click();
      await expectSwitch(p, false);
      await p.expectField('D', 'answer', /^Paused: send_email is waiting/);
      assert.equal(await d.approve.isVisible(), true);
      await d.approve.click();
      await p.expectField('D', 'answer', 'Email sent to all-staff@example.com.');
    });
  });
});
