// messages-stub.mjs: a scripted, loopback stand-in for Anthropic's Messages API, for tests.
//
// WHAT IT IMITATES
//   `POST {url}/v1/messages` (non-streaming) of the Claude API, closely enough for a client's
//   retry, timeout, tool-use and error paths to be tested without a network or a key:
//   - 200 bodies are `{ id: "msg_…", type: "message", role: "assistant", model, content: [...],
//     stop_reason, stop_sequence: null, usage: { input_tokens, output_tokens,
//     cache_creation_input_tokens: 0, cache_read_input_tokens: 0, service_tier: "standard" } }`;
//     `model` echoes the request's model. Token counts are rough (about 4 characters a token).
//   - error bodies are `{ type: "error", error: { type, message }, request_id: "req_…" }` with
//     the API's error types: 400 invalid_request_error, 401 authentication_error,
//     402 billing_error, 403 permission_error, 404 not_found_error, 413 request_too_large,
//     429 rate_limit_error, 500 api_error, 529 overloaded_error (any other 4xx is
//     invalid_request_error, any other 5xx api_error).
//   - every response has a `request-id: req_…` header; a step may add `retry-after`.
//   - CORS as the real API does it when `anthropic-dangerous-direct-browser-access: true` is
//     sent: `access-control-allow-origin: *` and `access-control-expose-headers: *` (the real
//     API exposes every header this way, so a page can read `retry-after` and `request-id`; the
//     `*` wildcard works because such requests carry no cookies). OPTIONS preflights get 204 with
//     allow-origin `*`, allow-methods `POST, OPTIONS`, allow-headers echoing the requested
//     headers (or, if none were named, x-api-key, authorization, anthropic-version,
//     anthropic-dangerous-direct-browser-access, anthropic-beta, content-type) and max-age 600.
//   The stub listens on 127.0.0.1 only and never opens an outgoing connection.
//
// VALIDATION (only what is cheap and useful; nothing else is ever rejected)
//   Checked in this order before a script step is used; a rejected request uses no step:
//   1. a request with an `Origin` header (a browser's cross-origin call) but without
//      `anthropic-dangerous-direct-browser-access: true` -> 401 authentication_error "CORS
//      requests must set 'anthropic-dangerous-direct-browser-access' header", as the real API
//      answers. (The real API then also leaves out allow-origin, so a browser sees only a network
//      error; the stub keeps allow-origin so a page can show why.)
//   2. neither `x-api-key` nor `authorization: Bearer …` -> 401 authentication_error (the real
//      API takes either; SDKs made for API version 2026-10-21 send the Bearer form).
//   3. no `anthropic-version` -> 400 invalid_request_error "anthropic-version: header is required"
//      (any value is accepted, e.g. 2023-06-01 or 2026-10-21).
//   4. a body that is not a JSON object, or lacks `model`, `max_tokens` or `messages` -> 400
//      invalid_request_error.
//   Other paths are 404 not_found_error; other methods on /v1/messages are 405. `stream: true`
//   is not refused, but the answer is always one JSON body, never server-sent events.
//   `validate: false` turns checks 1-4 off.
//
// SCRIPTS AND STEPS
//   A script is a list of steps; each valid POST /v1/messages uses the next step. When the list
//   runs out the last step repeats (pass `repeatLast: false`, or a script object
//   `{ steps, repeatLast: false }`, to answer 500 api_error "script exhausted" instead).
//   Steps (plain objects; extra keys marked * work on any step):
//   { reply: 'tool_use', name, input, text? }
//       200, stop_reason "tool_use": an optional text block, then
//       `{ type: "tool_use", id: "toolu_…", name, input }`.
//   { reply: 'text', text }
//       200, stop_reason "end_turn", one text block. In-process, `text` may be a function
//       (parsedRequestBody) => string.
//   { reply: 'multiply_answer' }
//       Behaves like a model solving 17 x 23 with the multiply tool: if the request's last user
//       message holds a tool_result answering a `multiply` tool_use, it answers "The answer is
//       N." with N read from that result (a number, a JSON number, a JSON object's
//       result/product/value/answer, or the first number in the text); if that tool_result has
//       is_error: true it answers "The multiply tool failed: <text>". With no such tool_result
//       (a first call, or a retry of one) it asks for the tool (`multiply {a:17,b:23}`), as a
//       model would, so a retried first call still leads to the answer.
//   { reply: 'send_email_answer' }
//       The same for `send_email`: after a tool_result it answers "I did not send the email:
//       <text>" when the result has is_error or reads as blocked/denied/refused/not sent/
//       cancelled/rejected/failed, else "The email to all-staff@example.com was sent."; without
//       a tool_result it asks for `send_email`.
//   { status: 400|401|402|403|404|413|429|500|529|…, retryAfter?, message?, errorType? }
//       that error, in the API's JSON shape; `retryAfter` (seconds) becomes `retry-after`.
//   { malformed: true }
//       200, content-type application/json, a body cut off halfway (not valid JSON).
//   { hang: true }
//       never answers (until the client gives up or close() is called).
//   * delayMs: N         answer only after N ms (a timer that close() cancels and that never
//                        keeps Node alive). If the client gives up first, its record gets
//                        `aborted: true` and nothing is sent.
//   * headers: {...}     extra response headers.
//   * shouldRetry: bool  sends `x-should-retry: true|false` (the SDKs obey this header).
//   * thinking: string|true  puts a `{ type: "thinking", thinking, signature }` block first in
//                        a 200 reply, as models with thinking on do (for testing that a client
//                        picks blocks by type and sends them back unchanged).
//
//   Built-in scripts (SCRIPTS; pass the name as `script`):
//   solve                   tool_use multiply {a:17,b:23}, then multiply_answer (-> 391)
//   send_email              tool_use send_email {to:"all-staff@example.com",
//                           subject:"Quarterly results"}, then send_email_answer
//   overloaded_then_solve   529, 529, then solve
//   rate_limited_then_solve 429 with retry-after: 1, then solve
//   server_error_then_solve 500, then solve
//   unauthorized            401 authentication_error, always
//   slow                    solve whose first answer comes after 3000 ms
//   malformed               a cut-off 200 body, always
//   loop                    tool_use multiply, forever (never answers)
//
// IN-PROCESS USE (node:test / Playwright)
//   import { startStub, SCRIPTS } from '../lib/messages-stub.mjs';
//   const stub = await startStub({ script: 'overloaded_then_solve' });
//   // the page is given stub.url (e.g. http://127.0.0.1:43121) and calls `${url}/v1/messages`
//   stub.requests        // live array, one record per request received (see below)
//   stub.setScript('send_email')   // a name, an array of steps, or { steps, repeatLast };
//                                  // starts again at its first step
//   await stub.close()   // resolves once the server and every connection (hung ones too) is gone
//   Options: script (default 'solve'), port (default 0 = a free port), repeatLast (default true),
//   validate (default true), log (a function given one line per request, e.g. console.error).
//   A request record: { seq, method, path, headers (lower-cased names), body (raw text),
//   json (parsed body, or undefined), receivedAt (ms since epoch), preflight (true for an
//   OPTIONS request), step (index of the script step used, or null), status (sent status, or
//   null while pending), respondedAt, aborted (true if the client closed before an answer) }.
//
// COMMAND LINE (for the native example's test)
//   node e2e/lib/messages-stub.mjs --script solve [--port N] [--script-file steps.json]
//                                  [--no-repeat] [--no-validate] [--verbose]
//   prints one line `listening http://127.0.0.1:PORT` to stdout. On SIGTERM or SIGINT, or when
//   standard input is a pipe and it closes, it stops the server, prints a line `requests:` and
//   then the recorded requests as one JSON document, and exits 0. (Standard input that is a
//   terminal or /dev/null is not watched, so the stub also runs with no input attached.)
//   --script-file reads a JSON array of steps (or { steps, repeatLast }) instead of a name.
//   --verbose logs one line per request to stderr.

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MESSAGES_PATH = '/v1/messages';
const HOST = '127.0.0.1';

