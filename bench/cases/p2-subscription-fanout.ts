/**
 * P2: N graphql-ws subscribers (1,000, 5,000, 10,000) to one server's stream, in-process pub/sub
 * and through Redis. `resourceUsage(subjectId)` does not exist yet, so this uses
 * `serverEvents(serverId)`, the one per-server stream there is. A fresh server process per run, so
 * the memory per idle subscription is RSS after (all subscribed, idle, full GC) minus RSS before,
 * over N. Both readings come from the same settled measurement (bench/lib/settled-memory.ts): RSS
 * once the pages a full GC freed are back with the OS, less V8's young generation (a buffer sized
 * by allocation rate, shrunk by some GCs and not others; it made the rows through Redis about
 * 8 KB/sub above the in-process rows at 10,000).
 */
import { benchMongoUri, serviceEnv } from '../lib/bench-env.js';
import { type BenchChild, startChild } from '../lib/processes.js';
import { fmtInt, round } from '../lib/stats.js';
import type { CaseContext, Row } from '../lib/table.js';
import type { ConnectParams, RunParams, RunResult } from '../load/ws-fanout.js';
import type { BareWsMode } from '../targets/bare-ws.js';

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
  /** V8's young generation, resident (subtracted from RSS: not held per subscription). */
  newSpace: number;
}

/** RSS without V8's young generation. */
const held = (m: Memory) => m.rss - m.newSpace;

interface Run {
  label: string;
  setup: string;
  n: number;
  /** API processes sharing the subscribers (1 unless the two-process row). */
  processes: number;
  result: RunResult;
  connectMs: number;
  /** Server and load CPU seconds during the measured run, and its wall time. */
  cpu: [number, number];
  wall: number;
  perSub: number;
  heapPerSub: number;
  rssAfter: number;
  closedEarly: number;
}

/**
 * The API with in-process pub/sub or through Redis; with `processes: 2`, two API processes (one
 * core each) on ports of their own, behind the same Redis and FerretDB, the subscribers split
 * between them and every event published once, through the first.
 */
type Target = { kind: 'api'; transport: 'in-process' | 'redis'; processes?: 2 } | { kind: 'bare'; mode: BareWsMode };

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

