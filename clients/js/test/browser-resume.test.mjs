// In a real browser, the "done when": a page whose connection is cut for 5 seconds (through a TCP proxy
// between Chromium and the server that drops its sockets and refuses new ones) while the backend sends group pushes
// ends with the same clientId, its group membership and every push exactly once, in order, without the backend
// doing anything. Passes only against a server that resumes sessions (docs/PROTOCOL.md "Resumption").
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { Browser } from './browser-harness.mjs';
import { Proxy, Server, assertServerResumes, until } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await new Server({ SOCKET_WS_RESUME_WINDOW: '30s' }).start();
  browser = await new Browser().start();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a page cut off for 5 seconds keeps its clientId and its group and gets every push once, in order', { timeout: 90000 }, async () => {
  const sys = await server.newSystem();
  await assertServerResumes(WebSocket, server, sys);
  const proxy = await new Proxy(server.port).listen();
  const context = await browser.browser.newContext();
  try {
    const { page, of, clientId } = await browser.open(context, `ws://127.0.0.1:${proxy.port}/ws`, sys);

    // the backend binds the page once, and never again
    await server.api('bind_to_group', sys, { clientId, groupName: 'live', userId: 'viewer' });
    await until(async () => (await of('online')).length === 1, 'the 1001 in the page');
    await server.api('send_to_group', sys, { groupName: 'live', data: 'q1' });
    await until(async () => (await of('message')).length === 1, 'q1');

    proxy.cut();
    await until(async () => (await of('close')).length >= 1, 'the page to see its connection lost'); // (then retries)
    const sent = [];
    const cutAt = Date.now();
    for (let i = 0; Date.now() - cutAt < 5000; i++) { // pushes during the 5 s the page is cut off
      const r = await server.api('send_to_group', sys, { groupName: 'live', data: `during-${i}` });
      assert.equal(r.data.delivered, 1, 'accepted for the waiting session');
      sent.push(`during-${i}`);
      await new Promise((r2) => setTimeout(r2, 250));
    }
    assert.ok((await of('close')).length >= 2, 'the page kept retrying while cut off');
    proxy.heal();
    await until(async () => {
      if ((await of('reset')).length) throw new Error(`the server did not resume the session: ${JSON.stringify(await of('welcome'))}`);
      return (await of('resumed')).length === 1;
    }, 'the resume', 20000);
    await server.api('send_to_group', sys, { groupName: 'live', data: 'q2' });
    const expected = ['q1', ...sent, 'q2'];
    await until(async () => (await of('message')).length >= expected.length, 'every push in the page', 20000);

    assert.deepEqual((await of('message')).map((m) => m.data), expected, 'every push once, in order');
    assert.equal(await page.evaluate(() => window.client.clientId), clientId, 'the same clientId');
    assert.deepEqual((await of('resumed'))[0], { clientId });
    assert.deepEqual(await of('reset'), [], 'no reset: the backend had nothing to do');
    assert.equal((await of('online')).length, 1, 'no second 1001');
    assert.deepEqual(await of('offline'), [], 'no 1002 for itself');
    const online = await server.api('get_online_list', sys, { groupName: 'live' });
    assert.deepEqual(online.data.list, [clientId], 'still in its group');
  } finally {
    await context.close();
    await proxy.close();
  }
});