const DEFAULT_ALLOW_HEADERS =
  'x-api-key, authorization, anthropic-version, anthropic-dangerous-direct-browser-access, anthropic-beta, content-type';

const ERROR_TYPES = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

const ERROR_MESSAGES = {
  400: 'Invalid request.',
  401: 'invalid x-api-key',
  402: 'Your credit balance is too low to access the Claude API.',
  403: 'Your API key does not have permission to use the specified resource.',
  404: 'The requested resource could not be found.',
  413: 'Request exceeds the maximum allowed number of bytes.',
  429: 'Number of requests has exceeded your per-minute rate limit (messages-stub).',
  500: 'Internal server error',
  529: 'Overloaded',
};

const MULTIPLY_INPUT = Object.freeze({ a: 17, b: 23 });
const EMAIL_INPUT = Object.freeze({ to: 'all-staff@example.com', subject: 'Quarterly results' });

const deepFreeze = (value) => {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
};

const SOLVE = [
  {
    reply: 'tool_use',
    name: 'multiply',
    input: MULTIPLY_INPUT,
    text: "I'll multiply 17 by 23 with the multiply tool.",
  },
  { reply: 'multiply_answer' },
];

/** The built-in scripts, by name. Frozen: copy one to change it. */
export const SCRIPTS = deepFreeze({
  solve: SOLVE,
  send_email: [
    {
      reply: 'tool_use',
      name: 'send_email',
      input: EMAIL_INPUT,
      text: "I'll send the quarterly results email to all staff.",
    },
    { reply: 'send_email_answer' },
  ],
  overloaded_then_solve: [{ status: 529 }, { status: 529 }, ...SOLVE],
  rate_limited_then_solve: [{ status: 429, retryAfter: 1 }, ...SOLVE],
  server_error_then_solve: [{ status: 500 }, ...SOLVE],
  unauthorized: [{ status: 401 }],
  slow: [{ ...SOLVE[0], delayMs: 3000 }, SOLVE[1]],
  malformed: [{ malformed: true }],
  loop: [{ reply: 'tool_use', name: 'multiply', input: MULTIPLY_INPUT }],
});

