// The native live example (`cargo run -p reliability-core --example live`), the lab's
// `python agent.py`, against the same loopback stand-in for the Messages API as the page's
// live panel: the same engine and policies from a terminal, and its trace replays offline.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStub } from '../lib/messages-stub.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const KEY = 'sk-ant-native-SECRET-42';
let stub;
let dir;

before(async () => {
  stub = await startStub({ script: 'solve' });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'live-native-'));
});
after(async () => {
  await stub?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs the example with `args`; resolves { code, stdout, stderr }. */
function example(args, env = {}) {
  const cargo = process.env.CARGO || 'cargo';
  return new Promise((resolve) => {
    execFile(
      cargo,
      ['run', '--offline', '-q', '-p', 'reliability-core', '--example', 'live', '--', '--base', stub.url, ...args],
      { cwd: REPO, env: { ...process.env, ANTHROPIC_API_KEY: KEY, ...env }, timeout: 600_000, maxBuffer: 1 << 22 },
      (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function posts(from) {
  return stub.requests.slice(from).filter((r) => r.method === 'POST');
}

describe('the native live example against a stand-in Messages API', () => {
  test('an injected failure, a retry, then the real answer; the key only in its header', async () => {
    stub.setScript('solve');
    const from = stub.requests.length;
    const trace = path.join(dir, 'native.json');
    const out = await example(['--settings', 'failures=1&base_delay=0.1', '--trace', trace]);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /\{'answer': 'The answer is 391\.', 'steps': 2, 'blocked': \[\], 'degraded': False\}/);
    assert.match(out.stdout, /-> handled: retry recovered on attempt 2/);
    const sent = posts(from);
    assert.equal(sent.length, 2, 'the injected failure never reached the API');
    for (const r of sent) {
      assert.equal(r.headers['x-api-key'], KEY);
      assert.ok(r.headers['anthropic-version']);
      assert.ok(!r.body.includes(KEY));
    }
    const file = fs.readFileSync(trace, 'utf8');
    assert.ok(!file.includes(KEY), 'the trace has no key');
    assert.ok(!out.stdout.includes(KEY), 'the output has no key');
    assert.match(file, /"format"/);
  });

  test('a model that keeps failing with 529: every attempt, then the safe message', async () => {
    stub.setScript([{ status: 529 }]);
    const from = stub.requests.length;
    const out = await example(['--settings', 'failures=0&attempts=2&base_delay=0.1']);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /'degraded': True/);
    assert.match(out.stdout, /all 2 attempts failed with 529/);
    assert.equal(posts(from).length, 2);
  });

  test('send_email under --deny is not sent, and the model is told', async () => {
    stub.setScript('send_email');
    const from = stub.requests.length;
    const out = await example(['--settings', 'failures=0&live_task=multiply_and_email', '--deny']);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /'blocked': \['send_email'\]/);
    assert.match(out.stdout, /did not send/);
    assert.equal(posts(from).length, 2);
  });

  test('without a key it says what to set and calls nothing', async () => {
    const from = stub.requests.length;
    const out = await example([], { ANTHROPIC_API_KEY: '' });
    assert.notEqual(out.code, 0);
    assert.match(out.stderr, /ANTHROPIC_API_KEY/);
    assert.equal(posts(from).length, 0);
  });
});
