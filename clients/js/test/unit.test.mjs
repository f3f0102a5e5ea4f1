// Unit tests: backoff, the close-code table, event mapping, dedup and URLs, with a fake WebSocket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SocketClient, backoffDelay, closePolicy, connectUrl } from '../index.js';

/** A WebSocket the test drives: it records every instance; `receive` and `drop` play the server. */
class FakeSocket {
  static all = [];
  constructor(url) {
    this.url = url;
    this.closedWith = null;
    FakeSocket.all.push(this);
  }
  receive(obj) {
    this.onmessage({ data: typeof obj === 'string' ? obj : JSON.stringify(obj) });
  }
  drop(code = 1006, reason = '') {
    this.onclose({ code, reason });
  }
  close(code) {
    this.closedWith = code;
    queueMicrotask(() => this.onclose({ code: code ?? 1005, reason: '' }));
  }
}

function client(extra = {}) {
  FakeSocket.all = [];
  return new SocketClient({ url: 'ws://127.0.0.1:1/ws', systemId: 'sys', WebSocket: FakeSocket, baseMs: 1, capMs: 4, random: () => 0, ...extra });
}

const realSetTimeout = globalThis.setTimeout;

/** Waits (bounded) until `cond()` holds. */
async function until(cond, what) {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => realSetTimeout(r, 2));
  }
}

function record(c) {
  const seen = [];
  for (const e of ['welcome', 'message', 'online', 'offline', 'resumed', 'reset', 'close', 'error']) {
    c.on(e, (v) => seen.push([e, v]));
  }
  return seen;
}

const push = (id, data) => ({ messageId: id, sendUserId: 'u', code: 200, msg: 'chat', data });

test('full jitter: the delay is random * min(cap, base * 2^attempt), longer after 1013', () => {
  assert.equal(backoffDelay(0, { baseMs: 500, capMs: 30000, random: () => 0.5 }), 250);
  assert.equal(backoffDelay(3, { baseMs: 500, capMs: 30000, random: () => 0.5 }), 2000);
  assert.equal(backoffDelay(10, { baseMs: 500, capMs: 30000, random: () => 0.5 }), 15000, 'capped');
  assert.equal(backoffDelay(2, { baseMs: 500, capMs: 30000, factor: 4, random: () => 0.5 }), 4000);
  assert.equal(backoffDelay(1000, { baseMs: 500, capMs: 30000, random: () => 0.999 }), 29970, 'no overflow');
  for (let i = 0; i < 200; i++) {
    const d = backoffDelay(4, { baseMs: 500, capMs: 30000 });
    assert.ok(d >= 0 && d < 8000, `${d} within [0, 8000)`);
  }
});

test('every close code of the table', () => {
  for (const code of [1001, 1005, 1006, 1011, 1012, 1014]) assert.equal(closePolicy(code), 'retry', `${code}`);
  assert.equal(closePolicy(1013), 'retry-later');
  for (const code of [1000, 1002, 1003, 1007, 1008, 1009, 1010, 1015, 3000, 4000]) {
    assert.equal(closePolicy(code), 'stop', `${code}`);
  }
});

test('the URLs of a first connect and of a resume', () => {
  assert.equal(connectUrl('ws://h/ws', { systemId: 'a b', resume: true }), 'ws://h/ws?systemId=a+b&resume=1');
  assert.equal(connectUrl('ws://h/ws', { systemId: 's', token: 't&x', resume: false }), 'ws://h/ws?systemId=s&token=t%26x');
  assert.equal(connectUrl('ws://h/ws', { systemId: 's', resume: true, resumeToken: 'abc.def', last: '00ff' }),
    'ws://h/ws?systemId=s&resume=abc.def&last=00ff');
  assert.equal(connectUrl('ws://h/ws', { systemId: 's', resume: true, resumeToken: 'abc.def', last: '' }),
    'ws://h/ws?systemId=s&resume=abc.def&last=');
});

