// In a real browser: headless Chromium (Debian's package) driven by playwright-core. The page, served from a
// 127.0.0.1 origin, imports the client module as it is; the backend is the real server. Nothing here needs the
// server to resume sessions (that is browser-resume.test.mjs).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { SocketClient } from '../index.js';
import { Browser } from './browser-harness.mjs';
import { Proxy, Server, until } from './harness.mjs';

let server;
let browser;
const TIMEOUT = { timeout: 90000 };

before(async () => {
  server = await new Server().start();
  browser = await new Browser().start();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a page gets its welcome, the 1001/1002 of its group and the pushes its backend sends', TIMEOUT, async () => {
  const sys = await server.newSystem();
  const context = await browser.browser.newContext();
  const node = new SocketClient({ url: `ws://127.0.0.1:${server.port}/ws`, systemId: sys, WebSocket });
  try {
    const { page, of, clientId } = await browser.open(context, `ws://127.0.0.1:${server.port}/ws`, sys);
    assert.deepEqual((await of('welcome'))[0], { clientId, resumed: false });

    await server.api('bind_to_group', sys, { clientId, groupName: 'live', userId: 'viewer', extend: '{"seat":3}' });
    await until(async () => (await of('online')).length === 1, 'the 1001 in the page');
    assert.deepEqual((await of('online'))[0], { clientId, userId: 'viewer', extend: '{"seat":3}' });

    await server.api('send_to_group', sys, { groupName: 'live', sendUserId: 'host', code: 200, msg: 'chat', data: 'hi <all>' });
    await server.api('send_to_client', sys, { clientId, code: 300, msg: 'direct', data: { n: 1 } });
    await server.api('send_to_group', sys, { groupName: 'live', data: '{"double":"encoded"}' });
    await until(async () => (await of('message')).length === 3, 'three pushes in the page');
    const messages = await of('message');
    for (const m of messages) assert.match(m.messageId, /^[0-9a-f]{16}$/);
    assert.deepEqual(messages.map(({ sendUserId, code, msg, data }) => ({ sendUserId, code, msg, data })), [
      { sendUserId: 'host', code: 200, msg: 'chat', data: 'hi <all>' },
      { sendUserId: '', code: 300, msg: 'direct', data: { n: 1 } },
      { sendUserId: '', code: 0, msg: '', data: '{"double":"encoded"}' }, // a JSON string stays a string
    ]);

    // another member (a client in Node) joins and leaves: the page sees both
    node.connect();
    await until(() => node.clientId, 'the Node client welcomed');
    await server.api('bind_to_group', sys, { clientId: node.clientId, groupName: 'live', userId: 'bob' });
    await until(async () => (await of('online')).length === 2, 'the 1001 for bob in the page');
    assert.deepEqual((await of('online'))[1], { clientId: node.clientId, userId: 'bob', extend: '' });
    const bob = node.clientId;
    node.close();
    await until(async () => (await of('offline')).length === 1, 'the 1002 for bob in the page');
    assert.deepEqual((await of('offline'))[0], { clientId: bob, userId: 'bob', extend: '' });

    await page.evaluate(() => window.client.close());
    await until(async () => (await of('close')).length === 1, 'the close in the page');
    assert.deepEqual((await of('close'))[0], { code: 1000, reason: '', willRetry: false });
    await until(async () => (await server.api('get_online_list', sys, { groupName: 'live' })).data.count === 0,
      'the page to leave its group');
  } finally {
    node.close();
    await context.close();
  }
});

test('a plain WebSocket in the same browser still gets the bytes of old clients', TIMEOUT, async () => {
  const sys = await server.newSystem();
  const context = await browser.browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${browser.origin}/blank.html`);
    const welcome = await page.evaluate(async (url) => new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.onmessage = (e) => { resolve(e.data); ws.close(); };
      ws.onerror = () => reject(new Error('socket error'));
    }), `ws://127.0.0.1:${server.port}/ws?systemId=${sys}`);
    assert.match(welcome, /^\{"code":0,"msg":"success","data":\{"clientId":"n1\.[A-Za-z0-9_-]{22}"\}\}\n$/);
  } finally {
    await context.close();
  }
});

test('offline in the browser: no retries burnt while offline, a reconnect as soon as it is back online', TIMEOUT, async () => {
  const sys = await server.newSystem();
  const proxy = await new Proxy(server.port).listen();
  const context = await browser.browser.newContext();
  try {
    const { page, of } = await browser.open(context, `ws://127.0.0.1:${proxy.port}/ws`, sys);

    await context.setOffline(true);
    assert.equal(await page.evaluate(() => navigator.onLine), false);
    proxy.cut(); // the network is gone for the socket too
    await until(async () => (await of('close')).length >= 1, 'the page to see its connection lost');
    assert.equal((await of('close'))[0].willRetry, true);
    const accepted = proxy.accepted;
    // an absence can only be watched for a while: 2 s, twice the page's capMs, would see two retries at least
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal((await of('close')).length, 1, 'no retry while offline');
    assert.equal(proxy.accepted, accepted, 'no connection attempt while offline');

    proxy.heal();
    await context.setOffline(false);
    await until(async () => (await of('welcome')).length >= 2, 'a reconnect once online', 10000);
    assert.equal((await of('welcome')).length, 2);
    assert.equal(proxy.accepted, accepted + 1, 'one attempt, at once, not a burst');
  } finally {
    await context.close();
    await proxy.close();
  }
});
