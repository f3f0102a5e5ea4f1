// pekko-socket-client: the JavaScript client of pekko-socket (docs/PROTOCOL.md of the server).
// No runtime dependencies: browsers use their WebSocket; Node passes one in (the `ws` package's class).

/** What the client does after a close code (docs/PROTOCOL.md "Close codes, and what a client should do"). */
export const CLOSE_POLICY = Object.freeze({
  1000: 'stop', // close_client, a clean close, or the session resumed elsewhere: the server or the app asked for it
  1001: 'retry', // heartbeat timeout: reconnect and resume
  1002: 'stop', // a protocol error of this client: reconnecting would repeat it
  1003: 'stop',
  1005: 'retry', // a close frame without a code: treated as a network loss
  1006: 'retry', // no close frame: network loss or a crash
  1007: 'stop',
  1008: 'stop', // systemId unknown, token refused, inbound rate: needs a change first
  1009: 'stop',
  1011: 'retry', // the server lost the state behind the connection
  1012: 'retry', // the server is restarting
  1013: 'retry-later', // slow consumer, too many connections: a longer backoff
  1014: 'retry', // a gateway in between failed
});

/**
 * The policy for a close code: 'retry', 'retry-later' or 'stop'. Codes the table does not name (application codes
 * 3000-4999, 1004, 1010, 1015) stop: a server of this protocol never sends them, so retrying could only loop.
 */
export function closePolicy(code) {
  return CLOSE_POLICY[code] ?? 'stop';
}

/**
 * Exponential backoff with full jitter: a random delay in [0, min(cap, base * 2^attempt)) ms; `factor` (the longer
 * backoff after 1013) scales the base.
 */
