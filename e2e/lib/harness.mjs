// Helpers for the node:test end-to-end tests in e2e/tests/ (run by `cargo xtask test`).
//
// Environment (set by xtask; defaults let a test file run on its own with `node --test`):
//   DIST_DIR       the trunk release build to serve           (default: <repo>/dist)
//   CHROMIUM       the Chrome/Chromium binary to drive         (default: /usr/bin/chromium)
//   ARTIFACTS_DIR  where screenshots and reports are written  (default: <repo>/e2e/artifacts)
//
// playwright-core never downloads a browser: it drives the system one through `executablePath`.

import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const E2E_DIR = path.resolve(HERE, '..');
const REPO_DIR = path.resolve(E2E_DIR, '..');

/** Flags for Chromium in a container, possibly as root; the lab needs no network beyond 127.0.0.1. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const MIME_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.webmanifest': 'application/manifest+json',
};

/** Absolute path of the build to serve: $DIST_DIR or <repo>/dist. */
export function distDir() {
  return path.resolve(process.env.DIST_DIR || path.join(REPO_DIR, 'dist'));
}

/** Absolute path for screenshots and reports: $ARTIFACTS_DIR or <repo>/e2e/artifacts. */
export function artifactsDir() {
  return path.resolve(process.env.ARTIFACTS_DIR || path.join(E2E_DIR, 'artifacts'));
}

/** The browser binary: $CHROMIUM or /usr/bin/chromium. */
export function chromiumPath() {
  return process.env.CHROMIUM || '/usr/bin/chromium';
}

/**
 * Serves `dir` (default: distDir()) on 127.0.0.1 at a free port.
 * '/' (and any path ending in '/') serves that directory's index.html; unknown paths are 404,
 * except a missing /favicon.ico, which is 204 so Chromium logs no console error for it.
 * Returns { url, close, requests }: url ends with '/', close() resolves once the server is down,
 * requests lists every { method, path, status } served, so a test can assert nothing was 404.
 */
export async function startServer(dir = distDir()) {
  const root = path.resolve(dir);
  if (!fs.existsSync(path.join(root, 'index.html'))) {
    throw new Error(`no index.html in ${root}: build first (trunk build --release, or cargo xtask test)`);
  }
  const requests = [];
  const server = http.createServer(async (req, res) => {
    const send = (status, headers, body) => {
      requests.push({ method: req.method, path: req.url, status });
      res.writeHead(status, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        send(405, { allow: 'GET, HEAD' }, 'method not allowed');
        return;
      }
      let rel = decodeURIComponent(new URL(req.url, 'http://127.0.0.1').pathname);
      if (rel.endsWith('/')) rel += 'index.html';
      let file = path.resolve(root, `.${rel}`);
      if (file !== root && !file.startsWith(root + path.sep)) {
        send(403, { 'content-type': 'text/plain' }, 'forbidden');
        return;
      }
      let stat = await fsp.stat(file).catch(() => null);
      if (stat?.isDirectory()) {
        file = path.join(file, 'index.html');
        stat = await fsp.stat(file).catch(() => null);
      }
      if (!stat?.isFile() && rel === '/favicon.ico') {
        // Browsers ask for it unprompted; a 404 would show up as a console error in every test.
        send(204, {}, undefined);
        return;
      }
      if (!stat?.isFile()) {
        send(404, { 'content-type': 'text/plain' }, 'not found');
        return;
      }
      const body = await fsp.readFile(file);
      send(
        200,
        {
          'content-type': MIME_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
          'content-length': body.length,
          'cache-control': 'no-store',
        },
        body,
      );
    } catch (err) {
      send(500, { 'content-type': 'text/plain' }, String(err));
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Launches the system Chromium (headless, no sandbox) through playwright-core.
 * `options` are merged into chromium.launch()'s; extra `args` are appended to CHROMIUM_FLAGS.
 */
export async function launchBrowser(options = {}) {
  const { args = [], ...rest } = options;
  const executablePath = chromiumPath();
  if (!fs.existsSync(executablePath)) {
    throw new Error(`no browser at ${executablePath}: install Chromium or set CHROMIUM=/path/to/chrome`);
  }
  return chromium.launch({
    executablePath,
    headless: true,
    chromiumSandbox: false,
    args: [...CHROMIUM_FLAGS, ...args],
    ...rest,
  });
}

/**
 * Records the page's console errors and uncaught exceptions (`pageerror`), plus requests that
 * failed outright. Returns the live array of strings; assert it is empty at the end of a test:
 *   const errors = trackErrors(page); ...; assert.deepEqual(errors, []);
 */
export function trackErrors(page) {
  const errors = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') {
      const where = msg.location()?.url ? ` (${msg.location().url})` : '';
      errors.push(`console.error: ${msg.text()}${where}`);
    }
  });
  page.on('pageerror', (err) => {
    errors.push(`pageerror: ${err?.stack || err?.message || String(err)}`);
  });
  page.on('requestfailed', (req) => {
    errors.push(`requestfailed: ${req.url()} (${req.failure()?.errorText ?? 'unknown'})`);
  });
  return errors;
}

/**
 * Saves a PNG screenshot of a Page or Locator as ARTIFACTS_DIR/<name>.png and returns its path.
 * `name` may contain letters, digits, '.', '_' and '-'; anything else becomes '-'.
 */
export async function saveScreenshot(pageOrLocator, name, options = {}) {
  const dir = artifactsDir();
  await fsp.mkdir(dir, { recursive: true });
  const safe = String(name).replace(/\.png$/i, '').replace(/[^A-Za-z0-9._-]+/g, '-');
  const file = path.join(dir, `${safe}.png`);
  const isPage = typeof pageOrLocator.goto === 'function';
  await pageOrLocator.screenshot({ path: file, ...(isPage ? { fullPage: true } : {}), ...options });
  return file;
}
