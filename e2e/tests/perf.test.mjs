// A measurement, not a timed assertion: how long the page takes to show a slider's effect.
//
// 100 slider changes, alternating failures / max_steps / timeout. Inside the page, each one
// is timed with performance.now() from dispatching the `input` event until the DOM shows the
// new value both in the knob's <output> and on the card that uses it (a MutationObserver
// checks after every DOM mutation batch, so the end is the microtask in which the update
// landed). p50 / p95 / max go to ARTIFACTS_DIR/perf.json and to stdout. The only assertion
// is that every change took effect.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { artifactsDir } from '../lib/harness.mjs';
import { useLab, summary, roundMs } from './lab-page.mjs';

const CHANGES = 100;

// Seconds as the page prints them (Rust's Secs): 0.05s, 0.1s, 1.0s, 5.0s.
const TIMEOUTS = [
  [0.1, '0.1s'],
  [0.25, '0.25s'],
  [0.5, '0.5s'],
  [1, '1.0s'],
  [1.45, '1.45s'],
  [1.5, '1.5s'],
  [2.25, '2.25s'],
  [5, '5.0s'],
  [0.05, '0.05s'],
];

/** The 100 changes: [knob, value, text its <output> shows]. */
function plan() {
  const out = [];
  const n = { failures: 0, max_steps: 0, timeout: 0 };
  for (let i = 0; i < CHANGES; i++) {
    const knob = ['failures', 'max_steps', 'timeout'][i % 3];
    const k = n[knob]++;
    if (knob === 'failures') {
      const v = k % 7; // 0..6, never twice in a row, and 0 differs from the default 2
      out.push([knob, v, String(v)]);
    } else if (knob === 'max_steps') {
      // 2..12, starting at 2 (not the default 4). Not 1: A and E need 2 steps, so a cap of 1
      // would stop them too and blur what the failures and timeout changes show.
      const v = (k % 11) + 2;
      out.push([knob, v, String(v)]);
    } else {
      const [v, shown] = TIMEOUTS[k % TIMEOUTS.length]; // starts at 0.1, not the default 0.05
      out.push([knob, v, shown]);
    }
  }
  return out;
}

const lab = useLab();

