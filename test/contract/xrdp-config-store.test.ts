import { describe } from 'vitest';
import { MemoryXrdpConfigStore } from '../../src/adapters/memory/memory-xrdp-config-store.js';
import { MongoXrdpConfigStore } from '../../src/adapters/mongo/mongo-xrdp-config-store.js';
import { useFreshDatabases } from '../support/fresh-databases.js';
import { need } from '../support/real-services.js';
import { xrdpConfigStoreContract } from './xrdp-config-store.contract.js';

xrdpConfigStoreContract('MemoryXrdpConfigStore', async () => ({
  store: new MemoryXrdpConfigStore(),
  cleanup: async () => {},
}));

describe.skipIf(!need('xrdp config store contract', ['mongo']))('MongoXrdpConfigStore on a real MongoDB-wire database', () => {
  const { freshDb } = useFreshDatabases('xrdpcfg', 30);

  xrdpConfigStoreContract('MongoXrdpConfigStore', async () => {
    const { db, cleanup } = freshDb();
    return { store: new MongoXrdpConfigStore(db), cleanup };
  });
});
