import { Redis } from 'ioredis';
import { createRedisEventTarget, type RedisEventTarget } from './redis-event-target.js';

export interface RedisConnections {
  publisher: Redis;
  subscriber: Redis;
  /** Both connections are up right now. */
  isReady(): boolean;
  /**
   * Settles once both connections have been up at the same time (at once when Redis was there at
   * start, later when it appears); never settles for a Redis that never answers.
   */
  ready: Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface RedisOptions {
  url: string;
  /** Called for every connection error; a Redis without error listeners crashes the process. */
  onError?: (err: Error, connection: 'publisher' | 'subscriber') => void;
  /**
   * How long start-up waits for the first connection attempts to succeed or fail. Refused
   * connections fail at once; this bounds a Redis that accepts and never answers.
   * @default 1000
   */
  startWaitMs?: number;
}

/** Until `client` is ready or its first connection attempt failed, at most `ms`. */
function firstOutcome(client: Redis, ms: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      client.off('ready', done);
      client.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    client.on('ready', done);
    // Emitted after every failed attempt, before ioredis schedules the next one.
    client.on('close', done);
  });
}

/**
 * Two connections: one publishes, one only subscribes. The subscriber skips the ready check
 * (ioredis issue 2037: a SUBSCRIBE sent during it breaks the connection and loses events).
 *
 * Start-up does not wait for Redis: it returns after the first connection attempts, up or not.
 * ioredis keeps reconnecting after a failed first attempt (its retryStrategy, up to 2 s apart),
 * so a Redis that appears later is picked up without a restart. While Redis is down nothing waits
 * for it: without an offline queue a command fails at once instead of queueing (queued publishes
 * were rejected later, unhandled, and crashed the process), and a command sent into a silent
 * connection fails after `commandTimeout`. Callers fall back (the rate limiter) or drop
 * (publishes); the event target subscribes itself again on each connection.
 */
export async function connectRedis(options: RedisOptions): Promise<RedisConnections> {
  const common = {
    maxRetriesPerRequest: 2,
    connectTimeout: 5000,
    lazyConnect: false,
    enableOfflineQueue: false,
    // ioredis arms this (not unref'd) on disconnect and clears it only on a socket 'close' that a
    // never-connected or already-closed socket does not emit again: keep it short so it cannot
    // hold the process after shutdown.
    disconnectTimeout: 200,
  } as const;
  // Auto-pipelining: the commands of one event-loop turn (a burst's rate limits and publishes) go
  // out in one socket write instead of one each.
  const publisher = new Redis(options.url, {
    ...common,
    commandTimeout: 1000,
    connectionName: 'rdp-publisher',
    enableAutoPipelining: true,
  });
  const subscriber = new Redis(options.url, {
    ...common,
    enableReadyCheck: false,
    autoResubscribe: false,
    connectionName: 'rdp-subscriber',
  });
  publisher.on('error', (err: Error) => options.onError?.(err, 'publisher'));
  subscriber.on('error', (err: Error) => options.onError?.(err, 'subscriber'));
  const isReady = () => publisher.status === 'ready' && subscriber.status === 'ready';
  const ready = new Promise<void>((resolve) => {
    const check = () => {
      if (!isReady()) return;
      publisher.off('ready', check);
      subscriber.off('ready', check);
      resolve();
    };
    publisher.on('ready', check);
    subscriber.on('ready', check);
    check();
  });
  const startWaitMs = options.startWaitMs ?? 1000;
  await Promise.all([firstOutcome(publisher, startWaitMs), firstOutcome(subscriber, startWaitMs)]);
  return {
    publisher,
    subscriber,
    isReady,
    ready,
    ping: async () => {
      await publisher.ping();
    },
    close: async () => {
      // QUIT waits for replies; a Redis that is down or silent gets 1 s, then the sockets close.
      // disconnect() also cancels a pending reconnection attempt.
      const quit = (client: Redis) =>
        Promise.race([client.quit().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1000).unref())]).then(
          () => client.status !== 'end' && client.disconnect(),
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
