// End to end in Node against the real server (the packaged jar), through a TCP proxy a test can cut.
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { SocketClient } from '../index.js';
import { Proxy, Server, until } from './harness.mjs';

let server;
/** What a test opened (clients, proxies): closed after it, whether it passed or failed, so nothing keeps running. */
const opened = [];
const TIMEOUT = { timeout: 60000 };

before(async () => {
  server = await new Server({ SOCKET_WS_RESUME_WINDOW: '20s' }).start();
});

afterEach(async () => {
  for (const o of opened.splice(0)) await o.close();
});

after(async () => {
  await server?.stop();
});

/** A client through its own proxy, recording every event. */
async function connected(systemId, options = {}) {
  const proxy = await new Proxy(server.port).listen();
  opened.push(proxy);
  const events = [];
  const c = new SocketClient({ url: `ws://127.0.0.1:${proxy.port}/ws`, systemId, WebSocket, baseMs: 50, capMs: 400,
    ...options });
  opened.push(c);
  for (const e of ['welcome', 'message', 'online', 'offline', 'resumed', 'reset', 'close', 'error']) {
    c.on(e, (v) => events.push([e, v]));
  }
  c.connect();
  await until(() => c.clientId, 'the welcome');
  return { c, proxy, events, of: (name) => events.filter(([e]) => e === name).map(([, v]) => v) };
}

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
  c.close();
  await until(() => of('close').length === 1, 'the close');
  assert.deepEqual(of('close')[0], { code: 1000, reason: '', willRetry: false });
  // an absence can only be watched for a while: longer than the longest backoff (capMs 400)
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(events.filter(([e]) => e === 'welcome').length, 1, 'no reconnect after close()');
  assert.equal(proxy.accepted, 1, 'no connection attempt after close()');
});

test('a connection cut mid-stream resumes: same clientId, every push sent meanwhile once and in order', TIMEOUT, async () => {
  const sys = await server.newSystem();
  const a = await connected(sys);
  const id = a.c.clientId;
  await server.api('bind_to_group', sys, { clientId: id, groupName: 'g' });
  await server.api('send_to_group', sys, { groupName: 'g', data: 'before' });
  await until(() => a.of('message').length === 1, 'the first push');

  a.proxy.cut();
  await until(() => a.of('close').length >= 1, 'the client to see the loss'); // (and its retries, refused)
  assert.equal(a.of('close')[0].willRetry, true);
  // the server notices the reset too; meanwhile the backend goes on sending
  for (let i = 0; i < 5; i++) {
    const r = await server.api('send_to_group', sys, { groupName: 'g', data: `gap-${i}` });
    assert.equal(r.data.delivered, 1, 'accepted into the waiting session');
  }
  await server.api('send_to_client', sys, { clientId: id, data: 'direct' });
  a.proxy.heal();

  await until(() => a.of('resumed').length === 1, 'the resume');
  assert.equal(a.c.clientId, id);
  await server.api('send_to_group', sys, { groupName: 'g', data: 'after' });
  await until(() => a.of('message').length === 8, 'every push');
  assert.deepEqual(texts(a.of('message')),
    ['before', 'gap-0', 'gap-1', 'gap-2', 'gap-3', 'gap-4', 'direct', 'after']);
  assert.equal(a.of('reset').length, 0);
  const online = await server.api('get_online_list', sys, { groupName: 'g' });
  assert.deepEqual(online.data.list, [id], 'still in its group');
});

test('frames lost in flight are replayed after `last`: a stalled then cut connection loses nothing', TIMEOUT, async () => {
  const sys = await server.newSystem();
  const a = await connected(sys);
  const id = a.c.clientId;
  await server.api('bind_to_group', sys, { clientId: id, groupName: 'g' });
  await server.api('send_to_group', sys, { groupName: 'g', data: 'seen' });
  await until(() => a.of('message').length === 1, 'the first push');

  // the server writes these to its socket, the network loses them: only a replay after `last` can bring them
  a.proxy.stall();
  const sent = [];
  for (let i = 0; i < 5; i++) {
    await server.api('send_to_group', sys, { groupName: 'g', data: `lost-${i}` });
    sent.push(`lost-${i}`);
  }
  await server.api('send_to_client', sys, { clientId: id, data: 'lost-direct' });
  sent.push('lost-direct');
  await until(() => a.proxy.lostFrames >= 6, 'the server to have written the six frames');
  a.proxy.cut();
  await until(() => a.of('close').length >= 1, 'the client to see the loss');
  for (let i = 0; i < 3; i++) {
    const r = await server.api('send_to_group', sys, { groupName: 'g', data: `away-${i}` });
    assert.equal(r.data.delivered, 1, 'accepted into the waiting session');
    sent.push(`away-${i}`);
  }
  a.proxy.heal();

  await until(() => a.of('resumed').length === 1, 'the resume');
  await server.api('send_to_group', sys, { groupName: 'g', data: 'after' });
  const expected = ['seen', ...sent, 'after'];
  await until(() => a.of('message').length >= expected.length, 'every push');
  assert.deepEqual(texts(a.of('message')), expected, 'once each, in order');
  assert.equal(a.c.clientId, id);
  assert.deepEqual(a.of('reset'), []);
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
