/**
 * P2: N graphql-ws subscribers (1,000, 5,000, 10,000) to one server's stream, in-process pub/sub
 * and through Redis. `resourceUsage(subjectId)` does not exist yet, so this uses
 * `serverEvents(serverId)`, the one per-server stream there is. A fresh server process per run, so
 * the memory per idle subscription is RSS after (all subscribed, idle, full GC) minus RSS before,
 * over N.
 */
import { serviceEnv } from '../lib/bench-env.js';
import { startChild } from '../lib/processes.js';
import { fmtInt, round } from '../lib/stats.js';
import type { CaseContext, Row } from '../lib/table.js';
import type { ConnectParams, RunParams, RunResult } from '../load/ws-fanout.js';

const SUBSCRIBERS = (process.env.BENCH_P2_SUBSCRIBERS ?? '1000,5000,10000').split(',').map(Number);
const QUERY = 'subscription($id: ID!) { serverEvents(serverId: $id) { kind at server { id name status updatedAt } } }';
/** Subscriptions per user: under the API's default cap of 100 open operations per user. */
const PER_USER = 50;

const TARGET = { messagesPerSecond: 100_000, p99: 100, bytesPerSubscription: 10 * 1024 };

/** docs/STACK.md: graphql-ws fan-out peaked at 25-33k messages/s on one core; about 18 KB each. */
const BASELINE = { messagesPerSecond: 33_000, bytesPerSubscription: 18 * 1024 };

interface Memory {
  rss: number;
  heapUsed: number;
}

export async function runP2(ctx: CaseContext): Promise<Row[]> {
  const rows: Row[] = [];
  for (const transport of ['in-process', 'redis'] as const) {
    for (const n of SUBSCRIBERS) {
      const label = `${transport === 'redis' ? 'redis' : 'inproc'}-${n}`;
      ctx.log(`P2 ${label}`);
      const server = await startChild('targets/api.ts', {
        name: `p2-${label}`,
        cpu: ctx.serverCpu,
        nodeArgs: ['--expose-gc'],
      });
      const load = await startChild('load/ws-fanout.ts', { name: `p2-load-${label}`, cpu: ctx.loadCpu });
      try {
        const env = serviceEnv(transport === 'redis' ? { REDIS_URL: ctx.services.redisUrl } : {});
        const { port, controlPort } = await server.call<{ port: number; controlPort: number }>('start', { env });
        const [serverId] = await server.call<string[]>('seed', { servers: 1, sessionsPerServer: 0 });
        if (!serverId) throw new Error('P2: no server seeded');
        const before = await server.call<Memory>('memory');
        const connectParams: ConnectParams = {
          url: `ws://127.0.0.1:${port}/graphql`,
          subscribers: n,
          perUser: PER_USER,
          query: QUERY,
          variables: { id: serverId },
        };
        const connected = await load.call<{ connected: number; ms: number }>('connect', connectParams);
        await new Promise((r) => setTimeout(r, 500));
        const idle = await server.call<Memory>('memory');
        // BENCH_P2_HEAP=<dir>: a heap snapshot of the idle server, to see what a subscription holds.
        if (process.env.BENCH_P2_HEAP)
          await server.call('heapSnapshot', { path: `${process.env.BENCH_P2_HEAP}/p2-${label}.heapsnapshot` });
        const runParams: RunParams = {
          controlUrl: `http://127.0.0.1:${controlPort}`,
          serverId,
          seconds: ctx.seconds,
          maxEvents: 2000,
          warmupEvents: 10,
        };
        const profile = ctx.profilePath('p2', label);
        if (profile) await server.call('profileStart');
        const cpu0 = [server.cpuSeconds(), load.cpuSeconds()];
        const wall0 = performance.now();
        const r = await load.call<RunResult>('run', runParams);
        const wall = (performance.now() - wall0) / 1000;
        const cpu = [server.cpuSeconds() - (cpu0[0] ?? 0), load.cpuSeconds() - (cpu0[1] ?? 0)];
        if (profile) await server.call('profileStop', { path: profile });
        const rssAfter = server.rss();
        const { closedEarly } = await load.call<{ closedEarly: number }>('close');
        const perSub = (idle.rss - before.rss) / n;
        const heapPerSub = (idle.heapUsed - before.heapUsed) / n;
        const problems = [
          r.messagesPerSecond < TARGET.messagesPerSecond ? `${fmtInt(r.messagesPerSecond)} msg/s < 100k` : '',
          r.p99 >= TARGET.p99 ? `p99 ${r.p99} ms ≥ 100` : '',
          perSub > TARGET.bytesPerSubscription ? `${round(perSub / 1024)} KB/sub > 10` : '',
          r.lost > 0 ? `${fmtInt(r.lost)} lost` : '',
          closedEarly > 0 ? `${closedEarly} closed early` : '',
        ].filter(Boolean);
        rows.push({
          case: `P2 fan-out ${fmtInt(n)} subs`,
          setup: `serverEvents, ${transport === 'redis' ? 'through Redis' : 'in-process pub/sub'}; ${r.events} events closed-loop; connect ${round(connected.ms / 1000)} s`,
          result: `${fmtInt(r.messagesPerSecond)} msg/s (server CPU ${round((100 * (cpu[0] ?? 0)) / wall, 0)}%, load ${round((100 * (cpu[1] ?? 0)) / wall, 0)}%)`,
          p50: `${r.p50} ms`,
          p99: `${r.p99} ms`,
          memory: `${round(perSub / 1024)} KB/sub RSS (${round(heapPerSub / 1024)} KB heap); RSS ${round(rssAfter / 1048576, 0)} MB`,
          ratio: `${round(r.messagesPerSecond / BASELINE.messagesPerSecond, 1)}× notes' 33k msg/s; memory ${round(perSub / BASELINE.bytesPerSubscription, 1)}× notes' 18 KB`,
          target:
            n < 10_000 ? '' : problems.length === 0 ? 'met (≥100k msg/s, p99 <100 ms, ≤10 KB)' : `MISSED: ${problems.join(', ')}`,
        });
      } finally {
        await load.stop();
        await server.stop();
      }
    }
  }
  return rows;
}
