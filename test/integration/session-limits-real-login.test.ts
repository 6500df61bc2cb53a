import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CgroupDriver } from '../../src/adapters/host/cgroups.js';
import type { Viewer } from '../../src/domain/auth/viewer.js';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import {
  allocateInGroup,
  burner,
  cgroupsOf,
  coresUsed,
  favourInTests,
  kill,
  realCgroups,
  uniqueParent,
} from '../support/cgroup-tools.js';
import { lockHostSesman } from '../support/host-sesman-lock.js';
import { needXrdp } from '../support/xrdp-available.js';

const TOOLS = ['/usr/sbin/xrdp-sesman', '/usr/bin/xfreerdp', '/usr/bin/Xvfb', '/usr/bin/Xvnc', '/usr/sbin/useradd'];

function needTools(): boolean {
  if (!needXrdp('session limits real login')) return false;
  const missing = TOOLS.filter((t) => !existsSync(t));
  if (missing.length === 0) return true;
  const reason = `session limits real login: skipped, missing ${missing.join(', ')}`;
  if (process.env.REQUIRE_REAL_SERVICES === '1') throw new Error(`REQUIRE_REAL_SERVICES=1 but ${reason}`);
  console.warn(`SKIPPED ${reason}`);
  return false;
}

const parent = uniqueParent('session');
const driver = needTools() ? await realCgroups(parent) : null;
const MB = 1024 * 1024;

