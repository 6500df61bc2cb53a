import type { Collection, Db } from 'mongodb';
import type { Claim, ClaimStore } from '../../domain/shared/claim-store.js';
import { type Clock, systemClock } from '../../domain/shared/clock.js';
import { isDuplicateKeyError } from './mongo-database.js';

interface ClaimDoc {
  _id: string;
  owner: string;
  claimedAt: Date;
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
  ) {
    this.col = db.collection<ClaimDoc>('claims');
  }

  async tryClaim(key: string, owner: string): Promise<boolean> {
    try {
      await this.col.insertOne({ _id: key, owner, claimedAt: this.clock.now() });
      return true;
    } catch (err) {
      if (isDuplicateKeyError(err)) return false;
      throw err;
    }
  }

  async release(key: string, owner: string): Promise<boolean> {
    const r = await this.col.deleteOne({ _id: key, owner });
    return r.deletedCount === 1;
  }

  async list(prefix: string): Promise<Claim[]> {
    const docs = await this.col.find({ _id: { $regex: `^${escapeRegex(prefix)}` } }).toArray();
    return docs.map((d) => ({ key: d._id, owner: d.owner, claimedAt: d.claimedAt.toISOString() }));
  }
}
