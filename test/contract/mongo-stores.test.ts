import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoClaimStore } from '../../src/adapters/mongo/mongo-claim-store.js';
import { connectMongo, type MongoDatabase } from '../../src/adapters/mongo/mongo-database.js';
import { MongoServerStore } from '../../src/adapters/mongo/mongo-server-store.js';
import { MongoSessionStore } from '../../src/adapters/mongo/mongo-session-store.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';
import { claimStoreContract } from './claim-store.contract.js';
import { serverStoreContract } from './server-store.contract.js';
import { sessionStoreContract } from './session-store.contract.js';

describe.skipIf(!need('mongo store contract', ['mongo']))('Mongo stores on a real MongoDB-wire database', () => {
  let mongo: MongoDatabase;
  let databases = 0;

  beforeAll(async () => {
    mongo = await connectMongo({ uri: uniqueMongoUri(services.mongoUri ?? '', 'contract'), maxPoolSize: 60, minPoolSize: 0 });
  });

  afterAll(async () => {
    await mongo?.db.dropDatabase();
    await mongo?.close();
  });

  /** A fresh database per test (this file's unique name plus a counter), dropped when the test ends. */
  function freshDb() {
    databases += 1;
    const db = mongo.client.db(`${mongo.db.databaseName}_${databases}`);
    return { db, cleanup: async () => void (await db.dropDatabase()) };
  }

  serverStoreContract('MongoServerStore', async () => {
    const { db, cleanup } = freshDb();
    const store = new MongoServerStore(db);
    await store.ensureIndexes();
    return { store, cleanup };
  });

  it('MongoServerStore.ensureIndexes can run again on a database that has the indexes (every restart)', async () => {
    const { db, cleanup } = freshDb();
    try {
      await new MongoServerStore(db).ensureIndexes();
      await new MongoServerStore(db).ensureIndexes();
      const names = (await db.collection('servers').indexes()).map((i) => i.name).sort();
      expect(names).toEqual(['_id_', 'by_creator', 'by_owner', 'by_status', 'created_order']);
      const store = new MongoServerStore(db);
      expect(await store.count({})).toBe(0);
    } finally {
      await cleanup();
    }
  });

  it('MongoClaimStore.ensureIndexes can run again on a database that has the index', async () => {
    const { db, cleanup } = freshDb();
    try {
      await new MongoClaimStore(db).ensureIndexes();
      await new MongoClaimStore(db).ensureIndexes();
      const names = (await db.collection('claims').indexes()).map((i) => i.name).sort();
      expect(names).toEqual(['_id_', 'by_scope']);
    } finally {
      await cleanup();
    }
  });

  claimStoreContract('MongoClaimStore', async () => {
    const { db, cleanup } = freshDb();
    const store = new MongoClaimStore(db);
    await store.ensureIndexes();
    return { store, cleanup };
  });

  it('MongoSessionStore.ensureIndexes can run again on a database that has the indexes (every restart)', async () => {
    const { db, cleanup } = freshDb();
    try {
      await new MongoSessionStore(db).ensureIndexes();
      await new MongoSessionStore(db).ensureIndexes();
      const names = (await db.collection('sessions').indexes()).map((i) => i.name).sort();
      expect(names).toEqual(['_id_', 'by_account', 'by_deadline', 'by_owner', 'by_server', 'created_order']);
    } finally {
      await cleanup();
    }
  });

  sessionStoreContract('MongoSessionStore', async () => {
    const { db, cleanup } = freshDb();
    const store = new MongoSessionStore(db);
    await store.ensureIndexes();
    return { store, cleanup };
  });
});