test('frames become typed events; a repeated messageId is dropped; refusals are errors', async () => {
  const c = client().connect();
  const seen = record(c);
  await until(() => FakeSocket.all.length === 1, 'a socket');
  const s = FakeSocket.all[0];
  s.receive({ code: 0, msg: 'success', data: { clientId: 'n1.a', resumeToken: 'tok1' } });
  s.receive({ messageId: '0000000000000001', sendUserId: 'bob', code: 1001, msg: '客户端上线', data: '{"clientId":"n1.b","extend":"x","userId":"bob"}' });
  s.receive(push('0000000000000002', { text: 'hi' }));
  s.receive(push('0000000000000002', { text: 'hi' }));
  s.receive({ messageId: '0000000000000003', sendUserId: '', code: 1002, msg: '客户端下线', data: '{"clientId":"n1.b","extend":"x","userId":"bob"}' });
  s.receive('not json');
  assert.deepEqual(seen, [
    ['welcome', { clientId: 'n1.a', resumed: false }],
    ['online', { clientId: 'n1.b', userId: 'bob', extend: 'x' }],
    ['message', push('0000000000000002', { text: 'hi' })],
    ['offline', { clientId: 'n1.b', userId: 'bob', extend: 'x' }],
  ]);
  assert.equal(c.clientId, 'n1.a');
  c.close();
});

test('a refusal frame is an error and its 1008 is final', async () => {
  const c = client().connect();
  const seen = record(c);
  await until(() => FakeSocket.all.length === 1, 'a socket');
  FakeSocket.all[0].receive({ messageId: '', sendUserId: '', code: -1001, msg: '系统ID无效', data: [] });
  FakeSocket.all[0].drop(1008, 'invalid systemId');
  assert.deepEqual(seen, [['error', { code: -1001, msg: '系统ID无效' }],
    ['close', { code: 1008, reason: 'invalid systemId', willRetry: false }]]);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(FakeSocket.all.length, 1, 'no reconnect');
});

test('a lost connection resumes with the token and the last processed messageId; resumed and reset', async () => {
  let tokens = 0;
  const c = client({ getToken: async () => `ct${++tokens}` }).connect();
  const seen = record(c);
  await until(() => FakeSocket.all.length === 1, 'a socket');
  const first = FakeSocket.all[0];
  assert.equal(first.url, 'ws://127.0.0.1:1/ws?systemId=sys&token=ct1&resume=1');
  first.receive({ code: 0, msg: 'success', data: { clientId: 'n1.a', resumeToken: 'tok1' } });
  first.receive(push('00000000000000aa', 'one'));
  first.drop(1006);
  await until(() => FakeSocket.all.length === 2, 'a reconnect');
  const second = FakeSocket.all[1];
  assert.equal(second.url, 'ws://127.0.0.1:1/ws?systemId=sys&token=ct2&resume=tok1&last=00000000000000aa');
  second.receive({ code: 0, msg: 'success', data: { clientId: 'n1.a', resumeToken: 'tok2', resumed: true } });
  second.receive(push('00000000000000aa', 'one')); // replayed twice by mistake: dropped
  second.receive(push('00000000000000bb', 'two'));
  second.drop(1012, 'service restart');
  await until(() => FakeSocket.all.length === 3, 'a second reconnect');
  assert.equal(FakeSocket.all[2].url, 'ws://127.0.0.1:1/ws?systemId=sys&token=ct3&resume=tok2&last=00000000000000bb');
  FakeSocket.all[2].receive({ code: 0, msg: 'success', data: { clientId: 'n1.z', resumeToken: 'tok3', resumed: false } });
  assert.deepEqual(seen.map(([e]) => e), ['welcome', 'message', 'close', 'welcome', 'resumed', 'message', 'close',
    'welcome', 'reset']);
  assert.deepEqual(seen[2][1], { code: 1006, reason: '', willRetry: true });
  assert.deepEqual(seen.at(-1)[1], { clientId: 'n1.z', previousClientId: 'n1.a' });
  FakeSocket.all[2].receive(push('00000000000000aa', 'a new session: ids start afresh'));
  assert.equal(seen.at(-1)[0], 'message');
  c.close();
  await until(() => seen.at(-1)[0] === 'close', 'the close event');
  assert.deepEqual(seen.at(-1)[1], { code: 1000, reason: '', willRetry: false });
  assert.equal(FakeSocket.all[2].closedWith, 1000);
});

test('codes that say stop do not reconnect; 1013 waits longer', async () => {
  for (const code of [1000, 1002, 1007, 1008, 1009]) {
    const c = client().connect();
    const seen = record(c);
    await until(() => FakeSocket.all.length === 1, 'a socket');
    FakeSocket.all[0].drop(code);
    assert.deepEqual(seen, [['close', { code, reason: '', willRetry: false }]]);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(FakeSocket.all.length, 1, `${code}: no reconnect`);
  }
  const delays = [];
  const c = client({ baseMs: 100, capMs: 100000, random: () => 0.5 });
  globalThis.setTimeout = (fn, ms) => { delays.push(ms); return realSetTimeout(fn, 0); };
  try {
    c.connect();
    await until(() => FakeSocket.all.length === 1, 'a socket');
    FakeSocket.all[0].drop(1013);
    await until(() => FakeSocket.all.length === 2, 'a reconnect');
    FakeSocket.all[1].drop(1006);
    await until(() => FakeSocket.all.length === 3, 'another');
  } finally {
    globalThis.setTimeout = realSetTimeout;
    c.close();
  }
  assert.deepEqual(delays.slice(0, 2), [200, 100], '1013: 0.5 * 100 * 4; then attempt 1: 0.5 * 100 * 2');
});

