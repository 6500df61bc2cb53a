import { randomUUID } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import type { Claim, ClaimStore } from '../../domain/shared/claim-store.js';
import { type Clock, systemClock } from '../../domain/shared/clock.js';
import { bulkWriteErrors, ensureIndexes, isDuplicateKeyError, retryIfCleared } from './mongo-database.js';

interface ClaimDoc {
  _id: string;
  /** The key up to its last ':' (e.g. `port:host-a:`), so a prefix listing is an indexed match. */
  scope: string;
  owner: string;
  claimedAt: Date;
  /** This insert's own mark, so a retried insert that had landed is recognised as ours. */
  nonce?: string;
}

function scopeOf(key: string): string {
  return key.slice(0, key.lastIndexOf(':') + 1);
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Claims as documents keyed by `_id`: the insert is the claim, on MongoDB and FerretDB alike. */
export class MongoClaimStore implements ClaimStore {
  private readonly col: Collection<ClaimDoc>;

  constructor(
    db: Db,
    private readonly clock: Clock = systemClock,
    /** Claims of one area may live apart (alerts keep theirs in `alert_claims`). */
    collection = 'claims',
  ) {
    this.col = db.collection<ClaimDoc>(collection);
  }

  async tryClaim(key: string, owner: string): Promise<boolean> {
    const nonce = randomUUID();
    try {
      const doc = { _id: key, scope: scopeOf(key), owner, claimedAt: this.clock.now(), nonce };
      await retryIfCleared(() => this.col.insertOne(doc));
      return true;
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      // The driver retries a write whose reply was lost; the retry then meets our own insert.
      return (await this.col.findOne({ _id: key }))?.nonce === nonce;
    }
  }

  async tryClaimMany(claims: readonly { key: string; owner: string }[]): Promise<boolean[]> {
    if (claims.length === 0) return [];
    const now = this.clock.now();
    const docs = claims.map((c) => ({ _id: c.key, scope: scopeOf(c.key), owner: c.owner, claimedAt: now, nonce: randomUUID() }));
    const won = docs.map(() => true);
    try {
      await retryIfCleared(() => this.col.insertMany(docs, { ordered: false }));
      return won;
    } catch (err) {
      const errors = bulkWriteErrors(err);
      // No per-document errors: the call failed as a whole and nothing is known to be claimed.
      if (!errors || errors.some((e) => e.code !== 11000)) throw err;
      for (const e of errors) won[e.index] = false;
      // As in tryClaim: a duplicate may be our own insert, landed before a retry.
      const lost = errors.map((e) => docs[e.index]?._id ?? '');
      const mine = new Set(
        (await this.col.find({ _id: { $in: lost } }, { projection: { nonce: 1 } }).toArray()).map((d) => `${d._id}|${d.nonce}`),
      );
      for (const e of errors) {
        const d = docs[e.index];
        if (d && mine.has(`${d._id}|${d.nonce}`)) won[e.index] = true;
      }
      return won;
    }
  }

  async release(key: string, owner: string): Promise<boolean> {
    const r = await retryIfCleared(() => this.col.deleteOne({ _id: key, owner }));
    return r.deletedCount === 1;
  }

  async ensureIndexes(): Promise<void> {
    await ensureIndexes(this.col, [{ key: { scope: 1 }, name: 'by_scope' }]);
  }

  async count(prefix: string): Promise<number> {
    // Ids, not countDocuments: a cap's claims are few, and FerretDB runs a count as an aggregation
    // about five times slower than this find (bench P3).
    return (await this.col.find(this.prefixFilter(prefix), { projection: { _id: 1 }, batchSize: 10_000 }).toArray()).length;
  }

  async list(prefix: string): Promise<Claim[]> {
    const docs = await this.col.find(this.prefixFilter(prefix), { batchSize: 10_000 }).toArray();
    return docs.map((d) => ({ key: d._id, owner: d.owner, claimedAt: d.claimedAt.toISOString() }));
  }

  private prefixFilter(prefix: string) {
    // A key starts with a prefix ending in ':' exactly when its scope does (the rest of a key has
    // no ':'), so the common listing is an indexed range; any other prefix falls back to a regex.
    const filter = prefix.endsWith(':')
      ? { scope: { $gte: prefix, $lt: `${prefix}\uffff` } }
      : { _id: { $regex: `^${escapeRegex(prefix)}` } };
    return filter;
  }
}
