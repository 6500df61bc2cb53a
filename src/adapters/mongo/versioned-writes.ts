import { randomUUID } from 'node:crypto';
import type { Collection, Db, Document, WithId } from 'mongodb';
import { ensureIndexes, isDuplicateKeyError, isPoolClearedError, retryIfCleared } from './mongo-database.js';

interface RevisionDoc {
  _id: string;
  entityId: string;
  version: number;
  claimedAt: Date;
  /** Who wrote the claim: a retried insert that had landed reads back as its own. */
  writer?: string;
}

/** A revision claim this old whose write never landed belongs to a writer that died. */
const STALE_REVISION_MS = 30_000;

/**
 * Compare-and-set of versioned documents that holds on FerretDB, which runs conditional updates
 * as read-then-write (its issue 2168): the writer first inserts a revision document keyed
 * `<id>:<version>` (a unique insert is enforced by every backend), then replaces the document
 * filtered by the expected version. A claim left by a writer that died is cleared once stale.
 */
export class VersionedWrites<T extends Document & { _id: string; version: number }> {
  private readonly revisions: Collection<RevisionDoc>;

  constructor(
    db: Db,
    private readonly col: Collection<T>,
    revisionsCollection: string,
  ) {
    this.revisions = db.collection<RevisionDoc>(revisionsCollection);
  }

  ensureIndexes(): Promise<void> {
    return ensureIndexes(this.revisions, [{ key: { entityId: 1, version: 1 }, name: 'by_entity' }]);
  }

  async compareAndSet(next: T, expectedVersion: number): Promise<boolean> {
    const revision = `${next._id}:${next.version}`;
    if (!(await this.claim(revision, next))) {
      if (!(await this.clearStale(revision, next._id, expectedVersion))) return false;
      if (!(await this.claim(revision, next))) return false;
    }
    let matched: number;
    try {
      matched = await this.replace(next, expectedVersion);
    } catch (err) {
      await retryIfCleared(() => this.revisions.deleteOne({ _id: revision }));
      throw err;
    }
    if (matched !== 1) {
      await retryIfCleared(() => this.revisions.deleteOne({ _id: revision }));
      return false;
    }
    await retryIfCleared(() => this.revisions.deleteMany({ entityId: next._id, version: { $lt: next.version } }));
    return true;
  }

  /**
   * Replaces the document at the expected version; 1 when it did. Cut off by a cleared pool, it
   * looks before writing again, and again after a repeat that matched nothing: the cut-off write
   * may still land in between (a loaded server runs it late). We hold the revision claim, so only
   * our write can have made the new version.
   */
  private async replace(next: T, expectedVersion: number): Promise<number> {
    const filter = { _id: next._id, version: expectedVersion } as unknown as Parameters<Collection<T>['replaceOne']>[0];
    try {
      return (await this.col.replaceOne(filter, next as unknown as WithId<T>)).matchedCount;
    } catch (err) {
      if (!isPoolClearedError(err)) throw err;
      await new Promise((r) => setTimeout(r, 100));
      const landed = async () =>
        (await this.col.findOne({ _id: next._id } as never, { projection: { version: 1 } }))?.version === next.version;
      if (await landed()) return 1;
      const matched = (await this.col.replaceOne(filter, next as unknown as WithId<T>)).matchedCount;
      return matched === 1 || (await landed()) ? 1 : 0;
    }
  }

  /** Forgets the revisions of a deleted document. */
  async forget(id: string): Promise<void> {
    await this.revisions.deleteMany({ entityId: id });
  }

  private async claim(revision: string, next: T): Promise<boolean> {
    const writer = randomUUID();
    try {
      const doc = { _id: revision, entityId: next._id, version: next.version, claimedAt: new Date(), writer };
      await retryIfCleared(() => this.revisions.insertOne(doc));
      return true;
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      // The driver retries a write whose reply was lost; the retry then meets our own insert.
      return (await this.revisions.findOne({ _id: revision }))?.writer === writer;
    }
  }

  private async clearStale(revision: string, id: string, expectedVersion: number): Promise<boolean> {
    const claim = await this.revisions.findOne({ _id: revision });
    if (!claim || Date.now() - claim.claimedAt.getTime() < STALE_REVISION_MS) return false;
    const current = await this.col.findOne({ _id: id } as never, { projection: { version: 1 } });
    if (current?.version !== expectedVersion) return false;
    const r = await this.revisions.deleteOne({ _id: revision, claimedAt: claim.claimedAt });
    return r.deletedCount === 1;
  }
}
