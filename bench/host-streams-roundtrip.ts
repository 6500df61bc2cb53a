/**
 * `npx tsx bench/host-streams-roundtrip.ts`: command round trip API → agent → API over Redis
 * Streams on loopback, on a private redis-server (its own port, no persistence), beside the bare
 * XADD → XREADGROUP → XADD → XREAD loop as its limit; then the memory one stream entry costs.
 * Not part of `npm run bench` yet (HOST_STREAMS_N=2000 sequential commands by default).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createAgentCommandConsumer } from '../src/adapters/redis/host-agent-consumer.js';
import { createHostCommandClient } from '../src/adapters/redis/host-command-client.js';
import { commandEntryFields, eventEntryFields } from '../src/domain/cluster/host-protocol.js';

const N = Number(process.env.HOST_STREAMS_N ?? 2000);
const ACTOR = { userId: 'system', name: 'system' };

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function row(label: string, samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  return `${label.padEnd(44)} p50 ${pct(s, 50).toFixed(3)} ms  p99 ${pct(s, 99).toFixed(3)} ms  (n=${s.length})`;
}

async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const port = await freePort();
const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
  stdio: 'ignore',
});
const url = `redis://127.0.0.1:${port}`;
const admin = new Redis(url, { retryStrategy: () => 50 });
await admin.ping();
const stateDir = mkdtempSync(join(tmpdir(), 'rdp-host-bench-'));
const out: string[] = [];

try {
  // The bare loop: what Redis and ioredis allow on this machine.
  {
    const api = new Redis(url);
    const apiReader = new Redis(url);
    const agentReader = new Redis(url);
    const agentWriter = new Redis(url);
    await agentWriter.call('XGROUP', 'CREATE', 'bare:commands', 'agent', '$', 'MKSTREAM');
    let running = true;
    const agentLoop = (async () => {
      while (running) {
        const r = (await agentReader.call(
          'XREADGROUP',
          'GROUP',
          'agent',
          'a',
          'COUNT',
          1000,
          'BLOCK',
          1000,
          'STREAMS',
          'bare:commands',
          '>',
        )) as [string, [string, string[]][]][] | null;
        for (const [, entries] of r ?? []) {
          for (const [id, f] of entries) {
            void agentWriter.call('XADD', 'bare:events', '*', 'id', f[1] as string);
            void agentWriter.call('XACK', 'bare:commands', 'agent', id);
          }
        }
      }
    })();
    let cursor = '$';
    const waiting = new Map<string, () => void>();
    const readerLoop = (async () => {
      cursor = '0-0';
      while (running) {
        const r = (await apiReader.call('XREAD', 'COUNT', 1000, 'BLOCK', 1000, 'STREAMS', 'bare:events', cursor)) as
          | [string, [string, string[]][]][]
          | null;
        for (const [, entries] of r ?? []) {
          for (const [id, f] of entries) {
            cursor = id;
            waiting.get(f[1] as string)?.();
          }
        }
      }
    })();
    const one = () =>
      new Promise<void>((resolve) => {
        const id = randomUUID();
        waiting.set(id, resolve);
        void api.call('XADD', 'bare:commands', '*', 'id', id);
      });
    for (let i = 0; i < 200; i++) await one();
    const seq: number[] = [];
    for (let i = 0; i < N; i++) seq.push(await timeIt(one));
    out.push(row('bare loop, sequential', seq));
    const burst = await timeIt(() => Promise.all(Array.from({ length: 1000 }, one)));
    out.push(`${'bare loop, 1,000 concurrent'.padEnd(44)} ${burst.toFixed(0)} ms in all`);
    running = false;
    await Promise.all([agentLoop, readerLoop]);
    for (const c of [api, apiReader, agentReader, agentWriter]) c.disconnect();
  }

  // The real transport: journal fsyncs, accepted + result events, dedupe, deadlines.
  {
    const agent = createAgentCommandConsumer({
      redis: url,
      hostId: 'bench',
      stateDir,
      concurrency: 256,
      handle: async (c) => c.payload,
    });
    await agent.start();
    const api = createHostCommandClient({ redis: url, replicaId: 'bench-api' });
    for (let i = 0; i < 200; i++) await api.send('bench', 'echo', i, { actor: ACTOR });
    const seq: number[] = [];
    for (let i = 0; i < N; i++) seq.push(await timeIt(() => api.send('bench', 'echo', i, { actor: ACTOR })));
    out.push(row('host command client → agent → client', seq));
    for (const concurrency of [1000]) {
      const ms = await timeIt(() =>
        Promise.all(Array.from({ length: concurrency }, (_, i) => api.send('bench', 'echo', i, { actor: ACTOR, ttlMs: 30_000 }))),
      );
      out.push(`${`host commands, ${concurrency.toLocaleString('en')} concurrent`.padEnd(44)} ${ms.toFixed(0)} ms in all`);
    }
    await api.close();
    await agent.stop();
  }

  // Memory per entry, at the default caps.
  {
    const fill = async (key: string, fields: string[]) => {
      await admin.del(key);
      const p = admin.pipeline();
      for (let i = 0; i < 10_000; i++) p.call('XADD', key, '*', ...fields);
      await p.exec();
      return Number(await admin.call('MEMORY', 'USAGE', key, 'SAMPLES', 0));
    };
    const command = commandEntryFields({
      id: randomUUID(),
      type: 'server.start',
      replica: 'api-7d9f8c-x2x9z',
      ttl: 5000,
      actor: { userId: 'u-123456', name: 'alice', ip: '10.0.0.7' },
      payload: { serverId: '65f0c1d2e3a4b5c6d7e8f901', port: 3391 },
    });
    const event = eventEntryFields('session.login', { serverId: '65f0c1d2e3a4b5c6d7e8f901', user: 'alice', display: 12 });
    const cmdBytes = await fill('mem:commands', command);
    const evBytes = await fill('mem:events', event);
    out.push(`command stream, 10,000 entries: ${(cmdBytes / 1e6).toFixed(2)} MB (${(cmdBytes / 10_000).toFixed(0)} B/entry)`);
    out.push(`event stream, 10,000 entries: ${(evBytes / 1e6).toFixed(2)} MB (${(evBytes / 10_000).toFixed(0)} B/entry)`);
  }
  console.log(out.join('\n'));
} finally {
  admin.disconnect();
  server.kill('SIGKILL');
  rmSync(stateDir, { recursive: true, force: true });
}
