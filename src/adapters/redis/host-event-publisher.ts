import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import {
  EVENT_STREAM_MAXLEN,
  entryIdTime,
  eventEntryFields,
  eventStreamKey,
  parseHostId,
} from '../../domain/cluster/host-protocol.js';
import { closeRedis, type HostRedisConnection, openHostRedis } from './host-redis.js';

export interface AgentEventPublisher {
  /** XADD to the host's event stream; resolves with the entry id. Fails at once while Redis is away. */
  publish(type: string, payload: unknown): Promise<string>;
  /**
   * The agent's estimate of Redis's clock (ms since the epoch): Redis time as last seen (TIME or
   * the id of an XADD) plus the monotonic time since. Deadlines are judged by it, so the agent's
   * own wall clock does not matter.
   */
  redisNow(): number;
  /** Asks Redis for its time (TIME) and resets the estimate. */
  syncClock(): Promise<void>;
  /** Closes the connection if the publisher opened it. */
  close(): Promise<void>;
}

export interface AgentEventPublisherOptions {
  hostId: string;
  /** An open ioredis client (the caller owns it), or where to connect (the publisher owns that connection). */
  redis: Redis | HostRedisConnection;
  /**
   * Approximate cap of the event stream (`XADD ... MAXLEN ~ N`).
   * @default EVENT_STREAM_MAXLEN (10,000)
   */
  maxLen?: number;
}

function isClient(r: Redis | HostRedisConnection): r is Redis {
  return typeof r === 'object' && typeof (r as Redis).call === 'function';
}

/** The agent's writer of `rdp:host:<hostId>:events`. */
export function createAgentEventPublisher(options: AgentEventPublisherOptions): AgentEventPublisher {
  const hostId = parseHostId(options.hostId);
  const key = eventStreamKey(hostId);
  const maxLen = options.maxLen ?? EVENT_STREAM_MAXLEN;
  if (!Number.isSafeInteger(maxLen) || maxLen < 1) throw new RangeError('maxLen must be a positive integer');
  const owned = !isClient(options.redis);
  const redis = isClient(options.redis) ? options.redis : openHostRedis(options.redis, `rdp-agent-${hostId}-events`, 'writer');
  // Redis time minus monotonic time; null until first seen.
  let offset: number | null = null;
  const observe = (redisMs: number) => {
    if (Number.isFinite(redisMs)) offset = redisMs - performance.now();
  };
  return {
    async publish(type, payload) {
      const id = String(await redis.call('XADD', key, 'MAXLEN', '~', maxLen, '*', ...eventEntryFields(type, payload)));
      observe(entryIdTime(id));
      return id;
    },
    redisNow() {
      return offset === null ? Date.now() : performance.now() + offset;
    },
    async syncClock() {
      const [sec, usec] = (await redis.call('TIME')) as [string, string];
      observe(Number(sec) * 1000 + Math.floor(Number(usec) / 1000));
    },
    async close() {
      if (owned) await closeRedis(redis);
    },
  };
}
