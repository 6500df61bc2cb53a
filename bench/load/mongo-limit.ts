/**
 * P3's limit: the MongoDB commands one admission round sent (counted by the instances' command
 * monitoring), issued straight to FerretDB with the driver: as many inserts of one document with
 * a unique key (a unique index, as the admission's claims have), finds by key, updates and
 * deletes by key, all at once from as many concurrent callers as the round had, over two clients
 * with the instances' pool sizes (two instances). No GraphQL, no services, no Redis.
 *
 * With `shapes` (each command's collection, documents written and documents returned), every
 * insert writes as many documents as the admission's did (an insertMany of a round's claims or
 * audit events is one command of many documents) and every find returns as many, in a collection
 * of its own per admission collection, so both sides do the same database work.
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
  /** Each command of the round: name, collection, documents written, documents returned. */
  shapes?: CommandShape[];
}

export interface CommandShape {
  name: string;
  collection: string;
  written: number;
  read: number;
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
    if (p.shapes) return await runShaped(clients, p, p.shapes);
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

type LimitDoc = { _id: string; key: string; n: number; reads?: number };

/** The round's commands as the admission sent them: same collections, documents per command. */
async function runShaped(clients: MongoClient[], p: MongoLimitParams, shapes: CommandShape[]): Promise<MongoLimitRound[]> {
  const names = [...new Set(shapes.map((s) => s.collection))];
  const cols = clients.map((c) => new Map(names.map((n) => [n, c.db().collection<LimitDoc>(`limit_${n}`)])));
  const col = (caller: number, name: string) => cols[caller % 2]?.get(name);
  // What the finds read, seeded once: for each (collection, n) a find returns n documents of `reads: n`.
  const first = cols[0];
  if (!first) throw new Error('no client');
  for (const [name, c] of first) {
    await c.createIndex({ key: 1 }, { unique: true });
    await c.createIndex({ reads: 1 });
    const sizes = [...new Set(shapes.filter((s) => s.collection === name && s.read > 0).map((s) => s.read))];
    for (const n of sizes) {
      await c.insertMany(Array.from({ length: n }, (_, i) => ({ _id: `seed-${n}-${i}`, key: `seed-${n}-${i}`, n: i, reads: n })));
    }
  }
  const rounds: MongoLimitRound[] = [];
  for (let round = 0; round < p.rounds; round++) {
    const tag = `${Date.now().toString(36)}-${round}`;
    let key = 0;
    const doc = () => {
      const k = `${tag}-${key++}`;
      return { _id: k, key: k, n: key };
    };
    // Inserts first (claims, sessions, audit events), then the reads, updates and deletes.
    const order = (s: CommandShape) => (s.name === 'insert' ? 0 : 1);
    const tasks = [...shapes]
      .sort((x, y) => order(x) - order(y))
      .map((s): ((caller: number) => Promise<unknown>) => {
        if (s.name === 'insert') {
          const docs = Array.from({ length: Math.max(1, s.written) }, doc);
          return (c) => col(c, s.collection)?.insertMany(docs, { ordered: false }) ?? Promise.resolve();
        }
        if (s.name === 'update')
          return (c) => col(c, s.collection)?.updateOne({ key: `${tag}-0` }, { $inc: { n: 1 } }) ?? Promise.resolve();
        if (s.name === 'delete') return (c) => col(c, s.collection)?.deleteOne({ key: `${tag}-x` }) ?? Promise.resolve();
        // find, aggregate, count: a read returning as many documents as the admission's did.
        const reads = s.read > 0 ? s.read : -1;
        return (c) => col(c, s.collection)?.find({ reads }, { batchSize: 10_000 }).toArray() ?? Promise.resolve();
      });
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: Math.min(p.callers, tasks.length) }, async (_, caller) => {
        for (let t = next++; t < tasks.length; t = next++) await tasks[t]?.(caller);
      }),
    );
    rounds.push({ ms: performance.now() - started, commands: tasks.length });
  }
  for (const c of first.values()) await c.drop().catch(() => undefined);
  return rounds;
}

serveRpc({ run: (p) => run(p as MongoLimitParams) });
