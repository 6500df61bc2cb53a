import { describe } from 'vitest';
import { MemoryAlertStore } from '../../src/adapters/memory/memory-alert-store.js';
import { MemoryLimitsStore } from '../../src/adapters/memory/memory-limits-store.js';
import { MemorySampleStore } from '../../src/adapters/memory/memory-sample-store.js';
import { MongoAlertStore } from '../../src/adapters/mongo/mongo-alert-store.js';
import { MongoLimitsStore } from '../../src/adapters/mongo/mongo-limits-store.js';
import { MongoSampleStore } from '../../src/adapters/mongo/mongo-sample-store.js';
import { useFreshDatabases } from '../support/fresh-databases.js';
import { need } from '../support/real-services.js';
import { alertStoreContract, limitsStoreContract, sampleStoreContract } from './resource-stores.contract.js';

const noop = async () => {};

describe('resource stores in memory', () => {
  sampleStoreContract('MemorySampleStore', async () => ({ store: new MemorySampleStore(), cleanup: noop }));
  alertStoreContract('MemoryAlertStore', async () => ({ store: new MemoryAlertStore(), cleanup: noop }));
  limitsStoreContract('MemoryLimitsStore', async () => ({ store: new MemoryLimitsStore(), cleanup: noop }));
});

describe.skipIf(!need('resource store contract', ['mongo']))('resource stores on a real MongoDB-wire database', () => {
  const { freshDb } = useFreshDatabases('resources', 40);

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
