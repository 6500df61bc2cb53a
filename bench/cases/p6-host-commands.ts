/**
 * P6: the cluster transport over Redis Streams (docs/CLUSTER-PROTOCOL.md) on the bench's private
 * redis-server. Commands: round trip API → agent → API through the real HostCommandClient and the
 * real agent command consumer (journal fdatasync, accepted + result events, XACK; an echo
 * handler), sequential and 1,000 at once, beside the bare XADD → XREADGROUP → XADD → XREAD loop
 * with ioredis as its limit; what one journal fdatasync costs there. Events: two API replicas
 * (createHostEventConsumer, one group) draining a backlog of M events over N hosts' streams,
 * each event applied exactly once. And the memory a stream entry costs.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { commandStreamKey, eventStreamKey } from '../../src/domain/cluster/host-protocol.js';
import { type BenchChild, startChild } from '../lib/processes.js';
import { fmtInt, percentile, round } from '../lib/stats.js';
import type { CaseContext, Row } from '../lib/table.js';
import type { RoundTripParams, RoundTripResult } from '../load/host-api.js';
import type { AgentMode } from '../targets/host-agent.js';

const BURST = 1000;
const BURSTS = 3;
const HOSTS = 10;
/** Per host, below the event stream's cap (10,000), so nothing is trimmed before it is read. */
const EVENTS_PER_HOST = 5000;
const FSYNCS = 200;
const TARGET_P50_MS = 1;
const TARGET_P99_MS = 10;

interface Measured {
  p50: number;
  p99: number;
  n: number;
  burstMedian: number;
  burstMax: number;
  failed: number;
  firstError: string | null;
}

const ms = (v: number) => `${v < 10 ? round(v, 2) : round(v, 0)} ms`;

async function roundTrips(ctx: CaseContext, agent: BenchChild, api: BenchChild, mode: AgentMode): Promise<Measured> {
  ctx.log(`P6 commands, ${mode.kind === 'bare' ? 'bare' : `real, journal on ${mode.journal}`}`);
  await agent.call('startAgent', mode);
  try {
    const params: RoundTripParams = {
      mode,
      warmup: 200,
      seconds: ctx.seconds,
      maxSamples: 20_000,
      burstSize: BURST,
      bursts: BURSTS,
    };
    const r = await api.call<RoundTripResult>('roundTrips', params);
    const bursts = [...r.bursts].sort((a, b) => a - b);
    return {
      p50: percentile(r.sequential, 50),
      p99: percentile(r.sequential, 99),
      n: r.sequential.length,
      burstMedian: bursts[Math.floor(bursts.length / 2)] ?? 0,
      burstMax: bursts.at(-1) ?? 0,
      failed: r.failed,
      firstError: r.firstError,
    };
  } finally {
    await agent.call('stopAgent');
  }
}

function commandRow(setup: string, m: Measured, ratio: string, target: string): Row {
  return {
    case: 'P6 host commands',
    setup,
    result: `${fmtInt(m.n)} sequential; ${fmtInt(BURST)} concurrent in ${fmtInt(m.burstMedian)} ms (median of ${BURSTS}, max ${fmtInt(m.burstMax)})${m.failed > 0 ? `; ${m.failed} FAILED: ${m.firstError}` : ''}`,
    p50: ms(m.p50),
    p99: ms(m.p99),
    memory: '',
    ratio,
    target,
  };
}

