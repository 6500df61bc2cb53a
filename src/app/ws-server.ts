import type { Server as HttpServer } from 'node:http';
import type { ExecutionArgs, GraphQLError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Viewer } from '../domain/auth/viewer.js';
import type { Container } from './container.js';
import { viewerFromHeader } from './context.js';
import type { AppYoga } from './yoga.js';

type Enveloped = ReturnType<AppYoga['getEnveloped']>;
interface RootWithEnvelope {
  execute: Enveloped['execute'];
  subscribe: Enveloped['subscribe'];
}

/** Reads the bearer token from connection_init: `{ authorization: "Bearer ..." }` (any case). */
function authorizationOf(params: Readonly<Record<string, unknown>> | undefined): string | undefined {
  if (!params) return undefined;
  for (const [k, v] of Object.entries(params)) {
    if (k.toLowerCase() === 'authorization' && typeof v === 'string') return v;
  }
  return undefined;
}

/**
 * graphql-ws on the /graphql path of the same server. Every operation runs through yoga's
 * enveloped parse/validate/execute, so auth, limits and error masking apply as over HTTP.
 */
export function attachWebSocketServer(httpServer: HttpServer, yoga: AppYoga, container: Container) {
  const wss = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: 1024 * 1024 });
  const viewers = new WeakMap<object, Viewer | null>();
  const disposable = useServer(
    {
      execute: (args) => (args.rootValue as RootWithEnvelope).execute(args as ExecutionArgs),
      subscribe: (args) => (args.rootValue as RootWithEnvelope).subscribe(args as ExecutionArgs),
      onConnect: async (ctx) => {
        try {
          viewers.set(ctx, await viewerFromHeader(container, authorizationOf(ctx.connectionParams)));
          return true;
        } catch {
          return false;
        }
      },
      onSubscribe: async (ctx, _id, payload) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params: payload,
          wsViewer: viewers.get(ctx) ?? null,
        });
        let document: ReturnType<typeof parse>;
        let errors: readonly GraphQLError[];
        try {
          document = parse(payload.query);
          errors = validate(schema, document);
        } catch (err) {
          // Syntax errors and the limits (which throw from parse and validate) go back as errors,
          // exactly as over HTTP; anything else is a real fault.
          if (err instanceof Error && err.name === 'GraphQLError') return [err as GraphQLError];
          throw err;
        }
        if (errors.length > 0) return [...errors];
        const rootValue: RootWithEnvelope = { execute, subscribe };
        return {
          schema,
          operationName: payload.operationName ?? null,
          document,
          variableValues: payload.variables ?? null,
          contextValue: await contextFactory(),
          rootValue,
        };
      },
    },
    wss,
  );
  return {
    wss,
    /** Completes every subscription and closes every socket with 1001 Going Away. */
    async close(): Promise<void> {
      for (const client of wss.clients) client.close(1001, 'server shutting down');
      await disposable.dispose();
    },
  };
}
