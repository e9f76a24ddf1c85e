// Keyboard use and a phone-sized screen.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { saveScreenshot } from '../lib/harness.mjs';
import { useLab, eventually, LETTERS, SAFE_MESSAGE } from './lab-page.mjs';

const PHONE = { width: 390, height: 844 };

const lab = useLab();

/** What has the keyboard focus: its data-testid, else its tag and text. */
function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return 'body';
    return el.dataset.testid || `${el.tagName.toLowerCase()}:${el.textContent.trim().slice(0, 30)}`;
  });
}

/** Presses Tab until `testid` has the focus; returns the elements passed on the way. */
async function tabTo(page, testid, max = 15) {
  const seen = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    seen.push(f);
    if (f === testid) return seen;
  }
  assert.fail(`Tab never reached ${testid}; focus went through ${JSON.stringify(seen)}`);
}

describe('keyboard', () => {
  test('Tab reaches the sliders and the arrow keys move them', async () => {
    await lab.withLab('', async (p) => {
      const path = await tabTo(p.page, 'knob-failures');
      assert.ok(path.length <= 3, `the first slider is near the top of the tab order: ${JSON.stringify(path)}`);

      await p.page.keyboard.press('ArrowRight');
      await p.expectOutput('failures', '3');
      assert.equal(await p.knob('failures').inputValue(), '3');
      await p.expectQuery({ failures: '3' });
      await p.expectField('A', 'answer', SAFE_MESSAGE);
      assert.equal(await p.card('A').tone(), 'degraded safely');

      await p.page.keyboard.press('ArrowLeft');
      await p.page.keyboard.press('ArrowLeft');
      await p.expectOutput('failures', '1');
      await p.expectQuery({ failures: '1' });
      await p.expectVerdict('A', /recovered on attempt 2/);

      // Home / End jump to the ends of the range.
      await p.page.keyboard.press('End');
      await p.expectOutput('failures', '6');
      await p.page.keyboard.press('Home');
      await p.expectOutput('failures', '0');

      // The next sliders follow in order.
      await tabTo(p.page, 'knob-max_steps', 1);
      await p.page.keyboard.press('ArrowRight');
      await p.expectOutput('max_steps', '5');
      await p.expectField('B', 'answer', 'Stopped: exceeded 5 steps (possible runaway loop)');

      await tabTo(p.page, 'knob-timeout', 1);
      await p.page.keyboard.press('ArrowRight');
      await p.expectOutput('timeout', '0.1s');
      await p.expectQuery({ timeout: '0.1' });
    });
  });

  test('the skip link is the first stop and jumps to the cards', async () => {
    await lab.withLab('', async (p) => {
      await p.page.keyboard.press('Tab');
      const skip = p.page.locator('a.skip');
      assert.equal(await focused(p.page), 'a:Skip to the cards');
      const box = await skip.boundingBox();
      assert.ok(box && box.x >= 0 && box.x < 1400, `the focused skip link is on screen (${JSON.stringify(box)})`);
      await p.page.keyboard.press('Enter');
      await eventually(async () => assert.equal(new URL(await p.href()).hash, '#cards'));
    });
  });

  test('the advanced knobs open from the keyboard', async () => {
    await lab.withLab('', async (p) => {
      await p.page.locator('details.advanced summary').focus();
      await p.page.keyboard.press('Enter');
      await eventually(async () => assert.equal(await p.knob('attempts').isVisible(), true));
      await tabTo(p.page, 'knob-attempts', 1);
      await p.page.keyboard.press('ArrowRight');
      await p.expectOutput('attempts', '4');
      await p.expectQuery({ attempts: '4' });
    });
  });
});

describe('phone screen (390x844)', () => {
  async function noSideScroll(p, what) {
    const { scrollWidth, clientWidth } = await p.page.evaluate(() => ({
      scrollWidth: document.scrollingElement.scrollWidth,
      clientWidth: document.scrollingElement.clientWidth,
    }));
    assert.ok(scrollWidth <= clientWidth + 1, `${what}: the page scrolls sideways (scrollWidth ${scrollWidth} > clientWidth ${clientWidth})`);
  }

  test('the page fits the width of a phone', async () => {
    await lab.withLab(
      '',
      async (p) => {
        await noSideScroll(p, 'defaults');
        for (const l of LETTERS) {
          const box = await p.card(l).root.boundingBox();
          assert.ok(box.x >= 0 && box.x + box.width <= PHONE.width + 1, `card ${l} fits the screen (${JSON.stringify(box)})`);
          const svg = await p.card(l).timeline.boundingBox();
          assert.ok(svg.x >= box.x && svg.x + svg.width <= box.x + box.width + 1, `card ${l}'s timeline fits its card`);
        }
        await saveScreenshot(p.page, 'page-phone');

        // Still fits with the advanced knobs open and D decided.
        await p.openAdvanced();
        await p.card('D').approve.tap();
        await p.expectQuery({ approval: 'approve' });
        await noSideScroll(p, 'advanced open, D approved');
      },
      { viewport: PHONE, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
    );
  });

  test('a notice about a broken link fits the width of a phone', async () => {
    await lab.withLab(
      'max_steps=99&timeout=abc&jitter=wild&bogus=1',
      async (p) => {
        await p.notice.waitFor();
        await noSideScroll(p, 'notice with short values');

        // A mistyped value is echoed back in the notice: a long one must wrap, not widen the page.
        await p.goto('seed=12345678901234567890123456789012345');
        await p.notice.waitFor();
        assert.match(await p.notice.innerText(), /seed="12345678901234567890123456789012345" ignored/);
        await saveScreenshot(p.page, 'page-phone-notice', { fullPage: false });
        await noSideScroll(p, 'notice echoing a 35-character value');
      },
      { viewport: PHONE, isMobile: true, hasTouch: true },
    );
  });
});
