// What-if statistics (A/B over thousands of seeded runs), the thundering herd and retry
// amplification panels.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { saveScreenshot } from '../lib/harness.mjs';
import { useLab, eventually, percent } from './lab-page.mjs';

const lab = useLab();

/** "36s", "2.7s", "0.58s", "120ms", "2min" → seconds. */
function seconds(text) {
  const m = /^([\d.]+)\s*(ms|s|min|m|h)$/.exec(text.trim());
  assert.ok(m, `a duration: ${JSON.stringify(text)}`);
  const scale = { ms: 0.001, s: 1, min: 60, m: 60, h: 3600 }[m[2]];
  return Number(m[1]) * scale;
}

/** The herd table as { strategy: { writes, time } } once all five strategies are shown. */
async function herdTable(p) {
  return eventually(
    async () => {
      const rows = await p.tableRows('herd-table');
      assert.equal(rows.length, 5, `five strategies: ${JSON.stringify(rows)}`);
      return Object.fromEntries(rows.map(([name, writes, time]) => [name, { writes: Number(writes), time: seconds(time) }]));
    },
    { timeout: 15000, interval: 50 },
  );
}

function assertHerdOrder(herd, what) {
  const jittered = ['full jitter', 'equal jitter', 'decorrelated'];
  assert.deepEqual(Object.keys(herd), ['no backoff', 'exponential', ...jittered], `${what}: the strategies`);
  for (const s of jittered) {
    assert.ok(herd.exponential.writes > herd[s].writes, `${what}: exponential writes more than ${s} (${herd.exponential.writes} vs ${herd[s].writes})`);
    assert.ok(herd.exponential.time > herd[s].time, `${what}: exponential takes longer than ${s} (${herd.exponential.time}s vs ${herd[s].time}s)`);
  }
  for (const [s, { writes }] of Object.entries(herd)) {
    if (s !== 'full jitter') assert.ok(herd['full jitter'].writes < writes, `${what}: full jitter writes less than ${s} (${herd['full jitter'].writes} vs ${writes})`);
  }
}

describe('what-if statistics', () => {
  test('the A/B table follows the failure rate, the workload and policy B (screenshot stats)', async () => {
    await lab.withLab('', async (p) => {
      let t = await p.waitStats();
      assert.match(t.timing, /^10000 \+ 10000 runs in [\d.]+ ms\.$/);
      assert.ok(Number.isFinite(t.ms) && t.ms >= 0, `data-ms is a number (${t.ms})`);
      // Policy A retries 3 times: it fails only if all 3 calls fail, p^3 = 0.8%.
      const a = percent(t.rows['success rate'].A);
      assert.ok(Math.abs(a - 99.2) <= 0.3, `A's success ≈ 1 - 0.2^3 = 99.2% (got ${a}%)`);
      assert.ok(percent(t.rows['success rate'].B) >= a, 'B (5 attempts) succeeds at least as often as A');
      assert.match(t.rows['success rate'].B_vs_A, /▲ B better|same/);
      await saveScreenshot(p.page.getByTestId('stats'), 'stats');

      await p.setSlider('stats_rate', 0);
      await p.expectQuery({ stats_rate: '0' });
      await p.expectOutput('stats_rate', '0%');
      t = await p.waitStats(t);
      assert.equal(t.rows['success rate'].A, '100.0%');
      assert.equal(t.rows['success rate'].B, '100.0%');
      assert.equal(t.rows['success rate'].B_vs_A, 'same');
      assert.equal(t.rows['degraded rate'].A, '0.0%');

      await p.setSlider('stats_rate', 0.5);
      t = await p.waitStats(t);
      const half = percent(t.rows['success rate'].A);
      assert.ok(Math.abs(half - 87.5) <= 1.2, `at 50%, A's success ≈ 1 - 0.5^3 = 87.5% (got ${half}%)`);
      assert.ok(percent(t.rows['success rate'].B) > half, 'more attempts help when half the calls fail');

      await p.setSlider('stats_rate', 0.2);
      t = await p.waitStats(t);
      await p.select('ab_variant', 'no_retry');
      await p.expectQuery({ ab_variant: 'no_retry' });
      t = await p.waitStats(t);
      const once = percent(t.rows['success rate'].B);
      assert.ok(Math.abs(once - 80) <= 1.2, `B without retries succeeds ≈ 80% (got ${once}%)`);
      assert.equal(t.rows['success rate'].B_vs_A, '▼ B worse');
      assert.ok(Number(t.rows['model calls (amplification)'].B) <= Number(t.rows['model calls (amplification)'].A), 'no retries, fewer calls');

      await p.select('stats_workload', 'loop');
      t = await p.waitStats(t);
      assert.equal(t.rows['degraded rate'].A, '100.0%', 'a looping agent is always stopped');
      assert.equal(t.rows['success rate'].A, '0.0%');

      await p.select('stats_workload', 'risky');
      t = await p.waitStats(t);
      assert.equal(t.rows['success rate'].A, '0.0%');
      const blockedOrDegraded = percent(t.rows['blocked rate'].A) + percent(t.rows['degraded rate'].A);
      assert.ok(Math.abs(blockedOrDegraded - 100) < 0.15, `every risky request is blocked or degraded (${blockedOrDegraded}%)`);
      await p.setSlider('stats_rate', 0);
      t = await p.waitStats(t);
      assert.equal(t.rows['blocked rate'].A, '100.0%', 'with no faults, every risky call is blocked');
      assert.equal(t.rows['blocked rate'].B, '100.0%');
    });
  });

  test('the permalink reproduces the same statistics', async () => {
    await lab.withLab(
      '',
      async (p, other) => {
        let t = await p.waitStats();
        await p.select('stats_workload', 'solve');
        t = await p.waitStats(t);
        await p.setSlider('stats_rate', 0.35);
        t = await p.waitStats(t);
        await p.select('stats_latency', 'uniform');
        t = await p.waitStats(t);
        await p.select('ab_variant', 'full_jitter');
        t = await p.waitStats(t);
        await p.expectQuery({ stats_workload: 'solve', stats_rate: '0.35', stats_latency: 'uniform', ab_variant: 'full_jitter' });
        const link = await p.href();

        await other.gotoUrl(link);
        const there = await other.waitStats();
        assert.deepEqual(there.rows, t.rows, 'the same link gives the same table in another browser context');
        assert.equal(there.runs, t.runs);

        await p.reload();
        const again = await p.waitStats();
        assert.deepEqual(again.rows, t.rows, 'a reload gives the same table');
      },
      { secondPage: true },
    );
  });
});

