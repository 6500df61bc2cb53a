/**
 * P1's query in process, one at a time, split into its layers: µs of CPU per query and the share
 * of it in GC for each path, optionally with a CPU profile of each path summarized by module.
 *
 *   npx tsx bench/profile-p1.ts [--seconds=5] [--rounds=10] [--paths=api,jit,services,plain,stringify]
 *   npx tsx bench/profile-p1.ts --profile=dir [--heap] [--seconds=5] [--paths=...]
 *
 * Measuring runs the paths in turns (`rounds`, each path `seconds / rounds` a turn) and prints
 * the median turn of each; profiling runs each path `seconds` on its own and writes a .cpuprofile
 * (or, with --heap, a sampling heap profile) and a text summary per path into dir.
 *
 * Paths (each on the same seeded fleet, 100 running servers with one live session each):
 *   api        the whole API through `yoga.fetch` (buildApp: every production plugin, token verified)
 *   yoga-jit   graphql-yoga with graphql-jit and no other plugin, same schema and context, through `fetch`
 *   jit        graphql-jit on our schema, resolvers and context (the limit row, without its serializer)
 *   services   the service calls for the same data: servers.list + sessions.byServers
 *   plain      graphql-jit on the same shape with default resolvers over the finished data
 *   stringify  JSON.stringify of the response (as data: what the API's result object serializes to)
 * With MONGODB_URI set, the stores are FerretDB/MongoDB (a database of its own, dropped at the end).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { useGraphQlJit } from '@envelop/graphql-jit';
import { buildSchema, parse, printSchema } from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';
import { createYoga } from 'graphql-yoga';
import { type GraphQLContext, schema } from '../resolvers/index.js';
import { buildApp } from '../src/app/build-app.js';
import { buildContext, viewerFromHeader } from '../src/app/context.js';
import { createLogger } from '../src/app/logger.js';
import { loadConfig } from '../src/config/config.js';
import { LIVE_STATUSES } from '../src/domain/sessions/session.js';
import { FakeServerRuntime } from '../test/support/fake-runtime.js';
import { FakeSessionAccounts } from '../test/support/fake-session-accounts.js';
import { seedFleet } from '../test/support/seed-fleet.js';
import { P1_QUERY } from './cases/p1-query-throughput.js';
import { benchMongoUri, benchToken, PACKAGE_VERSION, serviceEnv } from './lib/bench-env.js';
import { summarize, summarizeHeap } from './profile-summary.js';

const { values: opts } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    paths: { type: 'string', default: 'api,yoga-jit,jit,services,plain,stringify' },
    profile: { type: 'string' },
    /** With --profile: a sampling heap profile of each path as well (bytes allocated by function). */
    heap: { type: 'boolean', default: false },
    /** Turns of the paths when measuring (not profiling). */
    rounds: { type: 'string', default: '10' },
  },
});
const seconds = Number(opts.seconds);
const paths = (opts.paths ?? '').split(',').filter(Boolean);

const mongoUri = process.env.MONGODB_URI ? benchMongoUri(process.env.MONGODB_URI, 'p1prof') : undefined;
const config = loadConfig(serviceEnv(mongoUri ? { MONGODB_URI: mongoUri } : {}), { version: PACKAGE_VERSION });
const app = await buildApp(config, {
  logger: createLogger({ level: 'error' }),
  runtime: new FakeServerRuntime(),
  sessionAccounts: new FakeSessionAccounts(),
  sweepIntervalMs: 3_600_000,
  reconcileIntervalMs: 3_600_000,
});
await app.container.mongo?.ready;
const c = app.container;
await seedFleet(c, { servers: 100, sessionsPerServer: 1 });
const token = await benchToken('bench-operator', ['operator']);
const authorization = `Bearer ${token}`;
const requestBody = JSON.stringify({ query: P1_QUERY });

const apiOnce = async () => {
  const res = await app.yoga.fetch('http://bench/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization },
    body: requestBody,
  });
  return res.text();
};
const reference = JSON.parse(await apiOnce()) as { data: { servers: unknown }; errors?: unknown };
if (reference.errors) throw new Error(JSON.stringify(reference.errors));

const compiled = compileQuery(schema, parse(P1_QUERY));
if (!isCompiledQuery(compiled)) throw new Error(JSON.stringify(compiled));
const floor = buildSchema(printSchema(schema));
const rootField = floor.getQueryType()?.getFields().servers;
if (!rootField) throw new Error('no Query.servers');
rootField.resolve = () => reference.data.servers;
const plain = compileQuery(floor, parse(P1_QUERY));
if (!isCompiledQuery(plain)) throw new Error(JSON.stringify(plain));
const viewer = await viewerFromHeader(c, authorization);
if (!viewer) throw new Error('no viewer');
const responseText = JSON.stringify(reference);

const bareYoga = createYoga<Record<string, unknown>, GraphQLContext>({
  schema,
  plugins: [useGraphQlJit()],
  logging: false,
  // As the API: yoga's own body limit streams every body (src/app/yoga.ts).
  maxRequestBodySize: false,
  context: async ({ request }) => buildContext(c, await viewerFromHeader(c, request.headers.get('authorization'))),
});

