import { ConfigError, describeIgnored } from '../config/config.js';
import { loadProcessConfig } from '../config/process-config.js';
import { buildApp } from './build-app.js';
import { createLogger } from './logger.js';
import { reserveRdpPorts } from './rdp-port-reservation.js';

const SHUTDOWN_TIMEOUT_MS = 25_000;

async function main(): Promise<void> {
  let config: ReturnType<typeof loadProcessConfig>;
  try {
    config = loadProcessConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ level: config.log.level, pretty: config.log.format === 'pretty' });
  if (config.ignoredVariables.length > 0) {
    logger.warn(
      { ignored: config.ignoredVariables.map((v) => v.name) },
      `ignoring environment variables the service does not read: ${describeIgnored(config.ignoredVariables)}`,
    );
  }
  if (config.auth.secretGenerated) {
    logger.warn(
      `JWT_SECRET is not set: using a development secret kept in ${config.dataDir}/dev-jwt-secret. ` +
        'Get a token with: npm run token -- --role admin --sub alice',
    );
  }
  await reserveRdpPorts(config, logger);
  const app = await buildApp(config, { logger });
  const port = await app.start();
  const shown = config.service.host === '0.0.0.0' ? 'localhost' : config.service.host;
  logger.info({ port }, `listening: GraphQL http://${shown}:${port}/graphql, health /health, metrics /metrics`);

  // Logs are written asynchronously: flush them before exiting, or the last lines come late or not at all.
  const exit = (code: number) => {
    const force = setTimeout(() => process.exit(code), 1000);
    logger.flush(() => {
      clearTimeout(force);
      process.exit(code);
    });
  };
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown timed out');
      exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    const drainMs = config.service.shutdownDrainSeconds * 1000;
    app
      // In-flight requests get what the budget leaves after the drain and 5 s for the closing steps.
      .stop({ drainMs, inflightTimeoutMs: Math.max(1000, SHUTDOWN_TIMEOUT_MS - drainMs - 5000) })
      .then(() => {
        clearTimeout(timer);
        logger.info('stopped');
        exit(0);
      })
      .catch((err: unknown) => {
        clearTimeout(timer);
        logger.error({ err }, 'shutdown failed');
        exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