async function until<T>(probe: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Live processes of a user whose command is one of `names` (X server, window manager). */
function processesOf(user: string, names: string[]): { pid: number; comm: string }[] {
  const uid = Number(
    readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${user}:`))
      ?.split(':')[2] ?? -1,
  );
  const out: { pid: number; comm: string }[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const status = readFileSync(`/proc/${e}/status`, 'utf8');
      const comm = /^Name:\s+(\S+)/m.exec(status)?.[1] ?? '';
      const ruid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      if (ruid === uid && names.includes(comm) && !/State:\s+Z/.test(status)) out.push({ pid: Number(e), comm });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

describe.skipIf(!driver)('a real login runs under the per-session limits, nested in its server’s', () => {
  const d = driver as CgroupDriver;
  let t: TestApp;
  let dir = '';
  const children: ChildProcess[] = [];
  const xDisplay = 250 + Math.floor(Math.random() * 50);
  const base = 29000 + Math.floor(Math.random() * 50) * 10;
  let unlock: () => Promise<void> = async () => {};

  // Other suites may hold the host's sesman for a while: the lock waits up to 110 s.
  beforeAll(async () => {
    unlock = await lockHostSesman();
    dir = mkdtempSync(join(tmpdir(), 'rdp-session-limits-'));
    t = await startTestApp({
      XRDP_CONFIG_PATH: join(dir, 'etc'),
      XRDP_LOG_PATH: join(dir, 'log'),
      RDP_LOOPBACK_ONLY: 'true',
      RDP_PORT_RANGE: `${base}-${base + 9}`,
      CGROUP_PARENT: parent,
    });
    // The service weights its parent by the host's cores; the test then outweighs the rest of
    // this shared machine so that what it measures is the quota, not the load.
    await t.app.container.servers.enforcementCapability();
    favourInTests(d, parent);
    const xvfb = spawn('Xvfb', [`:${xDisplay}`, '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], {
      stdio: 'ignore',
      detached: true,
    });
    children.push(xvfb);
    await until(() => existsSync(`/tmp/.X11-unix/X${xDisplay}`), Boolean, 5000, 'Xvfb');
  }, 150_000);

  afterAll(async () => {
    if (!t) {
      await d.remove(parent);
      await unlock();
      return;
    }
    for (const c of children) kill(c);
    await t.app.container.sesman.stop().catch(() => undefined);
    const root: Viewer = { userId: 'root', username: 'root', roles: ['admin'], permissions: [] };
    for (const s of (await t.app.container.servers.list(root, {}, { first: 100 })).items) {
      await t.app.container.sessions.terminateAll(s.id, 'SERVER_STOPPED').catch(() => undefined);
      await t.app.container.runtime.stop(s).catch(() => undefined);
    }
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
    expect(await d.remove(parent)).toBe(true);
    await unlock();
  });

  it('the X server and window manager move into <server>/session-<id> at login: a burner there gets no more than the server’s cpuLimit, then no more than perSession.maxCpu once the server’s is raised; memory past perSession.maxMemoryMb is OOM-killed; the end removes the group', {
    retry: 1,
    timeout: 90_000,
  }, async () => {
    const admin = await t.token('root-admin', ['admin']);
    // 0.5 cores a session on this host: more than the server's 0.2, less than its later 2.0.
    const cpuPercent = Math.round((0.5 / availableParallelism()) * 100);
    const limits = await t.gql<{ updateResourceLimits: { __typename: string } }>(
      `mutation { updateResourceLimits(input: { perSession: { maxMemoryMb: 256, maxCpu: ${cpuPercent} } }) { __typename } }`,
      {},
      admin,
    );
    expect(limits.body.data?.updateResourceLimits.__typename).toBe('UpdateResourceLimitsSuccess');

    const alice = await t.token('alice');
    const created = await t.gql<{ createServer: { server: { id: string } } }>(
      `mutation { createServer(input: { name: "desk", resources: { cpuLimit: 0.2, memoryLimitMb: 1024 } }) {
        ... on CreateServerSuccess { server { id } } } }`,
      {},
      alice,
    );
    const serverId = created.body.data?.createServer.server.id ?? '';
    const started = await t.gql<{ startServer: { __typename: string } }>(
      'mutation($id: ID!) { startServer(id: $id) { __typename } }',
      { id: serverId },
      alice,
    );
    expect(started.body.data?.startServer.__typename).toBe('StartServerSuccess');
    await until(
      async () => (await t.app.container.sesman.state()).pid,
      (pid) => pid !== null,
      5000,
      'sesman',
    );

    const admitted = await t.gql<{
      createSession: { session: { id: string }; connection: { username: string; password: string; port: number } };
    }>(
      `mutation($id: ID!) { createSession(input: { serverId: $id, credentialMode: EPHEMERAL }) {
        ... on CreateSessionSuccess { session { id } connection { username password port } } } }`,
      { id: serverId },
      alice,
    );
    const admission = admitted.body.data?.createSession;
    if (!admission) throw new Error(JSON.stringify(admitted.body));
    const { username, password, port } = admission.connection;
    const sessionGroup = `${parent}/${serverId}/session-${admission.session.id}`;

    const client = spawn(
      'xfreerdp',
      [`/v:127.0.0.1:${port}`, `/u:${username}`, `/p:${password}`, '/cert:ignore', '/size:1024x768', '/log-level:OFF'],
      { stdio: 'ignore', detached: true, env: { ...process.env, DISPLAY: `:${xDisplay}` } },
    );
    children.push(client);
    await until(
      async () =>
        (
          await t.gql<{ session: { status: string; display: number | null } }>(
            'query($id: ID!) { session(id: $id) { status display } }',
            { id: admission.session.id },
            alice,
          )
        ).body.data?.session.display ?? null,
      (display) => display !== null,
      20_000,
      'session logged in',
    );

    // The session's own processes (born under the host's sesman, outside the server's xrdp) are in
    // its group: the X server and the window manager the account's startwm.sh runs.
    const inGroup = (pid: number) => {
      const c = cgroupsOf(pid);
      const want = `/${sessionGroup}`;
      return d.version === 'v1' ? c.get('cpu') === want && c.get('memory') === want : c.get('') === want;
    };
    const sessionProcs = await until(
      () => processesOf(username, ['Xvnc', 'Xorg', 'xterm']).filter((p) => inGroup(p.pid)),
      (ps) => ps.some((p) => p.comm === 'Xvnc' || p.comm === 'Xorg') && ps.some((p) => p.comm === 'xterm'),
      10_000,
      'X server and window manager in the session group',
    );
    expect(sessionProcs.length).toBeGreaterThanOrEqual(2);
    expect(await d.readLimits(sessionGroup)).toMatchObject({ memoryBytes: 256 * MB });

    // A busy program of the session: held to the server's 0.2 cores (the session's own 0.5 is
    // more), while one beside it in an unlimited group runs freely.
    const inside = burner();
    const outside = burner();
    children.push(inside, outside);
    await d.move(sessionGroup, [inside.pid as number]);
    await d.create(`${parent}/control`);
    await d.move(`${parent}/control`, [outside.pid as number]);
    const [confined, free] = await coresUsed([inside.pid as number, outside.pid as number]);
    expect(confined).toBeLessThanOrEqual(0.3);
    expect(free).toBeGreaterThanOrEqual(0.7);
    // The server gets 2 cores (at once, running): now the session's own limit is what binds.
    const raised = await t.gql<{ updateServer: { __typename: string } }>(
      'mutation($id: ID!) { updateServer(id: $id, input: { resources: { cpuLimit: 2.0 } }) { __typename } }',
      { id: serverId },
      alice,
    );
    expect(raised.body.data?.updateServer.__typename).toBe('UpdateServerSuccess');
    const [ownLimit] = await coresUsed([inside.pid as number]);
    expect(ownLimit).toBeGreaterThanOrEqual(0.35);
    expect(ownLimit).toBeLessThanOrEqual(0.6);
    kill(inside);
    kill(outside);
    await new Promise<void>((r) => outside.once('exit', () => r()));
    expect(await d.remove(`${parent}/control`)).toBe(true);

    // 400 MB fits the server's 1024 MB but not the session's 256 MB: the kernel kills it.
    expect(await allocateInGroup(d.dirs(sessionGroup), 400)).toMatchObject({ signal: 'SIGKILL', stdout: '' });
    expect(await allocateInGroup(d.dirs(`${parent}/${serverId}/xrdp`), 400)).toMatchObject({
      code: 0,
      stdout: 'allocated\n',
    });

    const ended = await t.gql<{ terminateSession: { __typename: string } }>(
      'mutation($id: ID!) { terminateSession(id: $id, force: true) { __typename } }',
      { id: admission.session.id },
      alice,
    );
    expect(ended.body.data?.terminateSession.__typename).toBe('TerminateSessionSuccess');
    await until(
      () => d.exists(sessionGroup),
      (e) => !e,
      5000,
      'session group removed',
    );
    expect(await d.exists(`${parent}/${serverId}`)).toBe(true);
  });
});