async function measure(ctx: CaseContext, target: Target, n: number): Promise<Run> {
  const processes = target.kind === 'api' ? (target.processes ?? 1) : 1;
  const label =
    target.kind === 'api'
      ? `${target.transport === 'redis' ? 'redis' : 'inproc'}-${processes > 1 ? `${processes}proc-` : ''}${n}`
      : `bare-ws-${target.mode}-${n}`;
  ctx.log(`P2 ${label}`);
  // One server: core 0, the load generator core 1. Two: a core each, the load generator on either
  // (this machine has two cores; the row says so).
  const servers: BenchChild[] = [];
  for (let i = 0; i < processes; i++) {
    servers.push(
      await startChild(target.kind === 'api' ? 'targets/api.ts' : 'targets/bare-ws.ts', {
        name: `p2-${label}${processes > 1 ? `-${i}` : ''}`,
        cpu: processes > 1 ? i % 2 : ctx.serverCpu,
        nodeArgs: ['--expose-gc'],
      }),
    );
  }
  const [server] = servers;
  if (!server) throw new Error('P2: no server process');
  const load = await startChild('load/ws-fanout.ts', {
    name: `p2-load-${label}`,
    ...(processes > 1 ? {} : { cpu: ctx.loadCpu }),
  });
  try {
    const ports: number[] = [];
    let controlPort = 0;
    let serverId: string | undefined;
    if (target.kind === 'api') {
      const env = serviceEnv({
        ...(target.transport === 'redis' ? { REDIS_URL: ctx.services.redisUrl } : {}),
        // Processes that share subscribers' streams share the store too (one server to watch).
        ...(processes > 1 ? { MONGODB_URI: benchMongoUri(ctx.services.mongoUri, 'p2') } : {}),
      });
      for (const [i, child] of servers.entries()) {
        const started = await child.call<{ port: number; controlPort: number }>('start', { env });
        ports.push(started.port);
        if (i === 0) controlPort = started.controlPort;
      }
      [serverId] = await server.call<string[]>('seed', { servers: 1, sessionsPerServer: 0 });
    } else {
      const started = await server.call<{ port: number; controlPort: number; serverId: string }>('start', {
        mode: target.mode,
      });
      ports.push(started.port);
      ({ controlPort, serverId } = started);
    }
    if (!serverId) throw new Error('P2: no server seeded');
    const before = await Promise.all(servers.map((c) => c.call<Memory>('memory')));
    const connectParams: ConnectParams = {
      urls: ports.map((port) => `ws://127.0.0.1:${port}/graphql`),
      subscribers: n,
      perUser: PER_USER,
      query: QUERY,
      variables: { id: serverId },
    };
    const connected = await load.call<{ connected: number; ms: number }>('connect', connectParams);
    await new Promise((r) => setTimeout(r, 500));
    const idle = await Promise.all(servers.map((c) => c.call<Memory>('memory')));
    // BENCH_P2_HEAP=<dir>: a heap snapshot of the idle server, to see what a subscription holds
    // (bench/p2-heap.ts sums two such snapshots by constructor).
    if (process.env.BENCH_P2_HEAP && target.kind === 'api')
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
    const cpu0 = servers.map((c) => c.cpuSeconds());
    const load0 = load.cpuSeconds();
    const wall0 = performance.now();
    const r = await load.call<RunResult>('run', runParams);
    const wall = (performance.now() - wall0) / 1000;
    const perProcess = servers.map((c, i) => c.cpuSeconds() - (cpu0[i] ?? 0));
    const cpu: [number, number] = [sum(perProcess), load.cpuSeconds() - load0];
    if (profile) await server.call('profileStop', { path: profile });
    const rssAfter = sum(servers.map((c) => c.rss()));
    const { closedEarly } = await load.call<{ closedEarly: number }>('close');
    if (processes > 1) await server.call('dropDatabase');
    const setup =
      target.kind === 'api'
        ? `serverEvents, ${target.transport === 'redis' ? 'through Redis' : 'in-process pub/sub'}${
            processes > 1
              ? `, ${processes} API processes (cores 0 and 1, ${fmtInt(n / processes)} subscribers each, one FerretDB; server CPU ${perProcess.map((c) => `${round((100 * c) / wall, 0)}%`).join(' + ')}), load generator unpinned`
              : ''
          }`
        : target.mode === 'send'
          ? 'limit: bare ws, the same frame serialized once, ws.send to each socket (public API)'
          : 'limit: bare ws, the same frame framed once, one socket.write each (socket from the upgrade)';
    return {
      label,
      setup,
      n,
      result: r,
      connectMs: connected.ms,
      cpu,
      wall,
      processes,
      perSub: sum(idle.map((m, i) => held(m) - (before[i] ? held(before[i]) : 0))) / n,
      heapPerSub: sum(idle.map((m, i) => m.heapUsed - (before[i]?.heapUsed ?? 0))) / n,
      rssAfter,
      closedEarly,
    };
  } finally {
    await load.stop();
    for (const c of servers) await c.stop();
  }
}

const usPerMessage = (r: Run) => (r.result.delivered > 0 ? (r.cpu[0] * 1e6) / r.result.delivered : 0);

/** The two-process row beside the one-process row through Redis at the same N. */
function scaledRow(r: Run, single: Run | undefined): Row {
  const base = row(r, undefined);
  const grows = single ? r.result.messagesPerSecond / single.result.messagesPerSecond : undefined;
  return {
    ...base,
    ratio: single
      ? `vs 1 process through Redis: msg/s ${round(grows ?? 0, 2)}×, server CPU/msg ${round(usPerMessage(r) / usPerMessage(single), 2)}×, memory ${round(r.perSub / single.perSub, 1)}×`
      : 'no one-process row to compare',
    target:
      grows === undefined
        ? ''
        : grows > 1
          ? `grows with processes (${round(grows, 2)}×)`
          : `MISSED: does not grow (${round(grows, 2)}×): the load generator shares the two cores`,
  };
}