const REPLIES = new Set(['tool_use', 'text', 'multiply_answer', 'send_email_answer']);

/** Throws a readable error for a step the stub cannot play. */
function checkStep(step, index) {
  const where = `messages-stub: script step ${index}`;
  if (!step || typeof step !== 'object' || Array.isArray(step)) {
    throw new TypeError(`${where} must be an object, got ${JSON.stringify(step)}`);
  }
  if (step.delayMs !== undefined && !(Number.isFinite(step.delayMs) && step.delayMs >= 0)) {
    throw new TypeError(`${where}: delayMs must be a number >= 0`);
  }
  const kinds = ['reply', 'status', 'malformed', 'hang'].filter((k) => step[k] !== undefined);
  if (kinds.length !== 1) {
    throw new TypeError(
      `${where} needs exactly one of reply, status, malformed, hang (got ${JSON.stringify(step)})`,
    );
  }
  if (step.reply !== undefined) {
    if (!REPLIES.has(step.reply)) {
      throw new TypeError(`${where}: unknown reply ${JSON.stringify(step.reply)}`);
    }
    if (step.reply === 'tool_use' && (typeof step.name !== 'string' || !step.name)) {
      throw new TypeError(`${where}: a tool_use reply needs a name`);
    }
    if (step.reply === 'text' && typeof step.text !== 'string' && typeof step.text !== 'function') {
      throw new TypeError(`${where}: a text reply needs text`);
    }
  }
  if (step.status !== undefined) {
    if (!Number.isInteger(step.status) || step.status < 400 || step.status > 599) {
      throw new TypeError(`${where}: status must be an integer error status (400-599)`);
    }
    if (step.retryAfter !== undefined && !(Number.isFinite(step.retryAfter) && step.retryAfter >= 0)) {
      throw new TypeError(`${where}: retryAfter must be a number of seconds >= 0`);
    }
  }
}

