/**
 * P1: `servers(first: 100)` with five scalars, owner and live sessions, 100 servers seeded in the
 * in-memory store (one live session each), against bare node:http answering the same bytes (the
 * ceiling), this API (uncached: the production row), this API with the response cache on (hits:
 * every request after the first is answered from it; the hit ratio is printed), the same schema and context on Apollo Server, default graphql-yoga and
 * Mercurius with graphql-jit (the fastest peer commonly used), the floors (yoga + graphql-jit and
 * Mercurius answering the same bytes with trivial resolvers) and the limit (graphql-jit in process
 * on the same stores with its compiled serializer, no HTTP). One server process on one core,
 * autocannon on the other. Ratios are per core-second of the server process (requests per second
 * of its CPU time), which other work on the machine disturbs least.
 */
import { benchToken, serviceEnv } from '../lib/bench-env.js';
import { type BenchChild, startChild } from '../lib/processes.js';
import { fmtInt, mb, round } from '../lib/stats.js';
import type { CaseContext, Row } from '../lib/table.js';
import type { HttpLoadParams, HttpLoadResult } from '../load/http-load.js';
import type { LimitResult, PeerKind } from '../targets/peers.js';

export const P1_QUERY =
  '{ servers(first: 100) { edges { node { id name status port createdAt owner sessions { id status } } } } }';
const SEED = { servers: 100, sessionsPerServer: 1 };
const CONNECTIONS = 10;

/** What the issues ask of this API against each peer (per core-second). */
const TARGETS = { bare: 0.35, apollo: 3, 'yoga-default': 2, fastestPeer: 1.5 } as const;

type Target = 'api' | 'api-cached' | Exclude<PeerKind, 'limit'>;
/** The GraphQL servers that run our schema, resolvers and context: the peers to beat. */
const PEERS = ['apollo', 'yoga-default', 'mercurius-jit'] as const;
const ORDER: Target[] = [
  'api',
  'api-cached',
  'bare',
  'apollo',
  'yoga-default',
  'mercurius-jit',
  'yoga-jit-floor',
  'mercurius-floor',
];

interface Measured {
  load: HttpLoadResult;
  /** The response cache's hits and misses during the measured run (api-cached). */
  cache?: { hit: number; miss: number; bypass: number };
  rss: number;
  /** Server CPU seconds during the measured run. */
  cpuSeconds: number;
}

const LABELS: Record<Target, string> = {
  bare: 'bare node:http, same bytes (ceiling)',
  api: 'this API (buildApp, auth, armor, rate limits, metrics, audit)',
  'api-cached':
    'this API with the response cache (hits): RESPONSE_CACHE=on, generations and rate limits in Redis (one HMGET + one rate-limit call per request), every plugin as above',
  apollo: 'Apollo Server 5 standalone, same schema + context',
  'yoga-default': 'graphql-yoga defaults, same schema + context',
  'mercurius-jit': 'Mercurius 16 + graphql-jit on Fastify 5, same schema + context (peer)',
  'yoga-jit-floor': 'floor: graphql-yoga + graphql-jit, same bytes, trivial resolvers, no auth',
  'mercurius-floor': 'floor: Mercurius + graphql-jit, same bytes, trivial resolvers, no auth',
};

async function validate(port: number, token: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: P1_QUERY }),
  });
  const text = await res.text();
  const body = JSON.parse(text) as { data?: { servers?: { edges?: { node: { sessions: unknown[] } }[] } }; errors?: unknown };
  const edges = body.data?.servers?.edges ?? [];
  if (res.status !== 200 || body.errors || edges.length !== 100 || edges.some((e) => e.node.sessions.length !== 1)) {
    throw new Error(`P1: unexpected response ${res.status}: ${text.slice(0, 300)}`);
  }
  return text;
}

/** rdp_response_cache_total by result, from the API's /metrics. */
async function cacheCounts(port: number): Promise<{ hit: number; miss: number; bypass: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const read = (result: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`rdp_response_cache_total{result="${result}"} `));
    return line ? Number(line.split(' ')[1]) : 0;
  };
  return { hit: read('hit'), miss: read('miss'), bypass: read('bypass') };
}

