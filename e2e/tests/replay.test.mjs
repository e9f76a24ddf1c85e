// Export a card's trace, import it back ("Replay a saved trace"), refuse bad files;
// and the observability panel's structured log exported as JSON lines.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useLab, eventually, ALL_LETTERS, ANSWER, SAFE_MESSAGE } from './lab-page.mjs';

const IDENTICAL = 'its recorded replies, fed to this engine, make the very same run: same tool calls, same order, same events';

const lab = useLab();

/** Exports card `letter`'s trace; checks the file's name and header; returns its text. */
async function exportTrace(p, letter) {
  const { name, text } = await p.download(p.card(letter).exportButton);
  assert.equal(name, `trace-${letter}.json`);
  const json = JSON.parse(text);
  assert.equal(json.format, 'agent-reliability-lab/trace');
  assert.equal(json.version, 2);
  assert.equal(json.source.card, letter);
  assert.ok(Array.isArray(json.tape?.requests), 'the file carries the recorded replies (its tape)');
  return text;
}

/** Imports `text` and waits until the imported card and the replay check show `name`'s trace. */
async function importGood(p, name, text, letter) {
  await p.importTrace(name, text);
  await eventually(async () => {
    assert.equal(await p.page.getByTestId('import-error').count(), 0, 'no import error');
    assert.equal(await p.importedCard(letter).root.count(), 1, `the imported card ${letter} is shown`);
    assert.match(await p.page.getByTestId('replay-check').innerText(), new RegExp(`^${name.replace('.', '\\.')}: `));
  });
}

/** Everything a user sees of the lab cards, the imported trace and the address. */
async function pageState(p, letter) {
  const cards = {};
  for (const l of ALL_LETTERS) cards[l] = await p.card(l).snapshot();
  return {
    cards,
    imported: await p.importedCard(letter).snapshot(),
    check: (await p.page.getByTestId('replay-check').innerText()).trim(),
    href: await p.href(),
  };
}

describe('export and import a trace', () => {
  test('A (failures=1) exported and imported back: the same result, replayed identically', async () => {
    await lab.withLab('failures=1', async (p) => {
      const a = p.card('A');
      await p.expectVerdict('A', /recovered on attempt 2/);
      const text = await exportTrace(p, 'A');
      assert.equal(new URLSearchParams(JSON.parse(text).settings).get('failures'), '1', 'the trace keeps its settings');

      await importGood(p, 'trace-A.json', text, 'A');
      const imported = p.importedCard('A');
      assert.deepEqual(await imported.snapshot(), await a.snapshot(), 'the imported card shows the exported run');
      assert.match(await p.page.getByTestId('replay-check').innerText(), new RegExp(IDENTICAL));

      // The imported run is the file's: moving the lab's knobs does not change it.
      await p.setSlider('failures', 3);
      await p.expectField('A', 'answer', SAFE_MESSAGE);
      assert.equal(await imported.field('answer'), ANSWER);
      assert.match(await imported.verdict(), /recovered on attempt 2/);

      // A file edited by hand still opens, but the check says it differs from this engine's run.
      const edited = JSON.parse(text);
      edited.run.outcome.answer = 'The answer is 42.';
      await importGood(p, 'edited.json', JSON.stringify(edited), 'A');
      const check = await p.page.getByTestId('replay-check').innerText();
      assert.doesNotMatch(check, /identically/, `an edited trace is not called identical: ${check}`);
      assert.match(check, /differ/);
    });
  });

  test('G (a duplicate charge) exported and imported back identically', async () => {
    await lab.withLab('', async (p) => {
      await p.expectFacts('G', { charges: '2' });
      const text = await exportTrace(p, 'G');
      await importGood(p, 'trace-G.json', text, 'G');
      assert.deepEqual(await p.importedCard('G').snapshot(), await p.card('G').snapshot());
      assert.equal(
        (await p.page.getByTestId('replay-check').innerText()).trim(),
        `trace-G.json: ${IDENTICAL}`,
      );
    });
  });

  test('bad files are refused with their reason; the imported trace and the cards stay as they were', async () => {
    await lab.withLab('failures=1', async (p) => {
      const good = await exportTrace(p, 'A');
      await importGood(p, 'trace-A.json', good, 'A');
      const before = await pageState(p, 'A');
      const knobs = await p.knobValues();

      const future = JSON.parse(good);
      future.version = 3;
      const damaged = JSON.parse(good);
      damaged.run.outcome.steps = 'two';
      const bad = [
        ['notes.json', 'hello, these are my notes', /it is not JSON/],
        ['cut.json', good.slice(0, Math.floor(good.length / 2)), /cut short/],
        ['profile.json', '{"traceEvents":[]}', /not a trace file of this lab/],
        ['chrome.json', '{"format":"chrome-trace","version":1}', /not a trace file of this lab/],
        ['future.json', JSON.stringify(future), /version 3, made by a newer lab/],
        ['damaged.json', JSON.stringify(damaged), /damaged/],
        ['empty.json', '', /empty/],
      ];
      for (const [name, text, reason] of bad) {
        await p.importTrace(name, text);
        await eventually(async () => {
          const msg = await p.page.getByTestId('import-error').innerText();
          assert.match(msg, new RegExp(name.replace('.', '\\.')), `the error names the file: ${msg}`);
          assert.match(msg, reason, `${name}: ${msg}`);
        });
        assert.deepEqual(await pageState(p, 'A'), before, `after ${name}: the imported trace, the cards and the address are unchanged`);
        assert.deepEqual(await p.knobValues(), knobs, `after ${name}: the knobs are unchanged`);
      }

      // A good file again clears the error.
      await importGood(p, 'trace-A.json', good, 'A');
      assert.equal(await p.page.getByTestId('import-error').count(), 0);
      assert.deepEqual(await pageState(p, 'A'), before);
    });
  });
});