/** A script (name, array, or { steps, repeatLast }) as { name, steps, repeatLast }. */
function resolveScript(script, repeatLastDefault) {
  let name = null;
  let steps = script;
  let repeatLast = repeatLastDefault;
  if (typeof script === 'string') {
    if (!Object.hasOwn(SCRIPTS, script)) {
      throw new Error(
        `messages-stub: no script named ${JSON.stringify(script)}; known: ${Object.keys(SCRIPTS).join(', ')}`,
      );
    }
    name = script;
    steps = SCRIPTS[script];
  } else if (script && typeof script === 'object' && !Array.isArray(script)) {
    steps = script.steps;
    if (script.repeatLast !== undefined) repeatLast = Boolean(script.repeatLast);
  }
  if (!Array.isArray(steps) || steps.length === 0) {
    throw new TypeError('messages-stub: a script must be a name or a non-empty array of steps');
  }
  steps.forEach(checkStep);
  return { name, steps: steps.slice(), repeatLast };
}

// ---------------------------------------------------------------- ids and token counts

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A random id in the API's style, e.g. msg_01XFDUDYJgAACzvnptvVoYEL. */
function makeId(prefix) {
  const bytes = crypto.randomBytes(22);
  let s = '';
  for (const b of bytes) s += BASE62[b % 62];
  return `${prefix}_01${s}`;
}

const approxTokens = (text) => Math.max(1, Math.ceil(String(text).length / 4));

// ---------------------------------------------------------------- reading requests

/** The text of a tool_result's content (a string, or an array of blocks). */
function toolResultText(content) {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((b) => (b && typeof b === 'object' && typeof b.text === 'string' ? b.text : ''))
      .join('');
  }
  if (content === undefined || content === null) return '';
  return JSON.stringify(content);
}

/**
 * The tool_result in the request's last user message that answers a tool_use of `toolName`
 * (matched through the assistant messages' tool_use ids), or null.
 */
function lastToolResultFor(body, toolName) {
  const messages = Array.isArray(body?.messages) ? body.messages : [];
  const names = new Map();
  for (const m of messages) {
    if (m?.role === 'assistant' && Array.isArray(m.content)) {
      for (const b of m.content) {
        if (b?.type === 'tool_use' && typeof b.id === 'string') names.set(b.id, b.name);
      }
    }
  }
  const last = messages[messages.length - 1];
  if (last?.role !== 'user' || !Array.isArray(last.content)) return null;
  const results = last.content.filter(
    (b) => b?.type === 'tool_result' && names.get(b.tool_use_id) === toolName,
  );
  return results.length ? results[results.length - 1] : null;
}

/** N from a multiply tool result: a number, JSON, or the first number in the text. */
function productFrom(text) {
  const trimmed = text.trim();
  try {
    const v = JSON.parse(trimmed);
    if (typeof v === 'number') return String(v);
    if (typeof v === 'string' && v.trim()) return productFrom(v);
    if (v && typeof v === 'object') {
      for (const k of ['result', 'product', 'value', 'answer']) {
        if (typeof v[k] === 'number' || typeof v[k] === 'string') return String(v[k]);
      }
    }
  } catch {
    // not JSON: fall through to the first number in the text
  }
  const m = trimmed.match(/-?\d+(?:\.\d+)?/);
  return m ? m[0] : trimmed;
}

const NOT_SENT = /\b(block(ed)?|den(y|ied)|refus(e|ed|al)|not sent|reject(ed)?|cancel+ed|fail(ed|ure)?|not approved)\b/i;

// ---------------------------------------------------------------- building answers

