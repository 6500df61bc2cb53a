import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMonitoringRouter, type ReadinessCheck, runChecks } from '../../monitoring/monitoring-router.js';
import type { Config } from '../config/config.js';
import { hostSubjectId } from '../domain/resources/resource-collector.js';
import { createConsoleRoutes } from './console-routes.js';
import { type Container, type ContainerOverrides, createContainer } from './container.js';
import { cleanUpAccountsAtStart, stopHostAtShutdown } from './host-lifecycle.js';
import { startLocalHost } from './hosts-wiring.js';
import { createHttpHandler } from './http-handler.js';
import { createLogger, type Logger } from './logger.js';
import { requestIdFrom, runInRequestScope } from './request-scope.js';
import { type JobIntervals, startBackgroundJobs } from './wiring/jobs.js';
import { attachWebSocketServer, type WebSocketLimits } from './ws-server.js';
import { type AppYoga, createAppYoga } from './yoga.js';

export interface App {
  server: Server;
  container: Container;
  yoga: AppYoga;
  /** Listens; port 0 picks a free one. Resolves with the bound port. */
  start(port?: number, host?: string): Promise<number>;
  /**
   * Ordered shutdown: readiness off at once, serve on for `drainMs` while balancers notice, stop
   * accepting, complete subscriptions (1001), let in-flight requests finish, dispose yoga, let
   * the background rounds already running finish (none starts once stopping), quit Redis, close
   * MongoDB. Every step is bounded; rejects naming the steps that timed out.
   */
  stop(options?: StopOptions): Promise<void>;
}

export interface StopOptions {
  /** How long readiness is false before the listener closes. @default 0 */
  drainMs?: number;
  /** How long in-flight requests get to finish once the listener is closed. @default 10000 */
  inflightTimeoutMs?: number;
}

