/**
 * P6's agent process: the agent side of the command round trip, either the real command consumer
 * (journal, accepted + result events, XACK; an echo handler) or the bare XREADGROUP → XADD loop
 * that is its limit; the event publisher that fills the hosts' event streams; and a probe of what
 * one fdatasync of the journal costs in the agent's state directory.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { type AgentCommandConsumer, createAgentCommandConsumer } from '../../src/adapters/redis/host-agent-consumer.js';
import { createAgentEventPublisher } from '../../src/adapters/redis/host-event-publisher.js';
import { serveRpc } from '../lib/rpc-child.js';

export type AgentMode =
  | { kind: 'bare'; url: string; commands: string; answers: string }
  /** journal 'tmpfs': the state directory on /dev/shm, to show what the journal's disk sync costs. */
  | { kind: 'real'; url: string; hostId: string; journal: 'disk' | 'tmpfs' };

type Entries = [string, [string, string[]][]][] | null;

let stop: (() => Promise<void>) | null = null;
const stateDirs: string[] = [];

function scratchDir(onTmpfs = false): string {
  // The agent's journal lives on its state directory's disk (DATA_DIR), not on tmpfs.
  const dir = mkdtempSync(join(onTmpfs && existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'rdp-bench-agent-'));
  stateDirs.push(dir);
  return dir;
}

async function startBare(url: string, commands: string, answers: string): Promise<() => Promise<void>> {
  const reader = new Redis(url);
  const writer = new Redis(url);
  await writer.call('XGROUP', 'CREATE', commands, 'agent', '$', 'MKSTREAM');
  let running = true;
  const loop = (async () => {
    while (running) {
      const r = (await reader
        .call('XREADGROUP', 'GROUP', 'agent', 'a', 'COUNT', 1000, 'BLOCK', 1000, 'STREAMS', commands, '>')
        .catch(() => null)) as Entries;
      for (const [, entries] of r ?? []) {
        for (const [id, f] of entries) {
          void writer.call('XADD', answers, '*', 'id', f[1] ?? '');
          void writer.call('XACK', commands, 'agent', id);
        }
      }
    }
  })();
  return async () => {
    running = false;
    reader.disconnect();
    await loop;
    await writer.quit();
  };
}

async function startReal(url: string, hostId: string, onTmpfs: boolean): Promise<() => Promise<void>> {
  // The agent's own settings (src/app/agent/redis-agent-transport.ts): default concurrency.
  const agent: AgentCommandConsumer = createAgentCommandConsumer({
    redis: url,
    hostId,
    stateDir: scratchDir(onTmpfs),
    handle: async (c) => c.payload,
  });
  await agent.start();
  return () => agent.stop();
}

serveRpc(
  {
    async startAgent(params) {
      const mode = params as AgentMode;
      if (stop) throw new Error('an agent is already running');
      stop =
        mode.kind === 'bare'
          ? await startBare(mode.url, mode.commands, mode.answers)
          : await startReal(mode.url, mode.hostId, mode.journal === 'tmpfs');
      return null;
    },
    async stopAgent() {
      await stop?.();
      stop = null;
      return null;
    },
    /** Writes `perHost` events to each host's stream, as fast as one agent per host can; returns every entry id. */
    async publish(params) {
      const { url, hosts, perHost } = params as { url: string; hosts: string[]; perHost: number };
      const redis = new Redis(url);
      try {
        const ids = await Promise.all(
          hosts.map(async (hostId) => {
            const events = createAgentEventPublisher({ hostId, redis });
            const out: string[] = [];
            // 100 in flight per host: enough to keep Redis busy, in the order they are written.
            for (let i = 0; i < perHost; i += 100) {
              const batch = Array.from({ length: Math.min(100, perHost - i) }, (_, k) =>
                events.publish('session.activity', { serverId: '65f0c1d2e3a4b5c6d7e8f901', user: 'alice', n: i + k }),
              );
              out.push(...(await Promise.all(batch)));
            }
            return out.map((id) => `${hostId} ${id}`);
          }),
        );
        return ids.flat();
      } finally {
        redis.disconnect();
      }
    },
    /** Sequential append + fdatasync of one journal-sized line, as the journal's `started` does. */
    async fsync(params) {
      const { count } = params as { count: number };
      const dir = scratchDir();
      const file = await open(join(dir, 'probe.journal'), 'a', 0o600);
      const samples: number[] = [];
      try {
        for (let i = 0; i < count; i++) {
          const t0 = performance.now();
          await file.write(`started 00000000-0000-4000-8000-${String(i).padStart(12, '0')}\n`);
          await file.datasync();
          samples.push(performance.now() - t0);
        }
      } finally {
        await file.close();
      }
      let fsType = 'unknown file system';
      try {
        fsType = execFileSync('findmnt', ['-no', 'FSTYPE', '-T', dir], { encoding: 'utf8' }).trim();
      } catch {
        // Only for the report.
      }
      return { samples, fsType };
    },
  },
  async () => {
    await stop?.();
    for (const d of stateDirs) rmSync(d, { recursive: true, force: true });
  },
);
