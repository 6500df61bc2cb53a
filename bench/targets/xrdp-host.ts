/**
 * P5's service under test: buildApp with the REAL xrdp runtime and session accounts (the host's
 * xrdp, xrdp-sesman, Xvnc/Xorg), config and logs in a scratch directory, RDP ports on loopback.
 * The host's sesman is one per machine, so this takes the same lock as the test suites that log
 * in for real (test/support/host-sesman-lock.ts) and stops everything it started.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROTOCOL_SSL, probeRdp } from '../../src/adapters/xrdp/rdp-probe.js';
import { type App, buildApp } from '../../src/app/build-app.js';
import { createLogger } from '../../src/app/logger.js';
import { loadConfig } from '../../src/config/config.js';
import type { Viewer } from '../../src/domain/auth/viewer.js';
import { lockHostSesman } from '../../test/support/host-sesman-lock.js';
import { BENCH_ADMIN } from '../../test/support/seed-fleet.js';
import { PACKAGE_VERSION } from '../lib/bench-env.js';
import { serveRpc } from '../lib/rpc-child.js';
import { percentile } from '../lib/stats.js';

let app: App | undefined;
let unlock: (() => Promise<void>) | undefined;
let dir = '';
const children: ChildProcess[] = [];

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined as T);
    if (v !== undefined && ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await wait(20);
  }
}

function requireApp(): App {
  if (!app) throw new Error('not started');
  return app;
}

/** Whether xrdp answers on the port with TLS selected and a finished handshake. */
async function tlsReady(port: number): Promise<boolean> {
  const r = await probeRdp({ host: '127.0.0.1', port, tls: true, timeoutMs: 2000 });
  return r.kind === 'selected' && r.protocol === PROTOCOL_SSL && r.tlsProtocol !== undefined;
}

serveRpc(
  {
    async start(params) {
      const { env, lockTimeoutMs } = params as { env: Record<string, string>; lockTimeoutMs: number };
      unlock = await lockHostSesman(lockTimeoutMs);
      dir = mkdtempSync(join(tmpdir(), 'rdp-bench-p5-'));
      const config = loadConfig(
        { ...env, XRDP_CONFIG_PATH: join(dir, 'etc'), XRDP_LOG_PATH: join(dir, 'log') },
        { version: PACKAGE_VERSION },
      );
      app = await buildApp(config, { logger: createLogger({ level: config.log.level }) });
      return { port: await app.start(0, '127.0.0.1') };
    },
    /** n times: startServer → the port answers an X.224 request with TLS selected and a TLS handshake; then stop. */
    async starts(params) {
      const { n } = params as { n: number };
      const { servers } = requireApp().container;
      const server = await servers.create(BENCH_ADMIN, { name: `bench-p5-${Date.now().toString(36)}` });
      const total: number[] = [];
      const call: number[] = [];
      try {
        for (let i = 0; i < n; i++) {
          const t0 = performance.now();
          const started = await servers.start(BENCH_ADMIN, server.id);
          call.push(performance.now() - t0);
          if (started.port === null) throw new Error('started server has no port');
          const port = started.port;
          await until(() => tlsReady(port), Boolean, 20_000, 'TLS-ready');
          total.push(performance.now() - t0);
          await servers.stop(BENCH_ADMIN, server.id, true);
        }
      } finally {
        await servers.delete(BENCH_ADMIN, server.id, true).catch(() => undefined);
      }
      return {
        n,
        p50: percentile(total, 50),
        max: Math.max(...total),
        startCallP50: percentile(call, 50),
      };
    },
    /**
     * One real login: a started server, an EPHEMERAL session, xfreerdp on an Xvfb display, until
     * the API shows the session ACTIVE with a display and connectedAt; then it is terminated.
     */
    async login(params) {
      const { display } = params as { display: number };
      const { servers, sessions, sesman } = requireApp().container;
      const xvfb = spawn('Xvfb', [`:${display}`, '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], {
        stdio: 'ignore',
        detached: true,
      });
      children.push(xvfb);
      await until(async () => existsSync(`/tmp/.X11-unix/X${display}`), Boolean, 5000, `Xvfb :${display}`);
      const server = await servers.create(BENCH_ADMIN, { name: `bench-p5-login-${Date.now().toString(36)}` });
      try {
        const started = await servers.start(BENCH_ADMIN, server.id);
        const port = started.port ?? 0;
        await until(() => tlsReady(port), Boolean, 20_000, 'TLS-ready');
        await until(
          async () => (await sesman.state()).pid,
          (pid) => pid !== null,
          10_000,
          'sesman',
        );
        const user: Viewer = { userId: 'bench-p5', username: 'benchp5', roles: ['operator'], permissions: [] };
        const t0 = performance.now();
        const { session, connection } = await sessions.create(user, { serverId: server.id, credentialMode: 'EPHEMERAL' });
        const admitted = performance.now() - t0;
        const client = spawn(
          'xfreerdp',
          [
            `/v:127.0.0.1:${connection.port}`,
            `/u:${connection.username}`,
            `/p:${connection.password ?? ''}`,
            '/cert:ignore',
            '/size:1024x768',
            '/log-level:OFF',
          ],
          { stdio: 'ignore', detached: true, env: { ...process.env, DISPLAY: `:${display}` } },
        );
        children.push(client);
        const t1 = performance.now();
        await until(
          () => sessions.get(user, session.id),
          (s) => s.status === 'ACTIVE' && s.display !== null && s.connectedAt !== null,
          30_000,
          'session ACTIVE',
        );
        const connected = performance.now() - t1;
        await sessions.terminate(BENCH_ADMIN, session.id, true);
        return { admittedMs: admitted, connectedMs: connected, totalMs: admitted + connected };
      } finally {
        await servers.delete(BENCH_ADMIN, server.id, true).catch(() => undefined);
      }
    },
  },
  async () => {
    for (const c of children) {
      try {
        if (c.pid) process.kill(-c.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    if (app) {
      await app.container.sesman.stop().catch(() => undefined);
      await app.stop().catch(() => undefined);
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
    await unlock?.();
  },
);
