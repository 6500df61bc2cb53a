import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildAppOptions } from '../../src/app/build-app.js';
import type { Viewer } from '../../src/domain/auth/viewer.js';
import { collect, startTestApp, type TestApp } from '../support/app-harness.js';
import { lockHostSesman } from '../support/host-sesman-lock.js';
import { needXrdp } from '../support/xrdp-available.js';

const TOOLS = ['/usr/sbin/xrdp-sesman', '/usr/bin/xfreerdp', '/usr/bin/Xvfb', '/usr/bin/Xvnc', '/usr/sbin/useradd'];

function needTools(): boolean {
  if (!needXrdp('session real login')) return false;
  const missing = TOOLS.filter((t) => !existsSync(t));
  if (missing.length === 0) return true;
  const reason = `session real login: skipped, missing ${missing.join(', ')}`;
  if (process.env.REQUIRE_REAL_SERVICES === '1') throw new Error(`REQUIRE_REAL_SERVICES=1 but ${reason}`);
  console.warn(`SKIPPED ${reason}`);
  return false;
}

async function until<T>(probe: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Live X server processes for a display (Xvnc/Xorg :N), not zombies. */
function xServersOn(display: number): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        const argv = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
        const state = readFileSync(`/proc/${e}/status`, 'utf8');
        return (
          /^(Xvnc|Xorg)$/.test((argv[0] ?? '').split('/').pop() ?? '') &&
          argv.includes(`:${display}`) &&
          !/State:\s+Z/.test(state)
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

function accountExists(name: string): boolean {
  try {
    execFileSync('id', [name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Creates and starts a server through the API and waits for the host's sesman to run. */
async function startedServer(t: TestApp, token: string, name: string): Promise<{ id: string; port: number }> {
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

/**
 * What each suite here needs, set up before its tests and torn down after: the host's sesman
 * (one suite at a time), an app with xrdp config and logs in a temporary directory and RDP ports
 * of its own on loopback, and an Xvfb display for xfreerdp. The teardown ends any session a failed
 * run left (which removes its Linux account too) and stops the servers.
 */
function useLoginHost(
  tmpPrefix: string,
  portBase: number,
  displayBase: number,
  env: Record<string, string> = {},
  options: BuildAppOptions = {},
) {
  const host = {
    t: undefined as unknown as TestApp,
    children: [] as ChildProcess[],
    xDisplay: displayBase + Math.floor(Math.random() * 50),
  };
  const base = portBase + Math.floor(Math.random() * 100) * 10;
  let dir = '';
  let unlock: () => Promise<void> = async () => {};

  beforeAll(async () => {
    unlock = await lockHostSesman();
    dir = mkdtempSync(join(tmpdir(), tmpPrefix));
    host.t = await startTestApp(
      {
        XRDP_CONFIG_PATH: join(dir, 'etc'),
        XRDP_LOG_PATH: join(dir, 'log'),
        RDP_LOOPBACK_ONLY: 'true',
        RDP_PORT_RANGE: `${base}-${base + 9}`,
        ...env,
      },
      options,
    );
    const xvfb = spawn('Xvfb', [`:${host.xDisplay}`, '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], {
      stdio: 'ignore',
      detached: true,
    });
    host.children.push(xvfb);
    await until(() => existsSync(`/tmp/.X11-unix/X${host.xDisplay}`), Boolean, 5000, 'Xvfb');
  });

  afterAll(async () => {
    for (const c of host.children) {
      try {
        if (c.pid) process.kill(-c.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    const { t } = host;
    await t.app.container.sesman.stop().catch(() => undefined);
    const root: Viewer = { userId: 'root', username: 'root', roles: ['admin'], permissions: [] };
    for (const s of (await t.app.container.servers.list(root, {}, { first: 100 })).items) {
      await t.app.container.sessions.terminateAll(s.id, 'SERVER_STOPPED').catch(() => undefined);
      await t.app.container.runtime.stop(s).catch(() => undefined);
    }
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
    await unlock();
  });
  return host;
}

describe.skipIf(!needTools())('a session admitted by the API, logged in with xfreerdp, ended by the API', () => {
  const host = useLoginHost('rdp-session-login-', 27000, 150);

  // One retry: a real desktop login on a loaded 2-core machine occasionally loses its X server to
  // a slow start; a second failure is a real one.
  it('EPHEMERAL credentials log in, the session shows connected, and terminateSession disconnects the client and removes the account', {
    retry: 1,
    timeout: 60_000,
  }, async () => {
    const { t, children, xDisplay } = host;
    const alice = await t.token('alice');
    const server = await startedServer(t, alice, 'desk');

    const admitted = await t.gql<{
      createSession: {
        __typename: string;
        session: { id: string };
        connection: { username: string; password: string; port: number };
      };
    }>(
      `mutation($id: ID!) { createSession(input: { serverId: $id, credentialMode: EPHEMERAL }) {
        __typename ... on CreateSessionSuccess { session { id } connection { username password port } } } }`,
      { id: server.id },
      alice,
    );
    const admission = admitted.body.data?.createSession;
    expect(admission?.__typename).toBe('CreateSessionSuccess');
    if (!admission) throw new Error('not admitted');
    const { username, password, port } = admission.connection;
    expect(accountExists(username)).toBe(true);

    const events = collect<{ sessionEvents: { kind: string; session: { status: string; display: number | null } } }>(
      t.ws(alice),
      'subscription($id: ID!) { sessionEvents(sessionId: $id) { kind session { status display } } }',
      { id: admission.session.id },
    );
    await events.until(() => events.items.length >= 1);

    const client = spawn(
      'xfreerdp',
      [`/v:127.0.0.1:${port}`, `/u:${username}`, `/p:${password}`, '/cert:ignore', '/size:1024x768', '/log-level:OFF'],
      { stdio: 'ignore', detached: true, env: { ...process.env, DISPLAY: `:${xDisplay}` } },
    );
    children.push(client);
    const clientExited = new Promise<void>((r) => client.once('exit', () => r()));

    const connected = await until(
      async () =>
        (
          await t.gql<{ session: { status: string; display: number | null; connectedAt: string | null } }>(
            'query($id: ID!) { session(id: $id) { status display connectedAt } }',
            { id: admission.session.id },
            alice,
          )
        ).body.data?.session,
      (s) => s?.status === 'ACTIVE' && s.display !== null && s.connectedAt !== null,
      15_000,
      'session connected',
    );
    const display = connected?.display ?? -1;
    await until(
      () => xServersOn(display).length,
      (n) => n > 0,
      3000,
      'X server of the session',
    );
    await events.until(() => events.items.some((i) => i.data?.sessionEvents.kind === 'CONNECTED'));

    const ended = await t.gql<{
      terminateSession: { __typename: string; session: { status: string; terminationReason: string } };
    }>(
      'mutation($id: ID!) { terminateSession(id: $id, force: true) { __typename ... on TerminateSessionSuccess { session { status terminationReason } } } }',
      { id: admission.session.id },
      alice,
    );
    expect(ended.body.data?.terminateSession).toEqual({
      __typename: 'TerminateSessionSuccess',
      session: { status: 'TERMINATED', terminationReason: 'USER' },
    });
    await until(
      () => xServersOn(display).length,
      (n) => n === 0,
      2000,
      'X server gone',
    );
    await Promise.race([
      clientExited,
      new Promise((_, reject) => setTimeout(() => reject(new Error('client still connected')), 10_000)),
    ]);
    expect(accountExists(username)).toBe(false);
    await events.until(() => events.ended);
    expect(events.items.at(-1)?.data?.sessionEvents.kind).toBe('TERMINATED');
  });
});

/** `passwd -S` status letter of an account: P usable password, L locked, NP none. */
function passwordStatus(name: string): string {
  return execFileSync('passwd', ['-S', name], { encoding: 'utf8' }).split(' ')[1] ?? '';
}

describe.skipIf(!needTools())('an EPHEMERAL one-time password past SESSION_CREDENTIAL_TTL', () => {
  const host = useLoginHost('rdp-session-expiry-', 28000, 200, { SESSION_CREDENTIAL_TTL: '5' }, { sweepIntervalMs: 250 });

  it('is locked by the sweeper: xrdp refuses the login, the session stays as it was, and its end removes the account', {
    timeout: 60_000,
  }, async () => {
    const { t, children, xDisplay } = host;
    const alice = await t.token('alice');
    const serverId = (await startedServer(t, alice, 'expiring')).id;

    const admitted = await t.gql<{
      createSession: {
        session: { id: string };
        connection: { username: string; password: string; port: number; expiresAt: string };
      };
    }>(
      `mutation($id: ID!) { createSession(input: { serverId: $id, credentialMode: EPHEMERAL }) {
        ... on CreateSessionSuccess { session { id } connection { username password port expiresAt } } } }`,
      { id: serverId },
      alice,
    );
    const admission = admitted.body.data?.createSession;
    if (!admission) throw new Error(JSON.stringify(admitted.body));
    const { username, password, port, expiresAt } = admission.connection;
    expect(passwordStatus(username)).toBe('P');

    // The sweeper locks the account once the password's time is up (5 s here), not before.
    const locked = await until(
      () => passwordStatus(username),
      (s) => s === 'L',
      10_000,
      'account locked',
    );
    expect(locked).toBe('L');
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expiresAt));
    const session = await t.gql<{ session: { status: string; connectedAt: string | null } }>(
      'query($id: ID!) { session(id: $id) { status connectedAt } }',
      { id: admission.session.id },
      alice,
    );
    expect(session.body.data?.session).toEqual({ status: 'ACTIVE', connectedAt: null });

    // The expired password no longer logs in: xrdp reports LOGIN_FAILED for the account.
    const xrdpEvents = t.app.container.events.subscribe('xrdp:session-event', serverId)[Symbol.asyncIterator]();
    const failed = (async () => {
      for (;;) {
        const { value, done } = await xrdpEvents.next();
        if (done) return null;
        if (value.user === username && value.kind !== 'CONNECTED' && value.kind !== 'DISCONNECTED') return value.kind;
      }
    })();
    const client = spawn(
      'xfreerdp',
      [`/v:127.0.0.1:${port}`, `/u:${username}`, `/p:${password}`, '/cert:ignore', '/size:1024x768', '/log-level:OFF'],
      { stdio: 'ignore', detached: true, env: { ...process.env, DISPLAY: `:${xDisplay}` } },
    );
    children.push(client);
    const outcome = await Promise.race([failed, new Promise((r) => setTimeout(() => r('no event in 15 s'), 15_000))]);
    await xrdpEvents.return?.();
    expect(outcome).toBe('LOGIN_FAILED');
    const after = await t.gql<{ session: { status: string; connectedAt: string | null } }>(
      'query($id: ID!) { session(id: $id) { status connectedAt } }',
      { id: admission.session.id },
      alice,
    );
    expect(after.body.data?.session.connectedAt).toBeNull();

    const ended = await t.gql<{ terminateSession: { __typename: string } }>(
      'mutation($id: ID!) { terminateSession(id: $id, force: true) { __typename } }',
      { id: admission.session.id },
      alice,
    );
    expect(ended.body.data?.terminateSession.__typename).toBe('TerminateSessionSuccess');
    expect(accountExists(username)).toBe(false);
  });
});
