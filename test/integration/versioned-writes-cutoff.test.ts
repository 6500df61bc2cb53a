import type { Collection, Document } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo, type MongoDatabase } from '../../src/adapters/mongo/mongo-database.js';
import { VersionedWrites } from '../../src/adapters/mongo/versioned-writes.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';

interface Doc extends Document {
  _id: string;
  version: number;
  status: string;
}

/** What the driver throws for an operation cut off because a late heartbeat cleared the pool. */
function poolCleared(): Error {
  const err = new Error('Connection pool was cleared because another operation failed with a network error');
  err.name = 'PoolClearedOnNetworkError';
  return err;
}

/**
 * The collection as the driver behaves on a loaded host: the first replaceOne is cut off by a
 * cleared pool after it was sent, and the server runs it late, just before the repeat.
 */
function cutOffOnce(col: Collection<Doc>): { col: Collection<Doc>; cut: () => number } {
  let late: (() => Promise<unknown>) | null = null;
  let cuts = 0;
  const proxy = new Proxy(col, {
    get(target, prop, receiver) {
      if (prop !== 'replaceOne') return Reflect.get(target, prop, receiver);
      return async (...args: Parameters<Collection<Doc>['replaceOne']>) => {
        if (cuts === 0) {
          cuts++;
          late = () => target.replaceOne(...args);
          throw poolCleared();
        }
        if (late) {
          const first = late;
          late = null;
          await first();
        }
        return target.replaceOne(...args);
      };
    },
  });
  return { col: proxy, cut: () => cuts };
}

const ready = need('versioned writes on FerretDB', ['mongo']);

describe.skipIf(!ready)('VersionedWrites: a replace cut off by a cleared pool that lands late', () => {
  let mongo: MongoDatabase;

  beforeAll(async () => {
    mongo = await connectMongo({ uri: uniqueMongoUri(services.mongoUri ?? '', 'vwcut'), maxPoolSize: 2, minPoolSize: 0 });
  });
  afterAll(async () => {
    await mongo?.db.dropDatabase();
    await mongo?.close();
  });

  it('counts as written: the repeat matches nothing, but the new version is ours (we hold its claim)', async () => {
    const real = mongo.db.collection<Doc>('docs');
    await real.insertOne({ _id: 's1', version: 1, status: 'ACTIVE' });
    const { col, cut } = cutOffOnce(real);
    const writes = new VersionedWrites<Doc>(mongo.db, col, 'doc_revisions');
    await writes.ensureIndexes();

    expect(await writes.compareAndSet({ _id: 's1', version: 2, status: 'TERMINATED' }, 1)).toBe(true);
    expect(cut()).toBe(1);
    expect(await real.findOne({ _id: 's1' })).toEqual({ _id: 's1', version: 2, status: 'TERMINATED' });
    // A writer that read version 1 still loses.
    expect(await writes.compareAndSet({ _id: 's1', version: 2, status: 'ACTIVE' }, 1)).toBe(false);
  });

  it('a write that did not land is still refused when another writer moved the document on', async () => {
    const real = mongo.db.collection<Doc>('docs');
    await real.insertOne({ _id: 's2', version: 5, status: 'TERMINATED' });
    const { col } = cutOffOnce(real);
    const writes = new VersionedWrites<Doc>(mongo.db, col, 'doc_revisions');
    // A stale read (version 3): the claim of version 4 is free, the replace matches nothing.
    expect(await writes.compareAndSet({ _id: 's2', version: 4, status: 'ACTIVE' }, 3)).toBe(false);
    expect(await real.findOne({ _id: 's2' })).toEqual({ _id: 's2', version: 5, status: 'TERMINATED' });
  });
});
