import { type Collection, type Db, type Document, type IndexDescription, MongoClient } from 'mongodb';

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
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Connects with bounded timeouts so a dead database fails requests in seconds, not 30 s. */
export async function connectMongo(options: MongoOptions): Promise<MongoDatabase> {
  const client = new MongoClient(options.uri, {
    maxPoolSize: options.maxPoolSize,
    minPoolSize: options.minPoolSize,
    serverSelectionTimeoutMS: 5000,
    connectTimeoutMS: 5000,
    appName: 'rdp-services-cluster',
    monitorCommands: options.monitorCommands ?? false,
  });
  await client.connect();
  const db = client.db();
  return {
    client,
    db,
    ping: async () => {
      await db.command({ ping: 1 });
    },
    close: () => client.close(),
  };
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
