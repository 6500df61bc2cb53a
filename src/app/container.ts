import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createMetrics, type Metrics } from '../../monitoring/metrics.js';
import { createJwtTokenVerifier } from '../adapters/auth/jwt-token-verifier.js';
import { createLinuxSessionAccounts } from '../adapters/host/linux-session-accounts.js';
import { MemoryAuditLog } from '../adapters/memory/memory-audit-log.js';
import { MemoryClaimStore } from '../adapters/memory/memory-claim-store.js';
import { MemoryRateLimiter } from '../adapters/memory/memory-rate-limiter.js';
import { MemoryServerStore } from '../adapters/memory/memory-server-store.js';
import { MemorySessionStore } from '../adapters/memory/memory-session-store.js';
import { MemoryXrdpConfigStore } from '../adapters/memory/memory-xrdp-config-store.js';
import { MongoAuditLog } from '../adapters/mongo/mongo-audit-log.js';
import { MongoClaimStore } from '../adapters/mongo/mongo-claim-store.js';
import { type MongoDatabase, openMongo } from '../adapters/mongo/mongo-database.js';
import { MongoServerStore } from '../adapters/mongo/mongo-server-store.js';
import { MongoSessionStore } from '../adapters/mongo/mongo-session-store.js';
import { MongoXrdpConfigStore } from '../adapters/mongo/mongo-xrdp-config-store.js';
import { guardUnavailable } from '../adapters/mongo/unavailable-guard.js';
import { connectRedis, createEventTargetOn, type RedisConnections } from '../adapters/redis/redis-connections.js';
import { RedisRateLimiter } from '../adapters/redis/redis-rate-limiter.js';
import { FileXrdpLogReader } from '../adapters/xrdp/file-xrdp-log-reader.js';
import { instancePaths, sesmanPaths } from '../adapters/xrdp/instance-paths.js';
import { createSesmanSupervisor, type HostSesman } from '../adapters/xrdp/sesman-supervisor.js';
import { createSessionTerminator } from '../adapters/xrdp/session-terminator.js';
import { createXrdpConfigFileWriter } from '../adapters/xrdp/xrdp-config-files.js';
import { createXrdpServerRuntime } from '../adapters/xrdp/xrdp-server-runtime.js';
import { createXrdpSessionWatcher, type XrdpSessionWatcher } from '../adapters/xrdp/xrdp-session-watcher.js';
import type { Config } from '../config/config.js';
import { actorOf } from '../domain/audit/audit-event.js';
import type { AuditLog } from '../domain/audit/audit-log.js';
import { AuditService } from '../domain/audit/audit-service.js';
import type { TokenVerifier } from '../domain/auth/token-verifier.js';
import type { HostProbe } from '../domain/resources/host-probe.js';
import { defaultResourceLimits } from '../domain/resources/resource-limits.js';
import { ResourceLimitsService } from '../domain/resources/resource-limits-service.js';
import type { ServerRuntime } from '../domain/servers/server-runtime.js';
import { ServerService } from '../domain/servers/server-service.js';
import type { ServerStore } from '../domain/servers/server-store.js';
import type { SessionAccounts } from '../domain/sessions/session-accounts.js';
import { SessionService } from '../domain/sessions/session-service.js';
import type { SessionStore } from '../domain/sessions/session-store.js';
import type { ClaimStore } from '../domain/shared/claim-store.js';
import { type Clock, systemClock } from '../domain/shared/clock.js';
import type { EventBus } from '../domain/shared/event-publisher.js';
import type { RateLimiter } from '../domain/shared/rate-limiter.js';
import { XrdpConfigService } from '../domain/xrdp/xrdp-config-service.js';
import type { XrdpConfigStore } from '../domain/xrdp/xrdp-config-store.js';
import { XrdpHostService } from '../domain/xrdp/xrdp-host.js';
import { XrdpLogService } from '../domain/xrdp/xrdp-log-service.js';
import type { XrdpSessionTerminator } from '../domain/xrdp/xrdp-session-terminator.js';
import { createLogThrottle } from './log-throttle.js';
import type { Logger } from './logger.js';
import { createEventBus } from './pubsub.js';
import { createResilientRateLimiter } from './resilient-rate-limiter.js';
import {
  createHostAdmission,
  createResources,
  memoryResourceStores,
  mongoResourceStores,
  type ResourceStores,
  type Resources,
} from './resources-wiring.js';

