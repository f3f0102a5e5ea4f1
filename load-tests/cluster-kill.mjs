// Kill one node of three under traffic and check the clients of the other two lose nothing (issue 12, F1 in
// miniature; not run in CI). Usage, with three nodes started as in the README (ports 7801-7803, pids in n<i>.pid):
//   node load-tests/cluster-kill.mjs <admin token> [victim=3] [seconds=30]
// Clients connect to every node and join one group; a backend sends a group push and a send_to_client to a client of
// a surviving node every 50 ms, through the surviving nodes in turn, for the whole run, and kills the victim with
// SIGKILL after a third of it. Prints a per-second timeline and checks, for every push answered with success, that
// every client of a surviving node that was a member got it exactly once, in one order for all of them.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
const require = createRequire(new URL('../clients/js/package.json', import.meta.url));
const WebSocket = require('ws');

const [admin, victimArg = '3', secondsArg = '30'] = process.argv.slice(2);
if (!admin) { console.error('usage: node load-tests/cluster-kill.mjs <admin token> [victim] [seconds]'); process.exit(2); }
const victim = Number(victimArg), seconds = Math.min(Number(secondsArg), 300);
const port = i => 7800 + i;
const survivors = [1, 2, 3].filter(i => i !== victim);
const system = 'kill-' + Date.now();

async function api(node, op, body) {
  const started = Date.now();
  const r = await fetch(`http://127.0.0.1:${port(node)}/api/${op}`, {
    method: 'POST', headers: { Authorization: `Bearer ${admin}`, SystemId: system }, body: JSON.stringify(body),
    signal: AbortSignal.timeout(10000) });
  return { status: r.status, json: await r.json(), ms: Date.now() - started };
}

function connect(node) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port(node)}/ws?systemId=${system}`);
    const c = { node, ws, frames: [] };
    ws.on('message', d => {
      const f = JSON.parse(d.toString());
      if (!c.id) { c.id = f.data.clientId; resolve(c); return; }
      c.frames.push(f);
    });
    ws.on('error', e => { if (!c.id) reject(e); });
    ws.on('close', () => { c.closed = true; });
  });
}

const reg = await api(1, 'register', { systemId: system });
if (reg.json.code !== 0) throw new Error('register: ' + JSON.stringify(reg.json));
const clients = [];
for (const n of [1, 2, 3]) for (let k = 0; k < 5; k++) clients.push(await connect(n));
for (const c of clients) {
  const r = await api(survivors[0], 'bind_to_group', { clientId: c.id, groupName: 'room' });
  if (r.json.code !== 0) throw new Error('bind: ' + JSON.stringify(r.json));
}
const target = clients.find(c => c.node === survivors[1]);
const pushes = [], direct = [], timeline = new Map();
const tick = (key) => { const s = Math.floor((Date.now() - t0) / 1000); const e = timeline.get(s) ?? {}; e[key] = (e[key] ?? 0) + 1; timeline.set(s, e); };
const t0 = Date.now();
let killed = false, maxMs = 0, i = 0;
while (Date.now() - t0 < seconds * 1000) {
  if (!killed && Date.now() - t0 > seconds * 1000 / 3) {
    process.kill(Number(readFileSync(`n${victim}.pid`, 'utf8').trim()), 'SIGKILL');
    killed = true; tick('KILL');
  }
  const entry = survivors[i++ % survivors.length];
  const [g, d] = await Promise.all([api(entry, 'send_to_group', { groupName: 'room', data: 'p' + i }),
    api(entry, 'send_to_client', { clientId: target.id, data: 'd' + i })]);
  maxMs = Math.max(maxMs, g.ms, d.ms);
  tick(g.status === 200 && g.json.code === 0 ? (g.json.partial ? 'partial' : 'ok') : 'err' + g.status);
  if (g.status === 200 && g.json.code === 0) pushes.push(g.json.data.messageId);
  if (d.status === 200 && d.json.code === 0 && d.json.data.delivered) direct.push(d.json.data.messageId);
  await new Promise(r => setTimeout(r, 50));
}
await new Promise(r => setTimeout(r, 2000));
let failures = 0;
const kept = clients.filter(c => c.node !== victim);
let reference = null;
for (const c of kept) {
  const ids = c.frames.map(f => f.messageId);
  const got = ids.filter(id => pushes.includes(id));
  const missing = pushes.filter(id => !ids.includes(id));
  if (missing.length || new Set(got).size !== got.length) { failures++; console.log(`${c.id}: ${missing.length} missing, ${got.length - new Set(got).size} twice`); }
  if (reference === null) reference = got; else if (JSON.stringify(reference) !== JSON.stringify(got)) { failures++; console.log(`${c.id}: another order`); }
}
const directGot = target.frames.map(f => f.messageId).filter(id => direct.includes(id));
if (directGot.length !== direct.length) { failures++; console.log(`direct pushes: ${direct.length - directGot.length} missing`); }
const offline = kept[0].frames.filter(f => f.code === 1002).length;
console.log('second  ' + [...timeline.keys()].sort((a, b) => a - b).map(s => `${s}:${JSON.stringify(timeline.get(s))}`).join(' '));
console.log(`group pushes answered success: ${pushes.length}; direct: ${direct.length}; slowest answer ${maxMs} ms; ` +
  `1002s seen by a survivor: ${offline} (victim had 5 members)`);
console.log(failures ? `FAILED (${failures})` : 'OK: nothing lost for the survivors\' clients, one order');
for (const c of clients) c.ws.terminate();
process.exit(failures ? 1 : 0);
