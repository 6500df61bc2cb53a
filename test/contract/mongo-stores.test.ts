import { describe, expect, it } from 'vitest';
import { MongoClaimStore } from '../../src/adapters/mongo/mongo-claim-store.js';
import { MongoHostStore } from '../../src/adapters/mongo/mongo-host-store.js';
import { MongoAssignmentStore, MongoPoolStore } from '../../src/adapters/mongo/mongo-pool-store.js';
import { MongoServerStore } from '../../src/adapters/mongo/mongo-server-store.js';
import { MongoSessionStore } from '../../src/adapters/mongo/mongo-session-store.js';
import { useFreshDatabases } from '../support/fresh-databases.js';
import { need } from '../support/real-services.js';
import { claimStoreContract } from './claim-store.contract.js';
import { hostStoreContract } from './host-store.contract.js';
import { poolStoresContract } from './pool-store.contract.js';
import { aServer, serverStoreContract } from './server-store.contract.js';
import { sessionStoreContract } from './session-store.contract.js';

describe.skipIf(!need('mongo store contract', ['mongo']))('Mongo stores on a real MongoDB-wire database', () => {
  const { freshDb } = useFreshDatabases('contract', 60);

  poolStoresContract('MongoPoolStore + MongoAssignmentStore', async () => {
    const { db, cleanup } = freshDb();
    const pools = new MongoPoolStore(db);
    const assignments = new MongoAssignmentStore(db);
    await pools.ensureIndexes();
    await assignments.ensureIndexes();
    // Twice, as every restart does (FerretDB and existing indexes: mongo-database.ts, ensureIndexes).
    await pools.ensureIndexes();
    await assignments.ensureIndexes();
    return { pools, assignments, cleanup };
  });

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
      expect(names).toEqual(['_id_', 'by_creator', 'by_host', 'by_owner', 'by_pool', 'by_status', 'created_order']);
      const store = new MongoServerStore(db);
      expect(await store.count({})).toBe(0);
    } finally {
      await cleanup();
    }
  });

  it('MongoServerStore reads a record written before hosts existed (no hostId) as the local host’s, and filters it so', async () => {
    const { db, cleanup } = freshDb();
    try {
      const store = new MongoServerStore(db, { legacyHostId: 'edge-1' });
      await store.ensureIndexes();
      await store.insert(aServer({ id: 'srv-legacy', hostId: 'edge-1' }));
      await store.insert(aServer({ id: 'srv-other', hostId: 'edge-2' }));
      await store.insert(aServer({ id: 'srv-new-local', hostId: 'edge-1' }));
      await db.collection('servers').updateOne({ _id: 'srv-legacy' as never }, { $unset: { hostId: '' } });
      expect((await db.collection('servers').findOne({ _id: 'srv-legacy' as never }))?.hostId).toBeUndefined();
      expect((await store.findById('srv-legacy'))?.hostId).toBe('edge-1');
      expect((await store.list({ hostId: 'edge-1' }, 10)).items.map((s) => s.id)).toEqual(['srv-legacy', 'srv-new-local']);
      expect(await store.count({ hostId: 'edge-1' })).toBe(2);
      expect(await store.count({ hostId: 'edge-2' })).toBe(1);
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
      expect(names).toEqual(['_id_', 'by_account', 'by_deadline', 'by_owner', 'by_pool', 'by_server', 'created_order']);
    } finally {
      await cleanup();
    }
  });

  hostStoreContract('MongoHostStore', async () => {
    const { db, cleanup } = freshDb();
    const store = new MongoHostStore(db);
    await store.ensureIndexes();
    return { store, cleanup };
  });

  sessionStoreContract('MongoSessionStore', async () => {
    const { db, cleanup } = freshDb();
    const store = new MongoSessionStore(db);
    await store.ensureIndexes();
    return { store, cleanup };
  });
});
