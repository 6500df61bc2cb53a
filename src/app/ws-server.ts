import type { Server as HttpServer, IncomingMessage } from 'node:http';
import { type ExecutionArgs, type ExecutionResult, type FormattedExecutionResult, GraphQLError } from 'graphql';
import { CloseCode, MessageType, stringifyMessage } from 'graphql-ws';
import type { WebSocket } from 'ws';
import { type Viewer, visibilityKey } from '../domain/auth/viewer.js';
import { UnauthenticatedError } from '../domain/shared/errors.js';
import { createDeniedRecorder } from './audit-plugin.js';
import { clientIp } from './client-ip.js';
import type { Container } from './container.js';
import { viewerFromHeader } from './context.js';
import { ExpirySchedule } from './expiry-schedule.js';
import { serveGraphqlWs } from './graphql-ws-transport.js';
import { createFanoutServer, type DetachedMember, type ShareRequest, SubscriptionFanout } from './subscription-fanout.js';
import { resolveDocument, type TrustedDocuments, trustedDocuments } from './trusted-documents.js';
import type { AppYoga } from './yoga.js';

type Enveloped = ReturnType<AppYoga['getEnveloped']>;
interface RootWithEnvelope {
  execute: Enveloped['execute'];
  subscribe: Enveloped['subscribe'];
  /** How this operation may join a shared stream, when it turns out to be a subscription. */
  share: ShareRequest;
}

const isAsyncIterable = (value: unknown): value is AsyncIterable<ExecutionResult> =>
  typeof value === 'object' && value !== null && Symbol.asyncIterator in value;

/**
 * `extensions.http` tells yoga the HTTP status and headers of an error (429 + Retry-After, 400
 * for request errors); a WebSocket has neither, so it is dropped there.
 */
function withoutHttpHint(error: GraphQLError): GraphQLError {
  if (error.extensions?.http === undefined) return error;
  const { http: _http, ...extensions } = error.extensions;
  return new GraphQLError(error.message, {
    nodes: error.nodes ?? null,
    source: error.source ?? null,
    positions: error.positions ?? null,
    path: error.path ?? null,
    originalError: error.originalError ?? null,
    extensions,
  });
}

function withoutHttpHints(result: ExecutionResult): ExecutionResult | undefined {
  if (!result.errors?.some((e) => e.extensions?.http !== undefined)) return undefined;
  return { ...result, errors: result.errors.map(withoutHttpHint) };
}

/** Reads the bearer token from connection_init: `{ authorization: "Bearer ..." }` (any case). */
function authorizationOf(params: Readonly<Record<string, unknown>> | undefined | null): string | undefined {
  if (!params) return undefined;
  for (const [k, v] of Object.entries(params)) {
    if (k.toLowerCase() === 'authorization' && typeof v === 'string') return v;
  }
  return undefined;
}

/**
 * The token a subscribe message carries in `extensions.headers` (what GraphiQL sends from its
 * headers tab); undefined when there is none, so the connection's viewer applies. An empty value
 * counts as none.
 */
function operationAuthorization(extensions: unknown): string | undefined {
  if (typeof extensions !== 'object' || extensions === null) return undefined;
  const headers = (extensions as { headers?: unknown }).headers;
  if (typeof headers !== 'object' || headers === null) return undefined;
  const value = authorizationOf(headers as Record<string, unknown>);
  return value === '' ? undefined : value;
}

/** Close codes a client can act on (4400-4499 belong to graphql-ws itself). */
export const CLOSE = {
  /** The token expired: reconnect with a fresh one; every subscription resends its snapshot. */
  tokenExpired: { code: 4401, reason: 'TOKEN_EXPIRED' },
  /** The client read too slowly; reconnect to resync (snapshot first). */
  slowConsumer: { code: 4499, reason: 'SLOW_CONSUMER_RESYNC' },
  shutdown: { code: 1001, reason: 'server shutting down' },
} as const;

export interface WebSocketLimits {
  /** Open operations one user may have across all their connections. @default 100 */
  maxSubscriptionsPerUser: number;
  /** Bytes queued for a client before it is closed with SLOW_CONSUMER_RESYNC. @default 4 MiB */
  maxBufferedBytes: number;
  /** How long a socket may stay without connection_init. @default 3000 */
  connectionInitWaitTimeoutMs: number;
  /** Every open socket is pinged this often; one that has not answered the previous ping is closed. @default 12000 */
  keepAliveMs: number;
}

