/**
 * graphql-ws's server (its public `makeServer`) on a `ws` WebSocketServer: what
 * `graphql-ws/use/ws`'s `useServer` does — the same subprotocol check, keep-alive pings, init
 * timeout, close codes and error handling — with less held per idle socket, which is what 10,000
 * open subscriptions cost (bench P2, README's Performance section):
 *
 * - ONE keep-alive timer for the whole server instead of an interval (and a pong timeout) per
 *   socket: every `keepAliveMs` each open socket is pinged, and one that has not answered the
 *   previous ping by then is terminated (useServer: ping every 12 s, terminate 12 s later).
 * - The connection_init wait is a timer per socket only until connection_init arrives; graphql-ws's
 *   own stays referenced for the connection's life.
 * - The `message` listener does not wait for graphql-ws's handler, so the received frame's Buffer
 *   is not kept alive as long as the operation it started (a subscription: its whole life).
 * - Listeners shared by every socket (error, pong) and the socket graphql-ws talks to as an object
 *   with methods, not closures per socket (under tsx every named closure is also given an own
 *   `name`, which turns it into a dictionary-mode object of a few hundred bytes).
 * - graphql-ws keeps a subscribe message for the operation's life: the text it was given (its
 *   handler's argument) and the parsed message. The transport parses each message itself and
 *   hands graphql-ws a constant text whose parse, through graphql-ws's `jsonMessageReviver`
 *   option, yields the message already parsed (`MessageHandOff`), so no text is kept per
 *   operation; the document text in it is interned (`QueryTexts`), as subscribers of one stream
 *   send the same one.
 */
import type { IncomingMessage } from 'node:http';
import {
  CloseCode,
  DEPRECATED_GRAPHQL_WS_PROTOCOL,
  GRAPHQL_TRANSPORT_WS_PROTOCOL,
  handleProtocols,
  makeServer,
  type ServerOptions,
  type WebSocket as WebSocket_,
} from 'graphql-ws';
import type { Extra } from 'graphql-ws/use/ws';
import type { WebSocket, WebSocketServer } from 'ws';

export type { Extra };

export interface TransportOptions {
  /** Ping every open socket this often; one that has not answered the previous ping is terminated. @default 12000 */
  keepAliveMs?: number;
  /** How long a socket may stay without connection_init before 4408. @default 3000 */
  connectionInitWaitTimeoutMs?: number;
  /** In production, internal error messages are not sent to the client. */
  isProd: boolean;
  /**
   * Sees each parsed client message before graphql-ws; true: handled here, graphql-ws does not
   * get it (the operations ws-server took over from graphql-ws: their complete, a reused id).
   */
  intercept?: (socket: WebSocket, message: unknown) => boolean;
}

/** A close reason must fit a control frame (123 bytes); a longer one is replaced. */
function limitCloseReason(reason: string, whenTooLong: string): string {
  return Buffer.byteLength(reason) > 123 ? whenTooLong : reason;
}

/**
 * Equal document texts as one string: a bounded cache (entries and length) of the texts seen
 * last; when it is full it starts over, so a text that is no longer sent is let go.
 */
export class QueryTexts {
  private readonly texts = new Map<string, string>();

  constructor(
    private readonly maxEntries = 512,
    private readonly maxLength = 8 * 1024,
  ) {}

  intern(text: string): string {
    if (text.length > this.maxLength) return text;
    const known = this.texts.get(text);
    if (known !== undefined) return known;
    if (this.texts.size >= this.maxEntries) this.texts.clear();
    this.texts.set(text, text);
    return text;
  }
}

/**
 * Messages parsed by the transport, handed to graphql-ws without their text: `pass` parses a
 * received text (interning a subscribe's document) and returns what graphql-ws's handler is to be
 * called with — a constant text, whose parse through `reviver` yields that message — or the text
 * itself when it is not JSON (graphql-ws then refuses it as before). graphql-ws parses the text
 * synchronously at the start of its handler (test/unit/ws-fanout-contract.test.ts checks), so the
 * message it takes is the one just passed.
 */
