// Loading the lab anywhere: the message shown until the app mounts, a plain explanation when
// WebAssembly cannot start, the lab offline after one visit, copying without a Clipboard API,
// and the favicon. Screenshots of the loading and failure states go to e2e/artifacts/.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startServer, launchBrowser, saveScreenshot, distDir } from '../lib/harness.mjs';
import { useLab, eventually, LabPage, ANSWER, SAFE_MESSAGE } from './lab-page.mjs';

const PHONE = { width: 390, height: 844 };
const LAPTOP = { width: 1366, height: 768 };
const PROJECTOR = { width: 1920, height: 1080 };

/** The app's JS module (trunk's hashed wasm-bindgen glue), not sw.js. */
const GLUE = /\/reliability-lab-[0-9a-f]+\.js$/;

const lab = useLab();

/**
 * Opens the lab in a fresh context without waiting for it to mount: `beforeGoto(p)` can route
 * requests or add init scripts first. Closes the context when `body(p)` is done.
 */
async function opened(body, { beforeGoto = null, viewport = LAPTOP, ...options } = {}) {
  const p = await lab.newLab({ viewport, ...options });
  try {
    if (beforeGoto) await beforeGoto(p);
    await p.page.goto(lab.server.url);
    return await body(p);
  } finally {
    await p.close();
  }
}

/** The loading box (the element index.html shows until the app mounts). */
const loadingBox = (p) => p.page.locator('#loading');

/** Asserts the loading box explains that the lab could not start, and what to do. */
async function expectFailure(p, cause) {
  const alert = loadingBox(p).getByRole('alert');
  await alert.waitFor();
  const text = await alert.innerText();
  assert.match(text, new RegExp(`The lab could not start: ${cause}`), text);
  assert.match(text, /Reload the page/);
  assert.match(text, /current Chrome, Edge, Firefox or Safari/);
  assert.match(text, /JavaScript and WebAssembly/);
  // Not a blank page: the lab's name stays above the explanation, and nothing says "loading".
  assert.equal(await loadingBox(p).getByRole('heading', { name: 'Agent Reliability Lab' }).isVisible(), true);
  assert.equal(await p.page.getByText(/^Loading the lab/).count(), 0);
}