type ConnectionViewer = (Viewer & { expiresAt?: Date }) | null;

interface Connection {
  socket: WebSocket;
  viewer: ConnectionViewer;
  /** The caller's address (clientIp of the upgrade request, read once); the request itself is let go. */
  ip: string | null;
  /** When the connection ends: the earliest expiry of any token it was given (kept by the server's ExpirySchedule). */
  expiresAt?: number | undefined;
  expirySlot?: number | undefined;
  /**
   * Open operations, flat: [id, user it counts against (null: anonymous), id, user, ...]. Most
   * connections carry one or two, so an exact-size array (about 50 bytes) rather than a Map (about
   * 200); it is replaced, not grown, so it never holds spare capacity.
   */
  active: readonly (string | null)[];
  /** Shared subscriptions taken over from graphql-ws (ShareRequest.detach), exact-size like `active`. */
  detached: readonly DetachedMember[];
}

const NO_OPERATIONS: readonly (string | null)[] = Object.freeze([]);
const NO_MEMBERS: readonly DetachedMember[] = Object.freeze([]);

/** The client message fields the interception reads (graphql-ws validates the rest). */
function messageOf(message: unknown): { type?: unknown; id?: unknown } {
  return typeof message === 'object' && message !== null ? (message as { type?: unknown; id?: unknown }) : {};
}

/**
 * graphql-ws on the /graphql path of the same server. Every operation runs through yoga's
 * enveloped parse/validate/execute, so auth, limits and error masking apply as over HTTP.
 * A connection ends when its token expires; one user's open operations are capped; a client
 * that cannot keep up is closed with a resync code rather than buffered without bound.
 */