/** Replaceable parts, for tests and embedding. */
export interface ContainerOverrides {
  sessionAccounts?: SessionAccounts;
  runtime?: ServerRuntime;
  clock?: Clock;
  tokenVerifier?: TokenVerifier;
  /** Have the MongoDB driver emit command events (the bench counts round trips). @default false */
  mongoMonitorCommands?: boolean;
  /** What measures the host, servers and sessions. @default the /proc probe */
  hostProbe?: HostProbe;
}

export interface Container {
  config: Config;
  logger: Logger;
  mongo?: MongoDatabase;
  redis?: RedisConnections;
  /** Audit events: services record through it, operators read it. */
  audit: AuditService;
  events: EventBus;
  metrics: Metrics;
  tokenVerifier: TokenVerifier;
  /** The stored resource limits document, read by admission. */
  limits: ResourceLimitsService;
  /** Samples, history, alerts and the collector. */
  resources: Resources;
  servers: ServerService;
  sessions: SessionService;
  rateLimiter: RateLimiter;
  xrdpConfig: XrdpConfigService;
  /** The host's one xrdp-sesman. */
  sesman: HostSesman;
  xrdpHost: XrdpHostService;
  xrdpLogs: XrdpLogService;
  /** Ends a live xrdp session by user and display (for the sessions area). */
  sessionTerminator: XrdpSessionTerminator;
  /** Publishes `xrdp:session-event` from the logs; absent when xrdp is not installed. */
  sessionWatcher?: XrdpSessionWatcher;
  runtime: ServerRuntime;
  /** Stops following xrdp logs, then closes Redis, then MongoDB. */
  close(): Promise<void>;
}

