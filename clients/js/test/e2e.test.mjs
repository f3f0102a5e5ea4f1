// End to end in Node against the real server (the packaged jar), through a TCP proxy a test can cut. Nothing here
// needs the server to resume sessions (that is e2e-resume.test.mjs): a lost session is a `reset`.
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { SocketClient } from '../index.js';
import { Proxy, Server, connectedClient, until } from './harness.mjs';

let server;
/** What a test opened (clients, proxies): closed after it, whether it passed or failed, so nothing keeps running. */
const opened = [];
const TIMEOUT = { timeout: 60000 };

before(async () => {
  server = await new Server().start();
});

afterEach(async () => {
  for (const o of opened.splice(0)) await o.close();
});

after(async () => {
  await server?.stop();
});

const connected = (systemId, options) => connectedClient(SocketClient, WebSocket, server, opened, systemId, options);

const texts = (messages) => messages.map((m) => m.data);

test('welcome, online and pushes as events; close() is final', TIMEOUT, async () => {
  const sys = await server.newSystem();
  const { c, proxy, of, events } = await connected(sys);
  await server.api('bind_to_group', sys, { clientId: c.clientId, groupName: 'room', userId: 'alice', extend: 'x' });
  await until(() => of('online').length === 1, 'the 1001');
  assert.deepEqual(of('online')[0], { clientId: c.clientId, userId: 'alice', extend: 'x' });
  await server.api('send_to_group', sys, { groupName: 'room', code: 200, msg: 'chat', data: 'hello' });
  await server.api('send_to_client', sys, { clientId: c.clientId, data: { n: 1 } });
  await until(() => of('message').length === 2, 'two pushes');
  assert.deepEqual(texts(of('message')), ['hello', { n: 1 }]);
  assert.equal(of('message')[0].code, 200);
  // another member joins and leaves: online for it, then offline once its connection is gone
  const bob = await connected(sys);
  await server.api('bind_to_group', sys, { clientId: bob.c.clientId, groupName: 'room', userId: 'bob', extend: 'y' });
  await until(() => of('online').length === 2, 'the 1001 for bob');
  assert.deepEqual(of('online')[1], { clientId: bob.c.clientId, userId: 'bob', extend: 'y' });
  bob.c.close();
  await until(() => of('offline').length === 1, 'the 1002 for bob');
  assert.deepEqual(of('offline')[0], { clientId: bob.c.clientId, userId: 'bob', extend: 'y' });
  c.close();
  await until(() => of('close').length === 1, 'the close');
  assert.deepEqual(of('close')[0], { code: 1000, reason: '', willRetry: false });
  // an absence can only be watched for a while: longer than the longest backoff (capMs 400)
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(events.filter(([e]) => e === 'welcome').length, 1, 'no reconnect after close()');
  assert.equal(proxy.accepted, 1, 'no connection attempt after close()');
});

test('close_client from the backend (close 1000) is not retried', TIMEOUT, async () => {
  const sys = await server.newSystem();
  const { c, proxy, of } = await connected(sys);
  await server.api('close_client', sys, { clientId: c.clientId });
  await until(() => of('close').length === 1, 'the close');
  assert.deepEqual(of('close')[0], { code: 1000, reason: 'closed by server', willRetry: false });
  await new Promise((r) => setTimeout(r, 600)); // longer than the longest backoff (capMs 400)
  assert.equal(proxy.accepted, 1, 'no connection attempt after a 1000');
  assert.equal(of('welcome').length, 1);
});

