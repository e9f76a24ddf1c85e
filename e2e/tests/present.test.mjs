// Present mode, for a projector: `?present=<letter>` or a card's Present button shows that card
// alone and large (text of 28 px and more, plot text of 18 px and more) with only the knobs it
// reads; the arrow keys and the bar's buttons move between cards, Escape leaves. And controls
// next to their effect: on a laptop, moving a lab slider changes something on screen without
// scrolling, and every hint names the cards its knob drives.
//
// Screenshots (ARTIFACTS_DIR): present-<w>x<h>.png at a phone's, a laptop's and a projector's
// size, and controls-laptop-before/after.png.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { saveScreenshot } from '../lib/harness.mjs';
import { useLab, eventually, ALL_LETTERS } from './lab-page.mjs';

const lab = useLab();

const PHONE = { width: 390, height: 844 };
const LAPTOP = { width: 1366, height: 768 };
const PROJECTOR = { width: 1920, height: 1080 };

/** What present mode shows: the body's class, the cards and knobs on screen, the query. */
function presentState(page) {
  return page.evaluate(() => {
    const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
    return {
      body: document.body.className,
      cards: [...document.querySelectorAll('article.card[id]')].filter(shown).map((c) => c.id),
      knobs: [...document.querySelectorAll('.controls .knob')].filter(shown).map((k) => k.dataset.knob),
      present: new URLSearchParams(location.search).get('present'),
      scrollY: window.scrollY,
    };
  });
}

/** Font sizes (px) of a card's texts, and of its plot's texts and legend. */
function fontSizes(card) {
  return card.evaluate((el) => {
    const px = (e) => parseFloat(getComputedStyle(e).fontSize);
    const pick = (sel) => [...el.querySelectorAll(sel)].map((e) => ({ sel, text: e.textContent.trim().slice(0, 30), px: px(e) }));
    return {
      text: [
        ...pick('h2'),
        ...pick('.idea'),
        ...pick('.used li'),
        ...pick('[data-testid="result"] code'),
        ...pick('[data-testid="verdict"]'),
        ...pick('.counters'),
      ],
      plot: [...pick('.plot-frame text'), ...pick('.legend li')],
    };
  });
}

describe('present mode', () => {
  test('?present=B at 1920x1080: card B alone, text at least 28 px, plot text at least 18 px, with its knob; arrow keys and Escape (screenshot present-1920x1080)', async () => {
    await lab.withLab(
      'present=B',
      async (p) => {
        let s = await presentState(p.page);
        assert.deepEqual(s.cards, ['card-B'], 'only card B is shown');
        assert.match(s.body, /\bpresent\b/);
        assert.deepEqual(s.knobs, ['max_steps'], 'the knobs card B reads, and no others');
        const sizes = await fontSizes(p.page.locator('#card-B'));
        for (const t of sizes.text) assert.ok(t.px >= 28, `${t.sel} "${t.text}" is ${t.px} px, want at least 28`);
        assert.ok(sizes.plot.length > 3, 'the timeline and its legend are drawn');
        for (const t of sizes.plot) assert.ok(t.px >= 18, `${t.sel} "${t.text}" is ${t.px} px, want at least 18`);
        await saveScreenshot(p.page, 'present-1920x1080', { fullPage: false });

        // The teacher asks "set max_steps to 2": the card changes in front of the class.
        await p.setSlider('max_steps', 2);
        await p.expectField('B', 'answer', 'Stopped: exceeded 2 steps (possible runaway loop)');
        await p.expectQuery({ max_steps: '2', present: 'B' });

        // Arrow keys: next, previous, and round from A to N.
        await p.page.locator('body').press('ArrowRight');
        await eventually(async () => assert.deepEqual((await presentState(p.page)).cards, ['card-C']));
        await p.expectQuery({ present: 'C', max_steps: '2' });
        for (const key of ['ArrowLeft', 'ArrowLeft', 'ArrowLeft']) await p.page.keyboard.press(key);
        s = await presentState(p.page);
        assert.deepEqual(s.cards, ['card-N'], 'left of A is N');
        assert.equal(s.present, 'N');
        assert.deepEqual(s.knobs, ['max_steps'], 'card N reads max_steps among the lab knobs');

        // A knob's own arrow keys stay the knob's.
        await p.knob('max_steps').focus();
        await p.page.keyboard.press('ArrowRight');
        await p.expectOutput('max_steps', '3');
        assert.deepEqual((await presentState(p.page)).cards, ['card-N'], 'still card N');

        // The bar's buttons.
        await p.page.getByTestId('present-next').click();
        assert.deepEqual((await presentState(p.page)).cards, ['card-A']);
        assert.deepEqual((await presentState(p.page)).knobs, ['failures', 'max_steps', 'attempts', 'base_delay', 'jitter', 'seed']);
        await p.page.getByTestId('present-prev').click();
        assert.deepEqual((await presentState(p.page)).cards, ['card-N']);

        // Escape leaves: every card is back, the query loses present, the page is at card N.
        await p.page.keyboard.press('Escape');
        s = await presentState(p.page);
        assert.equal(s.body, '');
        assert.equal(s.cards.length, ALL_LETTERS.length);
        assert.equal(s.present, null);
        await p.expectQuery({ present: undefined, max_steps: '3' });
        const top = await p.page.locator('#card-N').evaluate((el) => el.getBoundingClientRect().top);
        assert.ok(top >= -1 && top < PROJECTOR.height, `card N is on screen after leaving (${top})`);
        assert.equal(await p.page.locator('body').evaluate((b) => getComputedStyle(b).fontSize), '17px', 'normal text again');
      },
      { viewport: PROJECTOR },
    );
  });

  test('a card\'s Present button enters present mode at that card; a reload stays there', async () => {
    await lab.withLab(
      '',
      async (p) => {
        await p.page.locator('#card-F').getByTestId('present').click();
        const s = await presentState(p.page);
        assert.deepEqual(s.cards, ['card-F']);
        assert.equal(s.present, 'F');
        assert.equal(s.scrollY, 0, 'the page starts at its top');
        assert.deepEqual(s.knobs, ['max_steps', 'attempts', 'base_delay', 'jitter', 'seed', 'breaker_threshold', 'breaker_cooldown']);
        await p.reload();
        assert.deepEqual((await presentState(p.page)).cards, ['card-F'], 'a reload stays in present mode');
        await p.page.getByTestId('present-exit').click();
        assert.equal((await presentState(p.page)).cards.length, ALL_LETTERS.length);
      },
      { viewport: LAPTOP },
    );
  });

  for (const [name, viewport, extra] of [
    ['390x844', PHONE, { isMobile: true, hasTouch: true }],
    ['1366x768', LAPTOP, {}],
    ['1920x1080', PROJECTOR, {}],
  ]) {
    test(`present mode fits ${name}: the card and its bar within the width (screenshot present-${name}-card-E)`, async () => {
      await lab.withLab(
        'present=E',
        async (p) => {
          const fit = await p.page.evaluate(() => ({
            scrollWidth: document.scrollingElement.scrollWidth,
            clientWidth: document.scrollingElement.clientWidth,
            card: document.querySelector('#card-E').getBoundingClientRect().toJSON(),
            bar: document.querySelector('.present-bar').getBoundingClientRect().toJSON(),
          }));
          assert.ok(fit.scrollWidth <= fit.clientWidth + 1, `no sideways scrolling (${fit.scrollWidth} > ${fit.clientWidth})`);
          assert.ok(fit.card.width > 0 && fit.card.right <= fit.clientWidth + 1, `card E fits (${JSON.stringify(fit.card)})`);
          assert.ok(fit.bar.height > 0 && fit.bar.top < viewport.height, 'the present bar is on the first screen');
          if (viewport === PHONE) assert.ok(fit.card.top < viewport.height, 'on a phone the card comes before the knobs');
          await saveScreenshot(p.page, `present-${name}-card-E`, { fullPage: false });
        },
        { viewport, ...extra },
      );
    });
  }
});

