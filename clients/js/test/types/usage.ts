// Compiled (never run) by types.test.mjs with tsc --noEmit: what an app writes type-checks against index.d.ts, and
// what it must not write does not (each @ts-expect-error fails the check if the line compiles).
import { CLOSE_POLICY, SocketClient, backoffDelay, closePolicy, connectUrl } from '../../index.js';
import type { ClosePolicy, Member, Push, SocketClientOptions } from '../../index.js';

const options: SocketClientOptions = {
  url: 'ws://127.0.0.1:7800/ws',
  systemId: 'demo',
  getToken: async () => 'a connect token',
  resume: true,
  baseMs: 500,
  capMs: 30000,
  slowFactor: 4,
  stableMs: 5000,
};
const client: SocketClient = new SocketClient(options).connect();
new SocketClient({ url: 'ws://127.0.0.1:7800/ws', systemId: 'demo', getToken: () => null, WebSocket: class {} });

client
  .on('welcome', ({ clientId, resumed }) => console.log(clientId.length, resumed === true))
  .on('message', (push: Push) => console.log(push.messageId, push.sendUserId, push.code, push.msg, push.data))
  .on('online', (m: Member) => console.log(m.clientId, m.userId, m.extend))
  .on('offline', ({ clientId }) => console.log(clientId))
  .on('resumed', ({ clientId }) => console.log(clientId))
  .on('reset', ({ clientId, previousClientId }) => console.log(clientId, previousClientId))
  .on('close', ({ code, reason, willRetry }) => console.log(code + 1, reason.length, !willRetry))
  .on('error', ({ code, msg }) => console.log(code + 1, msg.length));
const listener = (push: Push) => console.log(push.data);
client.on('message', listener).off('message', listener);
const id: string | null = client.clientId;
client.close();

const policy: ClosePolicy = closePolicy(1006);
const fromTable: ClosePolicy | undefined = CLOSE_POLICY[1013];
const delay: number = backoffDelay(3, { baseMs: 500, capMs: 30000, factor: 4, random: () => 0.5 });
const url: string = connectUrl('ws://h/ws', { systemId: 's', token: 't', resume: true, resumeToken: 'r', last: '' });
console.log(id, policy, fromTable, delay, url);

// @ts-expect-error an event the client does not have
client.on('messages', () => {});
// @ts-expect-error a listener for another event's value
client.on('welcome', (push: Push) => push.messageId);
// @ts-expect-error systemId is required
new SocketClient({ url: 'ws://h/ws' });
// @ts-expect-error getToken gives a token (a string), not a number
new SocketClient({ url: 'ws://h/ws', systemId: 's', getToken: () => 42 });
// @ts-expect-error clientId is the server's, read-only
client.clientId = 'mine';
// @ts-expect-error a push's data is unknown until the app checks it
const text: string = client && ({} as Push).data;
console.log(text);