test('in a browser that is offline the client waits for the online event, then reconnects at once', async () => {
  const win = new EventTarget();
  const doc = Object.assign(new EventTarget(), { visibilityState: 'visible' });
  const nav = { onLine: true };
  const saved = { window: globalThis.window, document: globalThis.document };
  const navDescriptor = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  globalThis.window = win;
  globalThis.document = doc;
  Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true, writable: true });
  const c = client({ baseMs: 60000, capMs: 60000, random: () => 0.99 });
  try {
    c.connect();
    await until(() => FakeSocket.all.length === 1, 'a socket');
    nav.onLine = false;
    FakeSocket.all[0].drop(1006);
    await new Promise((r) => realSetTimeout(r, 30));
    assert.equal(FakeSocket.all.length, 1, 'offline: no attempt is spent');
    nav.onLine = true;
    win.dispatchEvent(new Event('online'));
    await until(() => FakeSocket.all.length === 2, 'a reconnect as soon as the network is back');

    FakeSocket.all[1].drop(1006); // online now: a backoff of up to a minute...
    await new Promise((r) => realSetTimeout(r, 30));
    assert.equal(FakeSocket.all.length, 2);
    doc.visibilityState = 'visible';
    doc.dispatchEvent(new Event('visibilitychange')); // ...cut short when the page is shown again
    await until(() => FakeSocket.all.length === 3, 'a reconnect when the page becomes visible');
  } finally {
    c.close();
    globalThis.window = saved.window;
    globalThis.document = saved.document;
    if (navDescriptor) Object.defineProperty(globalThis, 'navigator', navDescriptor);
    else delete globalThis.navigator;
  }
});

test('getToken, sync or async, is called before every connect and its token is URL-encoded', async () => {
  for (const getToken of [() => 'a b&c=d+é', async () => 'a b&c=d+é']) {
    let calls = 0;
    const c = client({ getToken: () => { calls++; return getToken(); } }).connect();
    await until(() => FakeSocket.all.length === 1, 'a socket');
    const url = new URL(FakeSocket.all[0].url);
    assert.equal(url.searchParams.get('token'), 'a b&c=d+é', 'decodes to the token');
    assert.equal(url.searchParams.get('systemId'), 'sys');
    assert.equal(url.searchParams.get('resume'), '1');
    assert.equal(calls, 1);
    FakeSocket.all[0].drop(1006);
    await until(() => FakeSocket.all.length === 2, 'a reconnect');
    assert.equal(calls, 2, 'again for the reconnect');
    c.close();
  }
  const none = client({ getToken: () => null }).connect();
  await until(() => FakeSocket.all.length === 1, 'a socket');
  assert.equal(FakeSocket.all[0].url, 'ws://127.0.0.1:1/ws?systemId=sys&resume=1', 'no token parameter');
  none.close();
  const plain = client({ resume: false }).connect();
  assert.equal(FakeSocket.all[0].url, 'ws://127.0.0.1:1/ws?systemId=sys', 'resume off: no resume parameter');
  plain.close();
});

test('frames without a messageId are never dropped nor a `last`; non-objects are ignored', async () => {
  const c = client().connect();
  const seen = record(c);
  const s = FakeSocket.all[0];
  s.receive({ code: 0, msg: 'success', data: { clientId: 'n1.a', resumeToken: 'tok1' } });
  s.receive(push('0000000000000001', 'one'));
  for (const junk of ['null', '42', '[1]', '"text"']) s.receive(junk);
  s.receive(push('', 'no id'));
  s.receive(push('', 'no id'));
  assert.deepEqual(seen.map(([e, v]) => (e === 'message' ? v.data : e)), ['welcome', 'one', 'no id', 'no id']);
  s.drop(1006);
  await until(() => FakeSocket.all.length === 2, 'a reconnect');
  assert.equal(new URL(FakeSocket.all[1].url).searchParams.get('last'), '0000000000000001');
  c.close();
});