test(`${CHANGES} slider changes all take effect; latency written to perf.json`, async () => {
  await lab.withLab(
    '',
    async (p) => {
      const changes = plan();

      const samples = await p.page.evaluate(async (changes) => {
        const SAFE = 'Service unavailable, please try again later.';
        const DEFAULTS = { failures: '2', max_steps: '4', timeout: '0.05' };
        const ANSWER = 'The answer is 391.';
        const q = (sel) => document.querySelector(sel);
        const text = (sel) => q(sel)?.textContent.trim() ?? '';
        const field = (card, f) => text(`[data-testid="card-${card}"] [data-field="${f}"]`);
        const used = (card) => text(`[data-testid="card-${card}"] ul.used`).replace(/\s+/g, ' ');

        // What the page shows once a change has landed: the <output> and the card that uses it.
        function landed(knob, value, shown) {
          if (text(`output[for="knob-${knob}"]`) !== shown) return false;
          if (knob === 'failures') {
            // Card A: fewer failures than the 3 attempts recovers; as many or more degrades.
            return (
              used('A').includes(`failures ${value}`) &&
              field('A', 'answer') === (value < 3 ? ANSWER : SAFE) &&
              field('A', 'degraded') === (value >= 3 ? 'True' : 'False')
            );
          }
          if (knob === 'max_steps') {
            return (
              field('B', 'answer') === `Stopped: exceeded ${value} steps (possible runaway loop)` &&
              field('B', 'steps') === String(value + 1)
            );
          }
          // timeout, card E: its slow call takes 1.5s.
          return used('E').includes(`timeout ${shown}`) && field('E', 'answer') === (value >= 1.5 ? ANSWER : SAFE);
        }

        function until(pred, limitMs = 3000) {
          return new Promise((resolve) => {
            if (pred()) return resolve(performance.now());
            let timer;
            const mo = new MutationObserver(() => {
              if (pred()) {
                const t = performance.now();
                mo.disconnect();
                clearTimeout(timer);
                resolve(t);
              }
            });
            mo.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
            timer = setTimeout(() => {
              mo.disconnect();
              resolve(pred() ? performance.now() : null);
            }, limitMs);
          });
        }
        const nextFrame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));

        const out = [];
        for (const [knob, value, shown] of changes) {
          await nextFrame(); // start each change from a settled page
          const el = q(`[data-testid="knob-${knob}"]`);
          const t0 = performance.now();
          el.value = String(value);
          el.dispatchEvent(new Event('input', { bubbles: true }));
          const sync = landed(knob, value, shown); // already there, before any microtask ran?
          const t1 = await until(() => landed(knob, value, shown));
          // Also: until the next frame after the update (style, layout and paint included).
          await nextFrame();
          const t2 = performance.now();
          out.push({
            knob,
            value,
            took_effect: t1 !== null,
            dom_ms: t1 === null ? null : t1 - t0,
            frame_ms: t2 - t0,
            sync,
            // A short link leaves out a value equal to its default.
            url_ok: (new URLSearchParams(location.search).get(knob) ?? DEFAULTS[knob]) === String(value),
          });
        }
        return out;
      }, changes);

      // Correctness: every change took effect on the page and in the link.
      assert.equal(samples.length, CHANGES);
      const missed = samples.filter((s) => !s.took_effect);
      assert.deepEqual(missed, [], 'every slider change shows on its output and its card');
      const badUrl = samples.filter((s) => !s.url_ok);
      assert.deepEqual(badUrl, [], 'every slider change lands in the URL');
      const [lastF, lastM, lastT] = ['failures', 'max_steps', 'timeout'].map((k) => changes.filter((c) => c[0] === k).at(-1));
      assert.equal(await p.outputText('failures'), lastF[2]);
      assert.equal(await p.outputText('max_steps'), lastM[2]);
      assert.equal(await p.outputText('timeout'), lastT[2]);
      p.assertNoErrors(); // here, before the report is written: hence assertNoErrors: false below

      const dom = summary(samples.map((s) => s.dom_ms), { mean: true });
      const report = {
        what: 'time from dispatching a slider input event to the DOM showing the new value on its <output> and card (performance.now(), inside the page)',
        changes: CHANGES,
        ...dom,
        per_knob: Object.fromEntries(
          ['failures', 'max_steps', 'timeout'].map((k) => [k, summary(samples.filter((s) => s.knob === k).map((s) => s.dom_ms), { mean: true })]),
        ),
        landed_synchronously: samples.filter((s) => s.sync).length,
        to_next_frame: summary(samples.map((s) => s.frame_ms), { mean: true }),
        browser: await lab.browser.version(),
        dist: path.basename(process.env.DIST_DIR || 'dist'),
        measured_at: new Date().toISOString(),
        samples: samples.map(({ knob, value, dom_ms, frame_ms }) => ({
          knob,
          value,
          dom_ms: roundMs(dom_ms),
          frame_ms: roundMs(frame_ms),
        })),
      };
      await fsp.mkdir(artifactsDir(), { recursive: true });
      const file = path.join(artifactsDir(), 'perf.json');
      await fsp.writeFile(file, JSON.stringify(report, null, 2) + '\n');
      console.log(
        `perf: ${CHANGES} slider changes, input → DOM updated: p50 ${dom.p50_ms} ms, p95 ${dom.p95_ms} ms, max ${dom.max_ms} ms ` +
          `(to next frame: p50 ${report.to_next_frame.p50_ms} ms, p95 ${report.to_next_frame.p95_ms} ms); written to ${file}`,
      );
    },
    { assertNoErrors: false },
  );
});