/** Wires adapters into services: MongoDB and Redis when configured, memory otherwise. */
export async function createContainer(config: Config, logger: Logger, overrides: ContainerOverrides = {}): Promise<Container> {
  const clock = overrides.clock ?? systemClock;
  let mongo: MongoDatabase | undefined;
  let redis: RedisConnections | undefined;
  let serverStore: ServerStore;
  let sessionStore: SessionStore;
  let claims: ClaimStore;
  let xrdpConfigStore: XrdpConfigStore;
  let auditLog: AuditLog;
  let resourceStores: ResourceStores;
  try {
    if (config.mongo) {
      // The stores are usable at once; until the database answers their operations fail fast
      // (SERVICE_UNAVAILABLE) and readiness stays false. Indexes are made once it does.
      let indexed: { ensureIndexes(): Promise<void> }[] = [];
      mongo = openMongo({
        ...config.mongo,
        monitorCommands: overrides.mongoMonitorCommands ?? false,
        prepare: async () => {
          for (const store of indexed) await store.ensureIndexes();
        },
        onRetry: (err, attempt) => {
          if (attempt === 1 || attempt % 15 === 0) {
            logger.warn(
              { err: err instanceof Error ? err.message : String(err), attempt },
              'MongoDB is not reachable yet; retrying',
            );
          }
        },
      });
      const mongoServers = new MongoServerStore(mongo.db);
      const mongoSessions = new MongoSessionStore(mongo.db);
      const mongoClaims = new MongoClaimStore(mongo.db, clock);
      const mongoAudit = new MongoAuditLog(mongo.db);
      resourceStores = mongoResourceStores(mongo.db, clock);
      indexed = [mongoServers, mongoSessions, mongoClaims, mongoAudit, ...resourceStores.indexed];
      // To the services an unreachable database is one fast ServiceUnavailableError.
      const reachable = mongo.isReachable;
      serverStore = guardUnavailable(mongoServers, reachable);
      sessionStore = guardUnavailable(mongoSessions, reachable);
      claims = guardUnavailable(mongoClaims, reachable);
      auditLog = guardUnavailable(mongoAudit, reachable);
      xrdpConfigStore = guardUnavailable(new MongoXrdpConfigStore(mongo.db), reachable);
    } else {
      logger.warn('MONGODB_URI is not set: using the in-memory store; data is not kept across restarts');
      serverStore = new MemoryServerStore();
      sessionStore = new MemorySessionStore();
      claims = new MemoryClaimStore(clock);
      xrdpConfigStore = new MemoryXrdpConfigStore();
      auditLog = new MemoryAuditLog();
      resourceStores = memoryResourceStores(clock);
    }
    if (config.redis) {
      // A Redis that is not there at start is treated like one that went away while running: the
      // service starts without it (readiness false) and ioredis connects in the background.
      const throttles = { publisher: createLogThrottle(), subscriber: createLogThrottle() };
      let starting = true;
      let startError: string | undefined;
      const connections = await connectRedis({
        url: config.redis.url,
        onError: (err, connection) => {
          // The start-up outcome is logged once below; the throttles then space the retries out.
          if (starting) {
            startError ??= err.message;
            throttles[connection]();
            return;
          }
          const gate = throttles[connection]();
          if (gate.open) logger.warn({ err: err.message, connection, suppressed: gate.suppressed }, 'redis connection error');
        },
      });
      starting = false;
      redis = connections;
      if (!connections.isReady()) {
        logger.warn(
          { err: startError ?? 'no answer yet' },
          'Redis is not reachable: serving with readiness false, events dropped and rate limits per replica until it is; connecting in the background',
        );
        void connections.ready.then(() => logger.info('Redis is reachable: events and rate limits go through it'));
      }
    } else {
      logger.info('REDIS_URL is not set: events reach this process only');
    }
  } catch (err) {
    await redis?.close();
    await mongo?.close();
    throw err;
  }

  const publishFailures = createLogThrottle();
  const events = createEventBus(
    redis
      ? createEventTargetOn(redis, (err, what) => {
          const gate = publishFailures();
          if (gate.open) {
            logger.warn(
              { err: err instanceof Error ? err.message : String(err), what, suppressed: gate.suppressed },
              'an event could not go through Redis; live views resync when it is back',
            );
          }
        })
      : undefined,
  );
  const auditFailures = createLogThrottle();
  const audit = new AuditService({
    log: auditLog,
    clock,
    newId: randomUUID,
    onError: (err, event) => {
      const gate = auditFailures();
      if (gate.open) {
        logger.error(
          { err: err instanceof Error ? err.message : String(err), action: event.action, suppressed: gate.suppressed },
          'an audit event could not be stored',
        );
      }
    },
  });
  const xrdpConfig = createXrdpConfigService(config, logger, clock, xrdpConfigStore, audit);
  const localLimiter = new MemoryRateLimiter(clock);
  let lastFallbackLog = 0;
  const rateLimiter = redis
    ? createResilientRateLimiter(new RedisRateLimiter(redis.publisher), localLimiter, (err) => {
        if (Date.now() - lastFallbackLog > 10_000) {
          lastFallbackLog = Date.now();
          logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'rate limits fall back to this replica');
        }
      })
    : localLimiter;
  const sesmanLog = join(config.xrdp.logPath, 'xrdp-sesman.log');
  const sesman = createSesmanSupervisor({
    xrdpBinary: config.xrdp.binary,
    dir: sesmanPaths(config.xrdp.configPath).dir,
    logFile: sesmanLog,
    config: () => xrdpConfig.current(),
    onUnexpectedExit: (message) => logger.error({ message }, 'xrdp-sesman exited unexpectedly'),
  });
  const sessionTerminator = createSessionTerminator({
    sesmanLog,
    instanceLogs: async () => {
      const root = join(config.xrdp.configPath, 'servers');
      const ids = await readdir(root).catch(() => [] as string[]);
      return ids.filter((id) => /^[A-Za-z0-9_-]{1,128}$/.test(id)).map((id) => instancePaths(config.xrdp.configPath, id).log);
    },
  });
  const runtime =
    overrides.runtime ??
    createXrdpServerRuntime({
      binary: config.xrdp.binary,
      configPath: config.xrdp.configPath,
      loopbackOnly: config.xrdp.loopbackOnly,
      publicHost: config.xrdp.publicHost,
      // Each start renders the instance from the latest configuration version.
      config: xrdpConfig,
      // xrdp hands logins to the host's one sesman, so an instance start brings it up. A sesman
      // that cannot start does not stop the listener (logins fail until it runs; xrdpService
      // reports why), so a start never fails for it.
      beforeStart: () =>
        sesman.ensureRunning().catch((err: unknown) => {
          logger.warn(
            { err: err instanceof Error ? err.message : String(err) },
            'xrdp-sesman is not running: RDP logins will fail',
          );
        }),
    });
  // The environment gives the defaults; an admin's stored version replaces them.
  const limits = new ResourceLimitsService({
    store: resourceStores.limits,
    defaults: defaultResourceLimits({
      maxServers: config.limits.maxServers,
      maxSessions: config.limits.maxSessions,
      maxCpuUsage: config.limits.maxCpuUsage,
      maxMemoryUsage: config.limits.maxMemoryUsage,
      sessionTimeoutSeconds: config.sessions.sessionTimeoutSeconds,
    }),
    clock,
    audit,
  });
  const admission = createHostAdmission(config, resourceStores.samples, limits, clock);
  let servers: ServerService | undefined;
  let sessions: SessionService | undefined;
  let resources: Resources | undefined;
  const metrics = createMetrics({
    serversByStatus: () => (servers ? servers.countByStatus() : Promise.resolve({})),
    sessionsByStatus: () => (sessions ? sessions.countByStatus() : Promise.resolve({})),
    serverUsage: () => (resources ? resources.serverUsage() : Promise.resolve([])),
    hostUsage: () => (resources ? resources.hostUsage() : Promise.resolve([])),
  });
  servers = new ServerService({
    audit,
    store: serverStore,
    claims,
    runtime,
    events,
    limits,
    clock,
    newId: randomUUID,
    portRange: config.xrdp.portRange,
    host: config.xrdp.publicHost,
    ...(admission ? { admission } : {}),
    metrics: {
      created: () => metrics.serversCreatedTotal.inc(),
      deleted: () => metrics.serversDeletedTotal.inc(),
    },
    // Sessions are built below and need the servers; the servers reach them through this.
    sessions: {
      countLive: (serverId) => (sessions ? sessions.countLive(serverId) : Promise.resolve(0)),
      terminateAll: (serverId, reason) => (sessions ? sessions.terminateAll(serverId, reason) : Promise.resolve(0)),
    },
  });
  const isRoot = process.getuid?.() === 0;
  sessions = new SessionService({
    audit,
    store: sessionStore,
    claims,
    servers,
    events,
    limits,
    clock,
    newId: randomUUID,
    timeouts: { idleSeconds: config.sessions.idleTimeoutSeconds, sessionSeconds: config.sessions.sessionTimeoutSeconds },
    credentialTtlSeconds: config.sessions.credentialTtlSeconds,
    defaultCredentialMode: isRoot ? 'EPHEMERAL' : 'HOST_ACCOUNT',
    ...(isRoot ? { accounts: overrides.sessionAccounts ?? createLinuxSessionAccounts() } : {}),
    ...(overrides.sessionAccounts ? { accounts: overrides.sessionAccounts } : {}),
    terminator: sessionTerminator,
    ...(admission ? { admission } : {}),
    metrics: {
      created: () => metrics.sessionsCreatedTotal.inc(),
      terminated: (reason) => metrics.sessionsTerminatedTotal.inc({ reason }),
    },
  });
  resources = createResources({
    config,
    logger,
    clock,
    stores: resourceStores,
    events,
    serverStore,
    sessionStore,
    servers,
    sessions,
    audit,
    ...(redis ? { redis } : {}),
    ...(overrides.hostProbe ? { probe: overrides.hostProbe } : {}),
  });
  const collector = resources.collector;
  runtime.onUnexpectedExit((exit) => {
    servers
      ?.markFailed(exit.serverId, exit.message)
      .catch((err: unknown) => logger.error({ err, serverId: exit.serverId }, 'could not record a failed server'));
  });
  const xrdpHost = new XrdpHostService({
    supervisor: sesman,
    servers: serverStore,
    clock,
    onControl: (viewer, action, result, message) => {
      logger.info({ actor: viewer.userId, action, result, message }, 'xrdp service control');
      void audit.record({
        actor: actorOf(viewer),
        action: 'xrdp.service.control',
        target: { type: 'xrdp_service', id: 'xrdp-sesman', name: null },
        result,
        details: { command: action, ...(message ? { message } : {}) },
      });
    },
  });
  const xrdpLogs = new XrdpLogService(new FileXrdpLogReader({ configPath: config.xrdp.configPath }));
  const sessionWatcher = existsSync(config.xrdp.binary)
    ? createXrdpSessionWatcher({
        sesmanLog,
        configPath: config.xrdp.configPath,
        events,
        onEvent: (e) => {
          logger.info({ serverId: e.serverId, kind: e.kind, display: e.display }, 'xrdp session event');
          // Sessions follow what xrdp reports: logins connect them, disconnects disconnect them.
          sessions
            ?.applyXrdpEvent(e)
            .catch((err: unknown) => logger.warn({ err, serverId: e.serverId }, 'could not apply an xrdp session event'));
        },
      })
    : undefined;
  const tokenVerifier =
    overrides.tokenVerifier ??
    createJwtTokenVerifier({
      secret: config.auth.secret,
      jwksUrl: config.auth.jwksUrl,
      issuer: config.auth.issuer,
      audience: config.auth.audience,
    });

  return {
    config,
    logger,
    audit,
    ...(mongo ? { mongo } : {}),
    ...(redis ? { redis } : {}),
    events,
    metrics,
    tokenVerifier,
    limits,
    resources,
    servers,
    sessions,
    xrdpConfig,
    rateLimiter,
    sesman,
    xrdpHost,
    xrdpLogs,
    sessionTerminator,
    ...(sessionWatcher ? { sessionWatcher } : {}),
    runtime,
    async close() {
      // The collector goes first: it gives its lease back through Redis.
      await collector.stop();
      await sessionWatcher?.stop();
      await redis?.close();
      await mongo?.close();
    },
  };
}

/** Throws at startup when XRDP_LOG_PATH cannot be written into sesman.ini. */
function createXrdpConfigService(
  config: Config,
  logger: Logger,
  clock: Clock,
  store: XrdpConfigStore,
  audit: AuditService,
): XrdpConfigService {
  // The host files go to DATA_DIR/xrdp, never into /etc/xrdp, which the service does not own.
  const sesman = { listenAddress: '127.0.0.1', logFile: join(config.xrdp.logPath, 'xrdp-sesman.log') };
  const writeFiles = createXrdpConfigFileWriter({ dir: join(config.dataDir, 'xrdp'), sesman });
  return new XrdpConfigService({
    store,
    clock,
    audit,
    sesman,
    onChange: async (xrdp, version) => {
      try {
        await writeFiles(xrdp);
      } catch (err) {
        logger.error({ err, version }, 'could not write the xrdp host files of a new configuration version');
      }
    },
  });
}
