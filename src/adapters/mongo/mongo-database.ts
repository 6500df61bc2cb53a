import {
  type Collection,
  type Db,
  type Document,
  type IndexDescription,
  MongoBulkWriteError,
  MongoClient,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerClosedError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';

export interface MongoOptions {
  uri: string;
  maxPoolSize: number;
  minPoolSize: number;
  /** Emit command events (round-trip counting in benchmarks and tests). @default false */
  monitorCommands?: boolean;
}

export interface MongoDatabase {
  client: MongoClient;
  db: Db;
  /** Fails at once while the driver's monitor cannot reach the server, else round-trips a ping. */
  ping(): Promise<void>;
  /** False while the last heartbeat of every known server failed (the database is down or cut off). */
  isReachable(): boolean;
  /** True once the database answered and the indexes were made. */
  isReady(): boolean;
  /** Resolves when isReady() turns true; never rejects. */
  ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * Bounds that make a dead or unreachable database fail requests within 5 s instead of 30: a new
 * operation waits at most 1.5 s for a server; the monitor checks every 0.5 s and gives a silent
 * server 1 s (a partition, not a refusal), then interrupts the operations stuck on its
 * connections, which fail after at most one retry's server selection. While the monitor finds no
 * server, the stores fail at once (see unavailable-guard.ts). Measured on FerretDB behind a fault
 * proxy (test/integration/faults.test.ts): refused about 2 s, partitioned about 3.5 s.
 */
const CLIENT_TIMEOUTS = {
  serverSelectionTimeoutMS: 1500,
  connectTimeoutMS: 1000,
  heartbeatFrequencyMS: 500,
} as const;

/** Heartbeats in a row that must fail before the stores fail fast (see wrap). */
const UNREACHABLE_AFTER_FAILURES = 2;

function createClient(options: MongoOptions): MongoClient {
  return new MongoClient(options.uri, {
    maxPoolSize: options.maxPoolSize,
    minPoolSize: options.minPoolSize,
    ...CLIENT_TIMEOUTS,
    appName: 'rdp-services-cluster',
    monitorCommands: options.monitorCommands ?? false,
  });
}

function wrap(client: MongoClient, ready: Promise<void>, isReady: () => boolean, stop: () => void): MongoDatabase {
  const db = client.db();
  // Failed heartbeats in a row, per server, so one member of a replica set being down does not
  // count as the database down. One failure is not enough: a heartbeat answered late because this
  // process's event loop was busy (a burst of requests on a loaded core, bench P3) is not an
  // outage. The driver retries what the failure interrupted; a real outage fails the next
  // heartbeat too, half a second later, well within the 5 s bound.
  const failedInARow = new Map<string, number>();
  client.on('serverHeartbeatFailed', (e) => failedInARow.set(e.connectionId, (failedInARow.get(e.connectionId) ?? 0) + 1));
  client.on('serverHeartbeatSucceeded', (e) => failedInARow.set(e.connectionId, 0));
  client.on('serverClosed', (e) => failedInARow.delete(e.address));
  const isReachable = () => failedInARow.size === 0 || [...failedInARow.values()].some((n) => n < UNREACHABLE_AFTER_FAILURES);
  return {
    client,
    db,
    isReachable,
    ping: async () => {
      if (!isReachable()) throw new Error('database unreachable');
      await db.command({ ping: 1 });
    },
    isReady,
    ready,
    close: async () => {
      stop();
      // Closing ends server sessions, which waits for a server; an unreachable one gets 3 s.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        client.close(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, 3000);
        }),
      ]).finally(() => clearTimeout(timer));
    },
  };
}

/** Connects with the bounded timeouts; fails when the database does not answer (tools, tests). */
export async function connectMongo(options: MongoOptions): Promise<MongoDatabase> {
  const client = createClient(options);
  await client.connect();
  return wrap(
    client,
    Promise.resolve(),
    () => true,
    () => undefined,
  );
}

export interface OpenMongoOptions extends MongoOptions {
  /** Runs once the database answers, before it counts as ready (indexes); retried until it succeeds. */
  prepare?: (db: Db) => Promise<void>;
  /** Told about each failed attempt. */
  onRetry?: (err: unknown, attempt: number) => void;
  /** Longest wait between attempts. @default 1000 */
  maxRetryDelayMs?: number;
}