function row(r: Run, limit: Run | undefined): Row {
  const isLimit = r.label.startsWith('bare-ws');
  const problems = [
    r.result.messagesPerSecond < TARGET.messagesPerSecond ? `${fmtInt(r.result.messagesPerSecond)} msg/s < 100k` : '',
    r.result.p99 >= TARGET.p99 ? `p99 ${r.result.p99} ms ≥ 100` : '',
    r.perSub > TARGET.bytesPerSubscription ? `${round(r.perSub / 1024)} KB/sub > 10` : '',
    ...(limit
      ? [
          r.result.messagesPerSecond < 0.9 * limit.result.messagesPerSecond ? 'msg/s < 0.9× limit' : '',
          usPerMessage(r) > 1.2 * usPerMessage(limit) ? 'CPU/msg > 1.2× limit' : '',
          r.result.p99 > 1.2 * limit.result.p99 ? 'p99 > 1.2× limit' : '',
        ]
      : []),
    r.result.lost > 0 ? `${fmtInt(r.result.lost)} lost` : '',
    r.closedEarly > 0 ? `${r.closedEarly} closed early` : '',
  ].filter(Boolean);
  const ratio = isLimit
    ? '1× (limit)'
    : limit
      ? `vs limit (${limit.label}): msg/s ${round(r.result.messagesPerSecond / limit.result.messagesPerSecond, 2)}×, CPU/msg ${round(usPerMessage(r) / usPerMessage(limit), 2)}×, memory ${round(r.perSub / limit.perSub, 1)}×, p99 ${round(r.result.p99 / limit.result.p99, 2)}×`
      : `${round(r.result.messagesPerSecond / BASELINE.messagesPerSecond, 1)}× notes' 33k msg/s; memory ${round(r.perSub / BASELINE.bytesPerSubscription, 1)}× notes' 18 KB`;
  return {
    case: `P2 fan-out ${fmtInt(r.n)} subs`,
    setup: `${r.setup}; ${r.result.events} events closed-loop; connect ${round(r.connectMs / 1000)} s`,
    result: `${fmtInt(r.result.messagesPerSecond)} msg/s, ${round(usPerMessage(r), 1)} µs server CPU/msg (server CPU ${round((100 * r.cpu[0]) / r.wall, 0)}%, load ${round((100 * r.cpu[1]) / r.wall, 0)}%)`,
    p50: `${r.result.p50} ms`,
    p99: `${r.result.p99} ms`,
    memory: `${round(r.perSub / 1024)} KB/sub RSS (${round(r.heapPerSub / 1024)} KB heap); RSS ${round(r.rssAfter / 1048576, 0)} MB`,
    ratio,
    target:
      isLimit || r.n < 10_000
        ? ''
        : problems.length === 0
          ? 'met (≥0.9× limit msg/s, ≤1.2× its CPU/msg and p99, ≤10 KB)'
          : `MISSED: ${problems.join(', ')}`,
  };
}

export async function runP2(ctx: CaseContext): Promise<Row[]> {
  const largest = Math.max(...SUBSCRIBERS);
  // The limit first, at the largest N, so every API row at that N prints its ratio to it.
  const rows: Row[] = [];
  // One run failing (on a loaded machine a publish can time out) costs its row, not the others.
  const attempt = async (target: Target, n: number): Promise<Run | undefined> => {
    try {
      return await measure(ctx, target, n);
    } catch (err) {
      const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
      ctx.log(`P2 ${JSON.stringify(target)} ${n} failed: ${message}`);
      rows.push({
        case: `P2 fan-out ${fmtInt(n)} subs`,
        setup: target.kind === 'api' ? `serverEvents, ${target.transport}` : `limit: bare ws, ${target.mode}`,
        result: `FAILED: ${message}`,
        p50: '',
        p99: '',
        memory: '',
        ratio: '',
        target: target.kind === 'api' && n === largest ? 'MISSED: the run failed' : '',
      });
      return undefined;
    }
  };
  let limit: Run | undefined;
  for (const mode of ['write', 'send'] as const) {
    const l = await attempt({ kind: 'bare', mode }, largest);
    if (!l) continue;
    limit ??= l;
    rows.push(row(l, undefined));
  }
  let singleRedis: Run | undefined;
  for (const transport of ['in-process', 'redis'] as const) {
    for (const n of SUBSCRIBERS) {
      const r = await attempt({ kind: 'api', transport }, n);
      if (r) rows.push(row(r, n === largest ? limit : undefined));
      if (r && transport === 'redis' && n === largest) singleRedis = r;
    }
  }
  // The same subscribers over two API processes behind the same Redis.
  const two = await attempt({ kind: 'api', transport: 'redis', processes: 2 }, largest);
  if (two) rows.push(scaledRow(two, singleRedis));
  return rows;
}
