import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createLogThrottle } from './log-throttle.js';
import type { Logger } from './logger.js';

/** The stores whose writes move a generation: what a cached answer may depend on. */
export const CACHED_KINDS = ['servers', 'sessions', 'pools', 'assignments'] as const;
export type CachedKind = (typeof CACHED_KINDS)[number];

/**
 * Per-store generation counters, the response cache's whole notion of "changed": every write to a
 * store moves its counter on before the write is acknowledged, and an answer is served from the
 * cache only under exactly the counters read at the start of that request.
 */
export interface Generations {
  /**
   * The current generations of these kinds as one string (with the epoch of the counters), read in
   * one round trip; null when they cannot be read now: the request then bypasses the cache.
   */
  read(kinds: readonly CachedKind[]): Promise<string | null>;
  /** Moves these counters on. Never rejects: a bump that fails is kept and retried, and reported. */
  bump(kinds: readonly CachedKind[]): Promise<void>;
  /** Called when answers cached on this replica may no longer be trusted: they are dropped. */
  onReset(listener: () => void): void;
}

/**
 * One process with in-memory stores (no MongoDB, no Redis): it is the only replica, so counters
 * in memory are exact.
 */
export function createLocalGenerations(): Generations {
  const counters = new Map<CachedKind, number>(CACHED_KINDS.map((k) => [k, 0]));
  return {
    read: async (kinds) => `local|${kinds.map((k) => counters.get(k)).join('|')}`,
    bump: async (kinds) => {
      for (const k of kinds) counters.set(k, (counters.get(k) ?? 0) + 1);
    },
    onReset: () => {},
  };
}

/** One Redis hash holds every counter and the epoch, so an eviction or a lost dataset drops them together. */
export const GENERATIONS_KEY = 'rdp:response-cache:generations';

export interface RedisGenerationsOptions {
  redis: Redis;
  logger: Logger;
  /** Counts bumps that could not reach Redis. */
  onBumpFailed?: () => void;
}

/** One `HINCRBY` per kind on the shared hash, in one round trip; rejects when any failed. */
async function incrementGenerations(redis: Redis, kinds: Iterable<CachedKind>): Promise<void> {
  const pipeline = redis.pipeline();
  for (const k of kinds) pipeline.hincrby(GENERATIONS_KEY, k, 1);
  const results = (await pipeline.exec()) ?? [];
  const failed = results.find(([err]) => err);
  if (failed?.[0]) throw failed[0];
}

/**
 * Moves every generation on, for a write that went past the stores (`npm run restore`): no
 * answer any replica cached before it is served after it. Rejects when Redis did not take it.
 */
export function moveAllGenerations(redis: Redis): Promise<void> {
  return incrementGenerations(redis, CACHED_KINDS);
}

/**
 * Counters shared by every replica in one Redis hash (`HINCRBY` per write, `HMGET` per cached
 * read). The hash carries a random `epoch`, part of every cache key: when Redis loses the hash
 * (a restart without persistence, an eviction), the counters start again under a new epoch and
 * no earlier answer can match. Answers cached on this replica are dropped whenever its connection
 * closes (a restart or an outage: writes during it could not bump) and when one of its own bumps
 * fails; until such a bump is retried successfully this replica serves no hit.
 */
export function createRedisGenerations(options: RedisGenerationsOptions): Generations {
  const { redis, logger } = options;
  const listeners: (() => void)[] = [];
  const pending = new Set<CachedKind>();
  const throttle = createLogThrottle();
  const reset = () => {
    for (const l of listeners) l();
  };
  redis.on('close', reset);
  const incr = (kinds: Iterable<CachedKind>) => incrementGenerations(redis, kinds);
  const flushPending = async (): Promise<boolean> => {
    if (pending.size === 0) return true;
    const kinds = [...pending];
    try {
      await incr(kinds);
      for (const k of kinds) pending.delete(k);
      return true;
    } catch {
      return false;
    }
  };
  redis.on('ready', () => void flushPending());
  return {
    async read(kinds) {
      if (redis.status !== 'ready') return null;
      try {
        if (!(await flushPending())) return null;
        const values = await redis.hmget(GENERATIONS_KEY, 'epoch', ...kinds);
        if (!values[0]) {
          // First use, or Redis lost the hash: a new epoch, then the next read can cache.
          await redis.hsetnx(GENERATIONS_KEY, 'epoch', randomUUID());
          return null;
        }
        return values.map((v) => v ?? '0').join('|');
      } catch {
        reset();
        return null;
      }
    },
    async bump(kinds) {
      try {
        await incr(kinds);
      } catch (err) {
        for (const k of kinds) pending.add(k);
        reset();
        options.onBumpFailed?.();
        const gate = throttle();
        if (gate.open) {
          logger.warn(
            { err: err instanceof Error ? err.message : String(err), kinds, suppressed: gate.suppressed },
            'a store write could not move the response cache generations in Redis; retried when Redis is back',
          );
        }
      }
    },
    onReset(listener) {
      listeners.push(listener);
    },
  };
}

/**
 * A store whose every method other than the named reads moves `kind`'s generation once it settles
 * (resolved or rejected: a write that failed may still have been applied), before its caller
 * sees the outcome. Methods not named as reads count as writes, so a new store method cannot
 * skip the bump by being forgotten here.
 */
export function bumpingOnWrite<T extends object>(
  store: T,
  kind: CachedKind,
  reads: readonly (keyof T & string)[],
  generations: Generations,
): T {
  const readOnly = new Set<string | symbol>(reads);
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || readOnly.has(prop)) return value;
      return async (...args: unknown[]) => {
        try {
          return await value.apply(target, args);
        } finally {
          await generations.bump([kind]);
        }
      };
    },
  });
}