describe('controls next to their effect', () => {
  /** The texts of what is on screen, by element: the strip of cards, and each card's verdict on screen. */
  function onScreenTexts(page) {
    return page.evaluate(() => {
      const visible = (el) => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.bottom > 0 && r.top < window.innerHeight && r.right > 0 && r.left < window.innerWidth;
      };
      const out = {};
      const strip = document.querySelector('[data-testid="cards-now"]');
      if (strip && visible(strip)) out.strip = strip.textContent.trim();
      for (const v of document.querySelectorAll('[data-testid="verdict"], [data-testid="result"]')) {
        if (visible(v)) out[`${v.closest('article').id} ${v.dataset.testid}`] = v.textContent.trim();
      }
      return out;
    });
  }

  test('at 1366x768 every lab slider changes something on screen without scrolling (screenshots controls-laptop-*)', async () => {
    await lab.withLab(
      '',
      async (p) => {
        await saveScreenshot(p.page, 'controls-laptop-before', { fullPage: false });
        for (const [name, value] of [['failures', 3], ['max_steps', 2], ['timeout', 2]]) {
          const box = await p.knob(name).boundingBox();
          assert.ok(box && box.y >= 0 && box.y + box.height <= LAPTOP.height, `the ${name} slider is on screen (${JSON.stringify(box)})`);
          const before = await onScreenTexts(p.page);
          assert.ok(before.strip, 'the strip of every card is on screen');
          await p.setSlider(name, value);
          await eventually(async () => {
            const after = await onScreenTexts(p.page);
            const changed = Object.keys(after).filter((k) => before[k] !== undefined && after[k] !== before[k]);
            assert.ok(changed.length > 0, `moving ${name} changed nothing on screen: ${JSON.stringify(after)}`);
          });
          assert.equal(await p.page.evaluate(() => window.scrollY), 0, 'no scrolling');
        }
        await saveScreenshot(p.page, 'controls-laptop-after', { fullPage: false });

        // Further down the page the knobs stay in view.
        await p.page.locator('#card-L').scrollIntoViewIfNeeded();
        const box = await p.knob('timeout').boundingBox();
        assert.ok(box && box.y >= 0 && box.y + box.height <= LAPTOP.height, `the timeout slider is still on screen at card L (${JSON.stringify(box)})`);
      },
      { viewport: LAPTOP },
    );
  });

  test('every lab knob\'s hint names the cards it drives; the strip links to each card', async () => {
    await lab.withLab('', async (p) => {
      await p.openAdvanced();
      const hints = await p.page.evaluate(() =>
        [...document.querySelectorAll('.controls .knob')].map((k) => [k.dataset.knob, k.querySelector('.help').textContent.trim()]),
      );
      assert.ok(hints.length >= 9, JSON.stringify(hints));
      for (const [name, help] of hints) assert.match(help, /\((cards?) [A-N](, [A-N])*\)$/, `${name}: "${help}"`);
      const timeout = Object.fromEntries(hints).timeout;
      assert.match(timeout, /\(cards E, G, L\)$/, 'the timeout drives E, G and L');
      const links = await p.page.getByTestId('cards-now').locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
      assert.deepEqual(links, ALL_LETTERS.map((l) => `#card-${l}`));
    });
  });
});
