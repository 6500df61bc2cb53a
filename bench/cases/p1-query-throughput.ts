/**
 * P1: `servers(first: 100)` with five scalars, owner and live sessions, 100 servers seeded in the
 * in-memory store (one live session each), against bare node:http answering the same bytes, this
 * API, the same schema on Apollo Server and on default graphql-yoga. One server process on one
 * core, autocannon on the other.
 */
import { benchToken, serviceEnv } from '../lib/bench-env.js';
import { type BenchChild, startChild } from '../lib/processes.js';
import { fmtInt, mb, round } from '../lib/stats.js';
import type { CaseContext, Row } from '../lib/table.js';
import type { HttpLoadParams, HttpLoadResult } from '../load/http-load.js';

export const P1_QUERY =
  '{ servers(first: 100) { edges { node { id name status port createdAt owner sessions { id status } } } } }';
const SEED = { servers: 100, sessionsPerServer: 1 };
const CONNECTIONS = 10;

/** What the issue asks of this API against each peer. */
const TARGETS = { bare: 0.35, apollo: 3, 'yoga-default': 2 } as const;

type Target = 'api' | 'bare' | 'apollo' | 'yoga-default';

interface Measured {
  load: HttpLoadResult;
  rss: number;
  /** Server CPU seconds during the measured run. */
  cpuSeconds: number;
}

const LABELS: Record<Target, string> = {
  bare: 'bare node:http, same bytes (ceiling)',
  api: 'this API (buildApp, auth, armor, rate limits, metrics)',
  apollo: 'Apollo Server 5 standalone, same schema + context',
  'yoga-default': 'graphql-yoga defaults, same schema + context',
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

async function measure(
  ctx: CaseContext,
  load: BenchChild,
  server: BenchChild,
  port: number,
  token: string,
  profile: string | null,
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
  const cpu0 = server.cpuSeconds();
  const result = await load.call<HttpLoadResult>('run', { ...params, seconds: ctx.seconds });
  const cpuSeconds = server.cpuSeconds() - cpu0;
  if (profile) await server.call('profileStop', { path: profile });
  const rss = server.rss();
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`P1 ${server.name}: ${result.non2xx} non-2xx and ${result.errors} errors under load`);
  }
  return { load: result, rss, cpuSeconds };
}

export async function runP1(ctx: CaseContext): Promise<Row[]> {
  const token = await benchToken('bench-operator', ['operator']);
  const load = await startChild('load/http-load.ts', { name: 'p1-load', cpu: ctx.loadCpu });
  const results = new Map<Target, Measured>();
  let body = '';
  try {
    for (const target of ['api', 'bare', 'apollo', 'yoga-default'] as const) {
      ctx.log(`P1 ${target}`);
      const server =
        target === 'api'
          ? await startChild('targets/api.ts', {
              name: 'p1-api',
              cpu: ctx.serverCpu,
            })
          : await startChild('targets/peers.ts', {
              name: `p1-${target}`,
              cpu: ctx.serverCpu,
            });
      try {
        let port: number;
        if (target === 'api') {
          ({ port } = await server.call<{ port: number }>('start', { env: serviceEnv() }));
          await server.call('seed', SEED);
          body = await validate(port, token);
        } else {
          ({ port } = await server.call<{ port: number }>('start', { kind: target, env: serviceEnv(), body, seed: SEED }));
          const text = await validate(port, token);
          if (target === 'bare' && text !== body) throw new Error('P1: the bare server does not answer the same bytes');
        }
        results.set(target, await measure(ctx, load, server, port, token, ctx.profilePath('p1', target)));
      } finally {
        await server.stop();
      }
    }
  } finally {
    await load.stop();
  }
  const rps = (t: Target) => results.get(t)?.load.requestsPerSecond ?? 0;
  // Requests per second of server CPU: what one whole core would serve, whatever else ran here.
  const perCore = (t: Target) => {
    const m = results.get(t);
    return m && m.cpuSeconds > 0 ? m.load.requests / m.cpuSeconds : 0;
  };
  const bytes = Buffer.byteLength(body);
  return (['bare', 'api', 'apollo', 'yoga-default'] as const).map((t): Row => {
    const m = results.get(t);
    const ratios =
      t === 'api'
        ? `${(['bare', 'apollo', 'yoga-default'] as const).map((p) => `${round(rps('api') / rps(p), 2)}× ${p}`).join(', ')} (per core-second: ${(['bare', 'apollo', 'yoga-default'] as const).map((p) => `${round(perCore('api') / perCore(p), 2)}×`).join(', ')})`
        : t === 'bare'
          ? '1× (ceiling)'
          : `${round(rps(t) / rps('bare'), 3)}× bare; this API ${round(rps('api') / rps(t), 1)}×`;
    const missed = (['bare', 'apollo', 'yoga-default'] as const).filter((p) => rps('api') / rps(p) < TARGETS[p]);
    return {
      case: 'P1 servers(first:100)',
      setup: `${LABELS[t]}; ${(bytes / 1024).toFixed(1)} KB response, ${CONNECTIONS} conns`,
      result: `${fmtInt(rps(t))} req/s (server CPU ${round((100 * (m?.cpuSeconds ?? 0)) / ctx.seconds, 0)}%; ${fmtInt(perCore(t))} per core-second)`,
      p50: `${m?.load.p50 ?? 0} ms`,
      p99: `${m?.load.p99 ?? 0} ms`,
      memory: `RSS ${mb(m?.rss ?? 0)}`,
      ratio: ratios,
      target:
        t !== 'api'
          ? ''
          : missed.length === 0
            ? 'met (≥0.35× bare, ≥3× Apollo, ≥2× yoga)'
            : `MISSED: ${missed.map((p) => `${p} ≥${TARGETS[p]}×`).join(', ')}`,
    };
  });
}
