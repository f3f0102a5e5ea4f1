/** A business push, as the server wrote it. */
export interface Push {
  messageId: string;
  sendUserId: string;
  code: number;
  msg: string;
  /** As the backend sent it: a string stays a string, other JSON values arrive as they were. */
  data: unknown;
}

/** The member a 1001 (online) or 1002 (offline) notice is about. */
export interface Member {
  clientId: string;
  userId: string;
  extend: string;
}

export interface Events {
  /** Every welcome: the first, a resumed one (`resumed: true`) and one after a reset. */
  welcome: { clientId: string; resumed: boolean };
  message: Push;
  online: Member;
  offline: Member;
  /** The session was taken over: same clientId, same groups, every missed frame replayed. */
  resumed: { clientId: string };
  /** The session was lost: a new clientId that the backend must bind to its groups again. */
  reset: { clientId: string; previousClientId: string };
  close: { code: number; reason: string; willRetry: boolean };
  /**
   * A refusal on connect (code -1001: systemId missing or unknown; -1002: unauthorized; the 1008 after it is final),
   * or code 0: getToken failed (retried with backoff) or the WebSocket could not be opened (final).
   */
  error: { code: number; msg: string };
}

export type ClosePolicy = 'retry' | 'retry-later' | 'stop';

export interface SocketClientOptions {
  /** e.g. `wss://example.com/ws` */
  url: string;
  systemId: string;
  /** Called before every connect; its result (a connect token) goes in the `token` parameter. */
  getToken?: () => string | null | undefined | Promise<string | null | undefined>;
  /** Ask for a resumable session (default true). */
  resume?: boolean;
  /** Backoff base in ms (default 500). */
  baseMs?: number;
  /** Backoff cap in ms (default 30000). */
  capMs?: number;
  /** How long a welcomed connection must stay up for the backoff to start again from its base (default 5000 ms). */
  stableMs?: number;
  /** How much longer the backoff is after 1013 (default 4). */
  slowFactor?: number;
  /** The WebSocket class; browsers have one, Node passes the `ws` package's. */
  WebSocket?: unknown;
  /** A random source in [0, 1), for tests. */
  random?: () => number;
}

export declare const CLOSE_POLICY: Readonly<Record<number, ClosePolicy>>;
export declare function closePolicy(code: number): ClosePolicy;
export declare function backoffDelay(
  attempt: number,
  options?: { baseMs?: number; capMs?: number; factor?: number; random?: () => number },
): number;
export declare function connectUrl(
  url: string,
  params: { systemId: string; token?: string | null; resume?: boolean; resumeToken?: string | null; last?: string },
): string;

export declare class SocketClient {
  /** Throws a TypeError without url or systemId or a WebSocket class, and on a malformed url. */
  constructor(options: SocketClientOptions);
  /** The current clientId; null before the first welcome. */
  readonly clientId: string | null;
  on<E extends keyof Events>(event: E, listener: (value: Events[E]) => void): this;
  off<E extends keyof Events>(event: E, listener: (value: Events[E]) => void): this;
  /** Opens the connection and keeps it up (reconnecting as the close codes say) until close(); again while running: nothing. */
  connect(): this;
  /** Ends it for good: close 1000, no reconnect. */
  close(): void;
}
