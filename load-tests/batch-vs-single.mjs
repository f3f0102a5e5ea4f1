// Server CPU per push: send_to_client one call at a time vs the same pushes in batches of 100 distinct clients.
// A bounded, loopback-only measurement of a running server (its pid for /proc): N pushes each way, every push
// counted on arrival. Node 20 with the `ws` package (npm ci in clients/js first).
// Usage: [ONLY=single|batch] node load-tests/batch-vs-single.mjs <server-pid> <admin-token> [pushes=20000] [url=http://127.0.0.1:7800]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../clients/js/package.json', import.meta.url));
const WebSocket = require('ws');

const [pid, token, pushesArg = '20000', url = 'http://127.0.0.1:7800'] = process.argv.slice(2);
if (!pid || !token) throw new Error('usage: batch-vs-single.mjs <server-pid> <admin-token> [pushes] [url]');
const host = new URL(url);
if (!host.hostname.startsWith('127.')) throw new Error('loopback only');
const PUSHES = Math.min(Number(pushesArg), 200000);
const CLIENTS = 100;
const CONCURRENCY = 8;
const system = `bench-${Date.now()}`;
const hz = 100; // CLK_TCK on Linux
const cpuTicks = () => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime
};

async function api(op, body) {
  const r = await fetch(`${url}/api/${op}`, { method: 'POST', body: JSON.stringify(body),
    headers: { authorization: `Bearer ${token}`, systemid: system, 'content-type': 'application/json' } });
  return r.json();
}

let received = 0;
const ids = await (async () => {
  await api('register', { systemId: system });
  const out = [];
  for (let i = 0; i < CLIENTS; i++) {
    const ws = new WebSocket(`ws://${host.host}/ws?systemId=${system}`);
    out.push(await new Promise((resolve, reject) => {
      ws.once('message', (d) => resolve(JSON.parse(d).data.clientId));
      ws.once('error', reject);
    }));
    ws.on('message', () => { received++; });
  }
  return out;
})();

async function run(name, calls) {
  const start = received;
  const expected = calls.reduce((n, c) => n + c.pushes, 0);
  const t0 = cpuTicks();
  const wall = Date.now();
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < calls.length) {
      const c = calls[next++];
      const r = await api(c.op, c.body);
      if (r.code !== 0) throw new Error(`${c.op}: ${JSON.stringify(r)}`);
    }
  }));
  const deadline = Date.now() + 60000;
  while (received - start < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const cpuSeconds = (cpuTicks() - t0) / hz;
  console.log(`${name}: ${expected} pushes, ${received - start} received, ${(Date.now() - wall) / 1000} s wall, `
    + `server CPU ${cpuSeconds.toFixed(2)} s = ${(cpuSeconds * 1e6 / expected).toFixed(1)} µs per push`);
}

const push = (i) => ({ clientId: ids[i % CLIENTS], data: `p${i}` });
const singles = Array.from({ length: PUSHES }, (_, i) => ({ op: 'send_to_client', body: push(i), pushes: 1 }));
const batches = Array.from({ length: PUSHES / CLIENTS }, (_, b) => ({ op: 'batch', pushes: CLIENTS,
  body: { commands: Array.from({ length: CLIENTS }, (_, k) => ({ op: 'send_to_client', ...push(b * CLIENTS + k) })) } }));

const singleOnly = process.env.ONLY === 'single'; // a server without batch (an older build, for an A/B)
const batchOnly = process.env.ONLY === 'batch'; // batches alone: many more pushes in the time single calls take
if (!batchOnly) await run('warm-up (single)', singles.slice(0, PUSHES / 4));
if (!singleOnly) await run('warm-up (batch)', batches.slice(0, batches.length / 4));
if (!batchOnly) await run('single send_to_client', singles);
if (!singleOnly) await run('batches of 100', batches);
process.exit(0);
