/**
 * What an idle subscription holds in the API's heap: `npx tsx bench/p2-heap.ts [N]` (default
 * 2,000) starts the API as P2 does (bench/targets/api.ts, in-process pub/sub, or through Redis with
 * `--redis`), takes a heap
 * snapshot, connects N `serverEvents` subscribers with P2's client, takes another, and prints the
 * difference by constructor (objects and self bytes per subscription), the top 40 first, with
 * the process's RSS (settled, as P2 measures it, and from /proc/<pid>/smaps_rollup) and heap growth
 * per subscription beside it. The snapshots are left in the OS
 * tmpdir for a closer look (Chrome DevTools → Memory → Load).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serviceEnv } from './lib/bench-env.js';
import { type HeapSummary, summarizeHeap } from './lib/heap-summary.js';
import { startChild } from './lib/processes.js';
import type { ConnectParams, RunParams, RunResult } from './load/ws-fanout.js';

const QUERY = 'subscription($id: ID!) { serverEvents(serverId: $id) { kind at server { id name status updatedAt } } }';
const n = Number(process.argv[2] ?? 2000);
/** `--no-snapshots`: only the memory figures and V8's heap spaces (RSS is not inflated by writing snapshots). */
const snapshots = !process.argv.includes('--no-snapshots');
/** `--settle=S`: wait S seconds after the last subscriber before measuring (V8's memory reducer runs once the process is idle). */
const settleSeconds = Number(process.argv.find((a) => a.startsWith('--settle='))?.slice('--settle='.length) ?? 0.5);
/** `--run=S`: after the memory figures, publish to the subscribers closed-loop for S seconds (as P2 does) and print the server's CPU per delivered message. */
const runSeconds = Number(process.argv.find((a) => a.startsWith('--run='))?.slice('--run='.length) ?? 0);
/** `--redis[=URL]`: events through Redis (P2's "through Redis" rows); the URL defaults to REDIS_URL or redis://127.0.0.1:6379. */
const redisArg = process.argv.find((a) => a === '--redis' || a.startsWith('--redis='));
const redisUrl = redisArg
  ? redisArg.startsWith('--redis=')
    ? redisArg.slice('--redis='.length)
    : (process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
  : undefined;
if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) throw new Error('--redis=URL takes a redis:// URL');
if (!Number.isFinite(runSeconds) || runSeconds < 0 || runSeconds > 120) throw new Error('--run=S takes 0 to 120 seconds');
if (!Number.isFinite(settleSeconds) || settleSeconds < 0) throw new Error('--settle=S takes seconds (0 or more)');
if (!Number.isInteger(n) || n < 1 || n > 20_000) throw new Error('N must be 1 to 20,000 subscribers');

/** The API process's /proc/<pid>/smaps_rollup, in bytes by field (Rss, Anonymous, Private_Dirty, ...). */
function rollup(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const m of readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').matchAll(/^(\w+):\s+(\d+) kB$/gm))
      if (m[1] && m[2]) out[m[1]] = Number(m[2]) * 1024;
    // malloc's main arena (brk) apart from the anonymous mappings (V8's heap, other malloc arenas, mmap'd buffers).
    const smaps = readFileSync(`/proc/${pid}/smaps`, 'utf8');
    const heap = /\[heap\]\n(?:.*\n)*?Rss:\s+(\d+) kB/.exec(smaps);
    out.brkHeap = heap?.[1] ? Number(heap[1]) * 1024 : 0;
  } catch {
    // Not Linux: no breakdown.
  }
  return out;
}

function printRollup(label: string, before: Record<string, number>, after: Record<string, number>): void {
  const fields = ['Rss', 'Anonymous', 'brkHeap', 'Private_Dirty', 'Shared_Clean', 'Private_Clean', 'Swap'];
  const parts = fields
    .filter((f) => after[f] !== undefined)
    .map((f) => `${f} ${(((after[f] ?? 0) - (before[f] ?? 0)) / n / 1024).toFixed(2)} KB`);
  if (parts.length > 0) process.stdout.write(`smaps_rollup ${label}: ${parts.join(', ')} per subscription\n`);
}

interface Memory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  newSpace: number;
}

