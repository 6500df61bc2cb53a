import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../../src/adapters/xrdp/procfs.js';
import { createSesmanSupervisor, type SesmanSupervisorOptions } from '../../src/adapters/xrdp/sesman-supervisor.js';
import { ConflictError, RuntimeUnavailableError } from '../../src/domain/shared/errors.js';
import { DEFAULT_XRDP_CONFIG } from '../../src/domain/xrdp/xrdp-config.js';
import { XrdpHostService } from '../../src/domain/xrdp/xrdp-host.js';
import { lockHostSesman } from '../support/host-sesman-lock.js';
import { needXrdp } from '../support/xrdp-available.js';

async function until(predicate: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(!needXrdp('sesman supervisor'))('the host sesman supervisor on real xrdp-sesman', () => {
  let dir: string;
  let release: (() => Promise<void>) | undefined;
  const started: number[] = [];
  const options = (sub: string, extra: Partial<SesmanSupervisorOptions> = {}): SesmanSupervisorOptions => ({
    xrdpBinary: '/usr/sbin/xrdp',
    dir: join(dir, sub),
    logFile: join(dir, sub, 'xrdp-sesman.log'),
    systemPidFile: join(dir, 'system-sesman.pid'),
    config: async () => DEFAULT_XRDP_CONFIG,
    ...extra,
  });
  const admin = { userId: 'root', username: 'root', roles: ['admin' as const], permissions: [] };

  beforeAll(async () => {
    release = await lockHostSesman();
    dir = mkdtempSync(join(tmpdir(), 'sesman-sup-'));
  }, 120_000);
  afterAll(async () => {
    for (const pid of started) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // stopped by the test
      }
    }
    rmSync(dir, { recursive: true, force: true });
    await release?.();
  });

  it('refuses to start while a system sesman pid file exists, saying whose it is', async () => {
    const sup = createSesmanSupervisor(options('a'));
    writeFileSync(join(dir, 'system-sesman.pid'), `${process.pid}\n`);
    await expect(sup.start()).rejects.toThrow(
      new RegExp(`a system xrdp-sesman \\(pid ${process.pid}\\) holds .*system-sesman\\.pid; stop it first`),
    );
    writeFileSync(join(dir, 'system-sesman.pid'), '999999999\n');
    const stale = await sup.start().catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(ConflictError);
    expect(String(stale)).toMatch(/left over from an xrdp-sesman that is no longer running .* delete it/);
    rmSync(join(dir, 'system-sesman.pid'));
  });

  it('starts; a second supervisor finds the port taken; a restarted service adopts the running sesman', async () => {
    const sup = createSesmanSupervisor(options('a'));
    await sup.start();
    const state = await sup.state();
    expect(state).toMatchObject({ installed: true, error: null, liveSessions: 0 });
    const pid = state.pid as number;
    started.push(pid);

    const other = createSesmanSupervisor(options('b'));
    await expect(other.start()).rejects.toThrow(
      new RegExp(`port 3350 is already in use on this host by xrdp-sesman \\(pid ${pid}\\)`),
    );

    const adopted = createSesmanSupervisor(options('a'));
    expect((await adopted.state()).pid).toBe(pid);
    await expect(adopted.start()).rejects.toBeInstanceOf(ConflictError);
    await adopted.stop();
    expect(await isAlive(pid)).toBe(false);
    expect((await sup.state()).pid).toBeNull();
  });

  it('a sesman that dies on its own turns the service to ERROR and is reported', async () => {
    const deaths: string[] = [];
    const sup = createSesmanSupervisor(options('c', { onUnexpectedExit: (m) => deaths.push(m) }));
    const service = new XrdpHostService({
      supervisor: sup,
      servers: { countByStatus: async () => ({ RUNNING: 2 }) },
      clock: { now: () => new Date() },
    });
    const running = await service.control(admin, 'START');
    expect(running).toMatchObject({ status: 'RUNNING', runningInstances: 2 });
    const pid = running.pid as number;
    started.push(pid);
    process.kill(pid, 'SIGKILL');
    await until(() => deaths.length > 0, 2000);
    expect(deaths[0]).toMatch(new RegExp(`xrdp-sesman \\(pid ${pid}\\) was killed by SIGKILL unexpectedly`));
    const after = await service.status(admin);
    expect(after).toMatchObject({ status: 'ERROR', pid: null, message: deaths[0] });
    // START recovers from ERROR.
    const again = await service.control(admin, 'START');
    started.push(again.pid as number);
    expect(again.status).toBe('RUNNING');
    await service.control(admin, 'STOP');
  });

  it('without xrdp: NOT_INSTALLED and the install hint; nothing is spawned', async () => {
    const sup = createSesmanSupervisor(options('d', { xrdpBinary: '/nonexistent/xrdp' }));
    const service = new XrdpHostService({
      supervisor: sup,
      servers: { countByStatus: async () => ({}) },
      clock: { now: () => new Date() },
    });
    expect(await service.status(admin)).toMatchObject({ status: 'NOT_INSTALLED', version: null });
    await expect(service.control(admin, 'START')).rejects.toEqual(
      new RuntimeUnavailableError('xrdp is not installed on this host (install the xrdp package)'),
    );
  });
});