export function attachWebSocketServer(
  httpServer: HttpServer,
  yoga: AppYoga,
  container: Container,
  limits: Partial<WebSocketLimits> = {},
  trusted: TrustedDocuments = trustedDocuments(container.config.trustedDocumentsOnly),
) {
  const maxPerUser = limits.maxSubscriptionsPerUser ?? 100;
  const maxBuffered = limits.maxBufferedBytes ?? 4 * 1024 * 1024;
  // The fan-out's own server: it writes whole frames to these sockets (src/app/subscription-fanout.ts).
  const wss = createFanoutServer(httpServer, { path: '/graphql', maxPayload: 1024 * 1024 });
  /** By socket: graphql-ws's hooks reach it through ctx.extra.socket, the transport's interception directly. */
  const connections = new WeakMap<WebSocket, Connection>();
  const openByUser = new Map<string, number>();
  const gauge = container.metrics.subscriptionsActive;
  // Refused tokens are audited as over HTTP, throttled per address so a reconnect loop is one event a second.
  const denied = createDeniedRecorder(container.audit);
  const closeSlow = (socket: WebSocket) => socket.close(CLOSE.slowConsumer.code, CLOSE.slowConsumer.reason);
  // Subscribers of one stream with the same selection and visibility share one upstream, one
  // execution and one serialization per event; each gets the frame written to its socket.
  const fanout = new SubscriptionFanout({
    maxBufferedBytes: maxBuffered,
    onSlowConsumer: closeSlow,
    onGroupCount: (n) => container.metrics.subscriptionStreamsShared.set(n),
    // A taken-over subscription's stream ended: the message graphql-ws would have sent.
    onDetachedEnd: (member, error) => {
      const conn = connections.get(member.socket);
      if (!conn || !forgetDetached(conn, member.id)) return;
      const socket = member.socket;
      if (socket.readyState === socket.OPEN) {
        const message =
          error === undefined
            ? stringifyMessage({ id: member.id, type: MessageType.Complete })
            : stringifyMessage({
                id: member.id,
                type: MessageType.Error,
                payload: [new GraphQLError(error instanceof Error ? error.message : String(error)).toJSON()],
              });
        socket.send(message);
      }
      release(conn, member.id);
    },
  });
  /** Removes a taken-over subscription from its connection; false if it was not there. */
  const forgetDetached = (conn: Connection, id: string): DetachedMember | null => {
    const member = conn.detached.find((m) => m.id === id);
    if (!member) return null;
    conn.detached = conn.detached.length === 1 ? NO_MEMBERS : conn.detached.filter((m) => m !== member);
    return member;
  };
  const release = (conn: Connection, id: string) => {
    const { active } = conn;
    let at = 0;
    while (at < active.length && active[at] !== id) at += 2;
    if (at >= active.length) return;
    const userId = active[at + 1] ?? null;
    conn.active = active.length === 2 ? NO_OPERATIONS : active.slice(0, at).concat(active.slice(at + 2));
    gauge.dec();
    if (userId === null) return;
    const n = (openByUser.get(userId) ?? 1) - 1;
    if (n <= 0) openByUser.delete(userId);
    else openByUser.set(userId, n);
  };
  const auditRefusedToken = (err: UnauthenticatedError, ip: string | null | undefined) =>
    denied({
      actor: { userId: null, name: null, ip: ip ?? null },
      action: 'auth.token',
      target: null,
      result: 'DENIED',
      details: { code: err.code, reason: err.message, transport: 'websocket' },
    });
  // One timer for every connection's token expiry (a Timeout per socket was ~0.3 KB of each).
  const expiries = new ExpirySchedule<Connection>((conn) =>
    conn.socket.close(CLOSE.tokenExpired.code, CLOSE.tokenExpired.reason),
  );
  /** A connection ends when the first of its tokens expires, whichever message brought it. */
  const closeAtExpiry = (conn: Connection, expiresAt: Date | undefined) => {
    if (!expiresAt) return;
    const at = expiresAt.getTime();
    // An expiry that is no time at all ends the connection as an expired token would.
    if (Number.isNaN(at)) {
      conn.socket.close(CLOSE.tokenExpired.code, CLOSE.tokenExpired.reason);
      return;
    }
    if (conn.expiresAt !== undefined && conn.expiresAt <= at) return;
    expiries.set(conn, at);
  };
  const disposable = serveGraphqlWs(
    {
      execute: (args) => (args.rootValue as RootWithEnvelope).execute(args as ExecutionArgs),
      subscribe: async (args) => {
        const { subscribe, share } = args.rootValue as RootWithEnvelope;
        const result = await subscribe(args as ExecutionArgs);
        return isAsyncIterable(result) ? fanout.share(result, share) : result;
      },
      onConnect: async (ctx) => {
        let viewer: Connection['viewer'];
        try {
          viewer = await viewerFromHeader(container, authorizationOf(ctx.connectionParams));
        } catch (err) {
          if (err instanceof UnauthenticatedError) {
            auditRefusedToken(err, clientIp(ctx.extra.request, container.config.service.trustProxy));
          }
          return false;
        }
        const ip = clientIp(ctx.extra.request, container.config.service.trustProxy);
        const conn: Connection = { socket: ctx.extra.socket, viewer, ip, active: NO_OPERATIONS, detached: NO_MEMBERS };
        // graphql-ws keeps the upgrade request (headers, socket refs) and the connection_init
        // payload (the token) for the connection's life: both are read, so both are let go.
        (ctx.extra as { request?: IncomingMessage }).request = undefined;
        (ctx as { connectionParams?: unknown }).connectionParams = undefined;
        closeAtExpiry(conn, viewer?.expiresAt);
        connections.set(ctx.extra.socket, conn);
        return true;
      },
      onNext: (ctx, _id, _payload, _args, result) => {
        const socket = ctx.extra.socket;
        if (socket.bufferedAmount > maxBuffered) closeSlow(socket);
        // graphql-ws takes the returned object as the payload it serializes.
        return withoutHttpHints(result) as FormattedExecutionResult | undefined;
      },
      onComplete: (ctx, id) => {
        const conn = connections.get(ctx.extra.socket);
        // graphql-ws's loop of a subscription taken over ends without it: the operation goes on.
        if (conn && !conn.detached.some((m) => m.id === id)) release(conn, id);
      },
      onClose: (ctx) => {
        const conn = connections.get(ctx.extra.socket);
        if (!conn) return;
        expiries.delete(conn);
        const detached = conn.detached;
        conn.detached = NO_MEMBERS;
        for (const member of detached) member.leave();
        const { active } = conn;
        for (let at = 0; at < active.length; at += 2) release(conn, active[at] as string);
      },
      onSubscribe: async (ctx, id, payload) => {
        const conn = connections.get(ctx.extra.socket);
        let viewer: ConnectionViewer = conn?.viewer ?? null;
        // A token in the subscribe message (GraphiQL's headers tab) is verified like one at
        // connection_init; a refused one is audited and refuses this operation.
        const operationToken = operationAuthorization(payload.extensions);
        if (operationToken !== undefined) {
          try {
            viewer = await viewerFromHeader(container, operationToken);
          } catch (err) {
            if (!(err instanceof UnauthenticatedError)) throw err;
            auditRefusedToken(err, conn?.ip ?? null);
            return [new GraphQLError(err.message, { extensions: { code: err.code } })];
          }
          if (conn) closeAtExpiry(conn, viewer?.expiresAt);
        }
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          wsIp: conn?.ip ?? null,
          socket: ctx.extra.socket,
          params: payload,
          wsViewer: viewer,
        });
        // A trusted document by its hash (and, with TRUSTED_DOCUMENTS_ONLY, nothing else).
        const resolved = resolveDocument(trusted, payload);
        if (resolved instanceof GraphQLError) return [resolved];
        const { query } = resolved;
        let document: ReturnType<typeof parse>;
        let errors: readonly GraphQLError[];
        try {
          document = parse(query);
          errors = validate(schema, document);
        } catch (err) {
          // Syntax errors and the limits (which throw from parse and validate) go back as errors,
          // exactly as over HTTP; anything else is a real fault.
          if (err instanceof Error && err.name === 'GraphQLError') return [withoutHttpHint(err as GraphQLError)];
          throw err;
        }
        if (errors.length > 0) return errors.map(withoutHttpHint);
        if (viewer) {
          const open = openByUser.get(viewer.userId) ?? 0;
          if (open >= maxPerUser) {
            return [
              new GraphQLError(`at most ${maxPerUser} open subscriptions per user`, {
                extensions: { code: 'SUBSCRIPTION_LIMIT', max: maxPerUser },
              }),
            ];
          }
          if (conn) openByUser.set(viewer.userId, open + 1);
        }
        if (conn) {
          conn.active = conn.active.concat(id, viewer?.userId ?? null);
          gauge.inc();
        }
        const contextValue = await contextFactory();
        const streams: ShareRequest['streams'] = [];
        // The resolver opens its bus streams through this, so the fan-out can find them.
        contextValue.events = fanout.tap(contextValue.events, streams);
        const args = {
          schema,
          operationName: payload.operationName ?? null,
          document,
          variableValues: payload.variables ?? null,
          contextValue,
          rootValue: undefined as RootWithEnvelope | undefined,
        };
        const selectionKey = [
          query,
          payload.operationName ?? '',
          JSON.stringify(payload.variables ?? {}),
          visibilityKey(contextValue.viewer),
        ].join('\u0000');
        const share: ShareRequest = { socket: ctx.extra.socket, id, selectionKey, streams, args };
        if (conn) {
          // Once the subscriber shares its group's stream, the operation leaves graphql-ws (which
          // then ends its loop without a message) and is the connection's: its complete, its end.
          share.detach = (member) => {
            delete (ctx.subscriptions as Record<string, unknown>)[id];
            conn.detached = conn.detached.concat(member);
          };
        }
        args.rootValue = { execute, subscribe, share };
        return args;
      },
    },
    wss,
    {
      connectionInitWaitTimeoutMs: limits.connectionInitWaitTimeoutMs ?? 3000,
      keepAliveMs: limits.keepAliveMs ?? 12_000,
      isProd: container.config.env === 'production',
      // The client's messages for the subscriptions taken over from graphql-ws.
      intercept: (socket, message) => {
        const conn = connections.get(socket);
        if (!conn || conn.detached.length === 0) return false;
        const { type, id } = messageOf(message);
        if (typeof id !== 'string') return false;
        if (type === MessageType.Complete) {
          const member = forgetDetached(conn, id);
          if (!member) return false;
          member.leave();
          release(conn, id);
          return true;
        }
        if (type === MessageType.Subscribe && conn.detached.some((m) => m.id === id)) {
          socket.close(CloseCode.SubscriberAlreadyExists, `Subscriber for ${id} already exists`);
          return true;
        }
        return false;
      },
    },
  );
  return {
    wss,
    /** Completes every subscription and closes every socket with 1001 Going Away. */
    async close(): Promise<void> {
      for (const client of wss.clients) client.close(CLOSE.shutdown.code, CLOSE.shutdown.reason);
      expiries.clear();
      await disposable.dispose();
    },
  };
}
