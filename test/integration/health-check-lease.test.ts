import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { type PrivateRedis, startPrivateRedis } from '../support/private-redis.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';

/**
 * With agents, any replica can reach every server, so the health rounds take a lease: one replica
 * checks the fleet per interval instead of every replica checking every server. When the holder
 * stops, another takes over within two intervals.
 */
const ready = need('health-check lease', ['mongo']);

describe.runIf(ready)('health checks with agents: one replica per round', { timeout: 60_000 }, () => {
  let redis: PrivateRedis;
  const apps: TestApp[] = [];
  const rounds = [0, 0];

  beforeAll(async () => {
    redis = await startPrivateRedis();
    const env = {
      MONGODB_URI: uniqueMongoUri(services.mongoUri as string, 'health_lease'),
      REDIS_URL: redis.url,
      RDP_HOSTS: 'agents',
      HEALTH_CHECK_INTERVAL: '1',
    };
    for (const i of [0, 1]) {
      const t = await startTestApp(env);
      const servers = t.app.container.servers;
      const check = servers.checkHealth.bind(servers);
      servers.checkHealth = async () => {
        rounds[i] = (rounds[i] ?? 0) + 1;
        return check();
      };
      apps.push(t);
    }
  }, 60_000);

  afterAll(async () => {
    for (const t of apps.splice(0)) await t.stop().catch(() => undefined);
    await redis?.stop();
  });

  it('two replicas share the rounds: one checks, the other does not; the other takes over when it stops', async () => {
    await new Promise((r) => setTimeout(r, 5_000));
    const [a, b] = rounds as [number, number];
    // About 5 rounds in all, by one replica (without the lease: about 5 by each).
    expect(a + b).toBeGreaterThanOrEqual(3);
    expect(Math.min(a, b)).toBeLessThanOrEqual(1);
    const holder = a >= b ? 0 : 1;
    const other = 1 - holder;
    const before = rounds[other] as number;
    await (apps[holder] as TestApp).stop();
    await new Promise((r) => setTimeout(r, 4_000));
    expect((rounds[other] as number) - before).toBeGreaterThanOrEqual(2);
  });
});