/**
 * Returns at once, usable before the database is reachable: operations fail fast (masked as
 * SERVICE_UNAVAILABLE) until it is, and the driver reconnects by itself after an outage. In the
 * background it pings and runs `prepare` until both succeed, then `ready` resolves. So the service
 * starts serving with readiness false and becomes ready when the database appears.
 */
export function openMongo(options: OpenMongoOptions): MongoDatabase {
  const client = createClient(options);
  let readyFlag = false;
  let stopped = false;
  let wake: (() => void) | undefined;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const db = client.db();
  void (async () => {
    for (let attempt = 1; !stopped; attempt++) {
      try {
        // After a failed first connection the driver's topology stays closed: connect again.
        await client.connect();
        await db.command({ ping: 1 });
        await options.prepare?.(db);
        readyFlag = true;
        markReady();
        return;
      } catch (err) {
        if (stopped) return;
        options.onRetry?.(err, attempt);
        const delay = Math.min(options.maxRetryDelayMs ?? 1000, 100 * 2 ** Math.min(attempt, 5));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  })();
  return wrap(
    client,
    ready,
    () => readyFlag,
    () => {
      stopped = true;
      wake?.();
    },
  );
}

/**
 * True for the driver's "cannot reach the database" errors (the request may be retried later):
 * network errors (timeouts and pools cleared by the monitor included), no server selectable, and
 * a client that is closed or not connected yet.
 */
export function isMongoUnavailableError(err: unknown): boolean {
  return (
    err instanceof MongoNetworkError ||
    err instanceof MongoServerSelectionError ||
    err instanceof MongoTopologyClosedError ||
    err instanceof MongoNotConnectedError ||
    err instanceof MongoServerClosedError
  );
}

/**
 * True when the driver cut an operation because a heartbeat failed and it cleared the pool, not
 * because the server answered: the write may or may not have landed.
 */
export function isPoolClearedError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { name } = err as { name?: unknown };
  if (name === 'PoolClearedOnNetworkError' || name === 'MongoPoolClearedError') return true;
  // Bulk writes (insertMany) wrap it in a MongoBulkWriteError that keeps only the labels.
  const labelled = err as { hasErrorLabel?: (label: string) => boolean };
  return typeof labelled.hasErrorLabel === 'function' && labelled.hasErrorLabel('PoolRequestedRetry');
}

/**
 * The per-document failures of a failed insertMany, or null when the whole call failed (a driver
 * or network error wrapped as MongoBulkWriteError with no write errors): then nothing is known to
 * be stored and the caller must treat every document as not written.
 */
export function bulkWriteErrors(err: unknown): { index: number; code: number }[] | null {
  if (!(err instanceof MongoBulkWriteError)) return null;
  const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
  const known = errors.filter((e) => e !== undefined && e !== null);
  if (known.length === 0 || err.result?.getWriteConcernError?.()) return null;
  return known.map((e) => ({ index: e.index, code: typeof e.code === 'number' ? e.code : Number(e.code) }));
}

/**
 * Runs a write once more when the pool was cleared under it. The monitor clears the pool (and
 * cuts the operations on it) when a single heartbeat is late, as on a loaded host (bench P3), and
 * a standalone server such as FerretDB has no retryable writes, so the driver does not repeat
 * the write itself. Only for writes whose repeat recognises its own landed first attempt (inserts
 * with their own id or nonce, deletes); a database that is really gone fails the repeat too.
 */
export async function retryIfCleared<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!isPoolClearedError(err)) throw err;
    await new Promise((r) => setTimeout(r, 100));
    return write();
  }
}

/** True for a unique-index violation (E11000), the signal that a claim was lost. */
export function isDuplicateKeyError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && (err as { code: unknown }).code === 11000;
}

/**
 * Creates indexes one command each. FerretDB 1.24.2 drops the connection (a server-side panic,
 * "slice bounds out of range [:3:2]") when one createIndexes names several indexes that already
 * exist, which is every start after the first.
 */
export async function ensureIndexes<T extends Document>(col: Collection<T>, specs: IndexDescription[]): Promise<void> {
  for (const spec of specs) await col.createIndexes([spec]);
}
