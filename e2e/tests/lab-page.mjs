// Page object for the Agent Reliability Lab, shared by the *.test.mjs files in this folder.
// (Not a test file itself: node --test only runs tests/*.test.mjs.)
//
// Everything here goes through the page's testing contract: data-testid="knob-<name>",
// <output for="knob-<name>">, data-testid="card-<letter>" with result / verdict / timeline /
// play / copy / export / facts (and approve / deny / ask-again on D and M), data-testid="notice",
// "reset", "kill-switch", "import-file" / "imported" / "replay-check", and the statistics
// panel's "stats" / "ab-table" / "stats-timing" / "stats-progress".

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import { startServer, launchBrowser, trackErrors } from '../lib/harness.mjs';

/** Every card of the lab (the first six), in page order. */
export const LETTERS = ['A', 'B', 'C', 'D', 'E', 'F'];
/** The cards of the failure-first toolbox, in page order. */
export const TOOLBOX = ['G', 'H', 'I', 'J', 'K', 'L', 'M', 'N'];
/** Every card on the page. */
export const ALL_LETTERS = [...LETTERS, ...TOOLBOX];

/** The result fields of a card, as <span data-field="…"> inside its dict-form result. */
export const FIELDS = ['answer', 'steps', 'blocked', 'degraded'];

/**
 * The settings of the testing contract with their defaults, as the page writes them in the
 * URL query. (The page may add settings of its own; tests check these keys, not the whole
 * query string, so that a new knob does not break them.)
 */
export const DEFAULTS = {
  failures: '2',
  max_steps: '4',
  timeout: '0.05',
  attempts: '3',
  base_delay: '0.5',
  seed: '1',
  breaker_threshold: '3',
  breaker_cooldown: '5',
  jitter: 'none',
};

/** The contract's keys in the URL query: every setting, plus approval once D is decided. */
export const QUERY_KEYS = [...Object.keys(DEFAULTS), 'approval'];

/** The defaults as a query string (what the page writes for them, in its order). */
export const DEFAULT_QUERY = new URLSearchParams(DEFAULTS).toString();

/** The safe message of a degraded run. */
export const SAFE_MESSAGE = 'Service unavailable, please try again later.';
/** The answer of a run that worked. */
export const ANSWER = 'The answer is 391.';
/** The answer of a run stopped by the kill switch. */
export const KILLED = 'Stopped: the kill switch is on.';
/** The localStorage key of the saved session. */
export const SESSION_KEY = 'agent-reliability-lab.session';

/**
 * Retries `fn` (sync or async) until it stops throwing, or rethrows its last error after
 * `timeout` ms. The page updates the DOM in a microtask and the URL through replaceState, so
 * assertions on them poll briefly instead of sleeping.
 */
export async function eventually(fn, { timeout = 5000, interval = 25 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, interval));
    }
  }
}

/** "99.3%" → 99.3. */
export function percent(text) {
  const m = /^(-?[\d.]+)%$/.exec(String(text).trim());
  assert.ok(m, `a percentage: ${JSON.stringify(text)}`);
  return Number(m[1]);
}

/**
 * The timing summary the measurement reports (perf.json, stats-perf.json) write, in ms rounded
 * to 3 decimals: { count, p50_ms, p95_ms, max_ms, min_ms }, and mean_ms too with `{ mean: true }`.
 */
export function summary(values, { mean = false } = {}) {
  const sorted = [...values].sort((a, b) => a - b);
  const out = {
    count: sorted.length,
    p50_ms: roundMs(percentile(sorted, 50)),
    p95_ms: roundMs(percentile(sorted, 95)),
    max_ms: roundMs(sorted[sorted.length - 1]),
    min_ms: roundMs(sorted[0]),
  };
  if (mean) out.mean_ms = roundMs(sorted.reduce((a, b) => a + b, 0) / sorted.length);
  return out;
}

