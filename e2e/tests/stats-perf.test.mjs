// A measurement, not a timed assertion: how long the what-if statistics take to recompute.
//
// 20 moves of the failure-rate slider (stats_rate), alternating 0.1 and 0.3, so that each
// move must give a different A/B table. After each move, once the computation has finished
// (no progress shown, a new table), we read the page's own compute time (data-ms of
// data-testid="stats-timing") and, inside the page, the time from dispatching the `input`
// event to the new table in the DOM. A PerformanceObserver for 'longtask' (buffered) is
// registered before the moves; the longest long task during the moves tells whether the
// chunked computation kept the main thread responsive. p50 / p95 / max go to
// ARTIFACTS_DIR/stats-perf.json and to stdout. The only assertion: every move gave a new result.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { artifactsDir } from '../lib/harness.mjs';
import { useLab, summary, roundMs } from './lab-page.mjs';

const MOVES = 20;
const RATES = [0.1, 0.3];

const lab = useLab();

test(`${MOVES} moves of the failure rate each give new statistics; timings written to stats-perf.json`, async () => {
  await lab.withLab(
    '',
    async (p) => {
      let previous = await p.waitStats();

      // Long tasks (> 50 ms on the main thread), from before the first move.
      await p.page.evaluate(() => {
        window.__longTasks = [];
        window.__longTaskSupported = PerformanceObserver.supportedEntryTypes?.includes('longtask') ?? false;
        new PerformanceObserver((list) => {
          for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration });
        }).observe({ type: 'longtask', buffered: true });
      });
      const movesStart = await p.page.evaluate(() => performance.now());

      const samples = [];
      for (let i = 0; i < MOVES; i++) {
        const rate = RATES[i % RATES.length];
        // Inside the page: dispatch the move, then wait (MutationObserver) for a finished, different table.
        const inPage = await p.page.evaluate(async (rate) => {
          const section = document.querySelector('[data-testid="stats"]');
          const tableText = () => section.querySelector('[data-testid="ab-table"] tbody')?.textContent ?? '';
          const progress = () => section.querySelector('[data-testid="stats-progress"]')?.textContent.trim() ?? '';
          const before = tableText();
          const done = () => progress() === '' && tableText() !== '' && tableText() !== before;
          const el = document.querySelector('[data-testid="knob-stats_rate"]');
          const t0 = performance.now();
          el.value = String(rate);
          el.dispatchEvent(new Event('input', { bubbles: true }));
          const t1 = await new Promise((resolve) => {
            if (done()) return resolve(performance.now());
            let timer;
            const mo = new MutationObserver(() => {
              if (done()) {
                mo.disconnect();
                clearTimeout(timer);
                resolve(performance.now());
              }
            });
            mo.observe(section, { subtree: true, childList: true, characterData: true, attributes: true });
            timer = setTimeout(() => {
              mo.disconnect();
              resolve(done() ? performance.now() : null);
            }, 20000);
          });
          return { input_to_table_ms: t1 === null ? null : t1 - t0 };
        }, rate);
        // The same check from outside, and the page's own compute time.
        const now = await p.waitStats(previous);
        samples.push({ rate, new_result: inPage.input_to_table_ms !== null, compute_ms: now.ms, ...inPage, runs: now.runs });
        previous = now;
      }
      const movesEnd = await p.page.evaluate(() => performance.now());
      const { tasks, supported } = await p.page.evaluate(() => ({ tasks: window.__longTasks, supported: window.__longTaskSupported }));
      const during = tasks.filter((t) => t.start + t.duration >= movesStart && t.start <= movesEnd);

      // The only assertion: each move produced a new result.
      assert.equal(samples.length, MOVES);
      assert.deepEqual(samples.filter((s) => !s.new_result), [], 'every move gave a new table');
      assert.equal(await p.outputText('stats_rate'), `${Math.round(RATES[(MOVES - 1) % RATES.length] * 100)}%`);
      p.assertNoErrors(); // here, before the report is written: hence assertNoErrors: false below

      const compute = summary(samples.map((s) => s.compute_ms));
      const toTable = summary(samples.map((s) => s.input_to_table_ms));
      const report = {
        what:
          'what-if statistics: compute_ms is the page\'s own data-ms of stats-timing after each move of stats_rate; ' +
          'input_to_table_ms is from dispatching the input event to the new A/B table in the DOM (performance.now(), inside the page)',
        moves: MOVES,
        rates: RATES,
        runs: samples[0].runs,
        compute_ms: compute,
        input_to_table_ms: toTable,
        long_tasks: {
          supported,
          during_moves: during.length,
          longest_ms: during.length ? roundMs(Math.max(...during.map((t) => t.duration))) : 0,
          total_ms: roundMs(during.reduce((a, t) => a + t.duration, 0)),
        },
        browser: await lab.browser.version(),
        dist: path.basename(process.env.DIST_DIR || 'dist'),
        measured_at: new Date().toISOString(),
        samples: samples.map(({ rate, compute_ms, input_to_table_ms }) => ({
          rate,
          compute_ms,
          input_to_table_ms: roundMs(input_to_table_ms),
        })),
      };
      await fsp.mkdir(artifactsDir(), { recursive: true });
      const file = path.join(artifactsDir(), 'stats-perf.json');
      await fsp.writeFile(file, JSON.stringify(report, null, 2) + '\n');
      console.log(
        `stats-perf: ${MOVES} moves of stats_rate (${report.runs} runs each): compute (data-ms) p50 ${compute.p50_ms} ms, ` +
          `p95 ${compute.p95_ms} ms, max ${compute.max_ms} ms; input → new table p50 ${toTable.p50_ms} ms, p95 ${toTable.p95_ms} ms, ` +
          `max ${toTable.max_ms} ms; longest long task during the moves ${report.long_tasks.longest_ms} ms ` +
          `(${report.long_tasks.during_moves} long tasks); written to ${file}`,
      );
    },
    { assertNoErrors: false },
  );
});
