import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import type { BuildAppOptions } from '../../src/app/build-app.js';
import type { Viewer } from '../../src/domain/auth/viewer.js';
import { startTestApp, type TestApp } from './app-harness.js';
import { lockHostSesman } from './host-sesman-lock.js';
import { needXrdp } from './xrdp-available.js';

/** Whether a real xfreerdp login can run here; prints why not (or throws in CI). */
export function needLoginTools(suite: string, extra: string[] = []): boolean {
  if (!needXrdp(suite)) return false;
  const tools = ['/usr/sbin/xrdp-sesman', '/usr/bin/xfreerdp', '/usr/bin/Xvfb', '/usr/bin/Xvnc', '/usr/sbin/useradd', ...extra];
  const missing = tools.filter((t) => !existsSync(t));
  if (missing.length === 0) return true;
  const reason = `${suite}: skipped, missing ${missing.join(', ')}`;
  if (process.env.REQUIRE_REAL_SERVICES === '1') throw new Error(`REQUIRE_REAL_SERVICES=1 but ${reason}`);
  console.warn(`SKIPPED ${reason}`);
  return false;
}

export async function until<T>(probe: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function procArgv(pid: string): string[] | null {
  try {
    if (/State:\s+Z/.test(readFileSync(`/proc/${pid}/status`, 'utf8'))) return null;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return null;
  }
}

/** Live X server processes of a session display (Xvnc/Xorg :N), zombies left out. */
export function xServersOn(display: number): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      const argv = procArgv(e);
      return argv !== null && /^(Xvnc|Xorg)$/.test((argv[0] ?? '').split('/').pop() ?? '') && argv.includes(`:${display}`);
    })
    .map(Number);
}

/** Whether the pid is a live xrdp process. */
export function isXrdpProcess(pid: number): boolean {
  return (procArgv(String(pid))?.[0] ?? '').split('/').pop() === 'xrdp';
}

export function accountExists(name: string): boolean {
  try {
    execFileSync('id', [name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Creates and starts a server through the API and waits for the host's sesman to run. */
export async function startedServer(t: TestApp, token: string, name: string): Promise<{ id: string; port: number }> {
  const created = await t.gql<{ createServer: { server: { id: string; port: number } } }>(
    'mutation($name: String!) { createServer(input: { name: $name }) { ... on CreateServerSuccess { server { id port } } } }',
    { name },
    token,
  );
  const server = created.body.data?.createServer.server;
  if (!server) throw new Error(JSON.stringify(created.body));
  const started = await t.gql<{ startServer: { __typename: string } }>(
    'mutation($id: ID!) { startServer(id: $id) { __typename } }',
    { id: server.id },
    token,
  );
  expect(started.body.data?.startServer.__typename).toBe('StartServerSuccess');
  await until(
    async () => (await t.app.container.sesman.state()).pid,
    (pid) => pid !== null,
    5000,
    'sesman',
  );
  return server;
}

export interface LoginHost {
  t: TestApp;
  /** Temporary directory: `etc` is XRDP_CONFIG_PATH, `log` XRDP_LOG_PATH. */
  dir: string;
  /** Xvfb displays for RDP clients, one per client that needs its own screen. */
  xDisplays: number[];
  children: ChildProcess[];
}

/**
 * What a suite with real logins needs, set up before its tests and torn down after: the host's
 * sesman (one suite at a time), an app with xrdp config and logs in a temporary directory and RDP
 * ports of its own on loopback, and Xvfb displays for xfreerdp. The teardown ends any session a
 * failed run left (which removes its Linux account too) and stops the servers.
 */
export function useLoginHost(options: {
  tmpPrefix: string;
  /** Ten ports at portBase plus a random multiple of 10 below 500: the suite's own block (test/support/net.ts). */
  portBase: number;
  displayBase: number;
  xDisplays?: number;
  env?: Record<string, string>;
  app?: BuildAppOptions;
  /** How long to wait for another suite's turn with the host sesman. @default 110000 */
  lockTimeoutMs?: number;
}): LoginHost {
  const offset = Math.floor(Math.random() * 50);
  const host: LoginHost = {
    t: undefined as unknown as TestApp,
    dir: '',
    xDisplays: Array.from({ length: options.xDisplays ?? 1 }, (_, i) => options.displayBase + offset * 4 + i),
    children: [],
  };
  const base = options.portBase + Math.floor(Math.random() * 50) * 10;
  let unlock: () => Promise<void> = async () => {};
  const lockTimeoutMs = options.lockTimeoutMs ?? 110_000;

  beforeAll(async () => {
    unlock = await lockHostSesman(lockTimeoutMs);
    host.dir = mkdtempSync(join(tmpdir(), options.tmpPrefix));
    host.t = await startTestApp(
      {
        XRDP_CONFIG_PATH: join(host.dir, 'etc'),
        XRDP_LOG_PATH: join(host.dir, 'log'),
        RDP_LOOPBACK_ONLY: 'true',
        RDP_PORT_RANGE: `${base}-${base + 9}`,
        ...options.env,
      },
      options.app,
    );
    for (const d of host.xDisplays) {
      const xvfb = spawn('Xvfb', [`:${d}`, '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], {
        stdio: 'ignore',
        detached: true,
      });
      host.children.push(xvfb);
    }
    for (const d of host.xDisplays) await until(() => existsSync(`/tmp/.X11-unix/X${d}`), Boolean, 5000, `Xvfb :${d}`);
  }, lockTimeoutMs + 30_000);

  afterAll(async () => {
    for (const c of host.children) {
      try {
        if (c.pid) process.kill(-c.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    const { t } = host;
    if (t) {
      await t.app.container.sesman.stop().catch(() => undefined);
      const root: Viewer = { userId: 'root', username: 'root', roles: ['admin'], permissions: [] };
      for (const s of (await t.app.container.servers.list(root, {}, { first: 100 })).items) {
        await t.app.container.sessions.terminateAll(s.id, 'SERVER_STOPPED').catch(() => undefined);
        await t.app.container.runtime.stop(s).catch(() => undefined);
      }
      await t.stop();
    }
    if (host.dir) rmSync(host.dir, { recursive: true, force: true });
    await unlock();
  }, 60_000);
  return host;
}

/** An xfreerdp client on an Xvfb display, and a promise of its exit code. */
export function rdpClient(
  host: LoginHost,
  xDisplay: number,
  login: { port: number; username: string; password: string },
): { child: ChildProcess; exited: Promise<number | null>; running: () => boolean } {
  const child = spawn(
    'xfreerdp',
    [
      `/v:127.0.0.1:${login.port}`,
      `/u:${login.username}`,
      `/p:${login.password}`,
      '/cert:ignore',
      '/size:1024x768',
      '/log-level:OFF',
    ],
    { stdio: 'ignore', detached: true, env: { ...process.env, DISPLAY: `:${xDisplay}` } },
  );
  host.children.push(child);
  let done = false;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      done = true;
      resolve(code);
    }),
  );
  return { child, exited, running: () => !done };
}