test('every code that says retry reconnects, with the delay the backoff gives', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const retry = { 1001: 1, 1005: 1, 1006: 1, 1011: 1, 1012: 1, 1014: 1, 1013: 4 };
  for (const [code, factor] of Object.entries(retry)) {
    const c = client({ baseMs: 100, capMs: 100000, random: () => 0.5 }).connect();
    const seen = record(c);
    FakeSocket.all[0].drop(Number(code), 'r');
    assert.deepEqual(seen, [['close', { code: Number(code), reason: 'r', willRetry: true }]]);
    const delay = 0.5 * 100 * factor;
    t.mock.timers.tick(delay - 1);
    assert.equal(FakeSocket.all.length, 1, `${code}: not before ${delay} ms`);
    t.mock.timers.tick(1);
    assert.equal(FakeSocket.all.length, 2, `${code}: after ${delay} ms`);
    c.close();
  }
  for (const code of [1004, 1010, 1015, 3000, 4000, 4999]) { // not in the table: stop (README)
    const c = client().connect();
    const seen = record(c);
    FakeSocket.all[0].drop(code);
    assert.deepEqual(seen, [['close', { code, reason: '', willRetry: false }]]);
    t.mock.timers.tick(100000);
    assert.equal(FakeSocket.all.length, 1, `${code}: no reconnect`);
  }
});

test('the attempt counter grows to the cap while connects fail and starts again after a connection that lasted', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const c = client({ baseMs: 100, capMs: 1000, random: () => 0.999 }).connect();
  const delays = [];
  for (let i = 0; i < 6; i++) {
    const before = FakeSocket.all.length;
    FakeSocket.all.at(-1).drop(1006);
    let waited = 0;
    while (FakeSocket.all.length === before && waited < 10000) {
      t.mock.timers.tick(1);
      waited++;
    }
    delays.push(waited);
  }
  // floor(0.999 * min(1000, 100 * 2^n)), at least 1 ms of mocked time each
  assert.deepEqual(delays, [99, 199, 399, 799, 999, 999]);
  // welcomed, then closed at once (a server that keeps failing right after its welcome): still the longest delay
  FakeSocket.all.at(-1).receive({ code: 0, msg: 'success', data: { clientId: 'n1.a', resumeToken: 't' } });
  let before = FakeSocket.all.length;
  FakeSocket.all.at(-1).drop(1011);
  t.mock.timers.tick(998);
  assert.equal(FakeSocket.all.length, before, 'no reset of the backoff for a connection that did not last');
  t.mock.timers.tick(1);
  assert.equal(FakeSocket.all.length, before + 1);
  // welcomed and up for stableMs (5 s): attempt 0 again
  FakeSocket.all.at(-1).receive({ code: 0, msg: 'success', data: { clientId: 'n1.a', resumeToken: 't2', resumed: true } });
  t.mock.timers.tick(5000);
  before = FakeSocket.all.length;
  FakeSocket.all.at(-1).drop(1006);
  t.mock.timers.tick(98);
  assert.equal(FakeSocket.all.length, before, 'attempt 0 again');
  t.mock.timers.tick(1);
  assert.equal(FakeSocket.all.length, before + 1);
  c.close();
});

test('connect() twice opens one socket; close() while getToken is pending opens none', async () => {
  const c = client();
  c.connect();
  c.connect();
  assert.equal(FakeSocket.all.length, 1);
  c.close();
  let release;
  const pending = client({ getToken: () => new Promise((r) => { release = r; }) }).connect();
  pending.close();
  release('t');
  await new Promise((r) => realSetTimeout(r, 10));
  assert.equal(FakeSocket.all.length, 0, 'the token came after close(): no socket');
});

test('in a browser: offline waits for online, a visible page reconnects at once, close() stops listening', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const win = new EventTarget();
  const doc = Object.assign(new EventTarget(), { visibilityState: 'hidden' });
  const nav = { onLine: true };
  globalThis.window = win;
  globalThis.document = doc;
  Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true, writable: true });
  try {
    const c = client({ baseMs: 10000, capMs: 100000, random: () => 0.5 }).connect();
    const seen = record(c);
    FakeSocket.all[0].drop(1006); // a backoff of 5 s is pending
    doc.visibilityState = 'visible';
    doc.dispatchEvent(new Event('visibilitychange'));
    assert.equal(FakeSocket.all.length, 2, 'visible again: at once');

    nav.onLine = false;
    FakeSocket.all[1].drop(1006);
    assert.equal(seen.at(-1)[1].willRetry, true);
    t.mock.timers.tick(1000000);
    assert.equal(FakeSocket.all.length, 2, 'offline: no retry burnt');
    nav.onLine = true;
    win.dispatchEvent(new Event('online'));
    assert.equal(FakeSocket.all.length, 3, 'online: at once');

    FakeSocket.all[2].drop(1006); // a backoff pending, then the browser goes offline
    nav.onLine = false;
    win.dispatchEvent(new Event('offline'));
    t.mock.timers.tick(1000000);
    assert.equal(FakeSocket.all.length, 3, 'the pending retry waits for the network');
    nav.onLine = true;
    win.dispatchEvent(new Event('online'));
    assert.equal(FakeSocket.all.length, 4);

    c.close();
    FakeSocket.all[3].drop(1006);
    win.dispatchEvent(new Event('online'));
    doc.dispatchEvent(new Event('visibilitychange'));
    t.mock.timers.tick(1000000);
    assert.equal(FakeSocket.all.length, 4, 'after close(): nothing');
  } finally {
    delete globalThis.window;
    delete globalThis.document;
    delete globalThis.navigator;
  }
});

