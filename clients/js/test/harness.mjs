// The real server for the end-to-end tests: started from the packaged jar on 127.0.0.1, a system registered, the
// HTTP API at hand, and a TCP proxy in front of it that a test can cut like a lost network.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const JAR = join(here, '..', '..', '..', 'target', 'pekko-socket.jar');

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Waits (bounded) until `cond()` resolves truthy; returns its value. */
export async function until(cond, what, ms = 15000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A pekko-socket process. `start()` again (same port and data dir) after `kill()` is a server restart. */
export class Server {
  constructor(env = {}) {
    if (!existsSync(JAR)) throw new Error(`${JAR} is missing: build it first (mvn -B -DskipTests package)`);
    this.env = env;
    this.dataDir = mkdtempSync(join(tmpdir(), 'pekko-socket-js-'));
    this.proc = null;
    this.output = '';
  }

  async start() {
    if (!this.port) this.port = await freePort();
    this.proc = spawn('java', ['-jar', JAR], {
      env: { ...process.env, SOCKET_HTTP_HOST: '127.0.0.1', SOCKET_HTTP_PORT: String(this.port),
        SOCKET_DATA_DIR: this.dataDir, SOCKET_LOG_LEVEL: 'WARN', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stdout.on('data', (d) => { this.output += d; });
    this.proc.stderr.on('data', (d) => { this.output += d; });
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    this.exited = exited;
    await until(async () => {
      if (this.proc.exitCode !== null) throw new Error(`the server exited: ${this.output}`);
      try {
        return (await fetch(`${this.http}/health/ready`)).status === 200;
      } catch {
        return false;
      }
    }, 'the server to be ready', 60000);
    this.admin = readFileSync(join(this.dataDir, 'admin-token'), 'utf8').trim();
    return this;
  }

  get http() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Kills the process (SIGKILL: no drain, as a crash). */
  async kill() {
    if (this.proc && this.proc.exitCode === null) {
      this.proc.kill('SIGKILL');
      await this.exited;
    }
  }

  async stop() {
    await this.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** POST /api/<operation>; returns the envelope; fails on anything but code 0 unless `allowFailure`. */
  async api(operation, systemId, body, allowFailure = false) {
    const headers = { authorization: `Bearer ${this.admin}`, 'content-type': 'application/json' };
    if (systemId) headers.systemid = systemId;
    const r = await fetch(`${this.http}/api/${operation}`, { method: 'POST', headers, body: JSON.stringify(body) });
    const envelope = await r.json();
    if (!allowFailure && (r.status !== 200 || envelope.code !== 0)) {
      throw new Error(`${operation} failed: ${r.status} ${JSON.stringify(envelope)}`);
    }
    return envelope;
  }

  async newSystem() {
    const systemId = `js-${Math.random().toString(36).slice(2)}`;
    await this.api('register', null, { systemId });
    return systemId;
  }
}

/**
 * A TCP proxy on 127.0.0.1 in front of `port`: `cut()` drops every connection and refuses new ones until `heal()`;
 * `stall()` before it loses what the server writes from then on (bytes in flight when a network dies).
 */
export class Proxy {
  constructor(port) {
    this.target = port;
    this.sockets = new Set();
    this.blocked = false;
    this.accepted = 0;
    this.stalled = false;
    this.lostFrames = 0; // server frames (each ends with \n) lost while stalled
    this.server = net.createServer((client) => {
      this.accepted++;
      if (this.blocked) {
        client.destroy();
        return;
      }
      const upstream = net.connect(this.target, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream);
      upstream.on('data', (bytes) => {
        if (!this.stalled) client.write(bytes);
        else for (const b of bytes) if (b === 0x0a) this.lostFrames++;
      });
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }

  async listen() {
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = this.server.address().port;
    return this;
  }

  /** A lost network: both ends see their TCP connection reset, with no WebSocket close frame. */
  cut() {
    this.blocked = true;
    for (const s of this.sockets) s.resetAndDestroy ? s.resetAndDestroy() : s.destroy();
  }

  stall() {
    this.stalled = true;
  }

  heal() {
    this.blocked = false;
    this.stalled = false;
  }

  /** Stops it for good; again is a no-op. */
  async close() {
    this.cut();
    if (this.server.listening) await new Promise((resolve) => this.server.close(resolve));
  }
}
