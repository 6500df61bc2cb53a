import { type ChildProcess, spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort, waitFor } from './net.js';

export interface PrivateRedis {
  port: number;
  url: string;
  /** A connection as the default (all-powerful) user, for setup and inspection. */
  admin: Redis;
  /** SIGKILLs the server (all data is lost: no persistence); `start()` brings a new one up on the same port. */
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A redis-server of this test file alone on a free loopback port: no persistence, killed by
 * stop(). `bind` adds addresses it also listens on (a test namespace's veth end on this machine);
 * `args` come first on its command line (a deployment's directives; the ones here win over them).
 */
export async function startPrivateRedis(options: { bind?: string[]; args?: string[] } = {}): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | null = null;
  const url = `redis://127.0.0.1:${port}`;
  const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 50 });
  admin.on('error', () => {});
  const start = async () => {
    child = spawn(
      'redis-server',
      [
        ...(options.args ?? []),
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
    await waitFor(
      async () => {
        if (admin.status === 'wait') await admin.connect();
        return (await admin.ping()) === 'PONG';
      },
      10_000,
      `redis-server on ${port}`,
    );
  };
  const kill = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    port,
    url,
    admin,
    kill,
    start,
    async stop() {
      admin.disconnect();
      await kill();
    },
  };
}
