import type { Collection, Db, Filter } from 'mongodb';
import type { AuditActor, AuditDetails, AuditEvent, AuditResult, AuditTarget } from '../../domain/audit/audit-event.js';
import type { AuditFilter, AuditLog } from '../../domain/audit/audit-log.js';
import type { Cursor } from '../../domain/shared/page.js';
import { GroupCommit, type Settled } from './group-commit.js';
import { bulkWriteErrors, ensureIndexes, retryIfCleared } from './mongo-database.js';

interface AuditEventDoc {
  _id: string;
  time: Date;
  actor: AuditActor;
  action: string;
  target: AuditTarget | null;
  result: AuditResult;
  details: AuditDetails;
}

function toDoc(e: AuditEvent): AuditEventDoc {
  return {
    _id: e.id,
    time: new Date(e.time),
    actor: e.actor,
    action: e.action,
    target: e.target,
    result: e.result,
    details: e.details,
  };
}

/**
 * After a failed unordered insertMany: the events it names failed, except duplicates of their own
 * id (ids are unique per event, so that is a retried insert that had landed); the rest are stored.
 * A call that failed as a whole (no per-document errors) stored none that we know of.
 */
function settleInsert(count: number, err: unknown): Settled<void>[] {
  const writeErrors = bulkWriteErrors(err);
  if (!writeErrors) return Array.from({ length: count }, () => ({ ok: false, error: err }));
  const failed = new Set(writeErrors.filter((e) => e.code !== 11000).map((e) => e.index));
  return Array.from({ length: count }, (_, i) => (failed.has(i) ? { ok: false, error: err } : { ok: true, value: undefined }));
}

function fromDoc(d: AuditEventDoc): AuditEvent {
  return {
    id: d._id,
    time: d.time.toISOString(),
    actor: { userId: d.actor?.userId ?? null, name: d.actor?.name ?? null, ip: d.actor?.ip ?? null },
    action: d.action,
    target: d.target ? { type: d.target.type, id: d.target.id ?? null, name: d.target.name ?? null } : null,
    result: d.result,
    details: d.details ?? {},
  };
}

function toFilter(f: AuditFilter, before?: Cursor): Filter<AuditEventDoc> {
  const and: Filter<AuditEventDoc>[] = [];
  if (f.action !== undefined) and.push({ action: f.action });
  if (f.actorId !== undefined) and.push({ 'actor.userId': f.actorId });
  if (f.targetId !== undefined) and.push({ 'target.id': f.targetId });
  if (f.result !== undefined) and.push({ result: f.result });
  if (f.since !== undefined) and.push({ time: { $gte: new Date(f.since) } });
  if (f.until !== undefined) and.push({ time: { $lt: new Date(f.until) } });
  if (before) {
    const at = new Date(before.createdAt);
    and.push({ $or: [{ time: { $lt: at } }, { time: at, _id: { $lt: before.id } }] });
  }
  return and.length === 0 ? {} : and.length === 1 ? (and[0] as Filter<AuditEventDoc>) : { $and: and };
}

/** Events one insertMany carries at most. */
const MAX_BATCH = 500;

/**
 * Audit events in `audit_events`, newest first; a job prunes them (no TTL index on FerretDB).
 * Appends are group-committed: while one write is in flight, the events that arrive wait and go
 * in the next insertMany together. A burst of 900 refusals is a handful of writes instead of 900
 * (which FerretDB serialized into timeouts, bench P3); alone, an event is written at once. Each
 * append still resolves only when its own event is stored.
 */
export class MongoAuditLog implements AuditLog {
  private readonly col: Collection<AuditEventDoc>;
  private readonly appends = new GroupCommit<AuditEventDoc, void>(async (docs) => {
    try {
      // A repeat after a cleared pool meets the events that had landed as duplicates: stored.
      await retryIfCleared(() => this.col.insertMany(docs, { ordered: false }));
      return docs.map(() => ({ ok: true, value: undefined }));
    } catch (err) {
      return settleInsert(docs.length, err);
    }
  }, MAX_BATCH);

  constructor(db: Db) {
    this.col = db.collection<AuditEventDoc>('audit_events');
  }

  async ensureIndexes(): Promise<void> {
    await ensureIndexes(this.col, [
      { key: { time: -1, _id: -1 }, name: 'newest_first' },
      { key: { action: 1, time: -1 }, name: 'by_action' },
      { key: { 'actor.userId': 1, time: -1 }, name: 'by_actor' },
      { key: { 'target.id': 1, time: -1 }, name: 'by_target' },
    ]);
  }

  append(event: AuditEvent): Promise<void> {
    return this.appends.submit(toDoc(event));
  }

  async list(filter: AuditFilter, first: number, after?: Cursor): Promise<{ items: AuditEvent[]; hasNextPage: boolean }> {
    const docs = await this.col
      .find(toFilter(filter, after))
      .sort({ time: -1, _id: -1 })
      .limit(first + 1)
      .toArray();
    return { items: docs.slice(0, first).map(fromDoc), hasNextPage: docs.length > first };
  }

  async count(filter: AuditFilter): Promise<number> {
    return this.col.countDocuments(toFilter(filter));
  }

  async deleteBefore(before: string): Promise<number> {
    const r = await this.col.deleteMany({ time: { $lt: new Date(before) } });
    return r.deletedCount;
  }
}
