import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_SECRET } from '../support/app-harness.js';
import { freePort, waitFor } from '../support/net.js';

type LogLine = { level?: number; msg?: string; err?: unknown; connection?: string };

// Needs no service: the point is that Redis is never there.
describe('the real process with a REDIS_URL that never answers', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'rdp-redis-down-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('starts, warns once, reports readiness degraded by redis, and exits 0 on SIGTERM without waiting for Redis', async () => {
    const [port, redisPort] = await Promise.all([freePort(), freePort()]);
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/app/main.ts'], {
      cwd: new URL('../..', import.meta.url).pathname,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        SERVICE_HOST: '127.0.0.1',
        SERVICE_PORT: String(port),
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        JWT_SECRET: TEST_SECRET,
        DATA_DIR: dataDir,
        XRDP_BINARY: '/nonexistent/xrdp',
        LOG_LEVEL: 'info',
        SHUTDOWN_DRAIN_SECONDS: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: LogLine[] = [];
    let raw = '';
    child.stdout.on('data', (d: Buffer) => {
      raw += d.toString();
      const parts = raw.split('\n');
      raw = parts.pop() ?? '';
      for (const p of parts.filter(Boolean)) lines.push(JSON.parse(p) as LogLine);
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
      child.once('exit', (code) => resolve({ code, at: Date.now() })),
    );
    try {
      await waitFor(async () => (await fetch(`${url}/health/live`)).status === 200, 30_000, 'the process to listen');
      // Degraded, not unready: it serves without Redis, and a shared outage must not pull every replica.
      const ready = await fetch(`${url}/health/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({
        status: 'degraded',
        ready: true,
        degraded: ['redis'],
        checks: { redis: 'unavailable' },
        dependencies: { redis: { status: 'unavailable', message: 'redis is not reachable; the replica serves on, degraded' } },
      });
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/^rdp_dependency_up\{dependency="redis"\} 0$/m);
      // Start-up says it once, though several connection attempts failed by then; while the
      // outage lasts, the usual throttled outage warnings follow.
      const listening = () => lines.findIndex((l) => l.msg?.startsWith('listening'));
      await waitFor(async () => listening() >= 0, 5000, 'the listening line');
      const startup = lines.slice(0, listening());
      const warnings = startup.filter((l) => (l.level ?? 0) >= 40 && /redis/i.test(`${l.msg} ${String(l.err)}`));
      expect(
        warnings.map((w) => w.msg),
        JSON.stringify(warnings),
      ).toEqual([expect.stringMatching(/^Redis is not reachable/)]);

      const signalled = Date.now();
      child.kill('SIGTERM');
      const exit = await exited;
      expect(exit.code, `${stderr}\n${JSON.stringify(lines.slice(-10))}`).toBe(0);
      const steps = lines.filter((l) => l.msg === 'shutdown step');
      expect(exit.at - signalled, JSON.stringify(steps)).toBeLessThan(5000);
      const finished = lines.find((l) => l.msg === 'shutdown finished') as (LogLine & { timedOut?: string[] }) | undefined;
      expect(finished?.timedOut).toEqual([]);
      console.info(`redis never there: exit ${exit.at - signalled} ms after SIGTERM`);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});
