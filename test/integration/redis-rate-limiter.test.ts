import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisRateLimiter } from '../../src/adapters/redis/redis-rate-limiter.js';
import { type PrivateRedis, startPrivateRedis } from '../support/private-redis.js';
import { need } from '../support/real-services.js';

describe.skipIf(!need('the Redis token bucket', ['redis']))('RedisRateLimiter on a Redis of its own', () => {
  let redis: PrivateRedis;
  let client: Redis;

  beforeAll(async () => {
    redis = await startPrivateRedis();
    client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    client.disconnect();
    await redis.stop();
  });

  it('takes tokens by the script id, loading the script when Redis does not know it (start, SCRIPT FLUSH)', async () => {
    const limiter = new RedisRateLimiter(client);
    const rule = { ratePerMinute: 1, burst: 3 };
    // A fresh Redis knows no scripts: the first call goes by EVAL.
    expect(await limiter.consume('a', 1, rule)).toMatchObject({ allowed: true, remaining: 2 });
    expect(await limiter.consume('a', 1, rule)).toMatchObject({ allowed: true, remaining: 1 });
    await redis.admin.script('FLUSH');
    expect(await limiter.consume('a', 1, rule)).toMatchObject({ allowed: true, remaining: 0 });
    const refused = await limiter.consume('a', 1, rule);
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterSeconds).toBeGreaterThan(0);
    // The script travelled twice (at start and after the flush); the other two calls ran by its id.
    const stats = await redis.admin.info('commandstats');
    const stat = (name: string, field: string) =>
      Number(new RegExp(`cmdstat_${name}:.*\\b${field}=(\\d+)`).exec(stats)?.[1] ?? Number.NaN);
    expect(stat('eval', 'calls')).toBe(2);
    expect(stat('evalsha', 'calls') - stat('evalsha', 'failed_calls')).toBe(2);
  });
});
