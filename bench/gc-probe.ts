/**
 * What survives young-generation GC while P1's query runs in process (graphql-jit on the API's
 * schema, resolvers, stores and context, one query at a time, as P1's limit row does):
 *
 *   node --expose-gc --import tsx bench/gc-probe.ts [seconds=5] [snapshot-dir]
 *
 * Prints queries per CPU-second, the share of CPU in GC, and per scavenge the MB it found live
 * (copied or promoted) against the young generation's size. With a directory, writes a heap
 * snapshot taken in the middle of a query run (without a GC first), to read its retainers.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics, writeHeapSnapshot } from 'node:v8';
import { parse } from 'graphql';
import { compileQuery, isCompiledQuery } from 'graphql-jit';
import { schema } from '../resolvers/index.js';
import { createContainer } from '../src/app/container.js';
import { buildContext } from '../src/app/context.js';
import { localHostHello } from '../src/app/hosts-wiring.js';
import { createLogger } from '../src/app/logger.js';
import { loadConfig } from '../src/config/config.js';
import { FakeServerRuntime } from '../test/support/fake-runtime.js';
import { FakeSessionAccounts } from '../test/support/fake-session-accounts.js';
import { seedFleet } from '../test/support/seed-fleet.js';
import { P1_QUERY } from './cases/p1-query-throughput.js';
import { PACKAGE_VERSION, serviceEnv } from './lib/bench-env.js';

const seconds = Number(process.argv[2] ?? 5);
const snapshotDir = process.argv[3];
const config = loadConfig(serviceEnv(), { version: PACKAGE_VERSION });
const c = await createContainer(config, createLogger({ level: 'error' }), {
  runtime: new FakeServerRuntime(),
  sessionAccounts: new FakeSessionAccounts(),
});
await c.hosts.register(localHostHello(config));
await seedFleet(c, { servers: 100, sessionsPerServer: 1 });
const compiled = compileQuery(schema, parse(P1_QUERY));
if (!isCompiledQuery(compiled)) throw new Error(JSON.stringify(compiled));
const viewer = { userId: 'bench-operator', username: 'bench-operator', roles: ['operator' as const], permissions: [] };
const once = async () => {
  const result = await compiled.query(undefined, buildContext(c, viewer), {});
  if (result.errors) throw new Error(JSON.stringify(result.errors));
  return JSON.stringify(result);
};
for (let i = 0; i < 300; i++) await once();
let gcMs = 0;
let scavenges = 0;
const obs = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gcMs += e.duration;
    if ((e as unknown as { detail?: { kind?: number } }).detail?.kind === 1) scavenges++;
  }
});
obs.observe({ entryTypes: ['gc'] });
const heap0 = getHeapStatistics();
const cpu0 = process.cpuUsage();
let n = 0;
const end = performance.now() + seconds * 1000;
let snapped = false;
while (performance.now() < end) {
  if (snapshotDir && !snapped && performance.now() > end - (seconds * 1000) / 2) {
    // In the middle of a query: what is live then, young objects included.
    const pending = once();
    writeHeapSnapshot(`${snapshotDir}/p1-inproc.heapsnapshot`);
    snapped = true;
    await pending;
  } else await once();
  n++;
}
const cpu = process.cpuUsage(cpu0);
const cpuS = (cpu.user + cpu.system) / 1e6;
await new Promise((r) => setTimeout(r, 50));
obs.disconnect();
const heap1 = getHeapStatistics();
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
gc?.();
const heap2 = getHeapStatistics();
console.log(
  JSON.stringify({
    queries: n,
    perCpuSecond: Math.round(n / cpuS),
    usPerQuery: Math.round((cpuS * 1e6) / n),
    gcMsPerQuery: +(gcMs / n).toFixed(3),
    scavenges,
    scavengesPerQuery: +(scavenges / n).toFixed(3),
    heapGrowthMb: +((heap1.used_heap_size - heap0.used_heap_size) / 1048576).toFixed(1),
    /** What stays after a full GC: retained for good (a leak) rather than promoted and dropped. */
    heapAfterFullGcMb: +((heap2.used_heap_size - heap0.used_heap_size) / 1048576).toFixed(1),
  }),
);
await c.close();
process.exit(0);