async function measure(
  ctx: CaseContext,
  load: BenchChild,
  server: BenchChild,
  port: number,
  token: string,
  profile: string | null,
  cached = false,
): Promise<Measured> {
  const params: HttpLoadParams = {
    url: `http://127.0.0.1:${port}/graphql`,
    body: JSON.stringify({ query: P1_QUERY }),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    seconds: Math.max(1, Math.min(3, Math.round(ctx.seconds / 4))),
    connections: CONNECTIONS,
  };
  await load.call<HttpLoadResult>('run', params);
  if (profile) await server.call('profileStart');
  const cache0 = cached ? await cacheCounts(port) : undefined;
  const cpu0 = server.cpuSeconds();
  const result = await load.call<HttpLoadResult>('run', { ...params, seconds: ctx.seconds });
  const cpuSeconds = server.cpuSeconds() - cpu0;
  const cache1 = cache0 ? await cacheCounts(port) : undefined;
  if (profile) await server.call('profileStop', { path: profile });
  const rss = server.rss();
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`P1 ${server.name}: ${result.non2xx} non-2xx and ${result.errors} errors under load`);
  }
  return {
    load: result,
    rss,
    cpuSeconds,
    ...(cache0 && cache1
      ? { cache: { hit: cache1.hit - cache0.hit, miss: cache1.miss - cache0.miss, bypass: cache1.bypass - cache0.bypass } }
      : {}),
  };
}

