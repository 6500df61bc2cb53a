import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createMetrics, type Metrics } from '../../monitoring/metrics.js';
import { createJwtTokenVerifier } from '../adapters/auth/jwt-token-verifier.js';
import { createLinuxSessionAccounts } from '../adapters/host/linux-session-accounts.js';
import { MemoryClaimStore } from '../adapters/memory/memory-claim-store.js';
import { MemoryRateLimiter } from '../adapters/memory/memory-rate-limiter.js';
import { MemoryServerStore } from '../adapters/memory/memory-server-store.js';
import { MemorySessionStore } from '../adapters/memory/memory-session-store.js';
import { MemoryXrdpConfigStore } from '../adapters/memory/memory-xrdp-config-store.js';
import { MongoClaimStore } from '../adapters/mongo/mongo-claim-store.js';
import { connectMongo, type MongoDatabase } from '../adapters/mongo/mongo-database.js';
import { MongoServerStore } from '../adapters/mongo/mongo-server-store.js';
import { MongoSessionStore } from '../adapters/mongo/mongo-session-store.js';
import { MongoXrdpConfigStore } from '../adapters/mongo/mongo-xrdp-config-store.js';
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
import type { TokenVerifier } from '../domain/auth/token-verifier.js';
import { defaultResourceLimits, staticLimitsProvider } from '../domain/resources/resource-limits.js';
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
import type { Logger } from './logger.js';
import { createEventBus } from './pubsub.js';
import { createResilientRateLimiter } from './resilient-rate-limiter.js';

/** Replaceable parts, for tests and embedding. */
export interface ContainerOverrides {
  sessionAccounts?: SessionAccounts;
  runtime?: ServerRuntime;
  clock?: Clock;
  tokenVerifier?: TokenVerifier;
}

export interface Container {
  config: Config;
  logger: Logger;
  mongo?: MongoDatabase;
  redis?: RedisConnections;
  events: EventBus;
  metrics: Metrics;
  tokenVerifier: TokenVerifier;
  limits: ReturnType<typeof staticLimitsProvider>;
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
  let xrdpConfig: XrdpConfigService;
  try {
    if (config.mongo) {
      mongo = await connectMongo(config.mongo);
      const mongoServers = new MongoServerStore(mongo.db);
      await mongoServers.ensureIndexes();
      serverStore = mongoServers;
      const mongoSessions = new MongoSessionStore(mongo.db);
      await mongoSessions.ensureIndexes();
      sessionStore = mongoSessions;
      const mongoClaims = new MongoClaimStore(mongo.db, clock);
      await mongoClaims.ensureIndexes();
      claims = mongoClaims;
      xrdpConfig = createXrdpConfigService(config, logger, clock, new MongoXrdpConfigStore(mongo.db));
    } else {
      logger.warn('MONGODB_URI is not set: using the in-memory store; data is not kept across restarts');
      serverStore = new MemoryServerStore();
      sessionStore = new MemorySessionStore();
      claims = new MemoryClaimStore(clock);
      xrdpConfig = createXrdpConfigService(config, logger, clock, new MemoryXrdpConfigStore());
    }
    if (config.redis) {
      redis = await connectRedis({
        url: config.redis.url,
        onError: (err, connection) => logger.warn({ err: err.message, connection }, 'redis connection error'),
      });
    } else {
      logger.info('REDIS_URL is not set: events reach this process only');
    }
  } catch (err) {
    await redis?.close();
    await mongo?.close();
    throw err;
  }

  const events = createEventBus(redis ? createEventTargetOn(redis) : undefined);
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
  const limits = staticLimitsProvider(
    defaultResourceLimits({
      maxServers: config.limits.maxServers,
      maxSessions: config.limits.maxSessions,
      maxCpuUsage: config.limits.maxCpuUsage,
      maxMemoryUsage: config.limits.maxMemoryUsage,
      sessionTimeoutSeconds: config.sessions.sessionTimeoutSeconds,
    }),
  );
  let servers: ServerService | undefined;
  let sessions: SessionService | undefined;
  const metrics = createMetrics({
    serversByStatus: () => (servers ? servers.countByStatus() : Promise.resolve({})),
    sessionsByStatus: () => (sessions ? sessions.countByStatus() : Promise.resolve({})),
  });
  servers = new ServerService({
    store: serverStore,
    claims,
    runtime,
    events,
    limits,
    clock,
    newId: randomUUID,
    portRange: config.xrdp.portRange,
    host: config.xrdp.publicHost,
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
    store: sessionStore,
    claims,
    servers,
    events,
    limits,
    clock,
    newId: randomUUID,
    timeouts: { idleSeconds: config.sessions.idleTimeoutSeconds, sessionSeconds: config.sessions.sessionTimeoutSeconds },
    defaultCredentialMode: isRoot ? 'EPHEMERAL' : 'HOST_ACCOUNT',
    ...(isRoot ? { accounts: overrides.sessionAccounts ?? createLinuxSessionAccounts() } : {}),
    ...(overrides.sessionAccounts ? { accounts: overrides.sessionAccounts } : {}),
    terminator: sessionTerminator,
    metrics: {
      created: () => metrics.sessionsCreatedTotal.inc(),
      terminated: (reason) => metrics.sessionsTerminatedTotal.inc({ reason }),
    },
  });
  runtime.onUnexpectedExit((exit) => {
    servers
      ?.markFailed(exit.serverId, exit.message)
      .catch((err: unknown) => logger.error({ err, serverId: exit.serverId }, 'could not record a failed server'));
  });
  const xrdpHost = new XrdpHostService({
    supervisor: sesman,
    servers: serverStore,
    clock,
    onControl: (viewer, action, result, message) =>
      logger.info({ actor: viewer.userId, action, result, message }, 'xrdp service control'),
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
    ...(mongo ? { mongo } : {}),
    ...(redis ? { redis } : {}),
    events,
    metrics,
    tokenVerifier,
    limits,
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
      await sessionWatcher?.stop();
      await redis?.close();
      await mongo?.close();
    },
  };
}

/** Throws at startup when XRDP_LOG_PATH cannot be written into sesman.ini. */
function createXrdpConfigService(config: Config, logger: Logger, clock: Clock, store: XrdpConfigStore): XrdpConfigService {
  // The host files go to DATA_DIR/xrdp, never into /etc/xrdp, which the service does not own.
  const sesman = { listenAddress: '127.0.0.1', logFile: join(config.xrdp.logPath, 'xrdp-sesman.log') };
  const writeFiles = createXrdpConfigFileWriter({ dir: join(config.dataDir, 'xrdp'), sesman });
  return new XrdpConfigService({
    store,
    clock,
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
