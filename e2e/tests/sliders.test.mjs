// Moving the sliders: each move shows the new value, rewrites the link and re-runs the cards.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useLab, eventually, SAFE_MESSAGE, ANSWER } from './lab-page.mjs';

describe('sliders', () => {
  const lab = useLab();

  test('failures 1 and 3 flip card A between recovered and degraded safely', () =>
    lab.withLab('', async (p) => {
      await p.setSlider('failures', 1);
      await p.expectOutput('failures', '1');
      await p.expectQuery({ failures: '1' });
      await p.expectField('A', 'answer', ANSWER);
      await p.expectField('A', 'degraded', 'False');
      await p.expectVerdict('A', '✓ handled: retry recovered on attempt 2 after waiting 0.5s');
      assert.equal(await p.knob('failures').getAttribute('aria-valuetext'), '1');

      await p.setSlider('failures', 3);
      await p.expectOutput('failures', '3');
      await p.expectQuery({ failures: '3' });
      await p.expectField('A', 'answer', SAFE_MESSAGE);
      await p.expectField('A', 'degraded', 'True');
      assert.equal(await p.card('A').tone(), 'degraded safely');
      assert.match(await p.card('A').verdict(), /^⚠ degraded safely: /);
      assert.equal(await p.knob('failures').getAttribute('aria-valuetext'), '3');

      // No failures at all: the first attempt works.
      await p.setSlider('failures', 0);
      await p.expectOutput('failures', '0');
      await p.expectQuery({ failures: '0' });
      await p.expectField('A', 'answer', ANSWER);
      await p.expectField('A', 'degraded', 'False');
    }));

  test('the failure count only changes card A', () =>
    lab.withLab('', async (p) => {
      const before = await p.snapshotAll();
      await p.setSlider('failures', 5);
      await p.expectField('A', 'answer', SAFE_MESSAGE);
      const after = await p.snapshotAll();
      for (const l of ['B', 'C', 'D', 'E', 'F']) {
        assert.deepEqual(after[l], before[l], `card ${l} does not depend on the failure count`);
      }
    }));

  test('max_steps 2 and 8 change B\'s message and step count', () =>
    lab.withLab('', async (p) => {
      await p.setSlider('max_steps', 2);
      await p.expectOutput('max_steps', '2');
      await p.expectQuery({ max_steps: '2' });
      await p.expectField('B', 'answer', 'Stopped: exceeded 2 steps (possible runaway loop)');
      await p.expectField('B', 'steps', '3');
      await p.expectField('B', 'degraded', 'True');

      await p.setSlider('max_steps', 8);
      await p.expectOutput('max_steps', '8');
      await p.expectQuery({ max_steps: '8' });
      await p.expectField('B', 'answer', 'Stopped: exceeded 8 steps (possible runaway loop)');
      await p.expectField('B', 'steps', '9');
      assert.match((await p.card('B').snapshot()).used, /max_steps\s*8/, 'B lists the knob it uses');
    }));

  test('timeout 1.5 and 5 let E finish; 1.45 still times out', () =>
    lab.withLab('', async (p) => {
      await p.setSlider('timeout', 1.5);
      await p.expectOutput('timeout', '1.5s');
      await p.expectQuery({ timeout: '1.5' });
      await p.expectField('E', 'answer', ANSWER);
      await p.expectField('E', 'degraded', 'False');
      await p.expectVerdict('E', '• no fault: the call took 1.5s, within the timeout: nothing was given up on');
      assert.equal(await p.card('E').tone(), 'no fault');
      assert.equal(await p.knob('timeout').getAttribute('aria-valuetext'), '1.5s');

      await p.setSlider('timeout', 5);
      await p.expectOutput('timeout', '5.0s');
      await p.expectQuery({ timeout: '5' });
      await p.expectField('E', 'answer', ANSWER);
      await p.expectVerdict('E', '• no fault: the call took 1.5s, within the timeout: nothing was given up on');

      await p.setSlider('timeout', 1.45);
      await p.expectOutput('timeout', '1.45s');
      await p.expectQuery({ timeout: '1.45' });
      await p.expectField('E', 'answer', SAFE_MESSAGE);
      await p.expectField('E', 'degraded', 'True');
      await p.expectVerdict('E', /gave up on the hung call 3 times, each time after 1\.45s/);
      assert.match((await p.card('E').snapshot()).used, /slow call takes\s*1\.5s/);
    }));

  test('raising attempts to 5 lets A recover from 3 failures again; 5 failures do not', () =>
    lab.withLab('', async (p) => {
      await p.setSlider('failures', 3);
      await p.expectField('A', 'degraded', 'True');

      await p.openAdvanced();
      await p.setSlider('attempts', 5);
      await p.expectOutput('attempts', '5');
      await p.expectQuery({ attempts: '5', failures: '3' });
      await p.expectField('A', 'answer', ANSWER);
      await p.expectField('A', 'degraded', 'False');
      await p.expectVerdict('A', '✓ handled: retry recovered on attempt 4 ');

      // failures == attempts is the boundary: no attempt is left to succeed.
      await p.setSlider('failures', 5);
      await p.expectField('A', 'answer', SAFE_MESSAGE);
      await p.expectField('A', 'degraded', 'True');
      assert.equal(await p.card('A').tone(), 'degraded safely');

      await p.setSlider('failures', 6);
      await p.expectOutput('failures', '6');
      await p.expectField('A', 'degraded', 'True');
      assert.equal(await p.card('A').tone(), 'degraded safely');
    }));

  test('the advanced knobs show their values and land in the link', () =>
    lab.withLab('', async (p) => {
      await p.openAdvanced();
      await p.setSlider('base_delay', 0.25);
      await p.expectOutput('base_delay', '0.25s');
      await p.expectVerdict('A', '✓ handled: retry recovered on attempt 3 after waiting 0.25s and 0.5s');

      await p.setSlider('breaker_threshold', 4);
      await p.expectOutput('breaker_threshold', '4');
      await p.setSlider('breaker_cooldown', 2.5);
      await p.expectOutput('breaker_cooldown', '2.5s');
      await p.setSeed(4242);
      await p.expectOutput('seed', '4242');
      await p.setJitter('decorrelated');
      await p.expectQuery({
        base_delay: '0.25',
        breaker_threshold: '4',
        breaker_cooldown: '2.5',
        seed: '4242',
        jitter: 'decorrelated',
      });
      assert.match((await p.card('F').snapshot()).used, /breaker_threshold\s*4/);
      assert.match((await p.card('A').snapshot()).used, /jitter\s*decorrelated/);
    }));

  test('an out-of-range seed is refused with a message and changes nothing', () =>
    lab.withLab('', async (p) => {
      const before = await p.snapshotAll();
      await p.setSeed(1000000);
      const error = p.page.locator('.knob', { has: p.knob('seed') }).locator('.knob-error');
      await eventually(async () => assert.equal((await error.innerText()).trim(), '"1000000" ignored: Seed must be 0 to 999999'));
      assert.equal(await p.outputText('seed'), '1', 'the seed in use is still 1');
      await p.expectQuery({ seed: undefined }); // still the default: a short link leaves it out
      assert.deepEqual(await p.snapshotAll(), before);

      // A good value clears the message.
      await p.setSeed(999999);
      await p.expectOutput('seed', '999999');
      await p.expectQuery({ seed: '999999' });
      assert.equal((await error.innerText()).trim(), '');
    }));

  test('reset clears the message about a refused seed', () =>
    lab.withLab('', async (p) => {
      await p.setSeed(1000000);
      const error = p.page.locator('.knob', { has: p.knob('seed') }).locator('.knob-error');
      await eventually(async () => assert.match(await error.innerText(), /ignored/));
      await p.reset.click();
      await p.expectOutput('seed', '1');
      await eventually(async () => assert.equal(await p.knob('seed').inputValue(), '1'));
      // The seed field shows 1, so a message saying "1000000" was ignored is stale.
      await eventually(
        async () => assert.equal((await error.innerText()).trim(), '', 'the refused-seed message is still shown after reset'),
        { timeout: 1000 },
      );
    }));
});