/** The `p`th percentile (0–100) of `sorted` (ascending), by nearest rank. */
export function percentile(sorted, p) {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/** A time in ms rounded to 3 decimals (µs), as the measurement reports write it. */
export function roundMs(x) {
  return Math.round(x * 1000) / 1000;
}

/**
 * One browser and one static server for a whole test file. Call in before(); call close()
 * in after() (or let useLab() do both). newLab() gives a fresh context + page per test;
 * withLab() runs a test body on one and cleans up.
 */
export async function startLab() {
  const server = await startServer();
  const browser = await launchBrowser();

  /** A LabPage in a fresh browser context (own history, storage and viewport). */
  async function newLab({ viewport = { width: 1400, height: 900 }, ...contextOptions } = {}) {
    const context = await browser.newContext({ viewport, ...contextOptions });
    const page = await context.newPage();
    // Fail a step in seconds, not Playwright's default 30 s: the page renders in well under one.
    page.setDefaultTimeout(10000);
    return new LabPage(page, server.url, context);
  }

  /**
   * Runs `body(p)` on a fresh LabPage opened at `query` (see LabPage.goto), then asserts the
   * page logged no errors, and closes it even when the body throws. Returns what `body` returns.
   * Options:
   * - `assertNoErrors: false` skips the final error check (for a body that checks at its own time);
   * - `beforeGoto(p)` runs before the page opens the lab (e.g. to grant permissions or add an
   *   init script to p.context);
   * - `secondPage: true` also makes a second fresh LabPage, not opened yet (another visitor, for
   *   a copied link), passed as `body(p, q)`; it is checked for errors and closed like `p`;
   * - anything else goes to newLab() (viewport, permissions, isMobile, …).
   */
  async function withLab(query, body, { assertNoErrors = true, beforeGoto = null, secondPage = false, ...labOptions } = {}) {
    const pages = [await newLab(labOptions)];
    if (secondPage) pages.push(await newLab(labOptions));
    try {
      if (beforeGoto) await beforeGoto(pages[0]);
      await pages[0].goto(query);
      const result = await body(...pages);
      if (assertNoErrors) for (const p of pages) p.assertNoErrors();
      return result;
    } finally {
      for (const p of pages) await p.close();
    }
  }

  return {
    server,
    browser,
    newLab,
    withLab,
    async close() {
      await browser.close().catch(() => {});
      await server.close();
    },
  };
}

/**
 * startLab() in a before() hook and its close() in an after() hook of the current suite (the
 * test file at top level, or the describe() it is called in). Returns the lab, filled in by
 * the before() hook: use it inside tests, not while they are being defined.
 */
export function useLab() {
  const lab = {};
  before(async () => {
    Object.assign(lab, await startLab());
  });
  after(async () => {
    await lab.close?.();
  });
  return lab;
}

/** One card of the lab. */
export class CardView {
  /**
   * `root` defaults to the lab's own card: an imported trace shows a second card with the same
   * data-testid (inside data-testid="imported"), which is left out here.
   */
  constructor(page, letter, root = null) {
    this.page = page;
    this.letter = letter;
    this.root = root ?? page.locator(`[data-testid="card-${letter}"]:not([data-testid="imported"] *)`);
  }

  get result() {
    return this.root.getByTestId('result');
  }
  get verdictEl() {
    return this.root.getByTestId('verdict');
  }
  get timeline() {
    return this.root.getByTestId('timeline');
  }
  get play() {
    return this.root.getByTestId('play');
  }
  get copy() {
    return this.root.getByTestId('copy');
  }
  get approve() {
    return this.root.getByTestId('approve');
  }
  get deny() {
    return this.root.getByTestId('deny');
  }
  get askAgain() {
    return this.root.getByTestId('ask-again');
  }
  get exportButton() {
    return this.root.getByTestId('export');
  }
  /** A knob inside the card (toolbox cards G–N have their own). */
  knob(name) {
    return this.root.getByTestId(`knob-${name}`);
  }

  /** The card's facts list (G, H, L, M, N) as { term: text }. */
  async facts() {
    return this.root.getByTestId('facts').evaluate((dl) =>
      Object.fromEntries(
        [...dl.querySelectorAll('div')].map((d) => [d.querySelector('dt').textContent.trim(), d.querySelector('dd').textContent.trim()]),
      ),
    );
  }

  /** Whether its replay is running, by its play button (aria-pressed and label). */
  async isPlaying() {
    const pressed = await this.play.getAttribute('aria-pressed');
    const label = (await this.play.innerText()).trim();
    return pressed === 'true' && label === '■ Stop replay';
  }

  /** The <span data-field=name> of the result. */
  fieldEl(name) {
    return this.result.locator(`[data-field="${name}"]`);
  }

  /** The text of one result field (answer, steps, blocked, degraded). */
  async field(name) {
    return (await this.fieldEl(name).innerText()).trim();
  }

  /** The verdict's text, e.g. "✓ handled: retry recovered …". */
  async verdict() {
    return (await this.verdictEl.innerText()).trim();
  }

  /** The tone word of the verdict: handled, no fault, not recovered or waiting. */
  async tone() {
    const m = /^\S+\s+([^:]+):/.exec(await this.verdict());
    return m ? m[1].trim() : null;
  }

  /** Every result field, the verdict and the counters line, read at once (one round trip). */
  async snapshot() {
    return this.root.evaluate((card) => {
      const out = {};
      for (const dd of card.querySelectorAll('[data-testid="result"] [data-field]')) {
        out[dd.dataset.field] = dd.textContent.trim();
      }
      out.verdict = card.querySelector('[data-testid="verdict"]')?.textContent.trim() ?? null;
      out.counters = card.querySelector('.counters')?.textContent.trim() ?? null;
      out.used = card.querySelector('ul.used')?.textContent.trim() ?? null;
      return out;
    });
  }

  /** How many bars and marks the timeline draws now (fewer while a replay is early on). */
  async drawnCount() {
    return this.timeline.evaluate((svg) => svg.querySelectorAll('rect.bar, g.mark').length);
  }
}

/** The lab page. */
export class LabPage {
  constructor(page, baseUrl, context = null) {
    this.page = page;
    this.baseUrl = baseUrl;
    this.context = context;
    this.errors = trackErrors(page);
  }

  /** Opens the lab with `query` ('' or 'a=1&b=2', with or without '?') and waits for the cards. */
  async goto(query = '') {
    const q = query === '' || query.startsWith('?') ? query : `?${query}`;
    await this.page.goto(this.baseUrl + q);
    await this.ready();
  }

  /** Opens an absolute URL (e.g. a link copied from another page). */
  async gotoUrl(url) {
    await this.page.goto(url);
    await this.ready();
  }

  async reload() {
    await this.page.reload();
    await this.ready();
  }

  /** Waits until the app has mounted and every card shows an answer. */
  async ready() {
    await this.page.waitForFunction(
      (letters) =>
        letters.every((l) => {
          const dd = document.querySelector(`[data-testid="card-${l}"] [data-field="answer"]`);
          return dd && dd.textContent.trim() !== '';
        }),
      ALL_LETTERS,
      { timeout: 15000 },
    );
  }

  card(letter) {
    return new CardView(this.page, letter);
  }

  /** The card shown by the "Replay a saved trace" section, once a file is imported. */
  importedCard(letter) {
    return new CardView(this.page, letter, this.page.getByTestId('imported').getByTestId(`card-${letter}`));
  }

  /** The header's kill switch button. */
  get killSwitch() {
    return this.page.getByTestId('kill-switch');
  }

  /** Polls until a card's facts include `expected` (a subset of terms → text). */
  async expectFacts(letter, expected) {
    await eventually(async () => {
      const got = await this.card(letter).facts();
      for (const [k, v] of Object.entries(expected)) assert.equal(got[k], v, `card ${letter} fact "${k}" (all: ${JSON.stringify(got)})`);
    });
  }

  /** Chooses an option of a <select> knob. */
  async select(name, value) {
    await this.knob(name).selectOption(String(value));
  }

  /** Clicks `button` and returns the download it starts as { name, text }. */
  async download(button) {
    const [dl] = await Promise.all([this.page.waitForEvent('download'), button.click()]);
    return { name: dl.suggestedFilename(), text: await fsp.readFile(await dl.path(), 'utf8') };
  }

  /** Opens `text` as a file named `name` in the "Replay a saved trace" file input. */
  async importTrace(name, text) {
    await this.page.getByTestId('import-file').setInputFiles({ name, mimeType: 'application/json', buffer: Buffer.from(text) });
  }

  /** The rows of a table (by data-testid) as arrays of cell texts, header cell first. */
  async tableRows(testid) {
    return this.page.getByTestId(testid).evaluate((t) =>
      [...t.querySelectorAll('tbody tr')].map((r) => [...r.children].map((c) => c.textContent.trim())),
    );
  }

  /**
   * The what-if statistics as shown now: { rows: { 'success rate': { A, B, B_vs_A }, … },
   * timing (the text under the knobs), ms (its data-ms), runs ("10000 + 10000"), progress }.
   */
  async statsNow() {
    return this.page.getByTestId('stats').evaluate((section) => {
      const rows = {};
      for (const tr of section.querySelectorAll('[data-testid="ab-table"] tbody tr')) {
        const [name, a, b, delta] = [...tr.children].map((c) => c.textContent.trim());
        rows[name] = { A: a, B: b, B_vs_A: delta };
      }
      const timingEl = section.querySelector('[data-testid="stats-timing"]');
      const timing = timingEl?.textContent.trim() ?? '';
      return {
        rows,
        timing,
        ms: timingEl ? Number(timingEl.dataset.ms) : NaN,
        runs: /^(\d+ \+ \d+) runs/.exec(timing)?.[1] ?? null,
        progress: section.querySelector('[data-testid="stats-progress"]')?.textContent.trim() ?? '',
      };
    });
  }

  /**
   * Waits for a finished computation of the statistics: no progress shown, a full table, and
   * (given `previous`, an earlier result of statsNow/waitStats) a table different from it.
   * So a move must change the table; the computation is async and chunked.
   */
  async waitStats(previous = null, { timeout = 20000 } = {}) {
    return eventually(
      async () => {
        const now = await this.statsNow();
        assert.equal(now.progress, '', 'the computation is finished');
        assert.ok(Object.keys(now.rows).length >= 9, `the A/B table is shown: ${JSON.stringify(now.rows)}`);
        assert.ok(now.runs, `the timing line says how many runs: ${JSON.stringify(now.timing)}`);
        if (previous) assert.notDeepEqual(now.rows, previous.rows, 'the table changed');
        return now;
      },
      { timeout, interval: 20 },
    );
  }

  /** One localStorage item of the page's origin (null when absent). */
  async storage(key) {
    return this.page.evaluate((k) => localStorage.getItem(k), key);
  }

  /** The input (range, number or select) of a knob. */
  knob(name) {
    return this.page.getByTestId(`knob-${name}`);
  }

  /** The <output> showing a knob's value. */
  output(name) {
    return this.page.locator(`output[for="knob-${name}"]`);
  }

  async outputText(name) {
    return (await this.output(name).innerText()).trim();
  }

  get notice() {
    return this.page.getByTestId('notice');
  }

  get reset() {
    return this.page.getByTestId('reset');
  }

  /** Opens the "Advanced" <details> (idempotent). */
  async openAdvanced() {
    await this.page.locator('details.advanced').evaluate((d) => {
      d.open = true;
    });
  }

  /**
   * Moves a range slider the way a drag does: sets the value and fires `input`.
   * (locator.fill() does not work on range inputs.)
   */
  async setSlider(name, value) {
    await this.knob(name).evaluate((el, v) => {
      el.value = v;
      el.dispatchEvent(new Event('input', { bubbles: true }));
    }, String(value));
  }

  /** Types a seed and commits it (the seed listens to `change`). */
  async setSeed(value) {
    await this.openAdvanced();
    await this.knob('seed').fill(String(value));
    await this.knob('seed').press('Enter');
    await this.knob('seed').blur();
  }

  async setJitter(name) {
    await this.openAdvanced();
    await this.knob('jitter').selectOption(name);
  }

  /** The current location.search as a plain object. */
  async query() {
    const search = await this.page.evaluate(() => location.search);
    return Object.fromEntries(new URLSearchParams(search));
  }

  /** The current address (what a user would copy from the address bar). */
  async href() {
    return this.page.evaluate(() => location.href);
  }

  /** The contract's keys of the current URL query (absent ones left out). */
  async contractQuery() {
    const q = await this.query();
    return Object.fromEntries(QUERY_KEYS.filter((k) => k in q).map((k) => [k, q[k]]));
  }

  /** Polls until the address has no query at all (what a page at its defaults shows). */
  async expectNoQuery() {
    await eventually(async () => assert.equal(await this.page.evaluate(() => location.search), '', 'no query in the address'));
  }

  /** Polls until the URL query has `expected` (a subset of keys → string values). */
  async expectQuery(expected) {
    await eventually(async () => {
      const q = await this.query();
      for (const [k, v] of Object.entries(expected)) {
        assert.equal(q[k], v === undefined ? undefined : String(v), `URL query ${k} (whole query: ${JSON.stringify(q)})`);
      }
    });
  }

  /** Polls until a knob's <output> shows `text`. */
  async expectOutput(name, text) {
    await eventually(async () => assert.equal(await this.outputText(name), text, `<output> of ${name}`));
  }

  /** Polls until a card's result field equals (string) or matches (RegExp) `expected`. */
  async expectField(letter, name, expected) {
    await eventually(async () => {
      const got = await this.card(letter).field(name);
      if (expected instanceof RegExp) assert.match(got, expected, `card ${letter} ${name}`);
      else assert.equal(got, expected, `card ${letter} ${name}`);
    });
  }

  /** Polls until a card's verdict matches `expected` (RegExp) or starts with it (string). */
  async expectVerdict(letter, expected) {
    await eventually(async () => {
      const got = await this.card(letter).verdict();
      if (expected instanceof RegExp) assert.match(got, expected, `card ${letter} verdict`);
      else assert.ok(got.startsWith(expected), `card ${letter} verdict: expected to start with ${JSON.stringify(expected)}, got ${JSON.stringify(got)}`);
    });
  }

  /** Snapshots of every card, keyed by letter. */
  async snapshotAll() {
    const out = {};
    for (const l of LETTERS) out[l] = await this.card(l).snapshot();
    return out;
  }

  /** Every knob's <output> text, plus the seed's and jitter's input values. */
  async knobValues() {
    return this.page.evaluate(() => {
      const out = {};
      for (const o of document.querySelectorAll('output[for^="knob-"]')) {
        out[o.getAttribute('for').slice(5)] = o.textContent.trim();
      }
      out['seed-input'] = document.querySelector('[data-testid="knob-seed"]')?.value ?? null;
      out.jitter = document.querySelector('[data-testid="knob-jitter"]')?.value ?? null;
      return out;
    });
  }

  /** Asserts the page logged no console errors, threw nothing and had no failed requests. */
  assertNoErrors() {
    assert.deepEqual(this.errors, [], 'console errors, page errors or failed requests');
  }

  async close() {
    if (this.context) await this.context.close();
    else await this.page.close();
  }
}
