import { randomUUID } from 'node:crypto';
import { createMetrics, type Metrics } from '../../monitoring/metrics.js';
import { createJwtTokenVerifier } from '../adapters/auth/jwt-token-verifier.js';
import { MemoryClaimStore } from '../adapters/memory/memory-claim-store.js';
import { MemoryServerStore } from '../adapters/memory/memory-server-store.js';
import { MongoClaimStore } from '../adapters/mongo/mongo-claim-store.js';
import { connectMongo, type MongoDatabase } from '../adapters/mongo/mongo-database.js';
import { MongoServerStore } from '../adapters/mongo/mongo-server-store.js';
import { connectRedis, createEventTargetOn, type RedisConnections } from '../adapters/redis/redis-connections.js';
import { createXrdpServerRuntime } from '../adapters/xrdp/xrdp-server-runtime.js';
import type { Config } from '../config/config.js';
import type { TokenVerifier } from '../domain/auth/token-verifier.js';
import { defaultResourceLimits, staticLimitsProvider } from '../domain/resources/resource-limits.js';
import type { ServerRuntime } from '../domain/servers/server-runtime.js';
import { ServerService } from '../domain/servers/server-service.js';
import type { ServerStore } from '../domain/servers/server-store.js';
import type { ClaimStore } from '../domain/shared/claim-store.js';
import { type Clock, systemClock } from '../domain/shared/clock.js';
import type { EventBus } from '../domain/shared/event-publisher.js';
import type { Logger } from './logger.js';
import { createEventBus } from './pubsub.js';

/** Replaceable parts, for tests and embedding. */
export interface ContainerOverrides {
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
  runtime: ServerRuntime;
  /** Closes Redis, then MongoDB. */
  close(): Promise<void>;
}

/** Wires adapters into services: MongoDB and Redis when configured, memory otherwise. */
export async function createContainer(config: Config, logger: Logger, overrides: ContainerOverrides = {}): Promise<Container> {
  const clock = overrides.clock ?? systemClock;
  let mongo: MongoDatabase | undefined;
  let redis: RedisConnections | undefined;
  let serverStore: ServerStore;
  let claims: ClaimStore;
  try {
    if (config.mongo) {
      mongo = await connectMongo(config.mongo);
      const mongoServers = new MongoServerStore(mongo.db);
      await mongoServers.ensureIndexes();
      serverStore = mongoServers;
      const mongoClaims = new MongoClaimStore(mongo.db, clock);
      await mongoClaims.ensureIndexes();
      claims = mongoClaims;
    } else {
      logger.warn('MONGODB_URI is not set: using the in-memory store; data is not kept across restarts');
      serverStore = new MemoryServerStore();
      claims = new MemoryClaimStore(clock);
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
  const runtime =
    overrides.runtime ??
    createXrdpServerRuntime({
      binary: config.xrdp.binary,
      configPath: config.xrdp.configPath,
      loopbackOnly: config.xrdp.loopbackOnly,
      publicHost: config.xrdp.publicHost,
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
  const metrics = createMetrics({ serversByStatus: () => (servers ? servers.countByStatus() : Promise.resolve({})) });
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
  });
  runtime.onUnexpectedExit((exit) => {
    servers
      ?.markFailed(exit.serverId, exit.message)
      .catch((err: unknown) => logger.error({ err, serverId: exit.serverId }, 'could not record a failed server'));
  });
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
    runtime,
    async close() {
      await redis?.close();
      await mongo?.close();
    },
  };
}
