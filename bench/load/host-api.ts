/**
 * P6's API-replica process: the command side (the real HostCommandClient, or the bare XADD → XREAD
 * loop that is its limit) timing round trips, sequential and in bursts of concurrent commands;
 * the event side (one createHostEventConsumer in the shared group, recording what it applied);
 * and the memory a stream entry costs.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createHostCommandClient } from '../../src/adapters/redis/host-command-client.js';
import { createHostEventConsumer, type HostEventConsumer } from '../../src/adapters/redis/host-event-consumer.js';
import { commandEntryFields, eventEntryFields } from '../../src/domain/cluster/host-protocol.js';
import { serveRpc } from '../lib/rpc-child.js';
import type { AgentMode } from '../targets/host-agent.js';

export interface RoundTripParams {
  mode: AgentMode;
  warmup: number;
  seconds: number;
  maxSamples: number;
  burstSize: number;
  /** Measured bursts, after one warm-up burst. */
  bursts: number;
}

export interface RoundTripResult {
  /** ms per sequential command. */
  sequential: number[];
  /** ms per burst of burstSize concurrent commands. */
  bursts: number[];
  /** Commands that failed (any error), with the first message. */
  failed: number;
  firstError: string | null;
}

const ACTOR = { userId: 'system', name: 'system' };
const now = () => performance.timeOrigin + performance.now();

type Entries = [string, [string, string[]][]][] | null;

/** The bare loop's API side: XADD a command, a reader following the answer stream with XREAD. */
function bareSender(url: string, commands: string, answers: string): { send: () => Promise<void>; close: () => Promise<void> } {
  const api = new Redis(url);
  const reader = new Redis(url);
  const waiting = new Map<string, () => void>();
  let running = true;
  const loop = (async () => {
    let cursor = '0-0';
    while (running) {
      const r = (await reader
        .call('XREAD', 'COUNT', 1000, 'BLOCK', 1000, 'STREAMS', answers, cursor)
        .catch(() => null)) as Entries;
      for (const [, entries] of r ?? []) {
        for (const [id, f] of entries) {
          cursor = id;
          const done = waiting.get(f[1] ?? '');
          waiting.delete(f[1] ?? '');
          done?.();
        }
      }
    }
  })();
  return {
    send: () =>
      new Promise<void>((resolve, reject) => {
        const id = randomUUID();
        waiting.set(id, resolve);
        api.call('XADD', commands, '*', 'id', id).catch(reject);
      }),
    async close() {
      running = false;
      reader.disconnect();
      await loop;
      await api.quit();
    },
  };
}

function realSender(url: string, hostId: string): { send: (i: number) => Promise<unknown>; close: () => Promise<void> } {
  const client = createHostCommandClient({ redis: url, replicaId: `bench-api-${process.pid}` });
  return {
    // ttl 30 s: a burst queues behind the agent's concurrency; the bench measures how fast it
    // drains, not whether the default 5 s deadline expires some.
    send: (i) => client.send(hostId, 'echo', i, { actor: ACTOR, ttlMs: 30_000 }),
    close: () => client.close(),
  };
}

let consumer: HostEventConsumer | null = null;
const applied = new Map<string, number>();
let lastAppliedAt = 0;

serveRpc({
  async roundTrips(params): Promise<RoundTripResult> {
    const p = params as RoundTripParams;
    const sender: { send: (i: number) => Promise<unknown>; close: () => Promise<void> } =
      p.mode.kind === 'bare' ? bareSender(p.mode.url, p.mode.commands, p.mode.answers) : realSender(p.mode.url, p.mode.hostId);
    let failed = 0;
    let firstError: string | null = null;
    const one = async (i: number) => {
      try {
        await sender.send(i);
      } catch (err) {
        failed++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
    };
    try {
      for (let i = 0; i < p.warmup; i++) await one(i);
      const sequential: number[] = [];
      const until = performance.now() + p.seconds * 1000;
      while (sequential.length < p.maxSamples && performance.now() < until) {
        const t0 = performance.now();
        await one(sequential.length);
        sequential.push(performance.now() - t0);
      }
      const bursts: number[] = [];
      for (let b = 0; b <= p.bursts; b++) {
        const t0 = performance.now();
        await Promise.all(Array.from({ length: p.burstSize }, (_, i) => one(i)));
        if (b > 0) bursts.push(performance.now() - t0);
      }
      return { sequential, bursts, failed, firstError };
    } finally {
      await sender.close();
    }
  },

  /** One replica of the `api` group over these hosts' event streams, created and registered, not yet reading. */
  async prepareConsumer(params) {
    const { url, hosts, replicaId } = params as { url: string; hosts: string[]; replicaId: string };
    if (consumer) throw new Error('a consumer is already prepared');
    consumer = createHostEventConsumer({
      redis: url,
      replicaId,
      // As the API wires it (src/app/wiring/cluster.ts); nothing is claimed within a run.
      claimIdleMs: 10_000,
      handle: async (hostId, event) => {
        const key = `${hostId} ${event.entryId}`;
        applied.set(key, (applied.get(key) ?? 0) + 1);
        lastAppliedAt = now();
      },
    });
    for (const h of hosts) await consumer.addHost(h);
    return null;
  },
  startConsumer() {
    if (!consumer) throw new Error('no consumer prepared');
    const at = now();
    consumer.start();
    return at;
  },
  progress() {
    let total = 0;
    for (const n of applied.values()) total += n;
    return { total, lastAppliedAt };
  },
  async stopConsumer() {
    await consumer?.stop();
    consumer = null;
    return [...applied];
  },

  /** MEMORY USAGE of 10,000 typical entries of each stream, at their default caps. */
  async streamMemory(params) {
    const { url, prefix } = params as { url: string; prefix: string };
    const redis = new Redis(url);
    const fill = async (key: string, fields: string[]) => {
      const p = redis.pipeline();
      for (let i = 0; i < 10_000; i++) p.call('XADD', key, '*', ...fields);
      await p.exec();
      const bytes = Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', 0));
      await redis.del(key);
      return bytes;
    };
    try {
      const command = commandEntryFields({
        id: randomUUID(),
        type: 'server.start',
        replica: 'api-7d9f8c-x2x9z',
        ttl: 5000,
        actor: { userId: 'u-123456', name: 'alice', ip: '10.0.0.7' },
        payload: { serverId: '65f0c1d2e3a4b5c6d7e8f901', port: 3391 },
      });
      const event = eventEntryFields('session.login', { serverId: '65f0c1d2e3a4b5c6d7e8f901', user: 'alice', display: 12 });
      return { command: await fill(`${prefix}:mem:commands`, command), event: await fill(`${prefix}:mem:events`, event) };
    } finally {
      redis.disconnect();
    }
  },
});
