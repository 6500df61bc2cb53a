/**
 * The peers of P1 in their own process: bare node:http answering the API's exact bytes (the
 * ceiling), the same Pothos schema on Apollo Server's standalone server, on graphql-yoga with its
 * defaults and on Mercurius with graphql-jit (Fastify); the floors, yoga + graphql-jit and
 * Mercurius answering the same bytes from a schema of the same shape whose one resolver returns
 * the finished data; and the limit, graphql-jit executing the query in process against the same
 * stores with its compiled serializer, no HTTP. The GraphQL peers get the same container, the
 * same seed and the same context (src/app/context.ts buildContext, token verified per request).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { useGraphQlJit } from '@envelop/graphql-jit';
import fastJson from 'fast-json-stringify';
import Fastify, { type FastifyInstance } from 'fastify';
import { buildSchema, type GraphQLSchema, parse, printSchema } from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';
import { createYoga } from 'graphql-yoga';
import mercurius from 'mercurius';
import { type GraphQLContext, schema } from '../../resolvers/index.js';
import { type Container, createContainer } from '../../src/app/container.js';
import { buildContext, viewerFromHeader } from '../../src/app/context.js';
import { localHostHello } from '../../src/app/hosts-wiring.js';
import { createLogger } from '../../src/app/logger.js';
import { loadConfig } from '../../src/config/config.js';
import { FakeServerRuntime } from '../../test/support/fake-runtime.js';
import { FakeSessionAccounts } from '../../test/support/fake-session-accounts.js';
import { type SeedRequest, seedFleet } from '../../test/support/seed-fleet.js';
import { PACKAGE_VERSION } from '../lib/bench-env.js';
import { serveRpc } from '../lib/rpc-child.js';
import { percentile } from '../lib/stats.js';

export type PeerKind = 'bare' | 'apollo' | 'yoga-default' | 'mercurius-jit' | 'yoga-jit-floor' | 'mercurius-floor' | 'limit';

let container: Container | undefined;
let server: Server | undefined;
let apollo: ApolloServer<GraphQLContext> | undefined;
let fastify: FastifyInstance | undefined;

/** What the in-process limit measured: queries, the CPU they took, per-query wall time. */
export interface LimitResult {
  queries: number;
  cpuSeconds: number;
  p50: number;
  p99: number;
  /** Whether the compiled serializer's output has the API's response size (ids and times differ). */
  sameBytes: boolean;
  /** Where they differ first, when they do. */
  firstDifference: string | null;
}

function differenceAt(ours: string, theirs: string): string {
  let i = 0;
  while (i < ours.length && ours[i] === theirs[i]) i++;
  return `offset ${i}: ${JSON.stringify(ours.slice(i, i + 40))} vs ${JSON.stringify(theirs.slice(i, i + 40))}`;
}

/**
 * A schema of the same shape (printed and rebuilt: default resolvers, no auth) whose one root
 * field returns the finished data: what the server costs when resolvers cost nothing.
 */
function floorSchema(body: string): GraphQLSchema {
  const data = (JSON.parse(body) as { data: Record<string, unknown> }).data;
  const floor = buildSchema(printSchema(schema));
  const field = floor.getQueryType()?.getFields().servers;
  if (!field) throw new Error('P1 floor: no Query.servers');
  field.resolve = () => data.servers;
  return floor;
}

const nullable = (type: string) => ({ type: [type, 'null'] });

/**
 * The P1 response as a JSON schema, for fast-json-stringify (graphql-jit's own compiled
 * serializer refuses custom scalars such as DateTime).
 */
