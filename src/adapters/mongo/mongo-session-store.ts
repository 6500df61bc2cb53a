import type { Collection, Db, Document, Filter } from 'mongodb';
import type { RdpSession, SessionStatus } from '../../domain/sessions/session.js';
import type { SessionFilter, SessionStore } from '../../domain/sessions/session-store.js';
import type { Cursor } from '../../domain/shared/page.js';
import { GroupCommit, type Settled } from './group-commit.js';
import { countByStatus, keysetPage } from './keyset-page.js';
import { bulkWriteErrors, ensureIndexes, isPoolClearedError } from './mongo-database.js';
import { VersionedWrites } from './versioned-writes.js';

const DATE_FIELDS = [
  'createdAt',
  'connectedAt',
  'lastActivityAt',
  'terminatedAt',
  'idleDeadline',
  'sessionDeadline',
  'credentialExpiresAt',
  'credentialDeadline',
] as const;
type DateField = (typeof DATE_FIELDS)[number];

type SessionDoc = Omit<RdpSession, 'id' | DateField> & { _id: string } & { [K in DateField]: Date | null };

function toDoc(s: RdpSession): SessionDoc {
  const { id, ...rest } = s;
  const doc = { _id: id, ...rest } as unknown as Record<string, unknown>;
  for (const f of DATE_FIELDS) {
    const v = s[f];
    doc[f] = v === null ? null : new Date(v);
  }
  return doc as unknown as SessionDoc;
}

function fromDoc(d: SessionDoc): RdpSession {
  const { _id, ...rest } = d;
  const s = { id: _id, ...rest } as unknown as Record<string, unknown>;
  for (const f of DATE_FIELDS) {
    const v = d[f];
    s[f] = v instanceof Date ? v.toISOString() : null;
  }
  return s as unknown as RdpSession;
}

const LIVE: SessionStatus[] = ['ACTIVE', 'DISCONNECTED'];

function toFilter(f: SessionFilter): Filter<SessionDoc> {
  const and: Filter<SessionDoc>[] = [];
  if (f.serverId !== undefined) and.push({ serverId: f.serverId });
  if (f.poolId !== undefined) and.push({ poolId: f.poolId });
  if (f.userId !== undefined) and.push({ owner: f.userId });
  if (f.status !== undefined) and.push({ status: f.status });
  if (f.statuses !== undefined) and.push({ status: { $in: [...f.statuses] } });
  if (f.visibleTo !== undefined) and.push({ $or: [{ owner: f.visibleTo }, { createdBy: f.visibleTo }] });
  return and.length === 0 ? {} : and.length === 1 ? (and[0] as Filter<SessionDoc>) : { $and: and };
}

/** Sessions one insertMany carries at most. */
const MAX_INSERT_BATCH = 500;

/**
 * The outcome of each document of an unordered insertMany that failed: the documents it names
 * failed (with `ownDuplicates`, a duplicate of its own new id is a repeat that met the first
 * attempt, landed); a call that failed as a whole stored none that we know of.
 */
function settleInsert(count: number, err: unknown, ownDuplicates: boolean): Settled<void>[] {
  const writeErrors = bulkWriteErrors(err);
  if (!writeErrors) return Array.from({ length: count }, () => ({ ok: false, error: err }));
  const failed = new Set(writeErrors.filter((e) => !(ownDuplicates && e.code === 11000)).map((e) => e.index));
  return Array.from({ length: count }, (_, i) => (failed.has(i) ? { ok: false, error: err } : { ok: true, value: undefined }));
}

/**
 * Sessions on the official driver; writes are compare-and-set through VersionedWrites. Inserts
 * are group-committed: while one insertMany is in flight the new sessions that arrive wait and go
 * in the next one together (a burst's 100 admissions are a few writes, not 100); alone, a session
 * is written at once, and each insert resolves only when its own document is stored.
 */
