import { afterAll, beforeAll, describe } from 'vitest';
import { MemoryAlertStore } from '../../src/adapters/memory/memory-alert-store.js';
import { MemoryLimitsStore } from '../../src/adapters/memory/memory-limits-store.js';
import { MemorySampleStore } from '../../src/adapters/memory/memory-sample-store.js';
import { MongoAlertStore } from '../../src/adapters/mongo/mongo-alert-store.js';
import { connectMongo, type MongoDatabase } from '../../src/adapters/mongo/mongo-database.js';
import { MongoLimitsStore } from '../../src/adapters/mongo/mongo-limits-store.js';
import { MongoSampleStore } from '../../src/adapters/mongo/mongo-sample-store.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';
import { alertStoreContract, limitsStoreContract, sampleStoreContract } from './resource-stores.contract.js';

const noop = async () => {};

describe('resource stores in memory', () => {
  sampleStoreContract('MemorySampleStore', async () => ({ store: new MemorySampleStore(), cleanup: noop }));
  alertStoreContract('MemoryAlertStore', async () => ({ store: new MemoryAlertStore(), cleanup: noop }));
  limitsStoreContract('MemoryLimitsStore', async () => ({ store: new MemoryLimitsStore(), cleanup: noop }));
});

describe.skipIf(!need('resource store contract', ['mongo']))('resource stores on a real MongoDB-wire database', () => {
  let mongo: MongoDatabase;
  let databases = 0;

  beforeAll(async () => {
    mongo = await connectMongo({ uri: uniqueMongoUri(services.mongoUri ?? '', 'resources'), maxPoolSize: 40, minPoolSize: 0 });
  });
  afterAll(async () => {
    await mongo?.close();
  });

  function freshDb() {
    databases += 1;
    const db = mongo.client.db(`${mongo.db.databaseName}_${databases}`);
    return { db, cleanup: async () => void (await db.dropDatabase()) };
  }

  sampleStoreContract('MongoSampleStore', async () => {
    const { db, cleanup } = freshDb();
    const store = new MongoSampleStore(db);
    await store.ensureIndexes();
    await store.ensureIndexes();
    return { store, cleanup };
  });
  alertStoreContract('MongoAlertStore', async () => {
    const { db, cleanup } = freshDb();
    const store = new MongoAlertStore(db);
    await store.ensureIndexes();
    return { store, cleanup };
  });
  limitsStoreContract('MongoLimitsStore', async () => {
    const { db, cleanup } = freshDb();
    return { store: new MongoLimitsStore(db), cleanup };
  });
});
