import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RateDecision, RateLimiter, RateRule } from '../../domain/shared/rate-limiter.js';

/**
 * The token bucket as one Lua script, so concurrent replicas take tokens atomically. Time comes
 * from Redis (TIME), so replica clocks do not matter. Returns {allowed, retryAfter, remaining}.
 */
const SCRIPT = `
local key = KEYS[1]
local cost = tonumber(ARGV[1])
local rate = tonumber(ARGV[2]) / 60000
local burst = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local s = redis.call('HMGET', key, 'tokens', 'at')
local tokens = burst
if s[1] then tokens = math.min(burst, tonumber(s[1]) + (now - tonumber(s[2])) * rate) end
local allowed = 0
local retry = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
elseif cost > burst then
  retry = 60
else
  retry = math.max(1, math.ceil((cost - tokens) / rate / 1000))
end
redis.call('HSET', key, 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', key, math.ceil(burst / rate) + 1000)
return {allowed, retry, math.floor(tokens)}
`;

/** The script's id in Redis's script cache: EVALSHA sends 40 bytes instead of the script each time. */
const SHA = createHash('sha1').update(SCRIPT).digest('hex');

const isNoScript = (err: unknown) => err instanceof Error && err.message.startsWith('NOSCRIPT');

export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'rl:',
  ) {}

  async consume(key: string, cost: number, rule: RateRule): Promise<RateDecision> {
    const args = [1, `${this.prefix}${key}`, cost, rule.ratePerMinute, rule.burst] as const;
    // By its id; the first call after a restart or SCRIPT FLUSH of Redis loads it with EVAL.
    const reply = await this.redis.evalsha(SHA, ...args).catch((err: unknown) => {
      if (!isNoScript(err)) throw err;
      return this.redis.eval(SCRIPT, ...args);
    });
    const [allowed, retry, remaining] = reply as [number, number, number];
    return { allowed: allowed === 1, retryAfterSeconds: retry, remaining };
  }
}
