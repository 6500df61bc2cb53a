import type { Collection, Db } from 'mongodb';
import {
  type Assignment,
  type AssignmentTargetType,
  assignmentKey,
  type Pool,
  type PrincipalType,
} from '../../domain/pools/pool.js';
import type { AssignmentStore, PoolStore } from '../../domain/pools/pool-store.js';
import { ensureIndexes, isDuplicateKeyError, retryIfCleared } from './mongo-database.js';
import { VersionedWrites } from './versioned-writes.js';

type PoolDoc = Omit<Pool, 'id' | 'createdAt' | 'updatedAt'> & { _id: string; createdAt: Date; updatedAt: Date };

function toPoolDoc(p: Pool): PoolDoc {
  return {
    _id: p.id,
    name: p.name,
    description: p.description,
    placementPolicy: p.placementPolicy,
    maxSessions: p.maxSessions,
    defaultCredentialMode: p.defaultCredentialMode,
    createdBy: p.createdBy,
    createdAt: new Date(p.createdAt),
    updatedAt: new Date(p.updatedAt),
    version: p.version,
  };
}

function fromPoolDoc(d: PoolDoc): Pool {
  return {
    id: d._id,
    name: d.name,
    description: d.description,
    placementPolicy: d.placementPolicy,
    maxSessions: d.maxSessions ?? null,
    defaultCredentialMode: d.defaultCredentialMode ?? null,
    createdBy: d.createdBy,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
    version: d.version,
  };
}

/** Pools on the official driver; writes are compare-and-set through VersionedWrites. */
export class MongoPoolStore implements PoolStore {
  private readonly col: Collection<PoolDoc>;
  private readonly writes: VersionedWrites<PoolDoc>;

  constructor(db: Db) {
    this.col = db.collection<PoolDoc>('pools');
    this.writes = new VersionedWrites(db, this.col, 'pool_revisions');
  }

  async ensureIndexes(): Promise<void> {
    await ensureIndexes(this.col, [{ key: { name: 1, _id: 1 }, name: 'by_name' }]);
    await this.writes.ensureIndexes();
  }

  async insert(pool: Pool): Promise<void> {
    await this.col.insertOne(toPoolDoc(pool));
  }

  async findById(id: string): Promise<Pool | null> {
    const d = await this.col.findOne({ _id: id });
    return d ? fromPoolDoc(d) : null;
  }

  async findByIds(ids: readonly string[]): Promise<Pool[]> {
    if (ids.length === 0) return [];
    return (await this.col.find({ _id: { $in: [...ids] } }).toArray()).map(fromPoolDoc);
  }

  async list(): Promise<Pool[]> {
    return (await this.col.find({}).sort({ name: 1, _id: 1 }).toArray()).map(fromPoolDoc);
  }

  compareAndSet(next: Pool, expectedVersion: number): Promise<boolean> {
    return this.writes.compareAndSet(toPoolDoc(next), expectedVersion);
  }

  async delete(id: string): Promise<boolean> {
    const r = await this.col.deleteOne({ _id: id });
    await this.writes.forget(id);
    return r.deletedCount === 1;
  }
}

type AssignmentDoc = Omit<Assignment, 'id' | 'createdAt'> & { _id: string; key: string; createdAt: Date };

function fromAssignmentDoc(d: AssignmentDoc): Assignment {
  return {
    id: d._id,
    principalType: d.principalType,
    principal: d.principal,
    targetType: d.targetType,
    targetId: d.targetId,
    createdBy: d.createdBy,
    createdAt: d.createdAt.toISOString(),
  };
}

/**
 * Assignments on the official driver. (principal, target) is unique through a unique index on
 * its key: an insert against it is what FerretDB enforces under concurrency too.
 */
export class MongoAssignmentStore implements AssignmentStore {
  private readonly col: Collection<AssignmentDoc>;

  constructor(db: Db) {
    this.col = db.collection<AssignmentDoc>('assignments');
  }

  async ensureIndexes(): Promise<void> {
    await ensureIndexes(this.col, [
      { key: { key: 1 }, name: 'unique_key', unique: true },
      { key: { principalType: 1, principal: 1 }, name: 'by_principal' },
      { key: { targetType: 1, targetId: 1 }, name: 'by_target' },
    ]);
  }

  async insert(a: Assignment): Promise<boolean> {
    const doc: AssignmentDoc = {
      _id: a.id,
      key: assignmentKey(a),
      principalType: a.principalType,
      principal: a.principal,
      targetType: a.targetType,
      targetId: a.targetId,
      createdBy: a.createdBy,
      createdAt: new Date(a.createdAt),
    };
    try {
      await retryIfCleared(() => this.col.insertOne(doc));
      return true;
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      // A retried insert that had landed finds itself.
      return (await this.col.findOne({ _id: a.id })) !== null;
    }
  }

  async findById(id: string): Promise<Assignment | null> {
    const d = await this.col.findOne({ _id: id });
    return d ? fromAssignmentDoc(d) : null;
  }

  async delete(id: string): Promise<boolean> {
    return (await this.col.deleteOne({ _id: id })).deletedCount === 1;
  }

  async findByPrincipals(principals: readonly { type: PrincipalType; id: string }[]): Promise<Assignment[]> {
    if (principals.length === 0) return [];
    const docs = await this.col
      .find({ $or: principals.map((p) => ({ principalType: p.type, principal: p.id })) })
      .sort({ createdAt: 1, _id: 1 })
      .toArray();
    return docs.map(fromAssignmentDoc);
  }

  async findByTarget(type: AssignmentTargetType, id: string): Promise<Assignment[]> {
    const docs = await this.col.find({ targetType: type, targetId: id }).sort({ createdAt: 1, _id: 1 }).toArray();
    return docs.map(fromAssignmentDoc);
  }

  async deleteByTarget(type: AssignmentTargetType, id: string): Promise<number> {
    return (await this.col.deleteMany({ targetType: type, targetId: id })).deletedCount;
  }
}
