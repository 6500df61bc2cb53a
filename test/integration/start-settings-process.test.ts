import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_SECRET } from '../support/app-harness.js';
import { freePort, waitFor } from '../support/net.js';

type Child = ChildProcessByStdio<null, Readable, Readable>;

/** `npm start`'s command with only the given environment (plus PATH); stdout collected as lines. */
async function startProcess(env: Record<string, string>, dataDir: string) {
  const port = await freePort();
  const child: Child = spawn(process.execPath, ['--import', 'tsx', 'src/app/main.ts'], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      SERVICE_HOST: '127.0.0.1',
      SERVICE_PORT: String(port),
      JWT_SECRET: TEST_SECRET,
      DATA_DIR: dataDir,
      XRDP_BINARY: '/nonexistent/xrdp',
      SHUTDOWN_DRAIN_SECONDS: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let rest = '';
  child.stdout.on('data', (d: Buffer) => {
    const parts = (rest + d.toString()).split('\n');
    rest = parts.pop() ?? '';
    lines.push(...parts.filter(Boolean));
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    return exited;
  };
  await waitFor(async () => lines.some((l) => l.includes('listening')), 30_000, `the listening line (stderr: ${stderr})`).catch(
    async (err: unknown) => {
      child.kill('SIGKILL');
      throw err;
    },
  );
  return { lines, stop, url: `http://127.0.0.1:${port}`, stderr: () => stderr };
}

describe('start-up of the real process and the settings it does not read', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'rdp-settings-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('names every set variable it ignores in one warning line: retired seed variables, typos, unknown names with our prefixes', async () => {
    const p = await startProcess(
      {
        SESION_TIMEOUT: '600',
        PROMETHEUS_PORT: '9090',
        ENVIRONMENT: 'production',
        SERVICE_NAME: 'rdp-server-manager',
        REDIS_MAX_CONNECTIONS: '50',
        XRDP_CERT_DIR: '/etc/xrdp/certs',
        // Known, or not ours: never reported.
        SESSION_TIMEOUT: '3600',
        LOG_FORMAT: 'json',
        NODE_OPTIONS: '--no-warnings',
        GRAFANA_ADMIN_PASSWORD: 'not-read-by-the-service',
      },
      dataDir,
    );
    try {
      const parsed = p.lines.map((l) => JSON.parse(l) as { level: number; msg: string; ignored?: string[] });
      const mentions = parsed.filter((l) => /SESION_TIMEOUT|PROMETHEUS_PORT|XRDP_CERT_DIR/.test(l.msg));
      expect(mentions, p.lines.join('\n')).toHaveLength(1);
      const [warning] = mentions;
      expect(warning?.level).toBe(40);
      expect(warning?.ignored).toEqual([
        'ENVIRONMENT',
        'PROMETHEUS_PORT',
        'REDIS_MAX_CONNECTIONS',
        'SERVICE_NAME',
        'SESION_TIMEOUT',
        'XRDP_CERT_DIR',
      ]);
      expect(warning?.msg).toContain('SESION_TIMEOUT (did you mean SESSION_TIMEOUT?)');
      expect(warning?.msg).toContain('PROMETHEUS_PORT (metrics are served on SERVICE_PORT at /metrics)');
      expect(warning?.msg).not.toMatch(/NODE_OPTIONS|GRAFANA|LOG_FORMAT|\bSESSION_TIMEOUT,/);
      // The retired names really do nothing: metrics stay on the service port.
      expect((await fetch(`${p.url}/metrics`)).status).toBe(200);
      expect(await (await fetch(`${p.url}/health`)).json()).toMatchObject({ service: 'rdp-services-cluster' });
    } finally {
      expect(await p.stop(), p.stderr()).toBe(0);
    }
  }, 60_000);

  it('with nothing ignored, writes no such warning', async () => {
    const p = await startProcess({ LOG_LEVEL: 'info' }, dataDir);
    try {
      expect(p.lines.filter((l) => l.includes('ignoring environment variables'))).toEqual([]);
    } finally {
      expect(await p.stop(), p.stderr()).toBe(0);
    }
  }, 60_000);

  it('LOG_FORMAT=pretty writes human-readable lines, not JSON, up to the last line before exit', async () => {
    const p = await startProcess({ LOG_FORMAT: 'pretty', SESION_TIMEOUT: '600' }, dataDir);
    try {
      const listening = p.lines.find((l) => l.includes('listening'));
      expect(listening).toBeDefined();
      expect(() => JSON.parse(listening ?? '')).toThrow();
      expect(listening).toMatch(
        /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [^\]]+\] INFO: listening: GraphQL http:\/\/127\.0\.0\.1:\d+\/graphql/,
      );
      expect(p.lines.find((l) => l.includes('SESION_TIMEOUT'))).toMatch(/WARN: ignoring environment variables/);
    } finally {
      expect(await p.stop(), p.stderr()).toBe(0);
    }
    // Written synchronously: main exits right after the last line, which must not be lost.
    await waitFor(async () => p.lines.some((l) => /INFO: stopped/.test(l)), 2000, 'the last line');
  }, 60_000);
});
