// The live panel (driver 3) against a loopback stand-in for the Messages API: the page POSTs
// to `{base}/v1/messages` with the user's key, and every policy of the lab applies to the real
// calls. The stub (e2e/lib/messages-stub.mjs) is started by this file on 127.0.0.1 and records
// every request, so the tests assert what the page sent, not only what it shows.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { useLab, eventually } from './lab-page.mjs';
import { startStub } from '../lib/messages-stub.mjs';
import { saveScreenshot } from '../lib/harness.mjs';

const KEY = 'sk-ant-test-SECRET-0123456789';
const CHECKPOINT_KEY = 'agent-reliability-lab.live';
const lab = useLab();
let stub;

before(async () => {
  stub = await startStub({ script: 'solve' });
});
after(async () => {
  await stub?.close();
});

/** The POSTs to /v1/messages since `from` (preflights left out). */
function posts(from = 0) {
  return stub.requests.slice(from).filter((r) => !r.preflight && r.method === 'POST');
}

/** The tool_result blocks a request sent back to the model. */
function toolResults(request) {
  const last = request.json?.messages?.at(-1);
  return Array.isArray(last?.content) ? last.content.filter((b) => b.type === 'tool_result') : [];
}

/** Page errors that are not the browser's own log of a non-2xx or aborted call to the stub. */
function realErrors(p) {
  return p.errors.filter(
    (e) => !(e.includes(stub.url) && (e.includes('Failed to load resource') || e.includes('requestfailed'))),
  );
}

class LivePanel {
  constructor(p) {
    this.p = p;
    this.root = p.page.getByTestId('live');
  }
  get(id) {
    return this.root.getByTestId(id);
  }
  async fill({ key = KEY, base = stub.url } = {}) {
    await this.get('live-key').fill(key);
    await this.get('live-base-url').fill(base);
  }
  async run(options) {
    await this.fill(options);
    await this.get('live-run').click();
  }
  async status() {
    return (await this.get('live-status').textContent()).trim();
  }
  async waitStatus(re, timeout = 20000) {
    await eventually(async () => assert.match(await this.status(), re), { timeout, interval: 50 });
  }
  async done(timeout = 20000) {
    await this.waitStatus(/^Done\.$/, timeout);
    return {
      result: (await this.get('result').textContent()).trim(),
      verdict: (await this.get('verdict').textContent()).trim(),
      log: (await this.root.locator('details.log li').allTextContents()).map((t) => t.trim()),
    };
  }
}

/** Opens the lab at `query` with the stub playing `script`, and runs `body(panel, p, from)`. */
async function withLive(query, script, body, options = {}) {
  stub.setScript(script);
  const from = stub.requests.length;
  return lab.withLab(
    query,
    async (p, q) => {
      const live = new LivePanel(p);
      await live.root.scrollIntoViewIfNeeded();
      await body(live, p, from, q);
      assert.deepEqual(realErrors(p), [], 'no page errors besides the logged failed calls');
    },
    { assertNoErrors: false, ...options },
  );
}