export class MessageHandOff {
  /** What graphql-ws is handed instead of a text that parsed: `{}`, revived into the message. */
  static readonly TEXT = '{}';
  private static readonly NONE: unique symbol = Symbol('none');
  private pending: unknown = MessageHandOff.NONE;
  private readonly texts = new QueryTexts();
  readonly reviver = (key: string, value: unknown): unknown => {
    if (key !== '' || this.pending === MessageHandOff.NONE) return value;
    const message = this.pending;
    this.pending = MessageHandOff.NONE;
    return message;
  };

  pass(text: string): string {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return text;
    }
    const payload = (message as { type?: unknown; payload?: { query?: unknown } } | null)?.payload;
    if (typeof payload === 'object' && payload !== null && typeof payload.query === 'string')
      payload.query = this.texts.intern(payload.query);
    this.pending = message;
    return MessageHandOff.TEXT;
  }

  /** The message passed last, not yet taken. */
  peek(): unknown {
    return this.pending === MessageHandOff.NONE ? undefined : this.pending;
  }

  /** After graphql-ws's handler was called: a message it did not take is dropped (false). */
  taken(): boolean {
    if (this.pending === MessageHandOff.NONE) return true;
    this.pending = MessageHandOff.NONE;
    return false;
  }
}

/** The socket as graphql-ws's server sees it: one object per connection, its methods shared. */
class Transport implements WebSocket_ {
  /** graphql-ws's message handler (its `onMessage`); the socket's listener is shared by every socket. */
  handler: ((data: string) => Promise<void>) | null = null;
  /** What graphql-ws's `opened` returned: called once the socket closes. */
  closed: ((code: number, reason: string) => Promise<void>) | null = null;

  constructor(
    private readonly ws: WebSocket,
    private readonly onSocketMessage: (this: WebSocket, data: Buffer) => void,
  ) {}

  get protocol(): string {
    return this.ws.protocol;
  }

