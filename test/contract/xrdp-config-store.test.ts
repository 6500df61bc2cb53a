import { afterAll, beforeAll, describe } from 'vitest';
import { MemoryXrdpConfigStore } from '../../src/adapters/memory/memory-xrdp-config-store.js';
import { connectMongo, type MongoDatabase } from '../../src/adapters/mongo/mongo-database.js';
import { MongoXrdpConfigStore } from '../../src/adapters/mongo/mongo-xrdp-config-store.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';
import { xrdpConfigStoreContract } from './xrdp-config-store.contract.js';

xrdpConfigStoreContract('MemoryXrdpConfigStore', async () => ({
  store: new MemoryXrdpConfigStore(),
  cleanup: async () => {},
}));

describe.skipIf(!need('xrdp config store contract', ['mongo']))('MongoXrdpConfigStore on a real MongoDB-wire database', () => {
  let mongo: MongoDatabase;
  let databases = 0;

  beforeAll(async () => {
    mongo = await connectMongo({ uri: uniqueMongoUri(services.mongoUri ?? '', 'xrdpcfg'), maxPoolSize: 30, minPoolSize: 0 });
  });

  afterAll(async () => {
    await mongo?.close();
  });

  xrdpConfigStoreContract('MongoXrdpConfigStore', async () => {
    databases += 1;
    const db = mongo.client.db(`${mongo.db.databaseName}_${databases}`);
    return { store: new MongoXrdpConfigStore(db), cleanup: async () => void (await db.dropDatabase()) };
  });
});
