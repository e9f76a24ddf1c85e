// An automated accessibility audit: axe-core (npm, injected into the page) finds no violation
// on the default page, with the statistics and the herd computed, at a laptop's and a phone's
// size, nor in present mode. The full report of each run is saved as ARTIFACTS_DIR/axe-<name>.json.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import { artifactsDir } from '../lib/harness.mjs';
import { useLab, eventually } from './lab-page.mjs';

const AXE_SOURCE = await fsp.readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const lab = useLab();

/** Runs axe on the whole page; saves the report; returns the violations, shortened. */
async function audit(p, name) {
  await p.page.addScriptTag({ content: AXE_SOURCE });
  const result = await p.page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return {
      version: r.testEngine.version,
      passed: r.passes.map((v) => v.id),
      violations: r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })),
      })),
    };
  });
  await fsp.mkdir(artifactsDir(), { recursive: true });
  await fsp.writeFile(path.join(artifactsDir(), `axe-${name}.json`), JSON.stringify(result, null, 2));
  // The audit looked at the page: the rules for contrast, names and landmarks ran and passed.
  for (const rule of ['color-contrast', 'button-name', 'label', 'landmark-one-main', 'region']) {
    assert.ok(result.passed.includes(rule), `axe checked ${rule} (passed: ${result.passed.join(', ')})`);
  }
  return result.violations;
}

/** Waits until the statistics and the herd have been computed, so their tables are audited too. */
async function computed(p) {
  await p.waitStats();
  await eventually(async () => assert.equal((await p.tableRows('herd-table')).length, 5), { timeout: 20000, interval: 50 });
}

describe('axe-core audit', () => {
  for (const [name, options] of [
    ['laptop', { viewport: { width: 1366, height: 768 } }],
    ['phone', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }],
  ]) {
    test(`the default page at ${options.viewport.width}x${options.viewport.height} has no violations (report axe-default-${name}.json)`, async () => {
      await lab.withLab(
        '',
        async (p) => {
          await computed(p);
          const violations = await audit(p, `default-${name}`);
          assert.deepEqual(violations, [], JSON.stringify(violations, null, 2));
        },
        options,
      );
    });
  }

  test('present mode has no violations (report axe-present.json)', async () => {
    await lab.withLab(
      'present=D',
      async (p) => {
        const violations = await audit(p, 'present');
        assert.deepEqual(violations, [], JSON.stringify(violations, null, 2));
      },
      { viewport: { width: 1920, height: 1080 } },
    );
  });
});
