import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  accountExists,
  isXrdpProcess,
  type LoginHost,
  needLoginTools,
  rdpClient,
  startedServer,
  until,
  useLoginHost,
  xServersOn,
} from '../support/login-host.js';

const SUITE = 'session idle (real X input)';
const RUN = needLoginTools(SUITE, ['/usr/bin/xprintidle', '/usr/bin/xdotool']);
const IDLE_MS = 60_000;

interface SessionView {
  status: string;
  display: number | null;
  connectedAt: string | null;
  lastActivityAt: string;
  idleDeadline: string | null;
  terminatedAt: string | null;
  terminationReason: string | null;
}

/** Pids that xrdp's instance log names as the connection processes of the user's logins on the display. */
function connectionPidsInLog(host: LoginHost, serverId: string, user: string, display: number): number[] {
  const log = readFileSync(join(host.dir, 'etc', 'servers', serverId, 'xrdp.log'), 'utf8');
  const pids = new Set<number>();
  for (const line of log.split('\n')) {
    if (!line.includes(`login successful for user ${user} on display ${display}`)) continue;
    const m = /\[pid:(\d+)/.exec(line);
    if (m) pids.add(Number(m[1]));
  }
  return [...pids];
}

/** The X server's own idle time of a session display, as root reads it. */
function xIdleMs(display: number, user: string): number {
  const out = execFileSync('/usr/bin/xprintidle', [], {
    env: { DISPLAY: `:${display}`, XAUTHORITY: `/home/${user}/.Xauthority` },
    encoding: 'utf8',
    timeout: 5000,
  });
  return Number(out.trim());
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)),
  ]);
}

/**
 * IDLE_TIMEOUT and DISCONNECTED_SESSION_TIMEOUT at their minimum (60 s), and three desktops
 * that run at once so the suite waits for the timeouts once: one whose user works through
 * xfreerdp, one left alone, one whose client went away. Each client has its own Xvfb screen, so
 * pointer input reaches exactly one xfreerdp window.
 */