export class MongoSessionStore implements SessionStore {
  private readonly col: Collection<SessionDoc>;
  private readonly writes: VersionedWrites<SessionDoc>;
  private readonly inserts = new GroupCommit<SessionDoc, void>(async (docs) => {
    try {
      await this.col.insertMany(docs, { ordered: false });
      return docs.map(() => ({ ok: true, value: undefined }));
    } catch (err) {
      if (!isPoolClearedError(err)) return settleInsert(docs.length, err, false);
      // Cut off by a cleared pool: write again, and a duplicate of a new id is our first write.
      await new Promise((r) => setTimeout(r, 100));
      try {
        await this.col.insertMany(docs, { ordered: false });
        return docs.map(() => ({ ok: true, value: undefined }));
      } catch (again) {
        return settleInsert(docs.length, again, true);
      }
    }
  }, MAX_INSERT_BATCH);

  constructor(db: Db) {
    this.col = db.collection<SessionDoc>('sessions');
    this.writes = new VersionedWrites(db, this.col, 'session_revisions');
  }

  async ensureIndexes(): Promise<void> {
    await ensureIndexes(this.col, [
      { key: { createdAt: 1, _id: 1 }, name: 'created_order' },
      { key: { serverId: 1, status: 1 }, name: 'by_server' },
      { key: { poolId: 1, status: 1 }, name: 'by_pool' },
      { key: { owner: 1, status: 1 }, name: 'by_owner' },
      { key: { status: 1, sessionDeadline: 1 }, name: 'by_deadline' },
      { key: { serverId: 1, username: 1 }, name: 'by_account' },
    ]);
    await this.writes.ensureIndexes();
  }

  insert(session: RdpSession): Promise<void> {
    return this.inserts.submit(toDoc(session));
  }

  async findById(id: string): Promise<RdpSession | null> {
    const d = await this.col.findOne({ _id: id });
    return d ? fromDoc(d) : null;
  }

  async findByIds(ids: readonly string[]): Promise<RdpSession[]> {
    if (ids.length === 0) return [];
    return (await this.col.find({ _id: { $in: [...ids] } }, { batchSize: ids.length + 1 }).toArray()).map(fromDoc);
  }

  compareAndSet(next: RdpSession, expectedVersion: number): Promise<boolean> {
    return this.writes.compareAndSet(toDoc(next), expectedVersion);
  }

  async list(filter: SessionFilter, first: number, after?: Cursor): Promise<{ items: RdpSession[]; hasNextPage: boolean }> {
    const { docs, hasNextPage } = await keysetPage(this.col, toFilter(filter), first, after);
    return { items: docs.map(fromDoc), hasNextPage };
  }

  async count(filter: SessionFilter): Promise<number> {
    return this.col.countDocuments(toFilter(filter));
  }

  countByStatus(): Promise<Partial<Record<SessionStatus, number>>> {
    return countByStatus<SessionStatus>(this.col as unknown as Collection<Document>);
  }

  async findDue(now: string, limit: number): Promise<RdpSession[]> {
    const at = new Date(now);
    const docs = await this.col
      .find({
        status: { $in: LIVE },
        $or: [{ sessionDeadline: { $lte: at } }, { idleDeadline: { $lte: at } }, { credentialDeadline: { $lte: at } }],
      })
      .limit(limit)
      .toArray();
    return docs.map(fromDoc);
  }

  async findByServerIds(serverIds: readonly string[], statuses: readonly SessionStatus[]): Promise<RdpSession[]> {
    if (serverIds.length === 0) return [];
    const docs = await this.col
      // One round trip for a page of servers (the default first batch is 101 documents).
      .find({ serverId: { $in: [...serverIds] }, status: { $in: [...statuses] } }, { batchSize: 10_000 })
      .sort({ createdAt: 1, _id: 1 })
      .toArray();
    return docs.map(fromDoc);
  }

  async findLiveByAccount(serverId: string, username: string): Promise<RdpSession | null> {
    const d = await this.col.findOne({ serverId, username, status: { $in: LIVE } });
    return d ? fromDoc(d) : null;
  }
}