test('a connection dropped without a close frame is retried with growing delays until the network is back', TIMEOUT, async () => {
  // random 0.999: each delay is (almost) its ceiling, min(capMs, baseMs * 2^attempt) = 100, 200, 400, 800, 800 ms
  const sys = await server.newSystem();
  const a = await connected(sys, { resume: false, baseMs: 100, capMs: 800, random: () => 0.999 });
  const first = a.c.clientId;
  await server.api('bind_to_group', sys, { clientId: first, groupName: 'g' });
  await server.api('send_to_group', sys, { groupName: 'g', data: 'before' });
  await until(() => a.of('message').length === 1, 'the first push');

  a.proxy.cut(); // TCP reset on both sides; every new connection is refused until heal()
  await until(() => a.proxy.acceptedAt.length >= 5, 'four refused attempts after the first connection');
  const refused = a.proxy.acceptedAt.slice(1, 5);
  const gaps = refused.slice(1).map((t, i) => t - refused[i]);
  // each attempt is refused at once, then the next waits its delay: the gaps are at least 199, 399, 799 ms
  // (timers never fire early; a little slack for the clock's rounding); no upper bound on a shared machine
  for (const [i, min] of [199, 399, 799].entries()) assert.ok(gaps[i] >= min - 2, `gap ${i}: ${gaps[i]} >= ${min}`);
  const closes = a.of('close');
  assert.ok(closes.length >= 4);
  for (const c of closes) assert.deepEqual(c, { code: 1006, reason: '', willRetry: true });
  assert.equal(a.of('welcome').length, 1, 'no welcome while cut off');

  a.proxy.heal();
  await until(() => a.of('reset').length === 1, 'a reconnect once the network is back');
  const [reset] = a.of('reset');
  assert.equal(reset.previousClientId, first);
  assert.equal(reset.clientId, a.c.clientId);
  assert.notEqual(reset.clientId, first, 'resume off: a new session');
  assert.deepEqual(a.of('welcome')[1], { clientId: a.c.clientId, resumed: false });
  // the app's part after a reset: its backend binds the new clientId again, and pushes flow
  await server.api('bind_to_group', sys, { clientId: a.c.clientId, groupName: 'g' });
  await server.api('send_to_group', sys, { groupName: 'g', data: 'after' });
  await until(() => a.of('message').length === 2, 'the push after the rebind');
  assert.deepEqual(texts(a.of('message')), ['before', 'after']);
});

test('a systemId and a token with characters to encode reach the server intact', TIMEOUT, async () => {
  const sys = `a b&c=d+é/?#${Math.random().toString(36).slice(2)}`;
  await server.api('register', null, { systemId: sys });
  // a token the server does not require; a systemId it did not decode to the registered one would be refused (-1001)
  const { c, of } = await connected(sys, { getToken: () => 'x y&z' });
  assert.match(c.clientId, /^n1\./, 'welcomed');
  assert.deepEqual(of('error'), []);
});

test('a server restart loses the session: the client reconnects by itself and emits reset', TIMEOUT, async () => {
  const restarted = new Server();
  opened.push({ close: () => restarted.stop() });
  await restarted.start();
  const sys = await restarted.newSystem();
  const proxy = await new Proxy(restarted.port).listen();
  opened.push(proxy);
  const events = [];
  const c = new SocketClient({ url: `ws://127.0.0.1:${proxy.port}/ws`, systemId: sys, WebSocket, baseMs: 50,
    capMs: 400 });
  opened.push(c);
  c.on('reset', (v) => events.push(['reset', v]));
  c.on('close', (v) => events.push(['close', v]));
  c.connect();
  await until(() => c.clientId, 'the welcome');
  const before = c.clientId;
  await restarted.kill();
  await restarted.start(); // same port, same data dir: the system is still registered
  await until(() => events.some(([e]) => e === 'reset'), 'the reset', 30000);
  const reset = events.find(([e]) => e === 'reset')[1];
  assert.equal(reset.previousClientId, before);
  assert.notEqual(reset.clientId, before);
  assert.equal(c.clientId, reset.clientId);
  assert.ok(events.some(([e, v]) => e === 'close' && v.willRetry), 'the loss was retried');
});

test('an unknown systemId is an error and is not retried', TIMEOUT, async () => {
  const events = [];
  const c = new SocketClient({ url: `ws://127.0.0.1:${server.port}/ws`, systemId: 'no-such-system', WebSocket });
  opened.push(c);
  c.on('error', (v) => events.push(['error', v]));
  c.on('close', (v) => events.push(['close', v]));
  c.connect();
  await until(() => events.length === 2, 'the refusal and the close');
  assert.deepEqual(events, [['error', { code: -1001, msg: '系统ID无效' }],
    ['close', { code: 1008, reason: 'invalid systemId', willRetry: false }]]);
});