const dir = mkdtempSync(join(tmpdir(), 'rdp-p2-heap-'));
/** `P2_HEAP_NODE_ARGS="--flag ..."`: more Node/V8 flags for the API process (to measure what a flag does). */
const extraArgs = (process.env.P2_HEAP_NODE_ARGS ?? '').split(' ').filter(Boolean);
const server = await startChild('targets/api.ts', { name: 'p2-heap-api', cpu: 0, nodeArgs: ['--expose-gc', ...extraArgs] });
const load = await startChild('load/ws-fanout.ts', { name: 'p2-heap-load', cpu: 1 });
try {
  const { port, controlPort } = await server.call<{ port: number; controlPort: number }>('start', {
    env: serviceEnv(redisUrl ? { REDIS_URL: redisUrl } : {}),
  });
  process.stdout.write(`API pid ${server.pid}, ${redisUrl ? `events through Redis (${redisUrl})` : 'in-process pub/sub'}\n`);
  const [serverId] = await server.call<string[]>('seed', { servers: 1, sessionsPerServer: 0 });
  if (!serverId) throw new Error('no server seeded');
  type Spaces = { space: string; size: number; used: number; physical: number }[];
  const before = await server.call<Memory>('memory');
  const rollupBefore = rollup(server.pid);
  const spacesBefore = await server.call<Spaces>('heapSpaces');
  const beforePath = snapshots ? await server.call<string>('heapSnapshot', { path: join(dir, 'before.heapsnapshot') }) : '';
  const params: ConnectParams = {
    urls: [`ws://127.0.0.1:${port}/graphql`],
    subscribers: n,
    perUser: 50,
    query: QUERY,
    variables: { id: serverId },
  };
  await load.call('connect', params);
  await new Promise((r) => setTimeout(r, settleSeconds * 1000));
  const after = await server.call<Memory>('memory');
  const rollupIdle = rollup(server.pid);
  const spacesAfter = await server.call<Spaces>('heapSpaces');
  const per = (k: keyof Memory) => `${((after[k] - before[k]) / n / 1024).toFixed(2)} KB`;
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  process.stdout.write(
    `RSS ${mb(before.rss)} before, ${mb(after.rss)} after; heap used ${mb(before.heapUsed)} before, ${mb(after.heapUsed)} after\n`,
  );
  process.stdout.write(
    `${n} idle subscribers: RSS ${per('rss')} (${((after.rss - after.newSpace - (before.rss - before.newSpace)) / n / 1024).toFixed(2)} KB without V8's young generation, as P2 counts), young generation ${mb(before.newSpace)} before, ${mb(after.newSpace)} after;\n`,
  );
  process.stdout.write(
    `  heapUsed ${per('heapUsed')}, heapTotal ${per('heapTotal')}, external ${per('external')}, arrayBuffers ${per('arrayBuffers')} per subscription\n`,
  );
  printRollup('idle - before', rollupBefore, rollupIdle);
  const kb = (bytes: number) => `${(bytes / n / 1024).toFixed(2)} KB`;
  for (const s of spacesAfter) {
    const old = spacesBefore.find((o) => o.space === s.space) ?? { size: 0, used: 0, physical: 0 };
    if (s.size !== old.size || s.used !== old.used || s.physical !== old.physical)
      process.stdout.write(
        `  ${s.space}: committed ${kb(s.size - old.size)}, resident ${kb(s.physical - old.physical)}, used ${kb(s.used - old.used)} per subscription\n`,
      );
  }
  if (snapshots) {
    const afterPath = await server.call<string>('heapSnapshot', { path: join(dir, 'after.heapsnapshot') });
    const a: HeapSummary = summarizeHeap(beforePath);
    const b: HeapSummary = summarizeHeap(afterPath);
    const rows = [...b.byConstructor.entries()]
      .map(([name, s]) => {
        const old = a.byConstructor.get(name) ?? { count: 0, size: 0 };
        return { name, count: (s.count - old.count) / n, size: (s.size - old.size) / n };
      })
      .filter((r) => Math.abs(r.size) >= 1)
      .sort((x, y) => y.size - x.size);
    const total = (b.totalSize - a.totalSize) / n;
    process.stdout.write(`heap snapshot growth: ${total.toFixed(0)} B per subscription (snapshots in ${dir})\n\n`);
    process.stdout.write('| bytes/sub | objects/sub | constructor (type) |\n|---:|---:|---|\n');
    for (const r of rows.slice(0, 40)) process.stdout.write(`| ${r.size.toFixed(0)} | ${r.count.toFixed(2)} | ${r.name} |\n`);
  }
  if (runSeconds > 0) {
    const run: RunParams = {
      controlUrl: `http://127.0.0.1:${controlPort}`,
      serverId,
      seconds: runSeconds,
      maxEvents: 2000,
      warmupEvents: 10,
    };
    const cpu0 = server.cpuSeconds();
    const r = await load.call<RunResult>('run', run);
    const cpu = server.cpuSeconds() - cpu0;
    process.stdout.write(
      `\nrun: ${r.events} events, ${r.delivered} messages, ${Math.round(r.messagesPerSecond)} msg/s, ${((cpu * 1e6) / Math.max(1, r.delivered)).toFixed(1)} µs server CPU/msg, p50 ${r.p50} ms, p99 ${r.p99} ms\n`,
    );
  }
} finally {
  await load.stop();
  await server.stop();
}
