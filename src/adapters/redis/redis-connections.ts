import { Redis } from 'ioredis';
import { createRedisEventTarget, type RedisEventTarget } from './redis-event-target.js';

export interface RedisConnections {
  publisher: Redis;
  subscriber: Redis;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface RedisOptions {
  url: string;
  /** Called for every connection error; a Redis without error listeners crashes the process. */
  onError?: (err: Error, connection: 'publisher' | 'subscriber') => void;
}

function waitReady(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const cleanup = () => {
      clearTimeout(timer);
      client.off('ready', onReady);
    };
    client.on('ready', onReady);
  });
}

/**
 * Two connections: one publishes, one only subscribes. The subscriber skips the ready check
 * (ioredis issue 2037: a SUBSCRIBE sent during it breaks the connection and loses events).
 *
 * While Redis is down nothing waits for it: without an offline queue a command fails at once
 * instead of queueing (queued publishes were rejected later, unhandled, and crashed the process),
 * and a command sent into a silent connection fails after `commandTimeout`. Callers fall back (the
 * rate limiter) or drop (publishes); the event target re-subscribes itself on reconnection.
 */
export async function connectRedis(options: RedisOptions, readyTimeoutMs = 10_000): Promise<RedisConnections> {
  const common = { maxRetriesPerRequest: 2, connectTimeout: 5000, lazyConnect: false, enableOfflineQueue: false } as const;
  const publisher = new Redis(options.url, { ...common, commandTimeout: 1000, connectionName: 'rdp-publisher' });
  const subscriber = new Redis(options.url, {
    ...common,
    enableReadyCheck: false,
    autoResubscribe: false,
    connectionName: 'rdp-subscriber',
  });
  publisher.on('error', (err: Error) => options.onError?.(err, 'publisher'));
  subscriber.on('error', (err: Error) => options.onError?.(err, 'subscriber'));
  try {
    await Promise.all([waitReady(publisher, readyTimeoutMs), waitReady(subscriber, readyTimeoutMs)]);
  } catch (err) {
    publisher.disconnect();
    subscriber.disconnect();
    throw err;
  }
  return {
    publisher,
    subscriber,
    ping: async () => {
      await publisher.ping();
    },
    close: async () => {
      // QUIT waits for replies; a Redis that is down or silent gets 1 s, then the sockets close.
      const quit = (client: Redis) =>
        Promise.race([client.quit().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1000).unref())]).then(
          () => client.disconnect(),
        );
      await Promise.all([quit(publisher), quit(subscriber)]);
    },
  };
}

export function createEventTargetOn(
  redis: RedisConnections,
  onError?: (err: unknown, what: 'publish' | 'subscribe') => void,
): RedisEventTarget {
  return createRedisEventTarget({ publisher: redis.publisher, subscriber: redis.subscriber, ...(onError ? { onError } : {}) });
}
