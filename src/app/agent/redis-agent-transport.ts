import { createAgentCommandConsumer } from '../../adapters/redis/host-agent-consumer.js';
import type { HostStreamLog } from '../../adapters/redis/host-redis.js';
import type { AgentConfig } from '../../config/agent-config.js';
import type { Logger } from '../logger.js';
import type { AgentTransport } from './run-agent.js';

/** The stream transport's log lines, through pino. */
export function streamLog(logger: Logger): HostStreamLog {
  return (level, msg, fields) => logger[level](fields ?? {}, msg);
}

/** The agent's side of Redis Streams: its command stream (group consumer) and its event stream. */
export async function createRedisAgentTransport(config: AgentConfig, logger: Logger): Promise<AgentTransport> {
  let handle: (type: string, payload: unknown) => Promise<unknown> = async () => {
    throw new Error('the agent is not serving yet');
  };
  const consumer = createAgentCommandConsumer({
    redis: config.redisUrl,
    hostId: config.hostId,
    stateDir: config.stateDir,
    handle: (command) => handle(command.type, command.payload),
    log: streamLog(logger),
  });
  return {
    async serve(h) {
      handle = h;
      await consumer.start();
    },
    publish: async (type, payload) => void (await consumer.events.publish(type, payload)),
    close: () => consumer.stop(),
  };
}
