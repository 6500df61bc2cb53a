import { type ChildProcess, spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort, waitFor } from './net.js';

export interface PrivateRedis {
  port: number;
  url: string;
  /** A connection as the default (all-powerful) user, for setup and inspection. */
  admin: Redis;
  stop(): Promise<void>;
}

/**
 * A redis-server of this test file alone on a free loopback port: no persistence, killed by
 * stop(). `bind` adds addresses it also listens on (a test namespace's veth end on this machine).
 */
export async function startPrivateRedis(options: { bind?: string[] } = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      ['127.0.0.1', ...(options.bind ?? [])].join(' '),
      '--protected-mode',
      'no',
      '--save',
      '',
      '--appendonly',
      'no',
      '--loglevel',
      'warning',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const url = `redis://127.0.0.1:${port}`;
  const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 50 });
  admin.on('error', () => {});
  await waitFor(
    async () => {
      if (admin.status === 'wait') await admin.connect();
      return (await admin.ping()) === 'PONG';
    },
    10_000,
    `redis-server on ${port}`,
  );
  return {
    port,
    url,
    admin,
    async stop() {
      admin.disconnect();
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
