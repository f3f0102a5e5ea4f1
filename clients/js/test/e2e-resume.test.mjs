// End to end in Node against the real server: session resumption (docs/PROTOCOL.md "Resumption"). A connection
// lost without a close frame is taken over by the reconnect: same clientId and groups, every frame sent meanwhile
// once and in order. These pass only against a server that resumes sessions; against one that does not, each fails
// saying so.
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { SocketClient } from '../index.js';
import { Proxy, Server, assertServerResumes, connectedClient, resumedOf, until } from './harness.mjs';

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

async function connected(systemId, options) {
  await assertServerResumes(WebSocket, server, systemId);
  return connectedClient(SocketClient, WebSocket, server, opened, systemId, options);
}

const texts = (messages) => messages.map((m) => m.data);

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

  await resumedOf(a);
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

  await resumedOf(a);
  await server.api('send_to_group', sys, { groupName: 'g', data: 'after' });
  const expected = ['seen', ...sent, 'after'];
  await until(() => a.of('message').length >= expected.length, 'every push');
  assert.deepEqual(texts(a.of('message')), expected, 'once each, in order');
  assert.equal(a.c.clientId, id);
  assert.deepEqual(a.of('reset'), []);
});


test('cut before any push (an empty last), then cut again: resumed both times, nothing lost or doubled', TIMEOUT, async () => {
  const sys = await server.newSystem();
  const a = await connected(sys);
  const id = a.c.clientId; // no bind (its 1001 would be a frame processed): nothing since the welcome
  const sent = [];
  for (const round of [1, 2]) {
    a.proxy.cut();
    await until(() => a.of('close').length >= round, `the loss ${round}`);
    for (let i = 0; i < 3; i++) {
      const data = `gap${round}-${i}`;
      assert.equal((await server.api('send_to_client', sys, { clientId: id, data })).data.delivered, true);
      sent.push(data);
    }
    a.proxy.heal();
    await until(() => {
      if (a.of('reset').length) throw new Error(`the server did not resume: ${JSON.stringify(a.of('welcome'))}`);
      return a.of('resumed').length === round;
    }, `the resume ${round}`);
    await until(() => a.of('message').length === sent.length, `the pushes of round ${round}`);
  }
  assert.deepEqual(texts(a.of('message')), sent, 'once each, in order');
  assert.equal(a.c.clientId, id);
  assert.deepEqual(a.of('welcome').map((w) => w.resumed), [false, true, true]);
});

test('on the wire: a resume with an empty last replays what came after the welcome, not the welcome', TIMEOUT, async () => {
  // the spec: "then every frame after `last` (empty `last`: everything after the welcome)"
  const sys = await server.newSystem();
  await assertServerResumes(WebSocket, server, sys);
  const proxy = await new Proxy(server.port).listen();
  opened.push(proxy);
  const frames = async (url, n) => {
    const ws = new WebSocket(url);
    opened.push({ close: () => ws.terminate() });
    const got = [];
    ws.on('message', (d) => got.push(JSON.parse(String(d))));
    await until(() => got.length >= n, `${n} frame(s)`);
    return { ws, got };
  };
  const first = await frames(`ws://127.0.0.1:${proxy.port}/ws?systemId=${sys}&resume=1`, 1);
  const { clientId, resumeToken } = first.got[0].data;
  proxy.cut();
  await until(() => first.ws.readyState === WebSocket.CLOSED, 'the loss');
  await server.api('send_to_client', sys, { clientId, data: 'missed' });
  proxy.heal();
  const second = await frames(`ws://127.0.0.1:${proxy.port}/ws?systemId=${sys}&resume=${encodeURIComponent(resumeToken)}&last=`, 2);
  await server.api('send_to_client', sys, { clientId, data: 'live' });
  await until(() => second.got.length >= 3, 'the live push');
  assert.equal(second.got[0].data.resumed, true);
  assert.deepEqual(second.got.slice(1).map((f) => f.data), ['missed', 'live'],
    `after the resumed welcome: ${JSON.stringify(second.got.slice(1))}`);
});
