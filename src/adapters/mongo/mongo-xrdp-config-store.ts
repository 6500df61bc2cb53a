import type { Collection, Db } from 'mongodb';
import type { XrdpConfig, XrdpConfigVersion } from '../../domain/xrdp/xrdp-config.js';
import type { XrdpConfigStore } from '../../domain/xrdp/xrdp-config-store.js';
import { isDuplicateKeyError } from './mongo-database.js';

/** `_id` is the version number: the unique key every backend enforces on insert. */
interface XrdpConfigVersionDoc {
  _id: number;
  config: XrdpConfig;
  updatedBy: string;
  updatedAt: Date;
}

function fromDoc(d: XrdpConfigVersionDoc): XrdpConfigVersion {
  const { global, security, performance } = d.config;
  return {
    version: d._id,
    // Rebuilt field by field so the stored document's key order or extra keys never leak out.
    config: {
      global: {
        port: global.port,
        useTls: global.useTls,
        certificatePath: global.certificatePath,
        keyPath: global.keyPath,
        logLevel: global.logLevel,
        maxConnections: global.maxConnections,
      },
      security: {
        authentication: security.authentication,
        sessionTimeout: security.sessionTimeout,
        idleTimeout: security.idleTimeout,
        encryptionLevel: security.encryptionLevel,
      },
      performance: {
        compression: performance.compression,
        bitmapCache: performance.bitmapCache,
        glyphCache: performance.glyphCache,
        maxBitmapCacheSize: performance.maxBitmapCacheSize,
      },
    },
    updatedBy: d.updatedBy,
    updatedAt: d.updatedAt.toISOString(),
  };
}

/** Versions in `xrdp_config_versions`; newest first is a sort on `_id`, which is always indexed. */
export class MongoXrdpConfigStore implements XrdpConfigStore {
  private readonly col: Collection<XrdpConfigVersionDoc>;

  constructor(db: Db) {
    this.col = db.collection<XrdpConfigVersionDoc>('xrdp_config_versions');
  }

  async latest(): Promise<XrdpConfigVersion | null> {
    return (await this.list(1))[0] ?? null;
  }

  async insert(version: XrdpConfigVersion): Promise<boolean> {
    try {
      await this.col.insertOne({
        _id: version.version,
        config: version.config,
        updatedBy: version.updatedBy,
        updatedAt: new Date(version.updatedAt),
      });
      return true;
    } catch (err) {
      if (isDuplicateKeyError(err)) return false;
      throw err;
    }
  }

  async list(limit: number): Promise<XrdpConfigVersion[]> {
    if (limit <= 0) return [];
    const docs = await this.col.find({}).sort({ _id: -1 }).limit(limit).toArray();
    return docs.map(fromDoc);
  }
}