const P1_RESPONSE_SCHEMA = {
  type: 'object',
  properties: {
    data: {
      type: 'object',
      properties: {
        servers: {
          type: 'object',
          properties: {
            edges: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  node: {
                    type: 'object',
                    properties: {
                      id: { type: 'string' },
                      name: { type: 'string' },
                      status: { type: 'string' },
                      port: nullable('integer'),
                      createdAt: { type: 'string' },
                      owner: nullable('string'),
                      sessions: {
                        type: 'array',
                        items: { type: 'object', properties: { id: { type: 'string' }, status: { type: 'string' } } },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
} as const;

/** graphql-jit on the API's schema, resolvers and context, serialized by a compiled serializer. */
async function runLimit(params: { seconds: number; authorization: string; query: string; body: string }): Promise<LimitResult> {
  const c = container;
  if (!c) throw new Error('not started');
  const compiled = compileQuery(schema, parse(params.query));
  if (!isCompiledQuery(compiled)) throw new Error(`P1 limit: ${JSON.stringify(compiled)}`);
  const stringify = fastJson(P1_RESPONSE_SCHEMA);
  const once = async () => {
    const viewer = await viewerFromHeader(c, params.authorization);
    const result = await compiled.query(undefined, buildContext(c, viewer), {});
    if (result.errors) throw new Error(`P1 limit: ${JSON.stringify(result.errors)}`);
    return stringify(result);
  };
  const first = await once();
  const warmUntil = performance.now() + 1000;
  while (performance.now() < warmUntil) await once();
  const latencies: number[] = [];
  const cpu0 = process.cpuUsage();
  const end = performance.now() + params.seconds * 1000;
  for (let t = performance.now(); t < end; ) {
    await once();
    const now = performance.now();
    latencies.push(now - t);
    t = now;
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    queries: latencies.length,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    // Its own seeded fleet has other ids and times: the same shape is the same length.
    sameBytes: first.length === params.body.length,
    firstDifference: first.length === params.body.length ? null : differenceAt(first, params.body),
  };
}

const listen = (s: Server) =>
  new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));

async function makeContainer(env: Record<string, string>): Promise<Container> {
  const config = loadConfig(env, { version: PACKAGE_VERSION });
  const c = await createContainer(config, createLogger({ level: config.log.level }), {
    runtime: new FakeServerRuntime(),
    sessionAccounts: new FakeSessionAccounts(),
  });
  // As buildApp does before the first request: placement needs the in-process host.
  await c.hosts.register(localHostHello(config));
  return c;
}

serveRpc(
  {
    async start(params) {
      const { kind, env, body, seed } = params as {
        kind: PeerKind;
        env: Record<string, string>;
        body?: string;
        seed?: SeedRequest;
      };
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
      if (kind === 'yoga-jit-floor') {
        const yoga = createYoga({ schema: floorSchema(body ?? '{}'), plugins: [useGraphQlJit()], logging: false });
        server = createServer(yoga);
        return { port: await listen(server) };
      }
      if (kind === 'mercurius-floor') {
        fastify = Fastify({ logger: false });
        await fastify.register(mercurius, { schema: floorSchema(body ?? '{}'), jit: 1, path: '/graphql' });
        await fastify.listen({ port: 0, host: '127.0.0.1' });
        return { port: (fastify.server.address() as AddressInfo).port };
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
      if (kind === 'mercurius-jit') {
        fastify = Fastify({ logger: false });
        // jit: 1 compiles a document the first time it is seen again (the validation request).
        await fastify.register(mercurius, {
          schema,
          jit: 1,
          path: '/graphql',
          context: (request) => context(request.headers.authorization),
        });
        await fastify.listen({ port: 0, host: '127.0.0.1' });
        return { port: (fastify.server.address() as AddressInfo).port };
      }
      if (kind === 'limit') return { port: 0 };
      apollo = new ApolloServer<GraphQLContext>({ schema });
      const { url } = await startStandaloneServer(apollo, {
        listen: { port: 0, host: '127.0.0.1' },
        context: ({ req }) => context(req.headers.authorization),
      });
      return { port: Number(new URL(url).port) };
    },
    limit: (params) => runLimit(params as Parameters<typeof runLimit>[0]),
  },
  async () => {
    await apollo?.stop();
    await fastify?.close();
    server?.close();
    server?.closeAllConnections();
    await container?.close();
  },
);