function messageBody(reqJson, rawBody, content, stopReason) {
  return {
    id: makeId('msg'),
    type: 'message',
    role: 'assistant',
    model: typeof reqJson?.model === 'string' ? reqJson.model : 'claude-stub',
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: {
      input_tokens: approxTokens(rawBody),
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: approxTokens(JSON.stringify(content)) + 8,
      service_tier: 'standard',
    },
  };
}

function toolUseContent(name, input, text) {
  const content = [];
  if (text) content.push({ type: 'text', text });
  content.push({ type: 'tool_use', id: makeId('toolu'), name, input: structuredClone(input ?? {}) });
  return content;
}

/** { status, body, headers } for a 200 reply step. */
function replyFor(step, reqJson, rawBody) {
  let content;
  let stop = 'end_turn';
  switch (step.reply) {
    case 'tool_use':
      content = toolUseContent(step.name, step.input, step.text);
      stop = 'tool_use';
      break;
    case 'text': {
      const text = typeof step.text === 'function' ? String(step.text(reqJson)) : step.text;
      content = [{ type: 'text', text }];
      break;
    }
    case 'multiply_answer': {
      const result = lastToolResultFor(reqJson, 'multiply');
      if (!result) {
        content = toolUseContent('multiply', MULTIPLY_INPUT, "I'll multiply 17 by 23 with the multiply tool.");
        stop = 'tool_use';
      } else {
        const text = toolResultText(result.content);
        content = [
          {
            type: 'text',
            text: result.is_error
              ? `The multiply tool failed: ${text.trim() || 'no details'}`
              : `The answer is ${productFrom(text)}.`,
          },
        ];
      }
      break;
    }
    case 'send_email_answer': {
      const result = lastToolResultFor(reqJson, 'send_email');
      if (!result) {
        content = toolUseContent('send_email', EMAIL_INPUT, "I'll send the quarterly results email to all staff.");
        stop = 'tool_use';
      } else {
        const text = toolResultText(result.content).trim();
        content = [
          {
            type: 'text',
            text:
              result.is_error || NOT_SENT.test(text)
                ? `I did not send the email: ${text || 'the tool reported an error'}`
                : `The email to ${EMAIL_INPUT.to} was sent.`,
          },
        ];
      }
      break;
    }
    default:
      throw new Error(`unreachable reply ${step.reply}`);
  }
  if (step.thinking) {
    const thought =
      typeof step.thinking === 'string' ? step.thinking : 'The user wants a result; a tool can give it.';
    content.unshift({ type: 'thinking', thinking: thought, signature: `sig_${makeId('stub')}` });
  }
  return { status: 200, body: JSON.stringify(messageBody(reqJson, rawBody, content, stop)) };
}

function errorBody(status, message, errorType) {
  const type = errorType || ERROR_TYPES[status] || (status < 500 ? 'invalid_request_error' : 'api_error');
  return JSON.stringify({
    type: 'error',
    error: { type, message: message || ERROR_MESSAGES[status] || `HTTP ${status}` },
    request_id: makeId('req'),
  });
}

/** { status, body, headers } for any step (the delay is handled by the caller). */
function answerFor(step, reqJson, rawBody) {
  const headers = {};
  if (step.shouldRetry !== undefined) headers['x-should-retry'] = step.shouldRetry ? 'true' : 'false';
  if (step.headers) Object.assign(headers, step.headers);
  if (step.status !== undefined) {
    if (step.retryAfter !== undefined) headers['retry-after'] = String(step.retryAfter);
    return { status: step.status, body: errorBody(step.status, step.message, step.errorType), headers };
  }
  if (step.malformed) {
    const whole = JSON.stringify(
      messageBody(reqJson, rawBody, toolUseContent('multiply', MULTIPLY_INPUT), 'tool_use'),
    );
    return { status: 200, body: whole.slice(0, Math.floor(whole.length / 2)), headers };
  }
  return { ...replyFor(step, reqJson, rawBody), headers };
}

