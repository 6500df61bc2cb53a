import { describe, expect, it } from 'vitest';
import { MemoryAuditLog } from '../../src/adapters/memory/memory-audit-log.js';
import { MongoAuditLog } from '../../src/adapters/mongo/mongo-audit-log.js';
import { useFreshDatabases } from '../support/fresh-databases.js';
import { need } from '../support/real-services.js';
import { anEvent, auditLogContract } from './audit-log.contract.js';

auditLogContract('MemoryAuditLog', async () => ({ store: new MemoryAuditLog(), cleanup: async () => {} }));

it('MemoryAuditLog keeps only the newest maxEvents', async () => {
  const log = new MemoryAuditLog(3);
  for (let i = 0; i < 5; i++) await log.append(anEvent(i));
  expect((await log.list({}, 10)).items.map((e) => e.details.n)).toEqual([4, 3, 2]);
});

describe.skipIf(!need('audit log contract', ['mongo']))('MongoAuditLog on a real MongoDB-wire database', () => {
  const { freshDb } = useFreshDatabases('audit', 10);

  auditLogContract('MongoAuditLog', async () => {
    const { db, cleanup } = freshDb();
    const store = new MongoAuditLog(db);
    await store.ensureIndexes();
    return { store, cleanup };
  });

  it('an append of an event already stored (a retried insert) resolves; the rest of its batch is stored', async () => {
    const { db, cleanup } = freshDb();
    try {
      const store = new MongoAuditLog(db);
      await store.append(anEvent(1));
      await Promise.all([store.append(anEvent(0)), ...[1, 2, 3].map((n) => store.append(anEvent(n)))]);
      expect((await store.list({}, 10)).items.map((e) => e.details.n)).toEqual([3, 2, 1, 0]);
    } finally {
      await cleanup();
    }
  });

  it('ensureIndexes can run again on a database that has the indexes (every restart)', async () => {
    const { db, cleanup } = freshDb();
    try {
      await new MongoAuditLog(db).ensureIndexes();
      await new MongoAuditLog(db).ensureIndexes();
      const names = (await db.collection('audit_events').indexes()).map((i) => i.name).sort();
      expect(names).toEqual(['_id_', 'by_action', 'by_actor', 'by_target', 'newest_first']);
    } finally {
      await cleanup();
    }
  });
});
