import { type loadAgentConfig, loadAgentProcessConfig } from '../config/agent-config.js';
import { ConfigError } from '../config/config.js';
import { packageVersion } from '../config/process-config.js';
import { createRedisAgentTransport } from './agent/redis-agent-transport.js';
import { runAgent } from './agent/run-agent.js';
import { createLogger } from './logger.js';

/** `npm run agent`: the host agent of this machine (see docs/CLUSTER.md). */
async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--print-acl') {
    const { printAcl } = await import('./agent/print-acl.js');
    try {
      process.stdout.write(printAcl(argv[1] ?? '', argv[2]));
    } catch (err) {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(2);
    }
    return;
  }
  let config: ReturnType<typeof loadAgentConfig>;
  try {
    config = loadAgentProcessConfig(packageVersion());
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ level: config.log.level as 'info' }).child({ hostId: config.hostId });
  const transport = await createRedisAgentTransport(config, logger);
  const agent = await runAgent(config, logger, transport);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'host agent stopping; xrdp instances and sessions keep running');
    const force = setTimeout(() => process.exit(1), 10_000);
    agent
      .stop()
      .then(() => {
        clearTimeout(force);
        logger.flush(() => process.exit(0));
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'host agent stop failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`host agent failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
