import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHostEventConsumer } from '../../src/adapters/redis/host-event-consumer.js';
import { createAgentEventPublisher } from '../../src/adapters/redis/host-event-publisher.js';
import type { Viewer } from '../../src/domain/auth/viewer.js';
import type { HostDescription } from '../../src/domain/cluster/host-messages.js';
import type { HostEvent } from '../../src/domain/cluster/host-protocol.js';
import { startTestApp } from '../support/app-harness.js';
import { waitFor } from '../support/net.js';
import { type PrivateRedis, startPrivateRedis } from '../support/private-redis.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';

const HEARTBEAT = 'agent.heartbeat';

describe('heartbeats in a host event backlog (private Redis)', () => {
  let redis: PrivateRedis;

  beforeAll(async () => {
    redis = await startPrivateRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('a backlog of heartbeats among slow events: the others once and in order, the newest heartbeat early, fewer heartbeat writes', async () => {
    const publisher = createAgentEventPublisher({ hostId: 'busy', redis: redis.url });
    const others: string[] = [];
    const beats: string[] = [];
    const base = Date.now();
    for (let i = 0; i < 90; i++) {
      if (i % 3 === 0) {
        const at = new Date(base + i * 1000).toISOString();
        beats.push(at);
        await publisher.publish(HEARTBEAT, { host: {}, usage: { cpuPercent: i, memoryPercent: 1 }, at });
      } else {
        others.push(await publisher.publish(i % 3 === 1 ? 'session.activity' : 'xrdp.log', { i }));
      }
    }
    const applied: HostEvent[] = [];
    let lastHeartbeat: string | null = null;
    const consumer = createHostEventConsumer({
      redis: redis.url,
      replicaId: 'replica-hb',
      batch: 20,
      handle: async (_hostId, event) => {
        applied.push(event);
        if (event.type === HEARTBEAT) lastHeartbeat = (event.payload as { at: string }).at;
        else await new Promise((r) => setTimeout(r, 5)); // a slow event (a database write)
      },
    });
    try {
      await consumer.addHost('busy');
      consumer.start();
      await waitFor(async () => (await consumer.info())[0]?.pending === 0 && applied.length >= 60, 10_000, 'the backlog');
      const appliedOthers = applied.filter((e) => e.type !== HEARTBEAT).map((e) => e.entryId);
      expect(appliedOthers).toEqual(others);
      expect(lastHeartbeat).toBe(beats.at(-1));
      const writes = applied.filter((e) => e.type === HEARTBEAT);
      // 90 entries read 20 at a time: one heartbeat applied per read, 5 instead of 30.
      expect(writes).toHaveLength(5);
      expect(writes.length).toBeLessThan(beats.length);
      // Each is the newest of its read, applied before that read's slower events.
      expect(applied[0]?.type).toBe(HEARTBEAT);
      const ats = writes.map((e) => (e.payload as { at: string }).at);
      expect(ats).toEqual([...ats].sort());
      expect(await consumer.info()).toEqual([{ hostId: 'busy', lag: 0, pending: 0, lastDeliveredId: expect.any(String) }]);
    } finally {
      await consumer.stop();
      await publisher.close();
    }
  });

  it('a heartbeat is not applied ahead of a hello or bye of its host', async () => {
    const publisher = createAgentEventPublisher({ hostId: 'restart', redis: redis.url });
    const beat = (at: string) => publisher.publish(HEARTBEAT, { host: {}, usage: { cpuPercent: 1, memoryPercent: 1 }, at });
    const logA = await publisher.publish('xrdp.log', { n: 'a' });
    await beat('2026-01-01T00:00:01.000Z');
    const bye = await publisher.publish('agent.bye', { at: '2026-01-01T00:00:02.000Z' });
    const hello = await publisher.publish('agent.hello', { at: '2026-01-01T00:00:03.000Z' });
    const logB = await publisher.publish('xrdp.log', { n: 'b' });
    const hb2 = await beat('2026-01-01T00:00:04.000Z');
    const logC = await publisher.publish('xrdp.log', { n: 'c' });
    const applied: string[] = [];
    const consumer = createHostEventConsumer({
      redis: redis.url,
      replicaId: 'replica-hb',
      handle: async (_hostId, event) => {
        applied.push(event.entryId);
      },
    });
    try {
      await consumer.addHost('restart');
      consumer.start();
      await waitFor(async () => applied.length === 6 && (await consumer.info())[0]?.pending === 0, 10_000, 'the backlog');
      // The first heartbeat superseded (acknowledged, not applied); the second right after the hello.
      expect(applied).toEqual([logA, bye, hello, hb2, logB, logC]);
      expect(await consumer.info()).toEqual([{ hostId: 'restart', lag: 0, pending: 0, lastDeliveredId: logC }]);
    } finally {
      await consumer.stop();
      await publisher.close();
    }
  });

  it('a failing heartbeat stays pending with the ones it supersedes, and is applied on the retry', async () => {
    const publisher = createAgentEventPublisher({ hostId: 'flaky', redis: redis.url });
    const beat = (at: string) => publisher.publish(HEARTBEAT, { host: {}, usage: { cpuPercent: 1, memoryPercent: 1 }, at });
    await beat('2026-01-01T00:00:01.000Z');
    const log = await publisher.publish('xrdp.log', { n: 'a' });
    const hb2 = await beat('2026-01-01T00:00:02.000Z');
    let failures = 1;
    const applied: string[] = [];
    const consumer = createHostEventConsumer({
      redis: redis.url,
      replicaId: 'replica-hb',
      claimIdleMs: 300,
      handle: async (_hostId, event) => {
        if (event.type === HEARTBEAT && failures-- > 0) throw new Error('FerretDB blinked');
        applied.push(event.entryId);
      },
    });
    try {
      await consumer.addHost('flaky');
      consumer.start();
      await waitFor(async () => applied.length === 2 && (await consumer.info())[0]?.pending === 0, 10_000, 'the retry');
      expect(applied).toEqual([hb2, log]);
    } finally {
      await consumer.stop();
      await publisher.close();
    }
  });
});

describe.runIf(need('host-streams-heartbeats', ['mongo']))(
  'a replica catching up on a host backlog (FerretDB, private Redis)',
  () => {
    it("the host's heartbeat is the newest, with the newest load, and every entry acknowledged", async () => {
      const redis = await startPrivateRedis();
      const publisher = createAgentEventPublisher({ hostId: 'backlog', redis: redis.url });
      const description: HostDescription = {
        hostId: 'backlog',
        name: 'backlog',
        labels: {},
        agentVersion: 'test',
        rdpAddress: '127.0.0.1',
        portRange: { from: 45200, to: 45204 },
        capacity: { maxServers: 5, cpuCount: 1, memoryMb: 1024 },
        heartbeatIntervalSeconds: 10,
      };
      const mongoUri = uniqueMongoUri(services.mongoUri as string, 'hb-backlog');
      const env = { MONGODB_URI: mongoUri, REDIS_URL: redis.url, RDP_HOSTS: 'agents', HOST_HEARTBEAT_INTERVAL: '10' };
      const admin: Viewer = { userId: 'adam', username: 'adam', roles: ['admin'], permissions: [] };
      let app: Awaited<ReturnType<typeof startTestApp>> | undefined;
      try {
        // The host registers (its hello counts as a heartbeat at the time it is applied), then no replica runs.
        app = await startTestApp(env);
        await publisher.publish('agent.hello', { host: description, inventory: { instances: [] }, at: new Date().toISOString() });
        const registered = app.app.container.hosts;
        await waitFor(async () => (await registered.get(admin, 'backlog').catch(() => null)) !== null, 20_000, 'the hello');
        const before = (await registered.get(admin, 'backlog')).version;
        await app.stop();
        app = undefined;
        const group = async () => {
          const groups = (await redis.admin.xinfo('GROUPS', 'rdp:host:backlog:events')) as unknown[][];
          const fields = groups.map((g) => Object.fromEntries(g.flatMap((v, i) => (i % 2 ? [] : [[String(v), g[i + 1]]]))));
          return fields.find((g) => g.name === 'api');
        };
        // The backlog the next replica finds: 150 heartbeats (each of its own millisecond), each
        // followed by another event of the host.
        let newest = '';
        for (let i = 1; i <= 150; i++) {
          while (new Date().toISOString() <= newest) await new Promise((r) => setTimeout(r, 1));
          newest = new Date().toISOString();
          await publisher.publish('agent.heartbeat', {
            host: description,
            usage: { cpuPercent: i % 100, memoryPercent: 1 },
            at: newest,
          });
          await publisher.publish('session.activity', { reports: [], measuredAt: newest });
        }
        expect(await group()).toMatchObject({ pending: 0, lag: 300 });
        app = await startTestApp(env);
        const hosts = app.app.container.hosts;
        await waitFor(async () => (await group())?.lag === 0 && (await group())?.pending === 0, 20_000, 'the backlog');
        const host = await hosts.get(admin, 'backlog');
        expect(host.lastHeartbeatAt).toBe(newest);
        expect(hosts.statusOf(host)).toBe('ONLINE');
        expect(host.usage).toEqual({ cpuPercent: 50, memoryPercent: 1, at: newest });
        // Each write bumps the version: one heartbeat written per read (100 entries), not 150.
        expect(host.version - before).toBeLessThanOrEqual(10);
      } finally {
        await app?.stop().catch(() => undefined);
        await publisher.close();
        await redis.stop();
      }
    }, 60_000);
  },
);