const runs: Record<string, () => Promise<unknown>> = {
  api: apiOnce,
  'yoga-jit': async () => {
    const res = await bareYoga.fetch('http://bench/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: requestBody,
    });
    return res.text();
  },
  jit: async () => {
    const result = await compiled.query(undefined, buildContext(c, await viewerFromHeader(c, authorization)), {});
    if (result.errors) throw new Error(JSON.stringify(result.errors));
    return result;
  },
  services: async () => {
    const page = await c.servers.list(viewer, {}, { first: 100 });
    return c.sessions.byServers(
      viewer,
      page.items.map((s) => s.id),
      LIVE_STATUSES,
    );
  },
  plain: async () => plain.query(undefined, {}, {}),
  stringify: async () => JSON.stringify(reference),
};

interface Measured {
  path: string;
  queries: number;
  /** Median over the rounds of µs of CPU per query. */
  usPerQuery: number;
  /** Lowest and highest round. */
  range: [number, number];
  /** Share of the path's turns (wall time) spent in GC pauses. */
  gcShare: number;
}

/** CPU profile (or, with --heap, sampled allocations) of one path run for `seconds`, summarized beside it. */
async function profilePath(path: string, once: () => Promise<unknown>, dir: string): Promise<void> {
  const warmUntil = performance.now() + 1000;
  while (performance.now() < warmUntil) await once();
  const profiler = new Session();
  profiler.connect();
  if (opts.heap) {
    await profiler.post('HeapProfiler.enable');
    await profiler.post('HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  } else {
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.setSamplingInterval', { interval: 250 });
    await profiler.post('Profiler.start');
  }
  let n = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    await once();
    n++;
  }
  mkdirSync(dir, { recursive: true });
  if (opts.heap) {
    const { profile } = await profiler.post('HeapProfiler.stopSampling');
    const file = join(dir, `p1-${path}.heapprofile`);
    writeFileSync(file, JSON.stringify(profile));
    writeFileSync(`${file}.txt`, `${summarizeHeap(profile, n)}\n`);
  } else {
    const { profile } = await profiler.post('Profiler.stop');
    const file = join(dir, `p1-${path}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    writeFileSync(`${file}.txt`, `${summarize(file, 40)}\n`);
  }
  profiler.disconnect();
  console.log(`${path}: profile of ${n} queries in ${dir}`);
}

/**
 * The paths in turns (rounds of `seconds / rounds` each), so that other work on the machine
 * weighs on all of them alike; the median round of each.
 */
async function measureAll(selected: string[], rounds: number): Promise<Measured[]> {
  for (const path of selected) {
    const once = runs[path] as () => Promise<unknown>;
    const warmUntil = performance.now() + 1000;
    while (performance.now() < warmUntil) await once();
  }
  const perRound = new Map<string, number[]>(selected.map((p) => [p, []]));
  const queries = new Map<string, number>();
  const cpuUs = new Map<string, number>();
  const gcMs = new Map<string, number>();
  const wallMs = new Map<string, number>();
  // GC entries arrive later, in batches: each is put to the path whose turn it started in.
  const turns: { path: string; start: number; end: number }[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const turn = turns.find((t) => e.startTime >= t.start && e.startTime < t.end);
      if (turn) gcMs.set(turn.path, (gcMs.get(turn.path) ?? 0) + e.duration);
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  for (let r = 0; r < rounds; r++) {
    for (const path of selected) {
      const once = runs[path] as () => Promise<unknown>;
      const cpu0 = process.cpuUsage();
      let n = 0;
      const start = performance.now();
      const end = start + (seconds * 1000) / rounds;
      turns.push({ path, start, end });
      wallMs.set(path, (wallMs.get(path) ?? 0) + (end - start));
      while (performance.now() < end) {
        await once();
        n++;
      }
      const cpu = process.cpuUsage(cpu0);
      const us = cpu.user + cpu.system;
      perRound.get(path)?.push(us / n);
      queries.set(path, (queries.get(path) ?? 0) + n);
      cpuUs.set(path, (cpuUs.get(path) ?? 0) + us);
    }
  }
  await new Promise((r) => setTimeout(r, 20));
  obs.disconnect();
  const round1 = (x: number) => Math.round(x * 10) / 10;
  return selected.map((path) => {
    const xs = (perRound.get(path) ?? []).sort((a, b) => a - b);
    return {
      path,
      queries: queries.get(path) ?? 0,
      usPerQuery: round1(xs[Math.floor(xs.length / 2)] ?? 0),
      range: [round1(xs[0] ?? 0), round1(xs.at(-1) ?? 0)],
      gcShare: Math.round((100 * (gcMs.get(path) ?? 0)) / (wallMs.get(path) ?? 1)),
    };
  });
}

for (const path of paths) if (!runs[path]) throw new Error(`unknown path ${path}; one of ${Object.keys(runs).join(', ')}`);
if (opts.profile) {
  for (const path of paths) await profilePath(path, runs[path] as () => Promise<unknown>, opts.profile);
} else {
  for (const r of await measureAll(paths, Number(opts.rounds))) {
    console.log(
      `${r.path.padEnd(10)} ${String(r.usPerQuery).padStart(8)} µs CPU/query (rounds ${r.range[0]}-${r.range[1]})  GC ${r.gcShare}% of wall  (${r.queries} queries)`,
    );
  }
}
console.log(
  `store ${mongoUri ? 'mongodb' : 'memory'}; response ${responseText.length} bytes; load average ${(await import('node:os'))
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
if (mongoUri) await c.mongo?.db.dropDatabase();
await app.stop();
process.exit(0);
