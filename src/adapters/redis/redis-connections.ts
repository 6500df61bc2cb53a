import { createRedisEventTarget } from '@graphql-yoga/redis-event-target';
import { Redis } from 'ioredis';

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
 */
export async function connectRedis(options: RedisOptions, readyTimeoutMs = 10_000): Promise<RedisConnections> {
  const common = { maxRetriesPerRequest: 2, connectTimeout: 5000, lazyConnect: false } as const;
  const publisher = new Redis(options.url, { ...common, connectionName: 'rdp-publisher' });
  const subscriber = new Redis(options.url, { ...common, enableReadyCheck: false, connectionName: 'rdp-subscriber' });
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
      await Promise.allSettled([publisher.quit(), subscriber.quit()]);
    },
  };
}

export function createEventTargetOn(redis: RedisConnections) {
  return createRedisEventTarget({ publishClient: redis.publisher, subscribeClient: redis.subscriber });
}