export async function runP1(ctx: CaseContext): Promise<Row[]> {
  const token = await benchToken('bench-operator', ['operator']);
  const load = await startChild('load/http-load.ts', { name: 'p1-load', cpu: ctx.loadCpu });
  const results = new Map<Target, Measured>();
  const differentBytes: Target[] = [];
  let body = '';
  let limit: (LimitResult & { rss: number }) | undefined;
  try {
    for (const target of ORDER) {
      ctx.log(`P1 ${target}`);
      const server =
        target === 'api' || target === 'api-cached'
          ? await startChild('targets/api.ts', { name: `p1-${target}`, cpu: ctx.serverCpu })
          : await startChild('targets/peers.ts', { name: `p1-${target}`, cpu: ctx.serverCpu });
      try {
        let port: number;
        if (target === 'api') {
          ({ port } = await server.call<{ port: number }>('start', { env: serviceEnv() }));
          await server.call('seed', SEED);
          body = await validate(port, token);
        } else if (target === 'api-cached') {
          const env = serviceEnv({ REDIS_URL: ctx.services.redisUrl, RESPONSE_CACHE: 'on' });
          ({ port } = await server.call<{ port: number }>('start', { env }));
          await server.call('seed', SEED);
          // Its own fleet (other ids and times): the same shape is the same length.
          if ((await validate(port, token)).length !== body.length) differentBytes.push(target);
        } else {
          ({ port } = await server.call<{ port: number }>('start', { kind: target, env: serviceEnv(), body, seed: SEED }));
          const text = await validate(port, token);
          if (target === 'bare' && text !== body) throw new Error('P1: the bare server does not answer the same bytes');
          // Peers seed their own fleet (other ids and times): the same shape is the same length.
          if (text.length !== body.length) {
            differentBytes.push(target);
            let i = 0;
            while (i < text.length && text[i] === body[i]) i++;
            ctx.log(
              `P1 ${target} answers other bytes from offset ${i}: ${JSON.stringify(text.slice(i, i + 40))} vs ${JSON.stringify(body.slice(i, i + 40))}`,
            );
          }
        }
        results.set(
          target,
          await measure(ctx, load, server, port, token, ctx.profilePath('p1', target), target === 'api-cached'),
        );
      } finally {
        await server.stop();
      }
    }
    ctx.log('P1 limit (in process)');
    const server = await startChild('targets/peers.ts', { name: 'p1-limit', cpu: ctx.serverCpu });
    try {
      await server.call('start', { kind: 'limit', env: serviceEnv(), seed: SEED });
      const profile = ctx.profilePath('p1', 'limit');
      if (profile) await server.call('profileStart');
      const r = await server.call<LimitResult>('limit', {
        seconds: ctx.seconds,
        authorization: `Bearer ${token}`,
        query: P1_QUERY,
        body,
      });
      if (profile) await server.call('profileStop', { path: profile });
      limit = { ...r, rss: server.rss() };
      if (r.firstDifference) ctx.log(`P1 limit serializes other bytes at ${r.firstDifference}`);
    } finally {
      await server.stop();
    }
  } finally {
    await load.stop();
  }
  // Requests per second of server CPU: what one whole core would serve, whatever else ran here.
  const perCore = (t: Target) => {
    const m = results.get(t);
    return m && m.cpuSeconds > 0 ? m.load.requests / m.cpuSeconds : 0;
  };
  const limitPerCore = limit && limit.cpuSeconds > 0 ? limit.queries / limit.cpuSeconds : 0;
  const fastest = [...PEERS].sort((a, b) => perCore(b) - perCore(a))[0] ?? 'mercurius-jit';
  const vs = (t: Target) =>
    `${round(perCore(t) / perCore(fastest), 2)}× fastest peer (${fastest}), ${round(perCore(t) / limitPerCore, 2)}× limit, ${round(perCore(t) / perCore('bare'), 3)}× bare`;
  const bytes = Buffer.byteLength(body);
  const rows = ORDER.map((t): Row => {
    const m = results.get(t);
    const cache = m?.cache;
    const lookups = cache ? cache.hit + cache.miss + cache.bypass : 0;
    const ratio =
      t === 'api' || t === 'api-cached'
        ? `${vs(t)}; ${(['apollo', 'yoga-default', 'mercurius-jit', 'yoga-jit-floor'] as const).map((p) => `${round(perCore(t) / perCore(p), 2)}× ${p}`).join(', ')}${
            t === 'api-cached'
              ? `; ${round(perCore(t) / perCore('api'), 2)}× the uncached API; hit ratio ${lookups > 0 ? round((100 * (cache?.hit ?? 0)) / lookups, 2) : 0}% (${fmtInt(cache?.hit ?? 0)} hits, ${fmtInt(cache?.miss ?? 0)} misses, ${fmtInt(cache?.bypass ?? 0)} bypassed)`
              : ''
          }`
        : t === 'bare'
          ? '1× (ceiling)'
          : `${vs(t)}; this API ${round(perCore('api') / perCore(t), 2)}×`;
    const missed = [
      ...(['bare', 'apollo', 'yoga-default'] as const)
        .filter((p) => perCore(t) / perCore(p) < TARGETS[p])
        .map((p) => `${p} ≥${TARGETS[p]}×`),
      ...(perCore(t) / perCore(fastest) < TARGETS.fastestPeer ? [`fastest peer (${fastest}) ≥${TARGETS.fastestPeer}×`] : []),
    ];
    return {
      case: 'P1 servers(first:100)',
      setup: `${LABELS[t]}; ${(bytes / 1024).toFixed(1)} KB response${differentBytes.includes(t) ? ' (NOT the same size)' : ''}, ${CONNECTIONS} conns`,
      result: `${fmtInt(m?.load.requestsPerSecond ?? 0)} req/s (server CPU ${round((100 * (m?.cpuSeconds ?? 0)) / ctx.seconds, 0)}%; ${fmtInt(perCore(t))} per core-second)`,
      p50: `${m?.load.p50 ?? 0} ms`,
      p99: `${m?.load.p99 ?? 0} ms`,
      memory: `RSS ${mb(m?.rss ?? 0)}`,
      ratio,
      target:
        t !== 'api' && t !== 'api-cached'
          ? ''
          : missed.length === 0
            ? 'met (≥1.5× fastest peer, ≥0.35× bare, ≥3× Apollo, ≥2× yoga)'
            : `MISSED: ${missed.join(', ')}`,
    };
  });
  rows.push({
    case: 'P1 servers(first:100)',
    setup: `limit: graphql-jit in process, same schema, resolvers, stores and context (token verified), compiled serializer${limit?.sameBytes ? ' (same size)' : ' (NOT the same size)'}, no HTTP, one at a time`,
    result: `${fmtInt(limitPerCore)} queries per core-second (${fmtInt(limit && limit.queries > 0 ? (limit.cpuSeconds * 1e6) / limit.queries : 0)} µs CPU each)`,
    p50: `${round(limit?.p50 ?? 0, 2)} ms`,
    p99: `${round(limit?.p99 ?? 0, 2)} ms`,
    memory: `RSS ${mb(limit?.rss ?? 0)}`,
    ratio: `1× (limit); ${round(limitPerCore / perCore(fastest), 2)}× fastest peer, ${round(limitPerCore / perCore('bare'), 3)}× bare`,
    target: '',
  });
  return rows;
}
