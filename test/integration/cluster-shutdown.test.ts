import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentCommandConsumer, createAgentCommandConsumer } from '../../src/adapters/redis/host-agent-consumer.js';
import type { Viewer } from '../../src/domain/auth/viewer.js';
import type { HostDescription } from '../../src/domain/cluster/host-messages.js';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { waitFor } from '../support/net.js';
import { type PrivateRedis, startPrivateRedis } from '../support/private-redis.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';

/**
 * A replica stopping while an agent holds one of its commands without answering (it took the
 * command, then hung or died): the shutdown must not wait for that command's 30 s result timeout.
 * CI once failed here when agents were SIGKILLed during a collection round (probe.measure).
 */
const ready = need('cluster-shutdown', ['mongo']);

describe.runIf(ready)('a replica stops while an agent sits on its command', () => {
  let redis: PrivateRedis;
  let app: TestApp | undefined;
  let agent: AgentCommandConsumer | undefined;
  let beat: NodeJS.Timeout | undefined;
  const stateDir = mkdtempSync(join(tmpdir(), 'rdp-cluster-shutdown-'));
  const taken: string[] = [];
  const held: Array<() => void> = [];

  const description: HostDescription = {
    hostId: 'hung',
    name: 'hung',
    labels: {},
    agentVersion: 'test',
    rdpAddress: '127.0.0.1',
    portRange: { from: 45100, to: 45104 },
    capacity: { maxServers: 5, cpuCount: 1, memoryMb: 1024 },
    heartbeatIntervalSeconds: 1,
  };

  beforeAll(async () => {
    redis = await startPrivateRedis();
    agent = createAgentCommandConsumer({
      redis: redis.url,
      hostId: 'hung',
      stateDir,
      blockMs: 200,
      // Takes every command (the consumer answers command.accepted) and never finishes one.
      handle: (command) => {
        taken.push(command.type);
        return new Promise((resolve) => held.push(() => resolve({})));
      },
    });
    await agent.start();
    app = await startTestApp({
      MONGODB_URI: uniqueMongoUri(services.mongoUri as string, 'cluster-shutdown'),
      REDIS_URL: redis.url,
      RDP_HOSTS: 'agents',
      HOST_HEARTBEAT_INTERVAL: '1',
      METRICS_INTERVAL: '1',
    });
    const at = () => new Date().toISOString();
    await agent.events.publish('agent.hello', { host: description, inventory: { instances: [] }, at: at() });
    beat = setInterval(
      () =>
        void agent?.events.publish('agent.heartbeat', {
          host: description,
          usage: { cpuPercent: 1, memoryPercent: 1 },
          at: at(),
        }),
      500,
    );
  }, 60_000);

  afterAll(async () => {
    clearInterval(beat);
    await app?.stop().catch(() => undefined);
    // The agent's stop waits for the commands it runs: let them end now.
    for (const release of held.splice(0)) release();
    await agent?.stop().catch(() => undefined);
    await redis?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('a measurement the agent never answers is given up after one collection interval: the next round asks again', async () => {
    // METRICS_INTERVAL is 1 s; without the bound the first probe would wait out the 30 s result timeout.
    await waitFor(async () => taken.filter((t) => t === 'probe.measure').length >= 3, 15_000, 'three probe.measure rounds');
  }, 30_000);

  it("the start-up clean-up the agent sits on (accounts.listOwn) holds none of the host's heartbeats up: it stays ONLINE", async () => {
    expect(taken).toContain('accounts.listOwn');
    const hosts = (app as TestApp).app.container.hosts;
    const admin: Viewer = { userId: 'adam', username: 'adam', roles: ['admin'], permissions: [] };
    // Past 3 heartbeat intervals (1 s) since the hello: behind an awaited clean-up the host went OFFLINE.
    const until = Date.now() + 4_000;
    while (Date.now() < until) {
      const host = await hosts.get(admin, 'hung');
      expect(hosts.statusOf(host)).toBe('ONLINE');
      await new Promise((r) => setTimeout(r, 250));
    }
  }, 30_000);

  it('stop() ends every shutdown step in its time: the command it waits on fails instead', async () => {
    // The host's collector sends probe.measure each round; the agent takes it and sits on it.
    await waitFor(async () => taken.includes('probe.measure'), 15_000, 'a probe.measure taken by the agent');
    const t = app as TestApp;
    app = undefined;
    // It throws "shutdown steps timed out: …" when a step overruns its bound.
    await expect(t.stop()).resolves.toBeUndefined();
  }, 60_000);
});
