import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMonitoringRouter, type ReadinessCheck } from '../../monitoring/monitoring-router.js';
import type { Config } from '../config/config.js';
import { type Container, type ContainerOverrides, createContainer } from './container.js';
import { createHttpHandler } from './http-handler.js';
import { createLogger, type Logger } from './logger.js';
import { attachWebSocketServer } from './ws-server.js';
import { type AppYoga, createAppYoga } from './yoga.js';

export interface App {
  server: Server;
  container: Container;
  yoga: AppYoga;
  /** Listens; port 0 picks a free one. Resolves with the bound port. */
  start(port?: number, host?: string): Promise<number>;
  /** Ordered shutdown: readiness off, stop accepting, end subscriptions, dispose yoga, Redis, Mongo. */
  stop(): Promise<void>;
}

export interface BuildAppOptions extends ContainerOverrides {
  logger?: Logger;
  /** Interval of claim reconciliation. @default 30000 */
  reconcileIntervalMs?: number;
  /** Interval of the session deadline sweeper (every replica runs it). @default 5000 */
  sweepIntervalMs?: number;
}

/** Builds the whole service for a configuration without listening: tests call start(0). */
export async function buildApp(config: Config, options: BuildAppOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger({ level: config.log.level });
  const container = await createContainer(config, logger, options);
  const recovered = await container.servers.recoverRuntime().catch((err: unknown) => {
    logger.error({ err }, 'could not recover xrdp instances');
    return null;
  });
  if (recovered && recovered.adopted.length + recovered.failed.length + recovered.reaped.length > 0) {
    logger.info(recovered, 'xrdp instances recovered after start');
  }
  const yoga = createAppYoga(container);
  let shuttingDown = false;

  const checks: ReadinessCheck[] = [];
  const { mongo, redis } = container;
  if (mongo) checks.push({ name: 'mongodb', check: () => mongo.ping() });
  if (redis) checks.push({ name: 'redis', check: () => redis.ping() });

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
  });
  const server = createServer((req, res) => {
    void handler(req, res);
  });
  const ws = attachWebSocketServer(server, yoga, container, { maxSubscriptionsPerUser: config.wsMaxSubscriptionsPerUser });

  const reconcile = setInterval(() => {
    Promise.all([container.servers.reconcileClaims(), container.sessions.reconcileClaims()])
      .then(([servers, sessions]) => servers + sessions > 0 && logger.warn({ servers, sessions }, 'freed orphaned claims'))
      .catch((err: unknown) => logger.warn({ err }, 'claim reconciliation failed'));
  }, options.reconcileIntervalMs ?? 30_000);
  reconcile.unref();
  let sweeping = false;
  const sweep = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    container.sessions
      .sweep()
      .then((r) => r.terminated + r.disconnected > 0 && logger.info(r, 'session deadlines enforced'))
      .catch((err: unknown) => logger.warn({ err }, 'session sweep failed'))
      .finally(() => {
        sweeping = false;
      });
  }, options.sweepIntervalMs ?? 5000);
  sweep.unref();

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
    async stop() {
      shuttingDown = true;
      clearInterval(reconcile);
      clearInterval(sweep);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await ws.close();
      server.closeIdleConnections();
      await closed;
      await yoga.dispose();
      await container.close();
    },
  };
}
