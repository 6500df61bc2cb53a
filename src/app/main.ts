import { ConfigError } from '../config/config.js';
import { loadProcessConfig } from '../config/process-config.js';
import { buildApp } from './build-app.js';
import { createLogger } from './logger.js';

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
  const logger = createLogger({ level: config.log.level });
  if (config.auth.secretGenerated) {
    logger.warn(
      `JWT_SECRET is not set: using a development secret kept in ${config.dataDir}/dev-jwt-secret. ` +
        'Get a token with: npm run token -- --role admin --sub alice',
    );
  }
  const app = await buildApp(config, { logger });
  const port = await app.start();
  const shown = config.service.host === '0.0.0.0' ? 'localhost' : config.service.host;
  logger.info({ port }, `listening: GraphQL http://${shown}:${port}/graphql, health /health, metrics /metrics`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown timed out');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    app
      .stop()
      .then(() => {
        clearTimeout(timer);
        logger.info('stopped');
        process.exit(0);
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