export interface BuildAppOptions extends ContainerOverrides, JobIntervals {
  logger?: Logger;
  /** How long start-up waits for MongoDB before serving with readiness false. @default 3000 */
  databaseWaitMs?: number;
  /** WebSocket limits beyond the configuration (tests make the slow-consumer cap small). @default {} */
  webSocketLimits?: Partial<WebSocketLimits>;
  /** Where the console's build is. @default dist/console */
  consoleDir?: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves with whether `task` finished within `ms`. */
async function within(ms: number, task: () => Promise<unknown> | unknown): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([Promise.resolve(task()).then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Builds the whole service for a configuration without listening: tests call start(0). */
export async function buildApp(config: Config, options: BuildAppOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger({ level: config.log.level });
  const container = await createContainer(config, logger, options);
  const { mongo, redis } = container;
  // Recovery reads the servers, so it waits for the database; start-up waits for it a little
  // (the usual case: it is there), then serves with readiness false until it appears.
  let stopLocalHost = async () => {};
  const recover = async () => {
    // With agents, each host reconciles when its agent says hello; this process runs no xrdp.
    if (config.hosts.mode === 'agents') return;
    // The in-process host is registered before the first request, so placement has a host.
    const local = startLocalHost({
      config,
      logger,
      hosts: container.hosts,
      servers: container.servers,
      usage: async () =>
        (await container.resources.usage.current([hostSubjectId(config.xrdp.publicHost)])).flatMap((s) => (s ? [s] : [])),
      clock: options.clock ?? { now: () => new Date() },
    });
    stopLocalHost = local.stop;
    await local.ready;
    const recovered = await container.servers.recoverRuntime().catch((err: unknown) => {
      logger.error({ err }, 'could not recover xrdp instances');
      return null;
    });
    if (recovered && recovered.adopted.length + recovered.failed.length + recovered.reaped.length > 0) {
      logger.info(recovered, 'xrdp instances recovered after start');
    }
    await cleanUpAccountsAtStart(container, logger).catch((err: unknown) => {
      logger.error({ err }, 'could not clean up orphaned session accounts');
    });
  };
  let recovery: Promise<void>;
  if (!mongo) {
    recovery = recover();
    await recovery;
  } else if (await within(options.databaseWaitMs ?? 3000, () => mongo.ready)) {
    logger.info('MongoDB is reachable and indexed');
    recovery = recover();
    await recovery;
  } else {
    logger.warn('serving with readiness false until MongoDB is reachable');
    recovery = mongo.ready.then(() => {
      logger.info('MongoDB is reachable and indexed');
      return recover();
    });
  }
  const yoga = createAppYoga(container);
  let shuttingDown = false;
  let closing = false;

  const checks: ReadinessCheck[] = [];
  if (mongo) {
    checks.push({
      name: 'mongodb',
      check: async () => {
        if (!mongo.isReady()) throw new Error('not reachable yet');
        await mongo.ping();
      },
    });
  }
  // Optional: without Redis a replica still serves everything (publishes are dropped, rate limits
  // fall back to local buckets, subscriptions resync with a snapshot when it returns), and an
  // outage hits every replica at once, so it degrades readiness instead of failing it.
  if (redis) checks.push({ name: 'redis', required: false, check: () => redis.ping() });
  container.metrics.reportDependencies(async () =>
    (await runChecks(checks)).map((o) => ({ dependency: o.name, up: o.result === 'ok' })),
  );

  const monitoring = createMonitoringRouter({
    service: config.service.name,
    version: config.service.version,
    registry: container.metrics.registry,
    metricsEnabled: config.metrics.enabled,
    checks,
    isShuttingDown: () => shuttingDown,
  });
  const handler = createHttpHandler({
    yoga,
    metrics: container.metrics,
    monitoring,
    maxBodyBytes: config.service.maxRequestBodyBytes,
    serviceName: 'api',
    graphiql: config.graphiql,
    console: createConsoleRoutes(config, options.consoleDir),
  });
  const server = createServer((req, res) => {
    // Once the listener closes, responses end their keep-alive connections so none lingers.
    if (closing) res.setHeader('connection', 'close');
    const requestId = requestIdFrom(req.headers['x-request-id']);
    res.setHeader('x-request-id', requestId);
    runInRequestScope({ requestId }, () => void handler(req, res));
  });
  const ws = attachWebSocketServer(server, yoga, container, {
    maxSubscriptionsPerUser: config.wsMaxSubscriptionsPerUser,
    ...options.webSocketLimits,
  });

  const jobs = startBackgroundJobs(container, logger, recovery, options);

  let stopped: Promise<void> | undefined;
  const stop = async ({ drainMs = 0, inflightTimeoutMs = 10_000 }: StopOptions = {}) => {
    const started = Date.now();
    shuttingDown = true;
    // No background round starts from here on; the ones running finish before the stores close.
    const backgroundStopped = Promise.all([jobs.stop(), stopLocalHost()]);
    const timedOut: string[] = [];
    const step = async (name: string, ms: number, task: () => Promise<unknown> | unknown) => {
      const t0 = Date.now();
      const done = await within(ms, async () => {
        try {
          await task();
        } catch (err) {
          logger.warn({ err, step: name }, 'shutdown step failed');
        }
      });
      if (!done) timedOut.push(name);
      logger.info({ step: name, ms: Date.now() - t0, ...(done ? {} : { timedOut: true }) }, 'shutdown step');
    };
    if (drainMs > 0) await step('drain', drainMs + 1000, () => sleep(drainMs));
    closing = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await step('complete subscriptions', 5000, () => ws.close());
    // Connections whose last response went out before `closing` was set turn idle later.
    const sweeper = setInterval(() => server.closeIdleConnections(), 100);
    await step('finish in-flight requests', inflightTimeoutMs, () => closed);
    clearInterval(sweeper);
    if (server.listening || timedOut.length > 0) server.closeAllConnections();
    await step('dispose yoga', 3000, () => yoga.dispose());
    // A health check may be stopping a hung instance, the heartbeat writing: they use xrdp, Redis
    // and MongoDB, so they end before those do (a round cut by MongoDB closing under it failed
    // half-way with MongoClientClosedError).
    await step('finish background jobs', 10_000, () => backgroundStopped);
    await step('stop xrdp and session accounts', 15_000, () => stopHostAtShutdown(container, config, logger));
    await step('close xrdp watcher, Redis and MongoDB', 8000, () => container.close());
    logger.info({ ms: Date.now() - started, timedOut }, 'shutdown finished');
    if (timedOut.length > 0) throw new Error(`shutdown steps timed out: ${timedOut.join(', ')}`);
  };

  return {
    server,
    container,
    yoga,
    start(port = config.service.port, host = config.service.host) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    stop(options) {
      stopped ??= stop(options);
      return stopped;
    },
  };
}
