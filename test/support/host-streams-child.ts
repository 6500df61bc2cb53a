/**
 * A process the host-streams recovery tests SIGKILL mid-work (run with `node --import tsx`):
 *   agent  <redisUrl> <hostId> <stateDir> <log>  - an agent command consumer; `hang` commands never finish
 *   events <redisUrl> <replicaId> <hostId> <log> - an API event consumer; `hang` events never finish
 * Each command run / event applied is appended to <log> and fsync'd at once, so what the killed
 * process did is known exactly. Prints `ready` when started.
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { createAgentCommandConsumer } from '../../src/adapters/redis/host-agent-consumer.js';
import { createHostEventConsumer } from '../../src/adapters/redis/host-event-consumer.js';

const [mode, redisUrl, a, b, logPath] = process.argv.slice(2);
if (!mode || !redisUrl || !a || !b || !logPath) throw new Error('usage: agent|events <redisUrl> <id> <dir|host> <log>');

function record(line: string): void {
  const fd = openSync(logPath as string, 'a');
  try {
    writeSync(fd, `${line}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const never = new Promise<never>(() => {});

if (mode === 'agent') {
  const agent = createAgentCommandConsumer({
    redis: redisUrl,
    hostId: a,
    stateDir: b,
    concurrency: 4,
    handle: async (c) => {
      record(`exec ${c.id} ${c.type}`);
      if (c.type === 'hang') await never;
      return { echo: c.payload };
    },
  });
  await agent.start();
} else {
  const consumer = createHostEventConsumer({
    redis: redisUrl,
    replicaId: a,
    claimIdleMs: 500,
    handle: async (_hostId, event) => {
      if (event.type === 'hang') await never;
      record(`applied ${event.entryId}`);
    },
  });
  await consumer.addHost(b);
  consumer.start();
}
process.stdout.write('ready\n');