describe('the loading message', () => {
  test('is in the served HTML itself, and the app removes it once mounted', async () => {
    const res = await fetch(lab.server.url);
    assert.equal(res.status, 200);
    const html = await res.text();
    const box = /<div id="?loading"?>([\s\S]*?)<\/div>/.exec(html);
    assert.ok(box, 'the raw index.html has the #loading element');
    assert.match(box[1], /Agent Reliability Lab/);
    assert.match(box[1], /Loading the lab…/);
    assert.match(html, /<style>[^<]*#loading/, 'styled inline, so no CSS file has to arrive first');

    await lab.withLab('', async (p) => {
      assert.equal(await loadingBox(p).count(), 0, 'no loading box once the lab runs');
      assert.equal(await p.card('A').field('answer'), ANSWER);
    });
  });

  test('shows the lab\'s name and "Loading the lab…" while the WebAssembly downloads; screenshots', async () => {
    for (const [name, viewport] of [['phone', PHONE], ['laptop', LAPTOP], ['projector', PROJECTOR]]) {
      await opened(
        async (p) => {
          const box = loadingBox(p);
          await box.getByRole('status').waitFor();
          assert.equal(await box.getByRole('heading', { name: 'Agent Reliability Lab' }).isVisible(), true);
          assert.match(await box.getByRole('status').innerText(), /^Loading the lab…/);
          // Centred and inside the screen, with nothing cut off at the sides.
          const r = await box.locator('h1').boundingBox();
          const middle = r.x + r.width / 2;
          assert.ok(Math.abs(middle - viewport.width / 2) < 2, `the title is centred at ${viewport.width}px: ${JSON.stringify(r)}`);
          assert.ok(r.x >= 0 && r.x + r.width <= viewport.width, `the title fits at ${viewport.width}px`);
          assert.equal(await p.page.evaluate(() => document.documentElement.scrollWidth), viewport.width, 'no sideways scrolling');
          await saveScreenshot(p.page, `loading-${name}`, { fullPage: false });
        },
        // Hold the .wasm back: the page stays in its loading state.
        { viewport, beforeGoto: (p) => p.page.route('**/*.wasm', () => {}) },
      );
    }
  });

  test('says it is still loading, and suggests reloading, when nothing arrives for 20 seconds', () =>
    opened(
      async (p) => {
        const status = loadingBox(p).getByRole('status');
        await status.waitFor();
        assert.match(await status.innerText(), /^Loading the lab…/);
        await p.page.clock.fastForward(20_000);
        await eventually(async () => assert.match(await status.innerText(), /^Still loading after 20 seconds\. .*reload the page\.$/));
        assert.equal(await loadingBox(p).getByRole('alert').count(), 0, 'slow is not a failure');
      },
      {
        beforeGoto: async (p) => {
          await p.page.clock.install();
          await p.page.route('**/*.wasm', () => {});
        },
      },
    ));

  test('without JavaScript, says the lab needs it instead of loading forever', () =>
    opened(
      async (p) => {
        // innerText is the rendered text. (getByText does not look inside <noscript>.)
        const shown = await loadingBox(p).innerText();
        assert.match(shown, /Agent Reliability Lab/);
        assert.match(shown, /This lab runs in your browser with WebAssembly: please enable JavaScript\./);
        assert.doesNotMatch(shown, /Loading the lab/);
      },
      { javaScriptEnabled: false },
    ));
});

describe('when WebAssembly cannot start', () => {
  test('a blocked .wasm: the box explains what failed and what to do; Reload then starts the lab; screenshots', async () => {
    for (const [name, viewport] of [['phone', PHONE], ['laptop', LAPTOP]]) {
      await opened(
        async (p) => {
          await expectFailure(p, 'its WebAssembly did not load or start');
          await saveScreenshot(p.page, `load-failed-${name}`, { fullPage: false });
          if (name === 'laptop') {
            // The network is back: the box's own button reloads, and the lab runs.
            await p.page.unroute('**/*.wasm');
            await loadingBox(p).getByRole('button', { name: 'Reload the page' }).click();
            await p.ready();
            assert.equal(await loadingBox(p).count(), 0);
          }
        },
        { viewport, beforeGoto: (p) => p.page.route('**/*.wasm', (route) => route.abort()) },
      );
    }
  });

  test('a .wasm that is not WebAssembly (a proxy\'s error page): the same explanation, with the browser\'s reason', () =>
    opened(
      async (p) => {
        await expectFailure(p, 'its WebAssembly did not load or start');
        assert.match(await loadingBox(p).getByRole('alert').innerText(), /Details: .*WebAssembly/);
      },
      {
        beforeGoto: (p) =>
          p.page.route('**/*.wasm', (route) =>
            route.fulfill({ status: 200, contentType: 'application/wasm', body: '<html>Blocked by the school filter</html>' }),
          ),
      },
    ));

  test('the app\'s JS module failing to load: the box says part of the code did not download', () =>
    opened((p) => expectFailure(p, 'part of its code did not download'), {
      beforeGoto: (p) => p.page.route(GLUE, (route) => route.abort()),
    }));

  test('a browser without WebAssembly: the box says so', () =>
    opened((p) => expectFailure(p, 'this browser cannot run WebAssembly'), {
      beforeGoto: (p) =>
        p.context.addInitScript(() => {
          delete globalThis.WebAssembly;
        }),
    }));
});

describe('offline after one visit', () => {
  test('with the server gone and the browser offline, a reload and a new tab still run the lab', async () => {
    // A server of its own: this test shuts it down.
    const server = await startServer();
    const context = await lab.browser.newContext({ viewport: LAPTOP });
    try {
      const p = new LabPage(await context.newPage(), server.url, context);
      await p.goto('');
      // The service worker has cached the page and its files (it installs only once they are
      // cached), and controls the page.
      await eventually(
        async () => assert.equal(await p.page.evaluate(() => !!navigator.serviceWorker.controller), true, 'a service worker controls the page'),
        { timeout: 15000 },
      );

      await server.close();
      await context.setOffline(true);

      await p.reload();
      await p.expectField('A', 'answer', ANSWER);
      await p.setSlider('failures', 5);
      await p.expectField('A', 'answer', SAFE_MESSAGE);
      await p.expectVerdict('A', '⚠ degraded safely: ');
      p.assertNoErrors();

      // A new tab in the same browser: the saved session (failures 5) and a working slider.
      const q = new LabPage(await context.newPage(), server.url, context);
      await q.goto('');
      await q.expectField('A', 'answer', SAFE_MESSAGE);
      await q.setSlider('failures', 1);
      await q.expectField('A', 'answer', ANSWER);
      q.assertNoErrors();
    } finally {
      await context.close();
      await server.close();
    }
  });
});

describe('a new build', () => {
  test('is shown at the next online visit; its new files are cached and the old ones dropped', async () => {
    // A copy of the build that this test turns into a "new build": the stylesheet gets a new
    // hashed name, as trunk gives a changed file, and the title a mark.
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'lab-build-'));
    await fsp.cp(distDir(), dir, { recursive: true });
    const server = await startServer(dir);
    const context = await lab.browser.newContext({ viewport: LAPTOP });
    try {
      const p = new LabPage(await context.newPage(), server.url, context);
      await p.goto('');
      await eventually(async () => assert.equal(await p.page.evaluate(() => !!navigator.serviceWorker.controller), true), { timeout: 15000 });
      const cached = () => p.page.evaluate(async () => (await (await caches.open('lab')).keys()).map((r) => new URL(r.url).pathname).sort());
      const css = (await cached()).find((f) => f.endsWith('.css'));
      assert.ok(css, `the stylesheet is cached: ${JSON.stringify(await cached())}`);

      const newCss = css.replace(/-([0-9a-f]+)\.css$/, '-0123456789abcdef.css');
      await fsp.rename(path.join(dir, css), path.join(dir, newCss));
      const html = await fsp.readFile(path.join(dir, 'index.html'), 'utf8');
      await fsp.writeFile(
        path.join(dir, 'index.html'),
        html.split(css.slice(1)).join(newCss.slice(1)).replace('<title>Agent Reliability Lab', '<title>Agent Reliability Lab (new build)'),
      );

      await p.reload();
      assert.equal(await p.page.title(), 'Agent Reliability Lab (new build)', 'the page came from the network, not the cache');
      const bg = await p.page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--bg').trim());
      assert.equal(bg, '#f6f7f9', 'the renamed stylesheet (main.css, the only one to set --bg) applies');
      await eventually(async () => {
        const now = await cached();
        assert.ok(now.includes(newCss), `the new stylesheet is cached: ${JSON.stringify(now)}`);
        assert.ok(!now.includes(css), `the old one is dropped: ${JSON.stringify(now)}`);
      });
      p.assertNoErrors();
    } finally {
      await context.close();
      await server.close();
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('copying without a Clipboard API', () => {
  test('navigator.clipboard missing: Copy transcript shows the text to select, and no error', () =>
    lab.withLab(
      '',
      async (p) => {
        const a = p.card('A');
        await a.copy.click();
        const fallback = a.root.locator('textarea');
        await fallback.waitFor();
        assert.match(await a.root.locator('.copy-status').innerText(), /^Could not copy \(.+\)\. Select the text below instead\.$/);
        const text = await fallback.inputValue();
        assert.match(text, /^Agent Reliability Lab, card A: /);
        assert.ok(text.includes(`link: ${await p.href()}`), 'the whole transcript, with its link');
      },
      {
        // As on a page served over plain http from a LAN address, where the API does not exist.
        beforeGoto: (p) =>
          p.context.addInitScript(() => {
            delete Navigator.prototype.clipboard;
          }),
      },
    ));

  test('on plain http from a LAN address (a teacher\'s laptop), the lab runs and Copy says why it cannot copy', async () => {
    // lab.test resolves to the test server, so the page is http and not localhost: an insecure
    // context, where browsers give pages neither a clipboard nor service workers.
    const browser = await launchBrowser({ args: ['--host-resolver-rules=MAP lab.test 127.0.0.1'] });
    try {
      const context = await browser.newContext({ viewport: LAPTOP });
      const p = new LabPage(await context.newPage(), lab.server.url.replace('127.0.0.1', 'lab.test'), context);
      await p.goto('');
      assert.equal(await p.page.evaluate(() => window.isSecureContext), false);
      const a = p.card('A');
      await a.copy.click();
      await a.root.locator('textarea').waitFor();
      assert.equal(
        await a.root.locator('.copy-status').innerText(),
        'Could not copy (this page is not on https, so the browser does not allow copying). Select the text below instead.',
      );
      p.assertNoErrors();
    } finally {
      await browser.close();
    }
  });
});

describe('the favicon', () => {
  test('is an inline SVG that the browser draws, with a theme colour', () =>
    lab.withLab('', async (p) => {
      const href = await p.page.locator('link[rel="icon"]').getAttribute('href');
      assert.match(href, /^data:image\/svg\+xml,/);
      assert.match(decodeURIComponent(href), /<svg [^>]*viewBox/);
      const drawn = await p.page.evaluate(async (src) => {
        const img = new Image();
        img.src = src;
        await img.decode();
        return img.naturalWidth > 0;
      }, href);
      assert.equal(drawn, true, 'the icon decodes as an image');
      assert.match(await p.page.locator('meta[name="theme-color"]').getAttribute('content'), /^#[0-9a-f]{6}$/);
    }));
});