async function drainEvents(
  ctx: CaseContext,
  agent: BenchChild,
  replicas: BenchChild[],
  url: string,
  hosts: string[],
): Promise<Row> {
  const total = hosts.length * EVENTS_PER_HOST;
  ctx.log(`P6 events: ${fmtInt(total)} over ${hosts.length} hosts`);
  const t0 = performance.now();
  const published = await agent.call<string[]>('publish', { url, hosts, perHost: EVENTS_PER_HOST });
  const publishRate = published.length / ((performance.now() - t0) / 1000);
  for (const [i, r] of replicas.entries()) await r.call('prepareConsumer', { url, hosts, replicaId: `bench-replica-${i}` });
  const starts = await Promise.all(replicas.map((r) => r.call<number>('startConsumer')));
  const startedAt = Math.min(...starts);
  const deadline = Date.now() + 120_000;
  let lastAppliedAt = 0;
  for (;;) {
    const progress = await Promise.all(replicas.map((r) => r.call<{ total: number; lastAppliedAt: number }>('progress')));
    const done = progress.reduce((s, p) => s + p.total, 0);
    lastAppliedAt = Math.max(...progress.map((p) => p.lastAppliedAt));
    if (done >= total || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  // A little longer, so that a duplicate applied late would be counted.
  await new Promise((r) => setTimeout(r, 500));
  const appliedBy = await Promise.all(replicas.map((r) => r.call<[string, number][]>('stopConsumer')));
  const counts = new Map<string, number>();
  for (const list of appliedBy) for (const [key, n] of list) counts.set(key, (counts.get(key) ?? 0) + n);
  const twice = [...counts.values()].filter((n) => n > 1).length;
  const missing = published.filter((key) => !counts.has(key)).length;
  const expected = new Set(published);
  const unknown = [...counts.keys()].filter((key) => !expected.has(key)).length;
  const split = appliedBy.map((l) => fmtInt(l.reduce((s, [, n]) => s + n, 0))).join(' + ');
  const seconds = (lastAppliedAt - startedAt) / 1000;
  const rate = missing === 0 ? total / seconds : Number.NaN;
  const exact = twice === 0 && missing === 0 && unknown === 0;
  return {
    case: 'P6 host events',
    setup: `2 replicas (createHostEventConsumer, one group; cores ${ctx.loadCpu}/${ctx.serverCpu}) drain a backlog of ${fmtInt(total)} events over ${hosts.length} hosts' streams; handler records the entry id`,
    result: `${Number.isNaN(rate) ? 'did not finish' : `${fmtInt(rate)} events applied/s`} (${split} by the two replicas in ${round(seconds, 2)} s)`,
    p50: '',
    p99: '',
    memory: '',
    ratio: `${round(rate / publishRate, 2)}× the agents' publish rate (${fmtInt(publishRate)}/s)`,
    target: exact
      ? 'met (each applied exactly once)'
      : `MISSED: ${twice} applied twice, ${missing} not applied, ${unknown} unknown applied`,
  };
}

export async function runP6(ctx: CaseContext): Promise<Row[]> {
  const url = ctx.services.redisUrl;
  const tag = `p6-${randomBytes(4).toString('hex')}`;
  const agentHost = `${tag}-agent`;
  const eventHosts = Array.from({ length: HOSTS }, (_, i) => `${tag}-h${i}`);
  const bare = { commands: `bench:${tag}:commands`, answers: `bench:${tag}:answers` };
  const agent = await startChild('targets/host-agent.ts', { name: 'p6-agent', cpu: ctx.serverCpu });
  const apiA = await startChild('load/host-api.ts', { name: 'p6-api-a', cpu: ctx.loadCpu });
  const apiB = await startChild('load/host-api.ts', { name: 'p6-api-b', cpu: ctx.serverCpu });
  const admin = new Redis(url);
  try {
    const limit = await roundTrips(ctx, agent, apiA, { kind: 'bare', url, ...bare });
    const real = await roundTrips(ctx, agent, apiA, { kind: 'real', url, hostId: agentHost, journal: 'disk' });
    const noDisk = await roundTrips(ctx, agent, apiA, { kind: 'real', url, hostId: `${agentHost}-shm`, journal: 'tmpfs' });
    ctx.log('P6 fdatasync');
    const { samples: syncs, fsType } = await agent.call<{ samples: number[]; fsType: string }>('fsync', { count: FSYNCS });
    const sync50 = percentile(syncs, 50);
    const events = await drainEvents(ctx, agent, [apiA, apiB], url, eventHosts);
    const memory = await apiA.call<{ command: number; event: number }>('streamMemory', { url, prefix: `bench:${tag}` });
    const where = `agent core ${ctx.serverCpu}, API core ${ctx.loadCpu}, private redis-server`;
    const missed = [
      real.p50 >= TARGET_P50_MS ? `p50 ${ms(real.p50)} ≥ 1 ms` : '',
      real.p99 >= TARGET_P99_MS ? `p99 ${ms(real.p99)} ≥ 10 ms` : '',
      real.failed > 0 ? `${real.failed} failed` : '',
    ].filter(Boolean);
    return [
      commandRow(`bare XADD → XREADGROUP → XADD + XACK → XREAD, ioredis (the limit); ${where}`, limit, '1× (limit)', ''),
      commandRow(
        `HostCommandClient.send → agent command consumer (journal fdatasync, accepted + result, XACK) → resolves; ${where}`,
        real,
        `p50 ${round(real.p50 / limit.p50, 1)}×, p99 ${round(real.p99 / limit.p99, 1)}×, ${fmtInt(BURST)} at once ${round(real.burstMedian / limit.burstMedian, 1)}× the bare loop`,
        missed.length === 0 ? 'met (p50 < 1 ms, p99 < 10 ms)' : `MISSED: ${missed.join(', ')}`,
      ),
      commandRow(
        `the same, the agent's journal on tmpfs (/dev/shm: fdatasync costs nothing); ${where}`,
        noDisk,
        `p50 ${round(noDisk.p50 / limit.p50, 1)}×, p99 ${round(noDisk.p99 / limit.p99, 1)}× the bare loop; p50 ${round(real.p50 - noDisk.p50, 2)} ms below the disk journal's`,
        '',
      ),
      {
        case: 'P6 journal fdatasync',
        setup: `append one \`started\` line + fdatasync, sequential, agent state dir in the OS tmpdir (${fsType})`,
        result: `${FSYNCS} syncs`,
        p50: ms(sync50),
        p99: ms(percentile(syncs, 99)),
        memory: '',
        ratio: `${round((sync50 / real.p50) * 100, 0)}% of the command's p50`,
        target: '',
      },
      events,
      {
        case: 'P6 stream memory',
        setup: 'MEMORY USAGE of 10,000 typical entries (the streams are capped at MAXLEN ~ 10,000)',
        result: `command ${fmtInt(memory.command / 10_000)} B/entry, event ${fmtInt(memory.event / 10_000)} B/entry`,
        p50: '',
        p99: '',
        memory: `${round(memory.command / 1e6, 1)} MB + ${round(memory.event / 1e6, 1)} MB per host at the cap`,
        ratio: '',
        target: '',
      },
    ];
  } finally {
    await agent.stop();
    await apiA.stop();
    await apiB.stop();
    const keys = [
      bare.commands,
      bare.answers,
      commandStreamKey(agentHost),
      eventStreamKey(agentHost),
      ...eventHosts.map(eventStreamKey),
    ];
    await admin.del(...keys).catch(() => undefined);
    admin.disconnect();
  }
}
