// The hand-written declarations (index.d.ts) against the module: tsc --noEmit over an app's use of them
// (test/types/usage.ts), and the names they declare against what index.js exports and the events it has.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as client from '../index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dts = readFileSync(join(root, 'index.d.ts'), 'utf8');

test('an app using the declarations type-checks, and misuses do not (tsc --noEmit)', { timeout: 120000 }, () => {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'test', 'types', 'tsconfig.json')],
    { encoding: 'utf8', timeout: 110000 });
  assert.equal(r.error, undefined, `tsc could not run: ${r.error}`);
  assert.equal(`${r.stdout}${r.stderr}`, '', 'no diagnostics');
  assert.equal(r.status, 0);
});

test('index.d.ts declares exactly what index.js exports, and every event the client has', () => {
  const declared = [...dts.matchAll(/^export declare (?:const|function|class) (\w+)/gm)].map((m) => m[1]).sort();
  assert.deepEqual(declared, Object.keys(client).sort());
  const events = dts.match(/export interface Events \{([\s\S]*?)\n\}/)[1];
  const names = [...events.matchAll(/^ {2}(\w+):/gm)].map((m) => m[1]);
  assert.deepEqual(names, ['welcome', 'message', 'online', 'offline', 'resumed', 'reset', 'close', 'error']);
  const c = new client.SocketClient({ url: 'ws://127.0.0.1:1/ws', systemId: 's', WebSocket: class {} });
  for (const name of names) assert.equal(c.on(name, () => {}), c, `${name} is an event of the client`);
  assert.throws(() => c.on('messages', () => {}), TypeError);
});