test('only the first welcome of a connection counts: a second one (and its stale resumeToken) is ignored', async () => {
  const c = client().connect();
  const seen = record(c);
  FakeSocket.all[0].receive({ code: 0, msg: 'success', data: { clientId: 'n1.a', resumeToken: 'tok1' } });
  FakeSocket.all[0].drop(1006);
  await until(() => FakeSocket.all.length === 2, 'a reconnect');
  const s = FakeSocket.all[1];
  assert.equal(new URL(s.url).searchParams.get('resume'), 'tok1');
  assert.equal(new URL(s.url).searchParams.get('last'), '', 'nothing processed since the welcome');
  s.receive({ code: 0, msg: 'success', data: { clientId: 'n1.a', resumeToken: 'tok2', resumed: true } });
  s.receive({ code: 0, msg: 'success', data: { clientId: 'n1.a', resumeToken: 'tok1' } }); // not this connection's
  s.receive(push('0000000000000001', 'one'));
  assert.deepEqual(seen.map(([e]) => e), ['welcome', 'close', 'welcome', 'resumed', 'message']);
  s.drop(1006);
  await until(() => FakeSocket.all.length === 3, 'another reconnect');
  const url = new URL(FakeSocket.all[2].url);
  assert.equal(url.searchParams.get('resume'), 'tok2', 'the token of the resumed welcome, not the stale one');
  assert.equal(url.searchParams.get('last'), '0000000000000001');
  c.close();
});

test('without resumption every reconnect is a new session: reset, and resume=1 again', async () => {
  const c = client().connect();
  const seen = record(c);
  // a server that does not resume: its welcome has no resumeToken
  FakeSocket.all[0].receive({ code: 0, msg: 'success', data: { clientId: 'n1.a' } });
  FakeSocket.all[0].drop(1006);
  await until(() => FakeSocket.all.length === 2, 'a reconnect');
  assert.equal(FakeSocket.all[1].url, 'ws://127.0.0.1:1/ws?systemId=sys&resume=1');
  FakeSocket.all[1].receive({ code: 0, msg: 'success', data: { clientId: 'n1.b' } });
  FakeSocket.all[1].drop(1006);
  await until(() => FakeSocket.all.length === 3, 'a reconnect');
  // `resumed: true` naming another clientId is no takeover of this client's session
  FakeSocket.all[2].receive({ code: 0, msg: 'success', data: { clientId: 'n1.c', resumed: true } });
  assert.deepEqual(seen.filter(([e]) => e !== 'close'), [
    ['welcome', { clientId: 'n1.a', resumed: false }],
    ['welcome', { clientId: 'n1.b', resumed: false }],
    ['reset', { clientId: 'n1.b', previousClientId: 'n1.a' }],
    ['welcome', { clientId: 'n1.c', resumed: false }],
    ['reset', { clientId: 'n1.c', previousClientId: 'n1.b' }],
  ]);
  c.close();
});

test('a malformed url throws at once; a WebSocket that cannot be opened is an error, not retried', async (t) => {
  assert.throws(() => client({ url: 'not a url' }), TypeError);
  assert.throws(() => new SocketClient({ url: 'ws://127.0.0.1:1/ws', WebSocket: FakeSocket }), /systemId/);
  t.mock.timers.enable({ apis: ['setTimeout'] });
  class Refusing {
    constructor() {
      throw new Error('insecure');
    }
  }
  const c = client({ WebSocket: Refusing });
  const seen = record(c);
  c.connect(); // without getToken the first open is synchronous
  assert.deepEqual(seen, [['error', { code: 0, msg: 'cannot open a WebSocket: insecure' }]]);
  t.mock.timers.tick(100000);
  assert.equal(seen.length, 1, 'no retry');
});
