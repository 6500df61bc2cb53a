import { MemoryAuditLog } from '../../adapters/memory/memory-audit-log.js';
import { MemoryClaimStore } from '../../adapters/memory/memory-claim-store.js';
import { MemoryHostStore } from '../../adapters/memory/memory-host-store.js';
import { MemoryAssignmentStore, MemoryPoolStore } from '../../adapters/memory/memory-pool-store.js';
import { MemoryServerStore } from '../../adapters/memory/memory-server-store.js';
import { MemorySessionStore } from '../../adapters/memory/memory-session-store.js';
import { MemoryXrdpConfigStore } from '../../adapters/memory/memory-xrdp-config-store.js';
import { MongoAuditLog } from '../../adapters/mongo/mongo-audit-log.js';
import { MongoClaimStore } from '../../adapters/mongo/mongo-claim-store.js';
import { type MongoDatabase, openMongo } from '../../adapters/mongo/mongo-database.js';
import { MongoHostStore } from '../../adapters/mongo/mongo-host-store.js';
import { MongoAssignmentStore, MongoPoolStore } from '../../adapters/mongo/mongo-pool-store.js';
import { MongoServerStore } from '../../adapters/mongo/mongo-server-store.js';
import { MongoSessionStore } from '../../adapters/mongo/mongo-session-store.js';
import { MongoXrdpConfigStore } from '../../adapters/mongo/mongo-xrdp-config-store.js';
import { guardUnavailable } from '../../adapters/mongo/unavailable-guard.js';
import type { Config } from '../../config/config.js';
import type { AuditLog } from '../../domain/audit/audit-log.js';
import type { HostStore } from '../../domain/hosts/host-store.js';
import type { AssignmentStore, PoolStore } from '../../domain/pools/pool-store.js';
import type { ServerStore } from '../../domain/servers/server-store.js';
import type { SessionStore } from '../../domain/sessions/session-store.js';
import type { ClaimStore } from '../../domain/shared/claim-store.js';
import type { Clock } from '../../domain/shared/clock.js';
import type { XrdpConfigStore } from '../../domain/xrdp/xrdp-config-store.js';
import { bumpingOnWrite, type Generations } from '../cache-generations.js';
import type { Logger } from '../logger.js';
import { memoryResourceStores, mongoResourceStores, type ResourceStores } from '../resources-wiring.js';

/** Where the control plane keeps its state: MongoDB when configured, memory otherwise. */
export interface Stores {
  mongo?: MongoDatabase;
  servers: ServerStore;
  sessions: SessionStore;
  claims: ClaimStore;
  hosts: HostStore;
  pools: PoolStore;
  assignments: AssignmentStore;
  xrdpConfigs: XrdpConfigStore;
  audit: AuditLog;
  resources: ResourceStores;
}

export interface StoreOptions {
  /** Have the MongoDB driver emit command events (the bench counts round trips). @default false */
  monitorCommands?: boolean;
}

/**
 * Opens the stores. With MongoDB they are usable at once: until the database answers, their
 * operations fail fast (SERVICE_UNAVAILABLE) and readiness stays false; indexes are made once it does.
 */
export function openStores(config: Config, logger: Logger, clock: Clock, options: StoreOptions = {}): Stores {
  if (!config.mongo) {
    logger.warn('MONGODB_URI is not set: using the in-memory store; data is not kept across restarts');
    return {
      servers: new MemoryServerStore(),
      sessions: new MemorySessionStore(),
      claims: new MemoryClaimStore(clock),
      hosts: new MemoryHostStore(),
      pools: new MemoryPoolStore(),
      assignments: new MemoryAssignmentStore(),
      xrdpConfigs: new MemoryXrdpConfigStore(),
      audit: new MemoryAuditLog(),
      resources: memoryResourceStores(clock),
    };
  }
  let indexed: { ensureIndexes(): Promise<void> }[] = [];
  const mongo = openMongo({
    ...config.mongo,
    monitorCommands: options.monitorCommands ?? false,
    prepare: async () => {
      for (const store of indexed) await store.ensureIndexes();
    },
    onRetry: (err, attempt) => {
      if (attempt === 1 || attempt % 15 === 0) {
        logger.warn({ err: err instanceof Error ? err.message : String(err), attempt }, 'MongoDB is not reachable yet; retrying');
      }
    },
  });
  const servers = new MongoServerStore(mongo.db, { legacyHostId: config.hosts.localId });
  const hosts = new MongoHostStore(mongo.db);
  const pools = new MongoPoolStore(mongo.db);
  const assignments = new MongoAssignmentStore(mongo.db);
  const sessions = new MongoSessionStore(mongo.db);
  const claims = new MongoClaimStore(mongo.db, clock);
  const audit = new MongoAuditLog(mongo.db);
  const resources = mongoResourceStores(mongo.db, clock);
  indexed = [servers, sessions, claims, audit, hosts, pools, assignments, ...resources.indexed];
  // To the services an unreachable database is one fast ServiceUnavailableError.
  const reachable = mongo.isReachable;
  return {
    mongo,
    servers: guardUnavailable(servers, reachable),
    sessions: guardUnavailable(sessions, reachable),
    claims: guardUnavailable(claims, reachable),
    hosts: guardUnavailable(hosts, reachable),
    pools: guardUnavailable(pools, reachable),
    assignments: guardUnavailable(assignments, reachable),
    audit: guardUnavailable(audit, reachable),
    xrdpConfigs: guardUnavailable(new MongoXrdpConfigStore(mongo.db), reachable),
    resources,
  };
}

/**
 * The stores a cached answer may read, each moving its generation on every write (the response
 * cache, src/app/response-cache.ts). Everything the services and the agents' events write goes
 * through these objects, so no write can skip its bump.
 */
export function withGenerations(stores: Stores, generations: Generations): Stores {
  return {
    ...stores,
    servers: bumpingOnWrite(
      stores.servers,
      'servers',
      ['findById', 'findByIds', 'list', 'listAll', 'count', 'countByStatus'],
      generations,
    ),
    sessions: bumpingOnWrite(
      stores.sessions,
      'sessions',
      ['findById', 'findByIds', 'list', 'count', 'countByStatus', 'findDue', 'findByServerIds', 'findLiveByAccount'],
      generations,
    ),
    pools: bumpingOnWrite(stores.pools, 'pools', ['findById', 'findByIds', 'list'], generations),
    assignments: bumpingOnWrite(stores.assignments, 'assignments', ['findById', 'findByPrincipals', 'findByTarget'], generations),
  };
}
