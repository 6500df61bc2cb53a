/**
 * P3's limit: the MongoDB commands one admission round sent (counted by the instances' command
 * monitoring), issued straight to FerretDB with the driver: as many inserts of one document with
 * a unique key (a unique index, as the admission's claims have), finds by key, updates and
 * deletes by key, all at once from as many concurrent callers as the round had, over two clients
 * with the instances' pool sizes (two instances). No GraphQL, no services, no Redis.
 */
import { MongoClient } from 'mongodb';
import { serveRpc } from '../lib/rpc-child.js';

export interface MongoLimitParams {
  uri: string;
  /** Commands per round by name (insert, find, update, delete; aggregate counts as find). */
  commands: Record<string, number>;
  callers: number;
  rounds: number;
  maxPoolSize: number;
  minPoolSize: number;
}

export interface MongoLimitRound {
  ms: number;
  commands: number;
}

async function run(p: MongoLimitParams): Promise<MongoLimitRound[]> {
  const clients = [0, 1].map(
    () => new MongoClient(p.uri, { maxPoolSize: p.maxPoolSize, minPoolSize: p.minPoolSize, appName: 'bench-p3-limit' }),
  );
  try {
    await Promise.all(clients.map((c) => c.connect()));
    const collections = clients.map((c) => c.db().collection<{ _id: string; key: string; n: number }>('p3_limit'));
    const [first] = collections;
    if (!first) throw new Error('no client');
    await first.createIndex({ key: 1 }, { unique: true });
    const count = (name: string) => p.commands[name] ?? 0;
    const reads = count('find') + count('aggregate') + count('count') + count('countDocuments');
    const rounds: MongoLimitRound[] = [];
    for (let round = 0; round < p.rounds; round++) {
      const tag = `${Date.now().toString(36)}-${round}`;
      // The round's work as tasks: inserts first (claims and sessions), then reads and writes of those keys.
      const tasks: ((i: number) => Promise<unknown>)[] = [];
      const inserts = count('insert');
      for (let i = 0; i < inserts; i++)
        tasks.push((c) => collections[c % 2]?.insertOne({ _id: `${tag}-${i}`, key: `${tag}-${i}`, n: i }) ?? Promise.resolve());
      for (let i = 0; i < reads; i++)
        tasks.push((c) => collections[c % 2]?.findOne({ key: `${tag}-${i % Math.max(1, inserts)}` }) ?? Promise.resolve());
      for (let i = 0; i < count('update') + count('findAndModify'); i++)
        tasks.push(
          (c) =>
            collections[c % 2]?.updateOne({ key: `${tag}-${i % Math.max(1, inserts)}` }, { $inc: { n: 1 } }) ?? Promise.resolve(),
        );
      for (let i = 0; i < count('delete'); i++)
        tasks.push((c) => collections[c % 2]?.deleteOne({ key: `${tag}-x${i}` }) ?? Promise.resolve());
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: Math.min(p.callers, tasks.length) }, async (_, caller) => {
          for (let t = next++; t < tasks.length; t = next++) await tasks[t]?.(caller);
        }),
      );
      rounds.push({ ms: performance.now() - started, commands: tasks.length });
    }
    await first.drop().catch(() => undefined);
    return rounds;
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}

serveRpc({ run: (p) => run(p as MongoLimitParams) });