/** null if the request is acceptable, else { status, message }. */
function validationError(req, rawBody, json) {
  const h = req.headers;
  if (h.origin !== undefined && h['anthropic-dangerous-direct-browser-access'] !== 'true') {
    return {
      status: 401,
      message: "CORS requests must set 'anthropic-dangerous-direct-browser-access' header",
    };
  }
  if (!h['x-api-key'] && !/^Bearer \S/i.test(h.authorization ?? '')) {
    return { status: 401, message: 'x-api-key header is required' };
  }
  if (!h['anthropic-version']) return { status: 400, message: 'anthropic-version: header is required' };
  if (json === undefined || json === null || typeof json !== 'object' || Array.isArray(json)) {
    return {
      status: 400,
      message: rawBody.trim() ? 'There was an error parsing the body: not a JSON object' : 'body: Field required',
    };
  }
  for (const field of ['model', 'max_tokens', 'messages']) {
    if (json[field] === undefined) return { status: 400, message: `${field}: Field required` };
  }
  return null;
}

// ---------------------------------------------------------------- the server

/**
 * Starts the stub on 127.0.0.1. Resolves to { url, requests, setScript(script), close() }.
 * See the comment at the top of this file for the options, steps and scripts.
 */
export async function startStub(options = {}) {
  const {
    script = 'solve',
    port = 0,
    repeatLast = true,
    validate = true,
    log = null,
  } = options;

  let current = resolveScript(script, repeatLast);
  let nextStep = 0;
  let seq = 0;
  const requests = [];
  const pending = new Set(); // { timer, res } of delayed or hung answers
  let closing = null;

  const corsHeaders = () => ({
    'access-control-allow-origin': '*',
    'access-control-expose-headers': '*',
  });

  function send(res, record, status, body, extraHeaders = {}) {
    if (res.writableEnded || res.destroyed) return;
    record.status = status;
    record.respondedAt = Date.now();
    res.writeHead(status, {
      'content-type': 'application/json',
      'request-id': makeId('req'),
      ...corsHeaders(),
      ...extraHeaders,
    });
    res.end(body);
  }

  function takeStep() {
    if (nextStep < current.steps.length) return { step: current.steps[nextStep], index: nextStep++ };
    if (current.repeatLast) {
      nextStep++;
      return { step: current.steps[current.steps.length - 1], index: current.steps.length - 1 };
    }
    return null;
  }

  function handle(req, res, rawBody) {
    let json;
    try {
      json = rawBody.trim() ? JSON.parse(rawBody) : undefined;
    } catch {
      json = undefined;
    }
    const record = {
      seq: seq++,
      method: req.method,
      path: req.url,
      headers: { ...req.headers },
      body: rawBody,
      json,
      receivedAt: Date.now(),
      preflight: req.method === 'OPTIONS',
      step: null,
      status: null,
      respondedAt: null,
      aborted: false,
    };
    requests.push(record);
    res.on('close', () => {
      if (record.status === null) record.aborted = true;
    });
    if (log) log(`messages-stub: ${req.method} ${req.url}`);

    const pathname = new URL(req.url, 'http://stub.invalid').pathname;

    if (req.method === 'OPTIONS') {
      record.status = 204;
      record.respondedAt = Date.now();
      res.writeHead(204, {
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'POST, OPTIONS',
        'access-control-allow-headers': req.headers['access-control-request-headers'] || DEFAULT_ALLOW_HEADERS,
        'access-control-max-age': '600',
        vary: 'Origin, Access-Control-Request-Headers',
        'content-length': '0',
      });
      res.end();
      return;
    }
    if (pathname !== MESSAGES_PATH) {
      send(res, record, 404, errorBody(404, `Not found: ${pathname}`));
      return;
    }
    if (req.method !== 'POST') {
      send(res, record, 405, errorBody(405, `Method ${req.method} not allowed`, 'invalid_request_error'), {
        allow: 'POST, OPTIONS',
      });
      return;
    }
    if (validate) {
      const bad = validationError(req, rawBody, json);
      if (bad) {
        send(res, record, bad.status, errorBody(bad.status, bad.message));
        return;
      }
    }
    const taken = takeStep();
    if (!taken) {
      send(res, record, 500, errorBody(500, `messages-stub: script exhausted after ${current.steps.length} steps`));
      return;
    }
    record.step = taken.index;
    const { step } = taken;
    const answer = () => {
      const a = answerFor(step, json, rawBody);
      send(res, record, a.status, a.body, a.headers);
    };

    if (step.hang || step.delayMs) {
      const entry = { timer: null, res };
      pending.add(entry);
      res.on('close', () => {
        if (entry.timer) clearTimeout(entry.timer);
        pending.delete(entry);
      });
      if (!step.hang) {
        entry.timer = setTimeout(() => {
          pending.delete(entry);
          answer();
        }, step.delayMs);
        entry.timer.unref();
      }
      return;
    }
    answer();
  }

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => res.destroy());
  });
  server.on('clientError', (err, socket) => socket.destroy());

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const url = `http://${HOST}:${server.address().port}`;

  return {
    url,
    requests,
    /** Replaces the script (a name, an array of steps, or { steps, repeatLast }); restarts at step 0. */
    setScript(next) {
      current = resolveScript(next, repeatLast);
      nextStep = 0;
    },
    /** Stops the server and drops every connection, hung ones too. Safe to call twice. */
    close() {
      if (!closing) {
        closing = new Promise((resolve) => {
          for (const entry of pending) {
            if (entry.timer) clearTimeout(entry.timer);
          }
          pending.clear();
          for (const record of requests) {
            if (record.status === null) record.aborted = true;
          }
          server.close(() => resolve());
          server.closeAllConnections();
        });
      }
      return closing;
    },
  };
}

