// In a real browser: headless Chromium (Debian's package) driven by playwright-core. The page, served from a
// 127.0.0.1 origin, uses the client; its connection to the server goes through a proxy the test cuts for 5 s.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { Proxy, Server, until } from './harness.mjs';

const CHROMIUM = '/usr/bin/chromium';
const here = dirname(fileURLToPath(import.meta.url));

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>pekko-socket client</title></head><body>
<script type="module">
  import { SocketClient } from '/index.js';
  const params = new URLSearchParams(location.search);
  window.events = [];
  const client = new SocketClient({ url: params.get('ws'), systemId: params.get('system'), baseMs: 100, capMs: 1000 });
  for (const e of ['welcome', 'message', 'online', 'offline', 'resumed', 'reset', 'close', 'error']) {
    client.on(e, (v) => window.events.push([e, v]));
  }
  window.client = client;
  client.connect();
</script>
</body></html>`;

let server;
let pages;
let browser;

before(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  server = await new Server({ SOCKET_WS_RESUME_WINDOW: '30s' }).start();
  pages = http.createServer((req, res) => {
    if (req.url === '/index.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(readFileSync(join(here, '..', 'index.js')));
    } else if (req.url === '/blank.html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>blank</title>');
    } else if (req.url.startsWith('/page.html')) {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(PAGE);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((resolve) => pages.listen(0, '127.0.0.1', resolve));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (pages ? pages.close(resolve) : resolve()));
  await server?.stop();
});

test('a page cut off for 5 seconds keeps its clientId and its group and gets every push once, in order', { timeout: 90000 }, async () => {
  const sys = await server.newSystem();
  const proxy = await new Proxy(server.port).listen();
  const page = await browser.newPage();
  try {
    const origin = `http://127.0.0.1:${pages.address().port}`;
    await page.goto(`${origin}/page.html?ws=${encodeURIComponent(`ws://127.0.0.1:${proxy.port}/ws`)}&system=${sys}`);
    const events = () => page.evaluate(() => window.events);
    const of = async (name) => (await events()).filter(([e]) => e === name).map(([, v]) => v);
    const clientId = await until(async () => (await of('welcome'))[0]?.clientId, 'the welcome in the page');

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
      assert.equal(r.data.delivered, 1);
      sent.push(`during-${i}`);
      await new Promise((r2) => setTimeout(r2, 250));
    }
    proxy.heal();
    await until(async () => (await of('resumed')).length === 1, 'the resume', 20000);
    await server.api('send_to_group', sys, { groupName: 'live', data: 'q2' });
    const expected = ['q1', ...sent, 'q2'];
    await until(async () => (await of('message')).length >= expected.length, 'every push in the page', 20000);

    assert.deepEqual((await of('message')).map((m) => m.data), expected, 'every push once, in order');
    assert.equal(await page.evaluate(() => window.client.clientId), clientId, 'the same clientId');
    assert.deepEqual(await of('reset'), [], 'no reset: the backend had nothing to do');
    assert.equal((await of('online')).length, 1, 'no second 1001');
    const online = await server.api('get_online_list', sys, { groupName: 'live' });
    assert.deepEqual(online.data.list, [clientId], 'still in its group');
  } finally {
    await page.close();
    await proxy.close();
  }
});

test('a plain WebSocket in the same browser still gets the bytes of old clients', { timeout: 90000 }, async () => {
  const sys = await server.newSystem();
  const page = await browser.newPage();
  try {
    await page.goto(`http://127.0.0.1:${pages.address().port}/blank.html`);
    const welcome = await page.evaluate(async (url) => new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.onmessage = (e) => { resolve(e.data); ws.close(); };
      ws.onerror = () => reject(new Error('socket error'));
    }), `ws://127.0.0.1:${server.port}/ws?systemId=${sys}`);
    assert.match(welcome, /^\{"code":0,"msg":"success","data":\{"clientId":"n1\.[A-Za-z0-9_-]{22}"\}\}\n$/);
  } finally {
    await page.close();
  }
});

test('offline in the browser: no retries burnt while offline, a resume as soon as it is back online', { timeout: 90000 }, async () => {
  const sys = await server.newSystem();
  const proxy = await new Proxy(server.port).listen();
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const origin = `http://127.0.0.1:${pages.address().port}`;
    await page.goto(`${origin}/page.html?ws=${encodeURIComponent(`ws://127.0.0.1:${proxy.port}/ws`)}&system=${sys}`);
    const of = async (name) => (await page.evaluate(() => window.events)).filter(([e]) => e === name).map(([, v]) => v);
    const clientId = await until(async () => (await of('welcome'))[0]?.clientId, 'the welcome in the page');

    await context.setOffline(true);
    assert.equal(await page.evaluate(() => navigator.onLine), false);
    proxy.cut(); // the network is gone for the socket too
    await until(async () => (await of('close')).length >= 1, 'the page to see its connection lost');
    const accepted = proxy.accepted;
    // an absence can only be watched for a while: 2 s, twice the page's capMs, would see two retries at least
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal((await of('close')).length, 1, 'no retry while offline');
    assert.equal(proxy.accepted, accepted, 'no connection attempt while offline');

    proxy.heal();
    await context.setOffline(false);
    await until(async () => (await of('resumed')).length === 1, 'the resume once online', 10000);
    assert.equal(await page.evaluate(() => window.client.clientId), clientId);
  } finally {
    await context.close();
    await proxy.close();
  }
});