describe('structured log', () => {
  test('export-log downloads one JSON line per row of the structured log', async () => {
    await lab.withLab('', async (p) => {
      const panel = p.page.getByTestId('observability');
      const summary = panel.locator('details summary', { hasText: 'Structured log' });
      const n = Number(/\((\d+) lines?\)/.exec(await summary.innerText())?.[1]);
      assert.ok(n > 10, `the summary counts the log's lines (${await summary.innerText()})`);

      await summary.click();
      const rows = p.page.locator('table[data-testid="log"] tbody tr');
      await eventually(async () => assert.equal(await rows.count(), n, 'the opened log shows as many rows as its summary says'));

      const { name, text } = await p.download(panel.getByTestId('export-log'));
      assert.equal(name, 'agent-runs.jsonl');
      const lines = text.split('\n').filter((l) => l !== '');
      assert.equal(lines.length, n, 'one JSON line per row');
      const records = lines.map((l, i) => {
        try {
          return JSON.parse(l);
        } catch (err) {
          assert.fail(`line ${i + 1} is not JSON: ${l} (${err.message})`);
        }
      });
      for (const r of records) {
        for (const k of ['trace_id', 'step', 'tool', 'error_type', 'retries', 'duration_us', 'at_us']) {
          assert.ok(k in r, `every line has ${k}: ${JSON.stringify(r)}`);
        }
      }
      // The rows and the lines are the same records, in the same order.
      const firstRow = await rows.first().locator('td, th').allInnerTexts();
      assert.equal(firstRow[0].trim(), records[0].trace_id);
      assert.equal(firstRow[2].trim(), records[0].tool);
      const traces = new Set(records.map((r) => r.trace_id.split('-')[0]));
      for (const l of ALL_LETTERS) assert.ok(traces.has(l), `card ${l}'s run is in the log`);

      // The log follows the page: with no failures, card A's 503s are gone from it.
      const a503 = records.filter((r) => r.trace_id.startsWith('A-') && r.error_type === '503').length;
      assert.ok(a503 >= 1, 'A\'s failed calls are logged');
      await p.setSlider('failures', 0);
      await p.expectVerdict('A', '• no fault');
      const after = await p.download(panel.getByTestId('export-log'));
      const aAfter = after.text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).filter((r) => r.trace_id.startsWith('A-'));
      assert.equal(aAfter.filter((r) => r.error_type === '503').length, 0);
      const n2 = Number(/\((\d+) lines?\)/.exec(await summary.innerText())?.[1]);
      await eventually(async () => assert.equal(await rows.count(), n2));
      assert.equal(after.text.split('\n').filter((l) => l !== '').length, n2);
    });
  });
});
