/**
 * The peers of P1 in their own process: bare node:http answering the API's exact bytes (the
 * ceiling), the same Pothos schema on Apollo Server's standalone server, and the same schema on
 * graphql-yoga with its defaults. The GraphQL peers get the same container, the same seed and
 * the same context (src/app/context.ts buildContext, token verified per request).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { createYoga } from 'graphql-yoga';
import { type GraphQLContext, schema } from '../../resolvers/index.js';
import { type Container, createContainer } from '../../src/app/container.js';
import { buildContext, viewerFromHeader } from '../../src/app/context.js';
import { createLogger } from '../../src/app/logger.js';
import { loadConfig } from '../../src/config/config.js';
import { FakeServerRuntime } from '../../test/support/fake-runtime.js';
import { FakeSessionAccounts } from '../../test/support/fake-session-accounts.js';
import { PACKAGE_VERSION } from '../lib/bench-env.js';
import { serveRpc } from '../lib/rpc-child.js';
import { type SeedRequest, seedFleet } from './seed.js';

type Kind = 'bare' | 'apollo' | 'yoga-default';

let container: Container | undefined;
let server: Server | undefined;
let apollo: ApolloServer<GraphQLContext> | undefined;

const listen = (s: Server) =>
  new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));

async function makeContainer(env: Record<string, string>): Promise<Container> {
  const config = loadConfig(env, { version: PACKAGE_VERSION });
  return createContainer(config, createLogger({ level: config.log.level }), {
    runtime: new FakeServerRuntime(),
    sessionAccounts: new FakeSessionAccounts(),
  });
}

serveRpc(
  {
    async start(params) {
      const { kind, env, body, seed } = params as { kind: Kind; env: Record<string, string>; body?: string; seed?: SeedRequest };
      if (kind === 'bare') {
        const payload = Buffer.from(body ?? '{}');
        server = createServer((req, res) => {
          req.resume();
          req.on('end', () => {
            res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': payload.length });
            res.end(payload);
          });
        });
        return { port: await listen(server) };
      }
      const c = await makeContainer(env);
      container = c;
      if (seed) await seedFleet(c, seed);
      const context = async (authorization: string | null | undefined) =>
        buildContext(c, await viewerFromHeader(c, authorization));
      if (kind === 'yoga-default') {
        const yoga = createYoga<Record<string, unknown>, GraphQLContext>({
          schema,
          context: ({ request }) => context(request.headers.get('authorization')),
        });
        server = createServer(yoga);
        return { port: await listen(server) };
      }
      apollo = new ApolloServer<GraphQLContext>({ schema });
      const { url } = await startStandaloneServer(apollo, {
        listen: { port: 0, host: '127.0.0.1' },
        context: ({ req }) => context(req.headers.authorization),
      });
      return { port: Number(new URL(url).port) };
    },
  },
  async () => {
    await apollo?.stop();
    server?.close();
    server?.closeAllConnections();
    await container?.close();
  },
);
