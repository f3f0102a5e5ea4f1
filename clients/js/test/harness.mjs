// The real server for the end-to-end tests: started from the packaged jar on 127.0.0.1, a system registered, the
// HTTP API at hand, and a TCP proxy in front of it that a test can cut like a lost network.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** The packaged server, relative to this package (clients/js → ../../target); PEKKO_SOCKET_JAR names another build. */
export const JAR = process.env.PEKKO_SOCKET_JAR || join(here, '..', '..', '..', 'target', 'pekko-socket.jar');

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
    if (!existsSync(JAR)) {
      throw new Error(`${JAR} is missing: build the server first, at the repository root: mvn -B -q package -DskipTests`);
    }
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
    try {
      await until(async () => {
        if (this.proc.exitCode !== null) throw new Error(`the server exited: ${this.output}`);
        try {
          return (await fetch(`${this.http}/health/ready`)).status === 200;
        } catch {
          return false;
        }
      }, 'the server to be ready', 60000);
      this.admin = readFileSync(join(this.dataDir, 'admin-token'), 'utf8').trim();
    } catch (e) {
      await this.stop(); // a server that did not start as expected is not left running (nor is its data dir kept)
      throw e;
    }
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
    this.acceptedAt = []; // when each connection came in (Date.now()), refused ones included
    this.stalled = false;
    this.lostFrames = 0; // server frames (each ends with \n) lost while stalled
    this.server = net.createServer((client) => {
      this.accepted++;
      this.acceptedAt.push(Date.now());
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

export const EVENTS = ['welcome', 'message', 'online', 'offline', 'resumed', 'reset', 'close', 'error'];

/**
 * A SocketClient (in Node, with `WebSocket`) through a proxy of its own in front of `server`, recording every event;
 * resolves once welcomed. Client and proxy are pushed on `opened`, for the test's afterEach to close.
 */
export async function connectedClient(SocketClient, WebSocket, server, opened, systemId, options = {}) {
  const proxy = await new Proxy(server.port).listen();
  opened.push(proxy);
  const events = [];
  const c = new SocketClient({ url: `ws://127.0.0.1:${proxy.port}/ws`, systemId, WebSocket, baseMs: 50, capMs: 400,
    ...options });
  opened.push(c);
  for (const e of EVENTS) c.on(e, (v) => events.push([e, v]));
  c.connect();
  await until(() => c.clientId, 'the welcome');
  return { c, proxy, events, of: (name) => events.filter(([e]) => e === name).map(([, v]) => v) };
}

/**
 * Fails, with a message that says why, unless the server answers `resume=1` with a resumeToken (docs/PROTOCOL.md
 * "Resumption"): a server without resumption welcomes such a client as any other.
 */
export async function assertServerResumes(WebSocket, server, systemId) {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?systemId=${encodeURIComponent(systemId)}&resume=1`);
  try {
    const welcome = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no welcome within 10 s')), 10000);
      ws.onmessage = (e) => { clearTimeout(timer); resolve(JSON.parse(e.data)); };
      ws.onerror = (e) => { clearTimeout(timer); reject(new Error(`the connect failed: ${e.message}`)); };
    });
    if (typeof welcome.data?.resumeToken !== 'string') {
      throw new Error(`the server does not support resumption: its welcome to resume=1 has no resumeToken: ${
        JSON.stringify(welcome)}`);
    }
  } finally {
    ws.close();
  }
}

/** Awaits the client's `resumed`; a `reset` instead fails at once (the server did not take the session over). */
export async function resumedOf(client, ms = 15000) {
  await until(() => {
    if (client.of('reset').length) {
      throw new Error(`the server did not resume the session: a new clientId ${JSON.stringify(client.of('welcome'))}`);
    }
    return client.of('resumed').length === 1;
  }, 'the resume', ms);
}