describe.skipIf(!RUN)('idle time from the X server of each real desktop (IDLE_TIMEOUT=60)', () => {
  const host = useLoginHost({
    tmpPrefix: 'rdp-session-idle-',
    portBase: 29500,
    displayBase: 300,
    xDisplays: 3,
    env: { IDLE_TIMEOUT: '60', DISCONNECTED_SESSION_TIMEOUT: '60' },
    app: { sweepIntervalMs: 1000, activityIntervalMs: 2000 },
    // Other suites with real logins take their turn first; this one holds the sesman about 80 s.
    lockTimeoutMs: 240_000,
  });
  let alice = '';
  let server = { id: '', port: 0 };

  beforeAll(async () => {
    alice = await host.t.token('alice');
    server = await startedServer(host.t, alice, 'idle');
  }, 30_000);

  async function sessionOf(id: string): Promise<SessionView> {
    const r = await host.t.gql<{ session: SessionView | null }>(
      `query($id: ID!) { session(id: $id) {
        status display connectedAt lastActivityAt idleDeadline terminatedAt terminationReason } }`,
      { id },
      alice,
    );
    const s = r.body.data?.session;
    if (!s) throw new Error(JSON.stringify(r.body));
    return s;
  }

  /** Admits an EPHEMERAL session, logs in with xfreerdp on the screen, and waits until it shows connected. */
  async function loggedIn(xDisplay: number) {
    const admitted = await host.t.gql<{
      createSession: { session: { id: string }; connection: { username: string; password: string; port: number } };
    }>(
      `mutation($id: ID!) { createSession(input: { serverId: $id, credentialMode: EPHEMERAL }) {
        ... on CreateSessionSuccess { session { id } connection { username password port } } } }`,
      { id: server.id },
      alice,
    );
    const admission = admitted.body.data?.createSession;
    if (!admission?.connection) throw new Error(JSON.stringify(admitted.body));
    const login = admission.connection;
    const client = rdpClient(host, xDisplay, login);
    const id = admission.session.id;
    const connected = await until(
      () => sessionOf(id),
      (s) => s.status === 'ACTIVE' && s.display !== null && s.connectedAt !== null,
      30_000,
      'session connected',
    );
    const display = connected.display ?? -1;
    await until(
      () => xServersOn(display).length,
      (n) => n > 0,
      5000,
      'X server of the session',
    );
    return { id, login, client, display, connectedAt: Date.parse(connected.connectedAt ?? '') };
  }

  async function terminate(id: string, force: boolean) {
    return host.t.gql<{ terminateSession: { __typename: string; message?: string; session?: { status: string } } }>(
      `mutation($id: ID!, $force: Boolean) { terminateSession(id: $id, force: $force) {
        __typename ... on TerminateSessionSuccess { session { status } } ... on ConflictError { message } } }`,
      { id, force },
      alice,
    );
  }

  it.concurrent('a user moving the pointer in xfreerdp every 2 s stays ACTIVE past IDLE_TIMEOUT; terminate without force refuses while the client is connected, though the record was set DISCONNECTED by hand', {
    timeout: 200_000,
  }, async () => {
    const xDisplay = host.xDisplays[0] ?? -1;
    const s = await loggedIn(xDisplay);
    // Pointer motion over the xfreerdp window (alone on its screen): RDP input that xrdp hands
    // to the session's X server, which counts it as user input.
    let step = 0;
    const mover = setInterval(() => {
      const x = String(200 + (step++ % 2) * 300);
      execFile('/usr/bin/xdotool', ['mousemove', x, '300'], { env: { DISPLAY: `:${xDisplay}` } }, () => undefined);
    }, 2000);
    const statuses = new Set<string>();
    try {
      await until(
        async () => {
          statuses.add((await sessionOf(s.id)).status);
          return Date.now();
        },
        (now) => now > s.connectedAt + IDLE_MS + 12_000,
        IDLE_MS + 30_000,
        'past the idle timeout',
      );
    } finally {
      clearInterval(mover);
    }
    expect([...statuses]).toEqual(['ACTIVE']);
    expect(s.client.running()).toBe(true);
    const working = await sessionOf(s.id);
    // The desktop's reports moved the last activity along (in steps of 15 s, a quarter of 60 s).
    expect(Date.parse(working.lastActivityAt)).toBeGreaterThan(s.connectedAt + 40_000);
    expect(Date.parse(working.idleDeadline ?? '')).toBeGreaterThan(Date.now());

    // The record is made to say the client left, as a lost or misread log line would: the
    // input stopped first, so no later activity report can count as input after it.
    await until(
      () => xIdleMs(s.display, s.login.username),
      (ms) => ms > 3000,
      20_000,
      'input stopped',
    );
    await host.t.app.container.sessions.applyXrdpEvent({
      serverId: server.id,
      kind: 'DISCONNECTED',
      user: s.login.username,
      display: s.display,
      clientAddress: null,
      at: new Date().toISOString(),
    });
    expect((await sessionOf(s.id)).status).toBe('DISCONNECTED');
    const refused = await terminate(s.id, false);
    expect(refused.body.data?.terminateSession).toEqual({
      __typename: 'ConflictError',
      message: 'a client is connected to this session; pass force: true to end it',
    });
    expect((await sessionOf(s.id)).status).toBe('DISCONNECTED');
    expect(s.client.running()).toBe(true);
    expect(xServersOn(s.display).length).toBeGreaterThan(0);
    expect(accountExists(s.login.username)).toBe(true);

    const ended = await terminate(s.id, true);
    expect(ended.body.data?.terminateSession).toEqual({
      __typename: 'TerminateSessionSuccess',
      session: { status: 'TERMINATED' },
    });
    await within(s.client.exited, 10_000, 'client dropped by the terminate');
    expect(accountExists(s.login.username)).toBe(false);
  });

  it.concurrent('a desktop left alone: at IDLE_TIMEOUT its client is dropped for real (DISCONNECTED), the desktop keeps running, and a reconnect lands on the same display', {
    timeout: 200_000,
  }, async () => {
    const xDisplay = host.xDisplays[1] ?? -1;
    const s = await loggedIn(xDisplay);
    const xServer = xServersOn(s.display);
    const idle = await until(
      () => sessionOf(s.id),
      (v) => v.status !== 'ACTIVE',
      IDLE_MS + 40_000,
      'idle disconnect',
    );
    expect(idle.status).toBe('DISCONNECTED');
    expect(Date.now() - s.connectedAt).toBeGreaterThanOrEqual(IDLE_MS - 1000);
    await within(s.client.exited, 10_000, 'xfreerdp dropped');
    const served = connectionPidsInLog(host, server.id, s.login.username, s.display);
    expect(served.length).toBeGreaterThan(0);
    expect(served.filter(isXrdpProcess)).toEqual([]);
    expect(xServersOn(s.display)).toEqual(xServer);

    const sesmanLog = join(host.dir, 'log', 'xrdp-sesman.log');
    const from = statSync(sesmanLog).size;
    const again = rdpClient(host, xDisplay, s.login);
    const back = await until(
      () => sessionOf(s.id),
      (v) => v.status === 'ACTIVE',
      30_000,
      'reconnected',
    );
    expect(back.display).toBe(s.display);
    expect(xServersOn(s.display)).toEqual(xServer);
    const since = readFileSync(sesmanLog).subarray(from).toString('utf8');
    expect(since).toContain(`++ reconnected session: username ${s.login.username}, display :${s.display}`);
    expect(again.running()).toBe(true);

    expect((await terminate(s.id, true)).body.data?.terminateSession.__typename).toBe('TerminateSessionSuccess');
    await within(again.exited, 10_000, 'client dropped by the terminate');
  });

  it.concurrent('a desktop whose client went away is ended after DISCONNECTED_SESSION_TIMEOUT (IDLE_TIMEOUT), desktop and account with it', {
    timeout: 200_000,
  }, async () => {
    const s = await loggedIn(host.xDisplays[2] ?? -1);
    if (s.client.child.pid) process.kill(-s.client.child.pid, 'SIGKILL');
    await s.client.exited;
    const left = await until(
      () => sessionOf(s.id),
      (v) => v.status === 'DISCONNECTED',
      15_000,
      'client left',
    );
    const deadline = Date.parse(left.idleDeadline ?? '');
    expect(deadline - Date.now()).toBeGreaterThan(IDLE_MS - 5000);
    expect(xServersOn(s.display).length).toBeGreaterThan(0);
    const ended = await until(
      () => sessionOf(s.id),
      (v) => v.status === 'TERMINATED',
      IDLE_MS + 30_000,
      'ended',
    );
    expect(ended.terminationReason).toBe('IDLE_TIMEOUT');
    expect(Date.parse(ended.terminatedAt ?? '')).toBeGreaterThanOrEqual(deadline);
    await until(
      () => xServersOn(s.display).length,
      (n) => n === 0,
      5000,
      'desktop ended',
    );
    // The sweep shows TERMINATED first, then ends the desktop (waiting for sesman's word) and
    // removes the account: seconds, more on a loaded host.
    await until(
      () => accountExists(s.login.username),
      (exists) => !exists,
      30_000,
      'account removed',
    );
  });
});
