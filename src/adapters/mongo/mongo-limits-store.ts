import type { Collection, Db } from 'mongodb';
import type { ResourceLimits } from '../../domain/resources/resource-limits.js';
import type { ResourceLimitsStore, ResourceLimitsVersion } from '../../domain/resources/resource-limits-store.js';
import { isDuplicateKeyError } from './mongo-database.js';

/** `_id` is the version number: the unique key every backend enforces on insert. */
interface LimitsVersionDoc {
  _id: number;
  limits: ResourceLimits;
  updatedBy: string;
  updatedAt: Date;
}

function fromDoc(d: LimitsVersionDoc): ResourceLimitsVersion {
  const { global, perServer, perSession, perUser } = d.limits;
  return {
    version: d._id,
    // Field by field, so the stored document's key order or extra keys never leak out.
    limits: {
      global: {
        maxServers: global.maxServers,
        maxSessions: global.maxSessions,
        maxTotalCpu: global.maxTotalCpu,
        maxTotalMemory: global.maxTotalMemory,
        maxTotalDisk: global.maxTotalDisk,
      },
      perServer: {
        maxCpu: perServer.maxCpu,
        maxMemoryMb: perServer.maxMemoryMb,
        maxDiskMb: perServer.maxDiskMb,
        maxBandwidthMbps: perServer.maxBandwidthMbps,
      },
      perSession: {
        maxCpu: perSession.maxCpu,
        maxMemoryMb: perSession.maxMemoryMb,
        maxBandwidthMbps: perSession.maxBandwidthMbps,
        maxDurationSeconds: perSession.maxDurationSeconds,
      },
      perUser: { maxSessions: perUser.maxSessions },
    },
    updatedBy: d.updatedBy,
    updatedAt: d.updatedAt.toISOString(),
  };
}

/** Versions in `resource_limits_versions`; the newest is a sort on `_id`, always indexed. */
export class MongoLimitsStore implements ResourceLimitsStore {
  private readonly col: Collection<LimitsVersionDoc>;

  constructor(db: Db) {
    this.col = db.collection<LimitsVersionDoc>('resource_limits_versions');
  }

  async latest(): Promise<ResourceLimitsVersion | null> {
    const [d] = await this.col.find({}).sort({ _id: -1 }).limit(1).toArray();
    return d ? fromDoc(d) : null;
  }

  async insert(version: ResourceLimitsVersion): Promise<boolean> {
    try {
      await this.col.insertOne({
        _id: version.version,
        limits: version.limits,
        updatedBy: version.updatedBy,
        updatedAt: new Date(version.updatedAt),
      });
      return true;
    } catch (err) {
      if (isDuplicateKeyError(err)) return false;
      throw err;
    }
  }
}