// ---------------------------------------------------------------- command line

function parseArgs(argv) {
  const args = { script: 'solve', port: 0, repeatLast: true, validate: true, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--script') args.script = value();
    else if (a === '--script-file') args.script = JSON.parse(fs.readFileSync(value(), 'utf8'));
    else if (a === '--port') {
      args.port = Number(value());
      if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) throw new Error('bad --port');
    } else if (a === '--no-repeat') args.repeatLast = false;
    else if (a === '--no-validate') args.validate = false;
    else if (a === '--verbose') args.verbose = true;
    else if (a === '--help' || a === '-h') args.help = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`messages-stub: ${e.message}\n`);
    process.exit(2);
  }
  if (args.help) {
    process.stdout.write(
      'usage: node messages-stub.mjs [--script NAME | --script-file FILE.json] [--port N]\n' +
        '                              [--no-repeat] [--no-validate] [--verbose]\n' +
        `scripts: ${Object.keys(SCRIPTS).join(', ')}\n`,
    );
    return;
  }
  let stub;
  try {
    stub = await startStub({
      script: args.script,
      port: args.port,
      repeatLast: args.repeatLast,
      validate: args.validate,
      log: args.verbose ? (line) => process.stderr.write(`${line}\n`) : null,
    });
  } catch (e) {
    process.stderr.write(`${e.message.startsWith('messages-stub:') ? '' : 'messages-stub: '}${e.message}\n`);
    process.exit(2);
  }
  process.stdout.write(`listening ${stub.url}\n`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await stub.close();
    process.stdout.write(`requests:\n${JSON.stringify(stub.requests, null, 2)}\n`, () => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  // Watch standard input only when it is a pipe or socket: a terminal or /dev/null would
  // otherwise end the stub at once (CI runs with no input attached).
  let stdinIsPipe = false;
  try {
    const st = fs.fstatSync(0);
    stdinIsPipe = st.isFIFO() || st.isSocket();
  } catch {
    stdinIsPipe = false;
  }
  if (stdinIsPipe) {
    process.stdin.on('end', stop);
    process.stdin.on('error', stop);
    process.stdin.resume();
  }
}

const invokedPath = process.argv[1] ? path.resolve(process.argv[1]) : '';
if (invokedPath === fileURLToPath(import.meta.url)) {
  await main();
}