  send(data: string): Promise<void> {
    const ws = this.ws;
    return new Promise<void>((resolve, reject) => {
      if (ws.readyState !== ws.OPEN) return resolve();
      ws.send(data, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  onMessage(cb: (data: string) => Promise<void>): void {
    this.handler = cb;
    this.ws.on('message', this.onSocketMessage);
  }
}

/** Serves graphql-transport-ws on `wss`; `dispose` closes every socket (1001) and the server. */
export function serveGraphqlWs(
  options: Omit<ServerOptions<Record<string, unknown> | undefined, Extra>, 'connectionInitWaitTimeout'>,
  wss: WebSocketServer,
  transport: TransportOptions,
): { dispose(): Promise<void> } {
  const isProd = transport.isProd;
  const keepAliveMs = transport.keepAliveMs ?? 12_000;
  const initWaitMs = transport.connectionInitWaitTimeoutMs ?? 3_000;
  const internalError = (err: unknown) =>
    isProd
      ? 'Internal server error'
      : limitCloseReason(err instanceof Error ? err.message : String(err), 'Internal server error');
  /** Sockets waiting for connection_init, with the timer that closes them. */
  const initWaits = new Map<WebSocket, NodeJS.Timeout>();
  /** Sockets pinged by the last keep-alive round that have not answered yet. */
  const awaitingPong = new WeakSet<WebSocket>();

  // With a reviver of the caller's own, graphql-ws parses the texts itself.
  const handOff = options.jsonMessageReviver ? null : new MessageHandOff();
  const server = makeServer<Record<string, unknown> | undefined, Extra>({
    ...options,
    ...(handOff ? { jsonMessageReviver: handOff.reviver } : {}),
    // The wait is ours (above): graphql-ws's timer would stay referenced for the socket's life.
    connectionInitWaitTimeout: 0,
    onConnect: (ctx) => {
      const wait = initWaits.get(ctx.extra.socket);
      if (wait) {
        clearTimeout(wait);
        initWaits.delete(ctx.extra.socket);
      }
      return options.onConnect?.(ctx);
    },
  });
  wss.options.handleProtocols = handleProtocols;

  function onSocketError(this: WebSocket, err: Error): void {
    console.error('Internal error emitted on a WebSocket socket. Please check your implementation.', err);
    this.close(CloseCode.InternalServerError, internalError(err));
  }
  function onPong(this: WebSocket): void {
    awaitingPong.delete(this);
  }
  /** Each socket's transport, for the listeners every socket shares. */
  const transports = new WeakMap<WebSocket, Transport>();
  const intercept = transport.intercept;
  function onSocketMessage(this: WebSocket, data: Buffer): void {
    const cb = transports.get(this)?.handler;
    if (!cb) return;
    const text = String(data);
    const handed = handOff ? handOff.pass(text) : text;
    if (handOff && intercept && handed === MessageHandOff.TEXT && intercept(this, handOff.peek())) {
      handOff.taken();
      return;
    }
    // Not awaited here: a subscribe's handler runs as long as the subscription.
    const handled = cb(handed);
    if (handOff && !handOff.taken()) {
      console.error('graphql-ws did not parse a message when it was handed over; the connection is closed.');
      this.close(CloseCode.InternalServerError, 'Internal server error');
    }
    handled.catch((err: unknown) => {
      console.error('Internal error occurred during message handling. Please check your implementation.', err);
      this.close(CloseCode.InternalServerError, internalError(err));
    });
  }
  // ws emits close once; `on` spares the wrapper `once` makes per socket.
  function onSocketClose(this: WebSocket, code: number, reason: Buffer): void {
    const wait = initWaits.get(this);
    if (wait) {
      clearTimeout(wait);
      initWaits.delete(this);
    }
    if (!isProd && code === CloseCode.SubprotocolNotAcceptable && this.protocol === DEPRECATED_GRAPHQL_WS_PROTOCOL) {
      console.warn(
        `Client provided the unsupported and deprecated subprotocol "${this.protocol}" used by subscriptions-transport-ws. ` +
          'Please see https://www.apollographql.com/docs/apollo-server/data/subscriptions/#switching-from-subscriptions-transport-ws.',
      );
    }
    const closed = transports.get(this)?.closed;
    transports.delete(this);
    if (closed) void closed(code, String(reason));
  }
  const keepAlive =
    keepAliveMs > 0 && Number.isFinite(keepAliveMs)
      ? setInterval(() => {
          for (const socket of wss.clients) {
            if (socket.readyState !== socket.OPEN) continue;
            if (awaitingPong.has(socket)) {
              socket.terminate();
              continue;
            }
            awaitingPong.add(socket);
            socket.ping();
          }
        }, keepAliveMs)
      : null;
  keepAlive?.unref();

  wss.once('error', (err: Error) => {
    console.error('Internal error emitted on the WebSocket server. Please check your implementation.', err);
    let firstErr: unknown = null;
    for (const client of wss.clients) {
      try {
        client.close(CloseCode.InternalServerError, internalError(err));
      } catch (e) {
        firstErr ??= e;
      }
    }
    if (firstErr) throw firstErr;
  });

  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    socket.on('error', onSocketError);
    socket.on('pong', onPong);
    if (initWaitMs > 0 && Number.isFinite(initWaitMs) && socket.protocol === GRAPHQL_TRANSPORT_WS_PROTOCOL) {
      const wait = setTimeout(() => {
        initWaits.delete(socket);
        socket.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
      }, initWaitMs);
      initWaits.set(socket, wait);
    }
    const socketTransport = new Transport(socket, onSocketMessage);
    transports.set(socket, socketTransport);
    socketTransport.closed = server.opened(socketTransport, { socket, request });
    socket.on('close', onSocketClose);
  });

  return {
    async dispose() {
      if (keepAlive) clearInterval(keepAlive);
      for (const wait of initWaits.values()) clearTimeout(wait);
      initWaits.clear();
      for (const client of wss.clients) client.close(1001, 'Going away');
      wss.removeAllListeners();
      await new Promise<void>((resolve, reject) => wss.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
