// The browser side of the browser tests: Debian's headless Chromium driven by playwright-core (no browser download),
// and a page server on 127.0.0.1 that serves the client module as it is (no build step) and a test page using it.
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { EVENTS, until } from './harness.mjs';

export const CHROMIUM = '/usr/bin/chromium';
const here = dirname(fileURLToPath(import.meta.url));

/** The page: `?ws=<url>&system=<systemId>`; it records every event of its client in `window.events`. */
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>pekko-socket client</title></head><body>
<script type="module">
  import { SocketClient } from '/index.js';
  const params = new URLSearchParams(location.search);
  window.events = [];
  const client = new SocketClient({ url: params.get('ws'), systemId: params.get('system'), baseMs: 100, capMs: 1000 });
  for (const e of ${JSON.stringify(EVENTS)}) client.on(e, (v) => window.events.push([e, v]));
  window.client = client;
  client.connect();
</script>
</body></html>`;

/** The page server and the browser; `close()` ends both. */
export class Browser {
  async start() {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
    this.pages = http.createServer((req, res) => {
      const path = new URL(req.url, 'http://127.0.0.1').pathname;
      if (path === '/index.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' });
        res.end(readFileSync(join(here, '..', 'index.js')));
      } else if (path === '/page.html') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(PAGE);
      } else if (path === '/blank.html') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<!doctype html><title>blank</title>');
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise((resolve) => this.pages.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${this.pages.address().port}`;
    this.browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    return this;
  }

  /**
   * A page of `context` (a browser context: its own network state) whose client connects to `wsUrl`; resolves
   * once welcomed, with helpers that read what the page recorded.
   */
  async open(context, wsUrl, systemId) {
    const page = await context.newPage();
    await page.goto(`${this.origin}/page.html?ws=${encodeURIComponent(wsUrl)}&system=${encodeURIComponent(systemId)}`);
    const of = async (name) => (await page.evaluate(() => window.events)).filter(([e]) => e === name).map(([, v]) => v);
    const clientId = await until(async () => (await of('welcome'))[0]?.clientId, 'the welcome in the page');
    return { page, of, clientId };
  }

  async close() {
    await this.browser?.close();
    if (this.pages?.listening) await new Promise((resolve) => this.pages.close(resolve));
  }
}