describe('thundering herd', () => {
  test('exponential backoff without jitter does the most work and is slowest; full jitter does the least (screenshot herd)', async () => {
    await lab.withLab('', async (p) => {
      assertHerdOrder(await herdTable(p), '50 clients');
      await saveScreenshot(p.page.getByTestId('herd'), 'herd');

      const before = JSON.stringify(await herdTable(p));
      await p.setSlider('herd_clients', 100);
      await p.expectQuery({ herd_clients: '100' });
      const herd = await eventually(
        async () => {
          const h = await herdTable(p);
          assert.notEqual(JSON.stringify(h), before, 'the table follows the number of clients');
          return h;
        },
        { timeout: 15000, interval: 50 },
      );
      assertHerdOrder(herd, '100 clients');
    });
  });
});

describe('retry amplification', () => {
  test('retries in three layers multiply: 3 × 3 × 3 = 27 calls (screenshot amplify)', async () => {
    await lab.withLab('', async (p) => {
      const calls = async () => Object.fromEntries((await p.tableRows('amp-table')).map(([layer, n]) => [layer, Number(n)]));
      const verdict = p.page.getByTestId('amp-verdict');
      await eventually(async () => assert.deepEqual(await calls(), { SDK: 3, 'agent framework': 9, 'tool wrapper': 27 }));
      assert.match(await verdict.innerText(), /^One user request can cause 27 calls/);
      await saveScreenshot(p.page.getByTestId('amplify'), 'amplify');

      await p.setSlider('amp_sdk', 2);
      await p.setSlider('amp_framework', 2);
      await p.setSlider('amp_tool', 2);
      await p.expectQuery({ amp_sdk: '2', amp_framework: '2', amp_tool: '2' });
      await eventually(async () => assert.deepEqual(await calls(), { SDK: 2, 'agent framework': 4, 'tool wrapper': 8 }));
      assert.match(await verdict.innerText(), /^One user request can cause 8 calls/);

      // A Retry-After hint makes the user wait longer, without changing the number of calls.
      const waitOf = async () => seconds((await p.tableRows('amp-table')).at(-1)[2]);
      const before = await waitOf();
      await p.setSlider('amp_retry_after', 5);
      await eventually(async () => assert.ok((await waitOf()) > before, 'a longer wait'));
      assert.deepEqual(await calls(), { SDK: 2, 'agent framework': 4, 'tool wrapper': 8 });
    });
  });
});