export function backoffDelay(attempt, { baseMs = 500, capMs = 30000, factor = 1, random = Math.random } = {}) {
  const ceiling = Math.min(capMs, baseMs * factor * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/**
 * The URL of one connect: systemId, the connect token if any, and resumption: `resume=1` for a first connect,
 * `resume=<token>&last=<messageId>` to take a session over.
 */
export function connectUrl(url, { systemId, token, resume, resumeToken, last }) {
  const u = new URL(url);
  u.searchParams.set('systemId', systemId);
  if (token) u.searchParams.set('token', token);
  if (resume) {
    if (resumeToken) {
      u.searchParams.set('resume', resumeToken);
      u.searchParams.set('last', last ?? '');
    } else {
      u.searchParams.set('resume', '1');
    }
  }
  return u.toString();
}

const EVENTS = ['welcome', 'message', 'online', 'offline', 'resumed', 'reset', 'close', 'error'];
const SEEN_IDS = 1024;

/**
 * One logical connection to pekko-socket that survives network losses: it reconnects with backoff as the close
 * codes say, resumes its session (same clientId, groups, and every frame it missed) when it can, and tells the app
 * when it could not (`reset`: a new clientId that the backend must bind again).
 */
export class SocketClient {
  /**
   * @param {object} options
   * @param {string} options.url e.g. `wss://example.com/ws`
   * @param {string} options.systemId
   * @param {() => (string|null|undefined|Promise<string|null|undefined>)} [options.getToken] called before every connect
   * @param {boolean} [options.resume=true] ask for a resumable session
   * @param {number} [options.baseMs=500] backoff base
   * @param {number} [options.capMs=30000] backoff cap
   * @param {number} [options.slowFactor=4] how much longer the backoff is after 1013
   * @param {Function} [options.WebSocket] the WebSocket class (Node: `import WebSocket from 'ws'`)
   * @param {() => number} [options.random] for tests
   */
  constructor(options) {
    if (!options || !options.url || !options.systemId) throw new TypeError('url and systemId are required');
    new URL(options.url); // a malformed url throws here, not on some later reconnect
    this.options = { resume: true, baseMs: 500, capMs: 30000, slowFactor: 4, stableMs: 5000, random: Math.random,
      ...options };
    this.WebSocket = options.WebSocket ?? globalThis.WebSocket;
    if (!this.WebSocket) throw new TypeError('no WebSocket class: pass options.WebSocket');
    this.listeners = new Map(EVENTS.map((e) => [e, new Set()]));
    this.clientId = null;
    this.resumeToken = null;
    this.lastMessageId = '';
    this.seen = new Set();
    this.seenOrder = [];
    this.attempt = 0;
    this.welcomedAt = null;
    this.socket = null;
    this.timer = null;
    this.stopped = true;
    this.running = 0; // which connect() this is: an open() of an earlier one (awaiting getToken) gives up
    this.refused = false;
    this.welcomed = false; // whether the current socket had its welcome
    this.waitingForNetwork = false;
    this.onWindowOnline = () => this.reconnectNow();
    this.onWindowOffline = () => this.waitForNetwork();
    this.onVisible = () => {
      if (globalThis.document?.visibilityState === 'visible') this.reconnectNow();
    };
  }

  /** Listens to `event`: welcome, message, online, offline, resumed, reset, close, error. */
  on(event, fn) {
    const set = this.listeners.get(event);
    if (!set) throw new TypeError(`unknown event ${event}`);
    set.add(fn);
    return this;
  }

  off(event, fn) {
    this.listeners.get(event)?.delete(fn);
    return this;
  }

  /** Opens the connection (and keeps it up until `close()` or a close code that says stop). */
  connect() {
    if (!this.stopped) return this; // running already
    this.stopped = false;
    this.running++;
    if (typeof window !== 'undefined' && window.addEventListener) {
      window.addEventListener('online', this.onWindowOnline);
      window.addEventListener('offline', this.onWindowOffline);
      globalThis.document?.addEventListener?.('visibilitychange', this.onVisible);
    }
    this.open();
    return this;
  }

  /** Ends it for good: a clean close (1000), no reconnect, and the session ends on the server at once. */
  close() {
    this.stopped = true;
    this.waitingForNetwork = false;
    clearTimeout(this.timer);
    this.timer = null;
    this.unlisten();
    if (this.socket) this.socket.close(1000);
  }

  unlisten() {
    if (typeof window !== 'undefined' && window.removeEventListener) {
      window.removeEventListener('online', this.onWindowOnline);
      window.removeEventListener('offline', this.onWindowOffline);
      globalThis.document?.removeEventListener?.('visibilitychange', this.onVisible);
    }
  }

  emit(event, value) {
    for (const fn of this.listeners.get(event)) {
      try {
        fn(value);
      } catch (e) {
        // one listener's failure must not stop the others, nor the connection
        setTimeout(() => { throw e; });
      }
    }
  }

  async open() {
    this.timer = null;
    this.refused = false;
    const run = this.running;
    let token;
    try {
      token = this.options.getToken ? await this.options.getToken() : undefined;
    } catch (e) {
      if (this.stopped || run !== this.running) return;
      this.emit('error', { code: 0, msg: `getToken failed: ${e?.message ?? e}` });
      this.scheduleReconnect('retry');
      return;
    }
    if (this.stopped || run !== this.running || this.socket) return; // stopped, superseded, or connected already
    const url = connectUrl(this.options.url, {
      systemId: this.options.systemId,
      token,
      resume: this.options.resume,
      resumeToken: this.resumeToken,
      last: this.lastMessageId,
    });
    let socket;
    try {
      socket = new this.WebSocket(url);
    } catch (e) { // e.g. a browser refusing ws: from an https page: retrying cannot help
      this.stopped = true;
      this.unlisten();
      this.emit('error', { code: 0, msg: `cannot open a WebSocket: ${e?.message ?? e}` });
      return;
    }
    this.socket = socket;
    this.welcomed = false;
    socket.onmessage = (ev) => {
      if (this.socket === socket) this.onFrame(ev.data);
    };
    socket.onclose = (ev) => {
      if (this.socket === socket) this.onClose(ev.code || 1006, ev.reason || '');
    };
    socket.onerror = () => {}; // a close follows every error
  }

  onFrame(data) {
    const text = typeof data === 'string' ? data : new TextDecoder().decode(data);
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return; // not a frame of this protocol
    }
    if (frame === null || typeof frame !== 'object' || Array.isArray(frame)) return; // nor is this
    if (!('messageId' in frame)) {
      // the welcome is a connection's first frame: a second one on the same connection is not this connection's
      // welcome (and would bring a stale resumeToken), so it is ignored
      if (frame.code === 0 && !this.welcomed && frame.data && typeof frame.data.clientId === 'string') {
        this.welcomed = true;
        this.onWelcome(frame.data);
      }
      return;
    }
    const id = typeof frame.messageId === 'string' ? frame.messageId : '';
    if (id === '' && (frame.code === -1001 || frame.code === -1002)) {
      // a refusal on connect (systemId missing or unknown, unauthorized): the 1008 that follows is final
      this.refused = true;
      this.emit('error', { code: frame.code, msg: frame.msg });
      return;
    }
    if (id !== '') { // a frame without an id cannot be told from another: never dropped, never a `last`
      if (this.seen.has(id)) return; // a frame processed already
      this.remember(id);
    }
    if (frame.code === 1001 || frame.code === 1002) {
      this.emit(frame.code === 1001 ? 'online' : 'offline', parseMember(frame.data));
    } else {
      this.emit('message', frame);
    }
    if (id !== '') this.lastMessageId = id;
  }

  onWelcome(data) {
    const previous = this.clientId;
    this.clientId = data.clientId;
    if (typeof data.resumeToken === 'string') this.resumeToken = data.resumeToken;
    this.welcomedAt = Date.now();
    const resumed = data.resumed === true && data.clientId === previous; // the session this client had, taken over
    if (!resumed) {
      this.lastMessageId = '';
      this.seen.clear();
      this.seenOrder = [];
    }
    this.emit('welcome', { clientId: data.clientId, resumed });
    if (resumed) this.emit('resumed', { clientId: data.clientId });
    else if (previous !== null) { // a new session after one that is lost: its groups are gone too
      this.emit('reset', { clientId: data.clientId, previousClientId: previous });
    }
  }

  remember(id) {
    this.seen.add(id);
    this.seenOrder.push(id);
    if (this.seenOrder.length > SEEN_IDS) this.seen.delete(this.seenOrder.shift());
  }

  onClose(code, reason) {
    this.socket = null;
    // the backoff starts again only after a connection that stayed up: a server that welcomes and then closes at
    // once (1011, 1013) keeps being retried ever more slowly, not at the base delay
    if (this.welcomedAt !== null && Date.now() - this.welcomedAt >= this.options.stableMs) this.attempt = 0;
    this.welcomedAt = null;
    const policy = this.stopped || this.refused ? 'stop' : closePolicy(code);
    if (policy === 'stop') { // for good: connect() may start it again (after a new token, a fixed configuration)
      this.stopped = true;
      this.unlisten();
    }
    this.emit('close', { code, reason, willRetry: policy !== 'stop' });
    if (policy !== 'stop') this.scheduleReconnect(policy);
  }

  scheduleReconnect(policy) {
    if (this.stopped) return;
    const offline = typeof window !== 'undefined' && typeof navigator !== 'undefined' && navigator.onLine === false;
    if (offline) { // no point burning retries: the window's `online` event reconnects at once
      this.waitingForNetwork = true;
      return;
    }
    const delay = backoffDelay(this.attempt++, {
      baseMs: this.options.baseMs,
      capMs: this.options.capMs,
      factor: policy === 'retry-later' ? this.options.slowFactor : 1,
      random: this.options.random,
    });
    this.timer = setTimeout(() => this.open(), delay);
  }

  /** The browser went offline: a pending reconnect waits for the `online` event instead of failing on its delay. */
  waitForNetwork() {
    if (this.stopped || this.timer === null) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.waitingForNetwork = true;
  }

  /** The network is back, or the page visible again: a pending reconnect happens now instead of after its delay. */
  reconnectNow() {
    if (this.stopped || this.socket) return;
    if (this.timer === null && !this.waitingForNetwork) return;
    clearTimeout(this.timer);
    this.waitingForNetwork = false;
    this.open();
  }
}

/** The member of a 1001/1002 notice: its `data` is a JSON string {clientId, extend, userId}. */
function parseMember(data) {
  try {
    const m = typeof data === 'string' ? JSON.parse(data) : data;
    return { clientId: m.clientId, userId: m.userId, extend: m.extend };
  } catch {
    return { clientId: undefined, userId: undefined, extend: undefined };
  }
}
