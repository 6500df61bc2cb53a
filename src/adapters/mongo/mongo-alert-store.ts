import type { Collection, Db, Filter } from 'mongodb';
import type { Alert } from '../../domain/resources/alert.js';
import type { AlertFilter, AlertStore } from '../../domain/resources/alert-store.js';
import type { Cursor } from '../../domain/shared/page.js';
import { ensureIndexes } from './mongo-database.js';
import { VersionedWrites } from './versioned-writes.js';

type AlertDoc = Omit<Alert, 'id' | 'createdAt' | 'resolvedAt'> & { _id: string; createdAt: Date; resolvedAt: Date | null };

function toDoc(a: Alert): AlertDoc {
  const { id, createdAt, resolvedAt, ...rest } = a;
  return { _id: id, ...rest, createdAt: new Date(createdAt), resolvedAt: resolvedAt === null ? null : new Date(resolvedAt) };
}

function fromDoc(d: AlertDoc): Alert {
  return {
    id: d._id,
    severity: d.severity,
    resource: d.resource,
    subjectKind: d.subjectKind,
    subjectId: d.subjectId,
    subjectName: d.subjectName ?? null,
    host: d.host,
    threshold: d.threshold,
    value: d.value,
    message: d.message,
    createdAt: d.createdAt.toISOString(),
    resolvedAt: d.resolvedAt ? d.resolvedAt.toISOString() : null,
    resolvedBy: d.resolvedBy ?? null,
    visibleTo: d.visibleTo ?? [],
    version: d.version,
  };
}

function toFilter(f: AlertFilter): Filter<AlertDoc> {
  const and: Filter<AlertDoc>[] = [];
  if (f.severity !== undefined) and.push({ severity: f.severity });
  if (f.resolved !== undefined) and.push(f.resolved ? { resolvedAt: { $ne: null } } : { resolvedAt: null });
  if (f.subjectId !== undefined) and.push({ subjectId: f.subjectId });
  if (f.visibleTo !== undefined) and.push({ visibleTo: f.visibleTo });
  return and.length === 0 ? {} : and.length === 1 ? (and[0] as Filter<AlertDoc>) : { $and: and };
}

/** Alerts on the official driver; resolving is a compare-and-set through VersionedWrites. */
export class MongoAlertStore implements AlertStore {
  private readonly col: Collection<AlertDoc>;
  private readonly writes: VersionedWrites<AlertDoc>;

  constructor(db: Db) {
    this.col = db.collection<AlertDoc>('alerts');
    this.writes = new VersionedWrites(db, this.col, 'alert_revisions');
  }

  async ensureIndexes(): Promise<void> {
    await ensureIndexes(this.col, [
      { key: { createdAt: -1, _id: -1 }, name: 'newest_first' },
      { key: { subjectId: 1, createdAt: -1 }, name: 'by_subject' },
      { key: { resolvedAt: 1 }, name: 'by_resolved' },
    ]);
    await this.writes.ensureIndexes();
  }

  async insert(alert: Alert): Promise<void> {
    await this.col.insertOne(toDoc(alert));
  }

  async findById(id: string): Promise<Alert | null> {
    const d = await this.col.findOne({ _id: id });
    return d ? fromDoc(d) : null;
  }

  compareAndSet(next: Alert, expectedVersion: number): Promise<boolean> {
    return this.writes.compareAndSet(toDoc(next), expectedVersion);
  }

  async list(filter: AlertFilter, first: number, after?: Cursor): Promise<{ items: Alert[]; hasNextPage: boolean }> {
    const base = toFilter(filter);
    const query: Filter<AlertDoc> = after
      ? {
          $and: [
            base,
            {
              $or: [
                { createdAt: { $lt: new Date(after.createdAt) } },
                { createdAt: new Date(after.createdAt), _id: { $lt: after.id } },
              ],
            },
          ],
        }
      : base;
    const docs = await this.col
      .find(query)
      .sort({ createdAt: -1, _id: -1 })
      .limit(first + 1)
      .toArray();
    return { items: docs.slice(0, first).map(fromDoc), hasNextPage: docs.length > first };
  }

  async count(filter: AlertFilter): Promise<number> {
    return this.col.countDocuments(toFilter(filter));
  }

  async deleteResolvedBefore(before: string): Promise<number> {
    const old = await this.col.find({ resolvedAt: { $ne: null, $lt: new Date(before) } }, { projection: { _id: 1 } }).toArray();
    if (old.length === 0) return 0;
    const r = await this.col.deleteMany({ _id: { $in: old.map((d) => d._id) } });
    for (const d of old) await this.writes.forget(d._id);
    return r.deletedCount;
  }
}
