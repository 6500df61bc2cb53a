import { createMetrics, type Metrics } from '../../monitoring/metrics.js';
import { createJwtTokenVerifier } from '../adapters/auth/jwt-token-verifier.js';
import { createOidcDiscovery } from '../adapters/auth/oidc-discovery.js';
import { loadInstallationId } from '../adapters/host/installation-id.js';
import type { MongoDatabase } from '../adapters/mongo/mongo-database.js';
import type { RedisConnections } from '../adapters/redis/redis-connections.js';
import type { DisplayActivityWatcher } from '../adapters/xrdp/display-activity-watcher.js';
import type { HostSesman } from '../adapters/xrdp/sesman-supervisor.js';
import type { XrdpSessionWatcher } from '../adapters/xrdp/xrdp-session-watcher.js';
import type { Config } from '../config/config.js';
import type { AuditService } from '../domain/audit/audit-service.js';
import type { TokenVerifier } from '../domain/auth/token-verifier.js';
import type { FleetViewService } from '../domain/fleet/fleet-view.js';
import type { HostService } from '../domain/hosts/host-service.js';
import type { BrokerService } from '../domain/pools/broker-service.js';
import type { PoolService } from '../domain/pools/pool-service.js';
import type { HostProbe } from '../domain/resources/host-probe.js';
import type { ResourceLimitsService } from '../domain/resources/resource-limits-service.js';
import type { DrainService } from '../domain/servers/drain-service.js';
import type { ServerRuntime } from '../domain/servers/server-runtime.js';
import type { ServerService } from '../domain/servers/server-service.js';
import type { SessionAccounts } from '../domain/sessions/session-accounts.js';
import type { SessionService } from '../domain/sessions/session-service.js';
import type { SessionStore } from '../domain/sessions/session-store.js';
import { type Clock, systemClock } from '../domain/shared/clock.js';
import { NotFoundError } from '../domain/shared/errors.js';
import type { EventBus } from '../domain/shared/event-publisher.js';
import type { RateLimiter } from '../domain/shared/rate-limiter.js';
import type { XrdpConfigService } from '../domain/xrdp/xrdp-config-service.js';
import type { XrdpHostService } from '../domain/xrdp/xrdp-host.js';
import type { XrdpLogService } from '../domain/xrdp/xrdp-log-service.js';
import type { XrdpSessionTerminator } from '../domain/xrdp/xrdp-session-terminator.js';
import { createLocalGenerations, createRedisGenerations } from './cache-generations.js';
import type { Logger } from './logger.js';
import { type Resources, usageGaugeSources } from './resources-wiring.js';
import { createResponseCache, type ResponseCache } from './response-cache.js';
import { createClusterCommands, createEventApplier, startEventConsumer } from './wiring/cluster.js';
import { createAudit, createFleet, createXrdpConfig } from './wiring/fleet.js';
import { startHostCollectors } from './wiring/host-collectors.js';
import { createLocalHost, type LocalHostOverrides } from './wiring/local-host.js';
import { connectConfiguredRedis, createBus, createRateLimiter } from './wiring/redis.js';
import { createRemoteHost } from './wiring/remote-host.js';
import { openStores, withGenerations } from './wiring/stores.js';

/** Replaceable parts, for tests and embedding. */
export interface ContainerOverrides extends LocalHostOverrides {
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
  /** Server drains: drainServer, cancelServerDrain and the job that runs their countdown and deadline. */
  drains: DrainService;
  sessions: SessionService;
  /** RDP hosts: registration, heartbeats, drain, placement. */
  hosts: HostService;
  /** Pools and assignments. */
  pools: PoolService;
  /** The live fleet lists (fleetEvents, fleetUsage), scoped to what each viewer may see. */
  fleetViews: FleetViewService;
  /** connect: a user's way to a pool or a server. */
  broker: BrokerService;
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
  /** Hands every live desktop's input idle time to the sessions; absent when xrdp is not installed. */
  activityWatcher?: DisplayActivityWatcher;
  runtime: ServerRuntime;
  /** EPHEMERAL session accounts (root only), for clean-up at start and shutdown. */
  sessionAccounts?: SessionAccounts;
  /** Which sessions are live, for that clean-up. */
  sessionStore: SessionStore;
  /** Hot list queries' answers (RESPONSE_CACHE=on), kept exact by the stores' generations. */
  responseCache?: ResponseCache;
  /** Stops following xrdp logs, then closes Redis, then MongoDB. */
  close(): Promise<void>;
}