describe('live run against a stand-in Messages API', () => {
  test('answers 17 x 23 through the multiply tool, sending the key only in its header', async () => {
    await withLive('failures=0', 'solve', async (live, p, from) => {
      await live.run();
      const { result, verdict } = await live.done();
      assert.match(result, /'answer': 'The answer is 391\.'/);
      assert.match(result, /'degraded': False/);
      assert.match(verdict, /^• no fault/, 'nothing failed, so there was no fault to handle');
      assert.match(verdict, /nothing failed/);
      await saveScreenshot(live.root, 'live-solved');

      const sent = posts(from);
      assert.equal(sent.length, 2, 'one call asks for the tool, one gives its result');
      for (const r of sent) {
        assert.equal(r.path, '/v1/messages');
        assert.equal(r.headers['x-api-key'], KEY);
        assert.ok(r.headers['anthropic-version'], 'anthropic-version is sent');
        assert.equal(r.headers['anthropic-dangerous-direct-browser-access'], 'true');
        assert.match(r.headers['content-type'], /application\/json/);
        assert.ok(!r.body.includes(KEY), 'the key is not in the request body');
        assert.equal(r.json.tools.map((t) => t.name).join(), 'multiply,send_email');
      }
      assert.match(sent[0].json.messages[0].content, /17 x 23/);
      const [res] = toolResults(sent[1]);
      assert.ok(res, 'the second call carries a tool_result');
      assert.match(JSON.stringify(res.content), /391/);

      // The key is nowhere but the header: not the link, local storage, the page's text, the export.
      assert.ok(!p.page.url().includes(KEY), 'not in the URL');
      const stored = await p.page.evaluate(() => JSON.stringify({ ...localStorage }));
      assert.ok(!stored.includes(KEY), 'not in localStorage');
      const checkpoint = await p.page.evaluate((k) => sessionStorage.getItem(k), CHECKPOINT_KEY);
      assert.ok(checkpoint && !checkpoint.includes(KEY), 'the saved checkpoint has no key');
      const text = await p.page.evaluate(() => document.body.innerText);
      assert.ok(!text.includes(KEY), 'not printed on the page');
      const exported = await p.download(live.get('export'));
      assert.ok(!exported.text.includes(KEY), 'not in the exported trace');

      // The exported trace replays offline (driver 2) to the very same run.
      await p.importTrace(exported.name, exported.text);
      const check = (await p.page.getByTestId('replay-check').textContent()).trim();
      assert.match(check, /the very same run/);
      const imported = p.page.getByTestId('imported');
      assert.match(await imported.getByTestId('result').textContent(), /The answer is 391\./);
      assert.equal(posts(from).length, 2, 'the replay asked the API nothing');
    });
  });

  test('injected failures before the real call: retry recovers and the API is asked only for real', async () => {
    await withLive('failures=2&base_delay=0.1', 'solve', async (live, p, from) => {
      await live.run();
      const { result, verdict, log } = await live.done();
      assert.match(result, /The answer is 391\./);
      assert.match(verdict, /retry recovered on attempt 3/);
      assert.equal(log.filter((l) => /injected/.test(l)).length, 2, `two injected failures in the log: ${log.join(' | ')}`);
      assert.equal(posts(from).length, 2, 'the injected failures never reached the API');
    });
  });

  test('529 twice: retried with backoff, then answered', async () => {
    await withLive('failures=0&base_delay=0.1', 'overloaded_then_solve', async (live, p, from) => {
      await live.run();
      const { result, verdict } = await live.done();
      assert.match(result, /The answer is 391\./);
      assert.match(verdict, /retry recovered on attempt 3/);
      assert.deepEqual(posts(from).map((r) => r.status), [529, 529, 200, 200]);
    });
  });

  test('429 with retry-after: the next call waits as long as the server asked', async () => {
    await withLive('failures=0&base_delay=0.1', 'rate_limited_then_solve', async (live, p, from) => {
      await live.run();
      const { result, log } = await live.done();
      assert.match(result, /The answer is 391\./);
      const sent = posts(from);
      assert.deepEqual(sent.map((r) => r.status), [429, 200, 200]);
      assert.ok(sent[1].receivedAt - sent[0].respondedAt >= 900, 'the retry came after the 1 s the server asked for');
      assert.ok(log.some((l) => /Retry-After/.test(l)), `the log says the wait was the server's: ${log.join(' | ')}`);
    });
  });

  test('500 once: retried, then answered', async () => {
    await withLive('failures=0&base_delay=0.1', 'server_error_then_solve', async (live, p, from) => {
      await live.run();
      assert.match((await live.done()).result, /The answer is 391\./);
      assert.deepEqual(posts(from).map((r) => r.status), [500, 200, 200]);
    });
  });

  test('401: not retried, and the message says the credentials were refused', async () => {
    await withLive('failures=0', 'unauthorized', async (live, p, from) => {
      await live.run({ key: 'sk-wrong' });
      const { result, verdict } = await live.done();
      assert.match(result, /'degraded': True/);
      assert.match(result, /credentials/);
      assert.match(verdict, /401 Unauthorized/);
      assert.match(verdict, /not retried/);
      assert.equal(posts(from).length, 1, 'a wrong key is tried once, not three times');
    });
  });

  test('a reply slower than the live timeout is given up on, and the retry answers', async () => {
    await withLive('failures=0&base_delay=0.1&live_timeout=1', 'slow', async (live, p, from) => {
      await live.run();
      const { result, log } = await live.done();
      assert.match(result, /The answer is 391\./);
      assert.ok(log.some((l) => /timed out/.test(l)), `the log shows the timeout: ${log.join(' | ')}`);
      await eventually(() => assert.equal(posts(from)[0].aborted, true, 'the page aborted the slow call'));
      assert.ok(posts(from).length >= 2);
    });
  });

  test('malformed JSON: each attempt fails, then the safe message', async () => {
    await withLive('failures=0&base_delay=0.1&attempts=2', 'malformed', async (live, p, from) => {
      await live.run();
      const { result, verdict } = await live.done();
      assert.match(result, /'degraded': True/);
      assert.match(verdict, /not JSON/);
      assert.equal(posts(from).length, 2, 'attempts=2 makes two calls');
    });
  });

  test('a model that loops on tool calls is stopped by max_steps', async () => {
    await withLive('failures=0&max_steps=3', 'loop', async (live, p, from) => {
      await live.run();
      const { result, verdict } = await live.done();
      assert.match(result, /exceeded 3 steps/);
      assert.match(verdict, /step cap/);
      assert.equal(posts(from).length, 3, 'one model call per step, then the cap');
    });
  });

  for (const [decision, expectResult, expectTool] of [
    ['approve', /was sent/, (r) => !r.is_error],
    ['deny', /did not send/, (r) => /deni|not approved|refused|blocked/i.test(JSON.stringify(r.content))],
  ]) {
    test(`send_email waits for a human: ${decision}`, async () => {
      await withLive('failures=0&live_task=multiply_and_email', 'send_email', async (live, p, from) => {
        await live.run();
        await live.waitStatus(/Waiting for your decision/);
        assert.equal(posts(from).length, 1, 'nothing more is asked while the human decides');
        await live.get(decision).click();
        const { result } = await live.done();
        assert.match(result, expectResult);
        const sent = posts(from);
        assert.equal(sent.length, 2);
        const [res] = toolResults(sent[1]);
        assert.ok(res && expectTool(res), `the tool result tells the model: ${JSON.stringify(res)}`);
        if (decision === 'deny') assert.match(result, /'blocked': \['send_email'\]/);
      });
    });
  }

  test('a reload in the middle of a backoff wait resumes the run without repeating a call', async () => {
    await withLive('failures=0&base_delay=3', 'overloaded_then_solve', async (live, p, from) => {
      await live.run();
      await live.waitStatus(/waiting before the next try/);
      assert.equal(posts(from).length, 1);
      await p.reload();
      const again = new LivePanel(p);
      const { result, log } = await again.done(30000);
      assert.match(result, /The answer is 391\./);
      assert.deepEqual(posts(from).map((r) => r.status), [529, 529, 200, 200], 'each call made once');
      assert.ok(log.some((l) => /backoff/.test(l)));
    });
  });

  test('a reload while approval is pending asks again and the decision completes the run', async () => {
    await withLive('failures=0&live_task=multiply_and_email', 'send_email', async (live, p, from) => {
      await live.run();
      await live.waitStatus(/Waiting for your decision/);
      await p.reload();
      const again = new LivePanel(p);
      await again.waitStatus(/Waiting for your decision/);
      await again.get('approve').click();
      assert.match((await again.done()).result, /was sent/);
      assert.equal(posts(from).length, 2, 'the model was not asked again after the reload');
    });
  });

  for (const [what, saved, expect] of [
    ['corrupt', '{"format":"agent-reliability-lab/checkpoint","vers', /could not be resumed/],
    ['older-format', '{"format":"agent-reliability-lab/checkpoint","version":0}', /could not be resumed.*version 0/s],
  ]) {
    test(`a ${what} checkpoint gets a notice and the rest of the page works`, async () => {
      await withLive(
        '',
        'solve',
        async (live, p) => {
          assert.match(await live.get('live-notice').textContent(), expect);
          assert.match(await live.get('live-notice').textContent(), /starts over/);
          assert.equal(await p.page.evaluate((k) => sessionStorage.getItem(k), CHECKPOINT_KEY), null);
          // The lab's cards are untouched.
          assert.match(await p.card('A').field('answer'), /391/);
        },
        {
          beforeGoto: (p) =>
            p.context.addInitScript(
              ([k, v]) => {
                if (!sessionStorage.getItem('seeded')) {
                  sessionStorage.setItem('seeded', '1');
                  sessionStorage.setItem(k, v);
                }
              },
              [CHECKPOINT_KEY, saved],
            ),
        },
      );
    });
  }

  test('without a key the panel says so and sends nothing', async () => {
    await withLive('failures=0', 'solve', async (live, p, from) => {
      await live.run({ key: '' });
      assert.match(await live.get('live-notice').textContent(), /key/);
      assert.equal(posts(from).length, 0);
    });
  });
});
