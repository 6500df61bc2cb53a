import { Redis, type RedisOptions } from 'ioredis';
import type { EntryFields } from '../../domain/cluster/host-protocol.js';

/** Where and as whom to connect: a redis:// URL (user and password in it) or ioredis options. */
export type HostRedisConnection = string | RedisOptions;

/** A log line from the stream transport; wire it to pino. */
export type HostStreamLog = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

export const noLog: HostStreamLog = () => {};

/**
 * One connection for the stream transport. A blocking reader gets its own (a blocked connection
 * queues everything behind it). No ready check: it needs INFO, which an agent's ACL user lacks.
 * While Redis is away a command waits in the offline queue until it fails after two reconnection
 * attempts (a fraction of a second) or after 5 s (writers' commandTimeout); a reader's
 * unanswered XREAD is not resent after a reconnect (the loop issues a fresh one, and learns the
 * new connection's CLIENT ID).
 */
export function openHostRedis(connection: HostRedisConnection, name: string, role: 'reader' | 'writer'): Redis {
  const base: RedisOptions = {
    connectionName: name,
    enableReadyCheck: false,
    maxRetriesPerRequest: 2,
    connectTimeout: 5000,
    disconnectTimeout: 200,
    ...(role === 'writer' ? { commandTimeout: 5000 } : {}),
  };
  const own: RedisOptions = role === 'reader' ? { autoResendUnfulfilledCommands: false } : {};
  const client =
    typeof connection === 'string' ? new Redis(connection, { ...base, ...own }) : new Redis({ ...base, ...connection, ...own });
  // Without a listener ioredis prints every reconnection error; the loops report what matters.
  client.on('error', () => {});
  return client;
}

/** Resolves once `client` is connected (or at once if it is); rejects after `ms`. */
export function whenReady(client: Redis, ms = 5000): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', ok);
      reject(new Error(`Redis did not answer within ${ms} ms`));
    }, ms);
    const ok = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', ok);
  });
}

/** QUIT with a short bound, then drop the socket (also cancels a pending reconnection). */
export async function closeRedis(client: Redis): Promise<void> {
  await Promise.race([client.quit().catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
  if (client.status !== 'end') client.disconnect();
}

export type StreamEntry = { id: string; fields: EntryFields | null };

/**
 * An XREAD / XREADGROUP reply as [key, entries][]. `fields` is null for a pending entry that was
 * trimmed or deleted since it was delivered.
 */
export function parseStreamsReply(reply: unknown): Array<{ key: string; entries: StreamEntry[] }> {
  if (!Array.isArray(reply)) return [];
  const out: Array<{ key: string; entries: StreamEntry[] }> = [];
  for (const stream of reply) {
    if (!Array.isArray(stream) || typeof stream[0] !== 'string' || !Array.isArray(stream[1])) continue;
    out.push({ key: stream[0], entries: parseEntries(stream[1]) });
  }
  return out;
}

export function parseEntries(list: unknown[]): StreamEntry[] {
  const entries: StreamEntry[] = [];
  for (const e of list) {
    if (!Array.isArray(e) || typeof e[0] !== 'string') continue;
    const f = e[1];
    entries.push({ id: e[0], fields: Array.isArray(f) ? f.map(String) : null });
  }
  return entries;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The stream was deleted under a blocked read, or the group is gone: re-create it. */
export function isGroupGone(err: unknown): boolean {
  const m = errorMessage(err);
  return m.includes('NOGROUP') || m.includes('no longer exists');
}

/** XGROUP CREATE ... MKSTREAM; an existing group is fine. */
export async function ensureGroup(redis: Redis, key: string, group: string, startId: string): Promise<void> {
  try {
    await redis.call('XGROUP', 'CREATE', key, group, startId, 'MKSTREAM');
  } catch (err) {
    if (!errorMessage(err).includes('BUSYGROUP')) throw err;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Exponential backoff for a loop that lost Redis: 100 ms doubling to 2 s. */
export class Backoff {
  private ms = 0;
  next(): number {
    this.ms = this.ms === 0 ? 100 : Math.min(this.ms * 2, 2000);
    return this.ms;
  }
  reset(): void {
    this.ms = 0;
  }
}

/**
 * A blocking reader whose key set can change: `wake()` ends the current blocking read early with
 * CLIENT UNBLOCK, sent on another connection. Each read is tagged with the key-set generation it
 * was issued for; an UNBLOCK that arrives before the read reached Redis unblocks nothing, so it is
 * retried until a read of the current generation is under way.
 */
export class WakeableReader {
  private clientId: number | null = null;
  private blockedGeneration = -1;
  private generation = 0;
  private waking = false;

  constructor(
    readonly reader: Redis,
    private readonly control: Redis,
  ) {}

  /** Call after the key set changed. */
  changed(): void {
    this.generation++;
    void this.wake();
  }

  /** Runs one blocking read (the command and its arguments) for the key set of `currentGeneration`. */
  async read(args: (string | number)[]): Promise<unknown> {
    const generation = this.generation;
    if (this.clientId === null) this.clientId = Number(await this.reader.call('CLIENT', 'ID'));
    // The key set changed meanwhile: the caller rebuilds its arguments, as after a timeout.
    if (generation !== this.generation) return null;
    this.blockedGeneration = generation;
    try {
      return await this.reader.call(String(args[0]), ...args.slice(1));
    } catch (err) {
      // A new connection after an error has a new id.
      this.clientId = null;
      throw err;
    } finally {
      this.blockedGeneration = -1;
    }
  }

  get currentGeneration(): number {
    return this.generation;
  }

  private async wake(): Promise<void> {
    if (this.waking) return;
    this.waking = true;
    try {
      while (this.blockedGeneration !== -1 && this.blockedGeneration !== this.generation && this.clientId !== null) {
        await this.control.call('CLIENT', 'UNBLOCK', this.clientId).catch(() => 0);
        await sleep(1);
      }
    } finally {
      this.waking = false;
    }
  }
}