/**
 * The response cache's generations: shared through Redis when configured; in memory for the one
 * process with in-memory stores (config refuses MongoDB without Redis for the cache).
 */
function createConfiguredResponseCache(
  config: Config,
  redis: RedisConnections | undefined,
  logger: Logger,
  metrics: Metrics,
): ResponseCache {
  const generations = redis
    ? createRedisGenerations({
        redis: redis.publisher,
        logger,
        onBumpFailed: () => metrics.responseCacheInvalidationFailures.inc(),
      })
    : createLocalGenerations();
  const counter = metrics.responseCacheTotal;
  return createResponseCache({
    generations,
    maxBytes: config.responseCache.maxBytes,
    counters: {
      hit: () => counter.inc({ result: 'hit' }),
      miss: () => counter.inc({ result: 'miss' }),
      bypass: () => counter.inc({ result: 'bypass' }),
    },
  });
}

/**
 * The composition root: stores, Redis, the host side (xrdp on this machine), the fleet services,
 * then the two links from the host to the fleet (instances that die, what xrdp's logs report).
 */
export async function createContainer(config: Config, logger: Logger, overrides: ContainerOverrides = {}): Promise<Container> {
  const clock = overrides.clock ?? systemClock;
  const opened = openStores(config, logger, clock, { monitorCommands: overrides.mongoMonitorCommands ?? false });
  let redis: RedisConnections | undefined;
  try {
    redis = await connectConfiguredRedis(config, logger);
  } catch (err) {
    await opened.mongo?.close();
    throw err;
  }
  const events = createBus(redis, logger);
  const metrics = createMetrics({
    serversByStatus: () => opened.servers.countByStatus(),
    sessionsByStatus: () => opened.sessions.countByStatus(),
    ...usageGaugeSources({
      serverStore: opened.servers,
      samples: opened.resources.samples,
      clock,
      host: config.xrdp.publicHost,
      intervalSeconds: config.metrics.intervalSeconds,
    }),
  });
  const responseCache = config.responseCache.enabled ? createConfiguredResponseCache(config, redis, logger, metrics) : undefined;
  // With the cache on, every write to a store it reads moves that store's generation.
  const stores = responseCache ? withGenerations(opened, responseCache.generations) : opened;
  const audit = createAudit(stores, logger, clock);
  const xrdpConfig = createXrdpConfig(config, logger, clock, stores.xrdpConfigs, audit);
  const commands =
    config.hosts.mode === 'agents' && config.redis
      ? createClusterCommands({
          redisUrl: config.redis.url,
          hostStore: stores.hosts,
          clock,
          heartbeatIntervalSeconds: config.hosts.heartbeatIntervalSeconds,
          logger,
        })
      : undefined;
  const remote = commands
    ? createRemoteHost({
        commands,
        hostOfServer: async (serverId) => {
          const server = await stores.servers.findById(serverId);
          if (!server) throw new NotFoundError('server', serverId);
          return server.hostId;
        },
        defaultHostId: config.hosts.localId,
        xrdpConfig,
        events,
        onFollowError: (serverId, err) => logger.warn({ err, serverId }, 'could not ask the agent to follow a log'),
      })
    : undefined;
  const host =
    remote ??
    createLocalHost({ ...config.xrdp, cgroupParent: config.resources.cgroupParent }, logger, xrdpConfig, {
      ...overrides,
      ...(process.getuid?.() === 0 ? { installationId: await loadInstallationId(config.dataDir) } : {}),
    });
  const fleet = createFleet({
    config,
    logger,
    clock,
    stores,
    events,
    audit,
    metrics,
    host,
    ...(redis ? { redis } : {}),
    ...(overrides.hostProbe ? { probe: overrides.hostProbe } : {}),
  });
  const { servers, sessions } = fleet;
  host.runtime.onUnexpectedExit((exit) => {
    servers
      .markFailed(exit.serverId, exit.message)
      .catch((err: unknown) => logger.error({ err, serverId: exit.serverId }, 'could not record a failed server'));
  });
  // Sessions follow what xrdp reports: logins connect them, disconnects disconnect them.
  const sessionWatcher = host.watchSessions(events, (e) => {
    logger.info({ serverId: e.serverId, kind: e.kind, display: e.display }, 'xrdp session event');
    sessions
      .applyXrdpEvent(e)
      .catch((err: unknown) => logger.warn({ err, serverId: e.serverId }, 'could not apply an xrdp session event'));
  });
  const activityWatcher = host.watchActivity((reports, measuredAt) => sessions.applyActivity(reports, measuredAt));
  // In a cluster the same links come from the agents' event streams.
  const agentEvents =
    commands && remote && config.redis
      ? startEventConsumer({
          redisUrl: config.redis.url,
          hostStore: stores.hosts,
          clock,
          heartbeatIntervalSeconds: config.hosts.heartbeatIntervalSeconds,
          logger,
          apply: createEventApplier({
            hosts: fleet.hosts,
            fleet,
            servers: stores.servers,
            sessions: stores.sessions,
            events,
            remote,
            commands,
            logger,
          }),
        })
      : undefined;
  const hostCollectors = remote
    ? startHostCollectors({
        hostStore: stores.hosts,
        clock,
        heartbeatIntervalSeconds: config.hosts.heartbeatIntervalSeconds,
        collectIntervalSeconds: config.metrics.intervalSeconds,
        resources: fleet.resources,
        remote,
        logger,
      })
    : undefined;
  const tokenVerifier =
    overrides.tokenVerifier ??
    createJwtTokenVerifier({
      secret: config.auth.secret,
      jwksUrl: config.auth.jwksUrl,
      discovery: config.auth.oidc ? createOidcDiscovery(config.auth.oidc.issuer) : undefined,
      issuer: config.auth.issuer,
      audience: config.auth.audience,
      groupsClaim: config.auth.groupsClaim,
    });

  return {
    config,
    logger,
    audit,
    ...(stores.mongo ? { mongo: stores.mongo } : {}),
    ...(redis ? { redis } : {}),
    events,
    metrics,
    tokenVerifier,
    ...fleet,
    xrdpConfig,
    rateLimiter: createRateLimiter(redis, logger, clock),
    sesman: host.sesman,
    sessionTerminator: host.sessionTerminator,
    ...(sessionWatcher ? { sessionWatcher } : {}),
    ...(activityWatcher ? { activityWatcher } : {}),
    runtime: host.runtime,
    ...(host.accounts ? { sessionAccounts: host.accounts } : {}),
    sessionStore: stores.sessions,
    ...(responseCache ? { responseCache } : {}),
    async close() {
      // Commands still waiting for an agent's answer fail first: a round of the collectors or an
      // event being applied may wait on one (up to its 30 s timeout when the agent took it and
      // died), and nothing below should wait for that.
      await commands?.client.close();
      // The collector goes next: it gives its lease back through Redis.
      await fleet.resources.collector.stop();
      await hostCollectors?.stop();
      await activityWatcher?.stop();
      await agentEvents?.stop();
      await sessionWatcher?.stop();
      await host.enforcement?.close();
      await redis?.close();
      await stores.mongo?.close();
    },
  };
}
