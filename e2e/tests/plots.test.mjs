// Plots people can read: the timelines of cards A and F, the statistics histograms and the herd
// charts, at a phone's, a laptop's and a projector's size. Nothing is cut off, no label covers
// another label or a marker, every axis has at least three tick labels, text on a phone is at
// least 11 px, and in present mode the timeline and its legend are at least 18 px. The A/B
// table fits a phone without a column cut off.
//
// A plot is a .plot-frame: an SVG strip with the y axis's labels (text.yl) beside the plot area
// (text.xl are the x axis's labels). Markers are the timeline's mark glyphs (g.mark text) and
// the herd chart's points (text.marker); bars are rect.bar and rect.hbar.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { saveScreenshot } from '../lib/harness.mjs';
import { useLab, eventually } from './lab-page.mjs';

const lab = useLab();

const SIZES = [
  { name: 'phone', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
  { name: 'laptop', viewport: { width: 1366, height: 768 } },
  { name: 'projector', viewport: { width: 1920, height: 1080 } },
];

/** Waits until the statistics and the herd are computed (a full A/B table, five herd rows). */
async function computed(p) {
  await p.waitStats();
  await eventually(
    async () => {
      assert.equal((await p.tableRows('herd-table')).length, 5, 'the herd is computed');
      assert.equal(await p.page.locator('[data-testid="herd"] text.marker').count() > 0, true, 'the herd chart has points');
    },
    { timeout: 20000, interval: 50 },
  );
}

/**
 * Measures one plot in the page: for every SVG its box, and for every text its box, kind
 * (x / y label, marker, other), text and rendered font size (computed size times the SVG's
 * scale, which is 1 as plots are drawn unscaled); the boxes of bars; and the box of the
 * element the plot must fit in (its card or section).
 */
function measurePlot(frame) {
  const rect = (el) => {
    const r = el.getBoundingClientRect();
    return { left: r.left, top: r.top, right: r.right, bottom: r.bottom, width: r.width, height: r.height };
  };
  const svgs = [...frame.querySelectorAll('svg')];
  const texts = [];
  svgs.forEach((svg, i) => {
    const scale = svg.getScreenCTM()?.a ?? 1;
    for (const t of svg.querySelectorAll('text')) {
      const kind = t.classList.contains('xl')
        ? 'x'
        : t.classList.contains('yl')
          ? 'y'
          : t.classList.contains('marker') || t.closest('g.mark')
            ? 'marker'
            : 'other';
      // The text without its tooltip (<title>).
      const label = [...t.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join('');
      texts.push({ svg: i, kind, label, box: rect(t), px: parseFloat(getComputedStyle(t).fontSize) * scale });
    }
  });
  const container = frame.closest('[data-testid^="card-"], section');
  return {
    svgs: svgs.map(rect),
    texts,
    bars: [...frame.querySelectorAll('rect.bar, rect.hbar')].map(rect),
    container: rect(container),
    viewport: { width: document.documentElement.clientWidth },
  };
}

/** Whether two boxes overlap by more than `tol` px both ways. */
function overlap(a, b, tol = 0.5) {
  return Math.min(a.right, b.right) - Math.max(a.left, b.left) > tol && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > tol;
}

function inside(inner, outer, tol = 0.5) {
  return inner.left >= outer.left - tol && inner.right <= outer.right + tol && inner.top >= outer.top - tol && inner.bottom <= outer.bottom + tol;
}

/** Asserts everything this file promises about one measured plot. */
function checkPlot(m, what, { minPx, axes = ['x', 'y'], markersApart = false }) {
  assert.ok(m.svgs.length >= 2, `${what}: a y strip and a plot area`);
  for (const s of m.svgs) {
    assert.ok(s.width > 0 && s.height > 0, `${what}: an SVG is drawn (${JSON.stringify(s)})`);
    assert.ok(inside(s, m.container), `${what}: the SVG fits its card or section (${JSON.stringify(s)} in ${JSON.stringify(m.container)})`);
    assert.ok(s.right <= m.viewport.width + 0.5, `${what}: the SVG is inside the screen`);
  }
  const labels = m.texts.filter((t) => t.kind === 'x' || t.kind === 'y');
  const markers = m.texts.filter((t) => t.kind === 'marker');
  for (const axis of axes) {
    const n = labels.filter((t) => t.kind === axis).length;
    assert.ok(n >= 3, `${what}: ${n} tick labels on the ${axis} axis, want at least 3 (${JSON.stringify(labels.map((t) => t.label))})`);
  }
  for (const t of m.texts) {
    assert.ok(t.box.width > 0, `${what}: "${t.label}" is drawn`);
    assert.ok(inside(t.box, m.svgs[t.svg]), `${what}: "${t.label}" is cut off by its SVG (${JSON.stringify(t.box)} in ${JSON.stringify(m.svgs[t.svg])})`);
    if (minPx) assert.ok(t.px >= minPx, `${what}: "${t.label}" is ${t.px} px, want at least ${minPx}`);
  }
  for (let i = 0; i < labels.length; i++) {
    for (let j = i + 1; j < labels.length; j++) {
      assert.ok(!overlap(labels[i].box, labels[j].box), `${what}: labels "${labels[i].label}" and "${labels[j].label}" overlap`);
    }
    for (const k of [...markers, ...m.bars.map((box) => ({ box, label: 'a bar' }))]) {
      assert.ok(!overlap(labels[i].box, k.box), `${what}: label "${labels[i].label}" covers marker "${k.label}"`);
    }
  }
  if (markersApart) {
    for (let i = 0; i < markers.length; i++) {
      for (let j = i + 1; j < markers.length; j++) {
        assert.ok(!overlap(markers[i].box, markers[j].box, 1), `${what}: markers "${markers[i].label}" and "${markers[j].label}" overlap`);
      }
    }
  }
}

/** Every plot of the page this file checks, measured: [name, measurement, options]. */
async function measureAll(p) {
  const out = [];
  for (const l of ['A', 'F']) {
    const frame = p.card(l).timeline.locator('xpath=..');
    out.push([`card ${l}'s timeline`, await frame.evaluate(measurePlot), { markersApart: true, axes: ['x', 'y'] }]);
  }
  const hists = p.page.locator('[data-testid="stats"] .hist .plot-frame');
  assert.equal(await hists.count(), 4, 'four histograms');
  for (let i = 0; i < 4; i++) out.push([`histogram ${i + 1}`, await hists.nth(i).evaluate(measurePlot), {}]);
  const charts = p.page.locator('[data-testid="herd"] .chart .plot-frame');
  assert.equal(await charts.count(), 2, 'two herd charts');
  for (let i = 0; i < 2; i++) out.push([`herd chart ${i + 1}`, await charts.nth(i).evaluate(measurePlot), {}]);
  return out;
}

describe('plots people can read', () => {
  for (const size of SIZES) {
    const { name, viewport } = size;
    test(`${name} (${viewport.width}x${viewport.height}): labelled axes, nothing cut off or overlapping (screenshots plots-${name}-*)`, async () => {
      await lab.withLab(
        '',
        async (p) => {
          await computed(p);
          const minPx = name === 'phone' ? 11 : 0;
          for (const [what, m, options] of await measureAll(p)) checkPlot(m, `${name}: ${what}`, { ...options, minPx });
          if (name === 'phone') {
            const small = await p.page.evaluate(() =>
              [...document.querySelectorAll('.legend li, .chart-legend li, .y-title, .x-title, .hist figcaption')]
                .map((el) => ({ text: el.textContent.trim(), px: parseFloat(getComputedStyle(el).fontSize) }))
                .filter((t) => t.px < 11),
            );
            assert.deepEqual(small, [], 'legends and axis titles are at least 11 px on a phone');
          }
          for (const l of ['A', 'F']) await saveScreenshot(p.card(l).root, `plots-${name}-card-${l}`);
          await saveScreenshot(p.page.getByTestId('stats'), `plots-${name}-stats`);
          await saveScreenshot(p.page.getByTestId('herd'), `plots-${name}-herd`);
        },
        { viewport, isMobile: size.isMobile, hasTouch: size.hasTouch },
      );
    });
  }

  // Other data make other axes: a long latency tail, many calls per request, the longest name
  // of policy B, the most herd clients (ten points) and the fewest (two), on the narrowest screen.
  for (const query of [
    'stats_workload=loop&stats_rate=0.6&stats_latency=tail&attempts=8&ab_variant=breaker&herd_clients=100&failures=5&breaker_threshold=1&breaker_cooldown=1',
    'stats_rate=0&stats_latency=uniform&ab_variant=no_retry&herd_clients=20&jitter=full&failures=0',
  ]) {
    test(`phone, ${query}: every lab card's timeline and every plot stays readable`, async () => {
      await lab.withLab(
        query,
        async (p) => {
          await computed(p);
          for (const [what, m, options] of await measureAll(p)) checkPlot(m, what, { ...options, minPx: 11 });
          for (const l of ['B', 'C', 'D', 'E']) {
            const m = await p.card(l).timeline.locator('xpath=..').evaluate(measurePlot);
            checkPlot(m, `card ${l}'s timeline`, { minPx: 11, markersApart: true });
          }
        },
        { viewport: SIZES[0].viewport, isMobile: true, hasTouch: true },
      );
    });
  }

  test('present mode: a card shown large has timeline and legend text of at least 18 px (screenshot plots-present-card-A)', async () => {
    await lab.withLab(
      '',
      async (p) => {
        // What present mode will do: the class "present" on the root and the card spread over
        // the width of the screen.
        for (const l of ['A', 'F']) {
          await p.card(l).root.evaluate((card) => {
            document.body.classList.add('present');
            card.style.gridColumn = '1 / -1';
          });
          const frame = p.card(l).timeline.locator('xpath=..');
          const m = await frame.evaluate(measurePlot);
          checkPlot(m, `present: card ${l}'s timeline`, { minPx: 18, markersApart: true });
          const legend = await p.card(l).root.locator('.legend li').evaluateAll((lis) => lis.map((li) => parseFloat(getComputedStyle(li).fontSize)));
          assert.ok(legend.length > 0 && legend.every((px) => px >= 18), `present: card ${l}'s legend is at least 18 px (${legend})`);
        }
        await saveScreenshot(p.card('A').root, 'plots-present-card-A');
        await saveScreenshot(p.card('F').root, 'plots-present-card-F');
      },
      { viewport: { width: 1920, height: 1080 } },
    );
  });

  test('phone: the A/B table shows every column within the screen, none cut off', async () => {
    await lab.withLab(
      '',
      async (p) => {
        await p.waitStats();
        const t = await p.page.getByTestId('ab-table').evaluate((table) => {
          const vw = document.documentElement.clientWidth;
          const scroller = table.parentElement;
          const cells = [...table.querySelectorAll('th, td')].map((c) => {
            const r = c.getBoundingClientRect();
            return { text: c.textContent.trim(), left: r.left, right: r.right, width: r.width, overflows: c.scrollWidth > c.clientWidth + 1 };
          });
          return {
            vw,
            right: table.getBoundingClientRect().right,
            scrolls: scroller.scrollWidth > scroller.clientWidth + 1,
            cells,
          };
        });
        assert.ok(t.right <= t.vw + 0.5, `the table ends within the screen (${t.right} > ${t.vw})`);
        assert.equal(t.scrolls, false, 'the table does not scroll sideways (nothing hidden to the right)');
        for (const c of t.cells) {
          assert.ok(c.width > 0 && c.left >= 0 && c.right <= t.vw + 0.5, `cell "${c.text}" is within the screen (${c.left}..${c.right})`);
          assert.equal(c.overflows, false, `cell "${c.text}" shows all its text`);
        }
        // Each metric is still a row of name, A, B and the verdict (the page object reads it so).
        const rows = (await p.statsNow()).rows;
        assert.match(rows['success rate'].A, /%$/);
        assert.match(rows['success rate'].B_vs_A, /same|better|worse/);
        await saveScreenshot(p.page.getByTestId('ab-table'), 'plots-phone-ab-table');
      },
      { viewport: SIZES[0].viewport, isMobile: true, hasTouch: true },
    );
  });
});
