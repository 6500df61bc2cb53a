import { type ChildProcess, spawn } from 'node:child_process';
import { GENEROUS_RATE_LIMITS, NO_HOST_LOAD_REFUSAL, TEST_SECRET } from './app-harness.js';
import { freePort, waitFor } from './net.js';

export interface ApiProcess {
  child: ChildProcess;
  url: string;
  /** SIGKILL, and wait until the process is gone. */
  kill(): Promise<void>;
}

/**
 * An API replica as a process of its own (`node --import tsx src/app/main.ts`), so a test can
 * kill -9 it; ready once /health/ready answers 200. The harness's test settings apply (secret,
 * generous rate limits, no refusal on a busy host); `env` adds to or overrides them.
 */
export async function startApiProcess(env: Record<string, string>, readyWithinMs = 60_000): Promise<ApiProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/app/main.ts'], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      JWT_SECRET: TEST_SECRET,
      LOG_LEVEL: 'warn',
      ...GENEROUS_RATE_LIMITS,
      ...NO_HOST_LOAD_REFUSAL,
      ...env,
      SERVICE_HOST: '127.0.0.1',
      SERVICE_PORT: String(port),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`the API process exited with ${child.exitCode}`);
        return (await fetch(`${url}/health/ready`)).status === 200;
      },
      readyWithinMs,
      `the API process on ${port} to be ready`,
    );
  } catch (err) {
    await kill();
    throw err;
  }
  return { child, url, kill };
}
