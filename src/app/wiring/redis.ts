import { MemoryRateLimiter } from '../../adapters/memory/memory-rate-limiter.js';
import { connectRedis, createEventTargetOn, type RedisConnections } from '../../adapters/redis/redis-connections.js';
import { RedisRateLimiter } from '../../adapters/redis/redis-rate-limiter.js';
import type { Config } from '../../config/config.js';
import type { Clock } from '../../domain/shared/clock.js';
import type { EventBus } from '../../domain/shared/event-publisher.js';
import type { RateLimiter } from '../../domain/shared/rate-limiter.js';
import { createLogThrottle } from '../log-throttle.js';
import type { Logger } from '../logger.js';
import { createEventBus } from '../pubsub.js';
import { createResilientRateLimiter } from '../resilient-rate-limiter.js';

/**
 * Connects Redis when configured. A Redis that is not there at start is treated like one that
 * went away while running: the service starts without it and ioredis connects in the background.
 */
export async function connectConfiguredRedis(config: Config, logger: Logger): Promise<RedisConnections | undefined> {
  if (!config.redis) {
    logger.info('REDIS_URL is not set: events reach this process only');
    return undefined;
  }
  const throttles = { publisher: createLogThrottle(), subscriber: createLogThrottle() };
  let starting = true;
  let startError: string | undefined;
  const connections = await connectRedis({
    url: config.redis.url,
    onError: (err, connection) => {
      // The start-up outcome is logged once below; the throttles then space the retries out.
      if (starting) {
        startError ??= err.message;
        throttles[connection]();
        return;
      }
      const gate = throttles[connection]();
      if (gate.open) logger.warn({ err: err.message, connection, suppressed: gate.suppressed }, 'redis connection error');
    },
  });
  starting = false;
  if (!connections.isReady()) {
    logger.warn(
      { err: startError ?? 'no answer yet' },
      'Redis is not reachable: serving with readiness false, events dropped and rate limits per replica until it is; connecting in the background',
    );
    void connections.ready.then(() => logger.info('Redis is reachable: events and rate limits go through it'));
  }
  return connections;
}

/** Events across replicas through Redis pub/sub, or within this process. */
export function createBus(redis: RedisConnections | undefined, logger: Logger): EventBus {
  if (!redis) return createEventBus();
  const publishFailures = createLogThrottle();
  // Until Redis first answers, the start-up warning has said that events are dropped.
  let reachedOnce = redis.isReady();
  void redis.ready.then(() => {
    reachedOnce = true;
  });
  return createEventBus(
    createEventTargetOn(redis, (err, what) => {
      if (!reachedOnce) return;
      const gate = publishFailures();
      if (gate.open) {
        logger.warn(
          { err: err instanceof Error ? err.message : String(err), what, suppressed: gate.suppressed },
          'an event could not go through Redis; live views resync when it is back',
        );
      }
    }),
  );
}

/** Rate limits shared through Redis, falling back to this replica's buckets while it is away. */
export function createRateLimiter(redis: RedisConnections | undefined, logger: Logger, clock: Clock): RateLimiter {
  const local = new MemoryRateLimiter(clock);
  if (!redis) return local;
  let lastFallbackLog = 0;
  return createResilientRateLimiter(new RedisRateLimiter(redis.publisher), local, (err) => {
    if (Date.now() - lastFallbackLog > 10_000) {
      lastFallbackLog = Date.now();
      logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'rate limits fall back to this replica');
    }
  });
}
