import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeRdp } from '../../src/adapters/xrdp/rdp-probe.js';
import { startTestApp } from '../support/app-harness.js';
import { lockHostSesman } from '../support/host-sesman-lock.js';
import { freePort, waitFor } from '../support/net.js';
import { needXrdp } from '../support/xrdp-available.js';

const run = promisify(execFile);
const REPO = resolve(import.meta.dirname, '../..');
const isRoot = process.getuid?.() === 0;

/** The environment of a first run: none of the service's variables, only where to keep data and ports. */
function firstRunEnv(dataDir: string, apiPort: number, rdpBase: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(MONGODB_|REDIS_|XRDP_|RDP_|JWT_|SERVICE_|DATA_DIR|NODE_ENV|LOG_)/.test(k)) continue;
    env[k] = v;
  }
  return {
    ...env,
    DATA_DIR: dataDir,
    SERVICE_HOST: '127.0.0.1',
    SERVICE_PORT: String(apiPort),
    // Below the kernel's ephemeral range, so no outgoing connection holds a test port.
    RDP_PORT_RANGE: `${rdpBase}-${rdpBase + 9}`,
    // CI machines are busy; this test is not about admission.
    REFUSE_ON_HOST_OVERLOAD: 'false',
  };
}

interface Service {
  proc: ChildProcess;
  url: string;
  env: NodeJS.ProcessEnv;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `npm start` as a person runs it, in its own process group (the test can kill the whole tree). */
async function npmStart(env: NodeJS.ProcessEnv): Promise<Service> {
  const proc = spawn('npm', ['start'], { cwd: REPO, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    proc.once('exit', (code, signal) => r({ code, signal })),
  );
  await waitFor(async () => out.includes('"msg":"listening'), 60_000, `npm start to listen; output so far:\n${out}`);
  return { proc, url: `http://127.0.0.1:${env.SERVICE_PORT}`, env, output: () => out, exited };
}

async function gql<T>(svc: Service, token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(`${svc.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown };
  if (!body.data) throw new Error(JSON.stringify(body));
  return body.data;
}

async function adminToken(env: NodeJS.ProcessEnv): Promise<string> {
  const { stdout } = await run('npm', ['run', '-s', 'token', '--', '--role', 'admin', '--sub', 'first-run'], { cwd: REPO, env });
  return stdout.trim();
}

/** Creates and starts a server, then opens an EPHEMERAL session on it (a real Linux account). */
async function serverWithSession(svc: Service, token: string) {
  const created = await gql<{ createServer: { server: { id: string; port: number } } }>(
    svc,
    token,
    'mutation { createServer(input: { name: "first" }) { ... on CreateServerSuccess { server { id port } } } }',
  );
  const server = created.createServer.server;
  const started = await gql<{ startServer: { __typename: string } }>(
    svc,
    token,
    'mutation($id: ID!) { startServer(id: $id) { __typename ... on Error { message } } }',
    { id: server.id },
  );
  expect(started.startServer, JSON.stringify(started)).toMatchObject({ __typename: 'StartServerSuccess' });
  const session = await gql<{ createSession: { connection: { username: string } } }>(
    svc,
    token,
    `mutation($id: ID!) { createSession(input: { serverId: $id, credentialMode: EPHEMERAL }) {
      ... on CreateSessionSuccess { connection { username } } } }`,
    { id: server.id },
  );
  return { ...server, username: session.createSession.connection.username };
}

function passwdEntry(username: string): string | undefined {
  return readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${username}:`));
}

/** The password field of /etc/shadow: '!' first means locked. */
function shadowHash(username: string): string | undefined {
  return readFileSync('/etc/shadow', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${username}:`))
    ?.split(':')[1];
}

function alive(pid: number): boolean {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return !/State:\s+Z/.test(status);
  } catch {
    return false;
  }
}

/** Listening TCP sockets on a port, as local addresses in /proc/net/tcp{,6} hex. */
function listeners(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter((c) => c[1]?.endsWith(`:${hexPort}`) && c[3] === '0A')
      .map((c) => c[1] ?? ''),
  );
}

async function refused(port: number): Promise<boolean> {
  try {
    await probeRdp({ host: '127.0.0.1', port, tls: false, timeoutMs: 300 });
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ECONNREFUSED';
  }
}

function sesmanPid(dataDir: string): number | null {
  try {
    return (
      JSON.parse(readFileSync(join(dataDir, 'xrdp', 'etc', 'sesman', 'sesman.state.json'), 'utf8')) as { pid: number | null }
    ).pid;
  } catch {
    return null;
  }
}

function userdel(username: string): void {
  try {
    execFileSync('userdel', ['--remove', '--force', username], { stdio: 'ignore' });
  } catch {
    // already gone
  }
}

describe.skipIf(!needXrdp('first run') || !isRoot)('a first `npm start` with nothing configured', () => {
  let unlock: () => Promise<void> = async () => {};
  const dirs: string[] = [];
  const accounts: string[] = [];
  const groups: number[] = [];

  beforeAll(async () => {
    unlock = await lockHostSesman();
  });
  afterAll(async () => {
    for (const pgid of groups) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    // Whatever a failed run left: xrdp and sesman run in their own groups.
    for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        if (/xrdp/.test(cmd) && dirs.some((d) => cmd.includes(d))) process.kill(-Number(pid), 'SIGKILL');
      } catch {
        // gone
      }
    }
    for (const a of accounts) userdel(a);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await unlock();
  });

  it('binds xrdp to loopback, keeps its files under DATA_DIR, and SIGTERM stops the service, xrdp, sesman and the session account', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'first-run-'));
    dirs.push(dataDir);
    const rdpBase = 20500 + Math.floor(Math.random() * 50) * 10;
    const svc = await npmStart(firstRunEnv(dataDir, await freePort(), rdpBase));
    groups.push(svc.proc.pid ?? 0);
    const token = await adminToken(svc.env);
    const server = await serverWithSession(svc, token);
    accounts.push(server.username);

    // Loopback only: the one listener of the port is 127.0.0.1 (0100007F), not 0.0.0.0 or ::.
    expect(listeners(server.port)).toEqual([`0100007F:${server.port.toString(16).toUpperCase().padStart(4, '0')}`]);
    // Every file of the instance and of sesman is under DATA_DIR; nothing under /etc/xrdp or /var/log/xrdp.
    const instanceDir = join(dataDir, 'xrdp', 'etc', 'servers', server.id);
    const ini = readFileSync(join(instanceDir, 'xrdp.ini'), 'utf8');
    expect(ini).toContain(`LogFile=${join(instanceDir, 'xrdp.log')}`);
    expect(ini).toContain(`certificate=${join(instanceDir, 'cert.pem')}`);
    expect(readFileSync(join(dataDir, 'xrdp', 'etc', 'sesman', 'sesman.ini'), 'utf8')).toContain(
      `LogFile=${join(dataDir, 'xrdp', 'log', 'xrdp-sesman.log')}`,
    );
    expect(existsSync(join(dataDir, 'xrdp', 'log', 'xrdp-sesman.log'))).toBe(true);
    expect(existsSync(join('/etc/xrdp/servers', server.id))).toBe(false);
    expect(readdirSync('/var/log').filter((f) => f.includes(server.id))).toEqual([]);
    const xrdpPid = Number(readFileSync(join(instanceDir, 'instance.pid'), 'utf8'));
    const sesman = sesmanPid(dataDir);
    expect(alive(xrdpPid)).toBe(true);
    expect(sesman !== null && alive(sesman)).toBe(true);
    // The session account is marked with this installation's id and has a working password.
    const installation = readFileSync(join(dataDir, 'installation-id'), 'utf8').trim();
    expect(passwdEntry(server.username)).toContain(`rdp-session ${installation} `);
    expect(shadowHash(server.username)).toMatch(/^[^!*]/);

    process.kill(svc.proc.pid ?? 0, 'SIGTERM');
    const exit = await svc.exited;
    expect(exit, svc.output()).toEqual({ code: 0, signal: null });
    expect(alive(xrdpPid)).toBe(false);
    expect(alive(sesman ?? 0)).toBe(false);
    expect(await refused(server.port)).toBe(true);
    expect(listeners(server.port)).toEqual([]);
    expect(passwdEntry(server.username)).toBeUndefined();
    expect(svc.output()).toContain('locked the session accounts of this process');
  }, 120_000);

  it('after a crash on the memory store, the next start locks and removes the orphaned account, and only this installation’s', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'first-run-crash-'));
    dirs.push(dataDir);
    const rdpBase = 25500 + Math.floor(Math.random() * 50) * 10;
    const svc = await npmStart(firstRunEnv(dataDir, await freePort(), rdpBase));
    groups.push(svc.proc.pid ?? 0);
    const token = await adminToken(svc.env);
    const server = await serverWithSession(svc, token);
    accounts.push(server.username);
    const installation = readFileSync(join(dataDir, 'installation-id'), 'utf8').trim();

    // The crash: the whole npm/tsx/node tree dies at once; xrdp and sesman (own groups) live on.
    process.kill(-(svc.proc.pid ?? 0), 'SIGKILL');
    await svc.exited;
    // The defect: the account of the forgotten session keeps a working password.
    expect(shadowHash(server.username)).toMatch(/^[^!*]/);

    // Accounts of the same shape this installation must not touch.
    const suffix = () =>
      Math.floor(Math.random() * 0xffffffff)
        .toString(16)
        .padStart(8, '0');
    const other = { name: `rdp-${suffix()}`, comment: `rdp-session ${'0'.repeat(16)} 1.1` };
    const legacy = { name: `rdp-${suffix()}`, comment: 'rdp session' };
    const selfStart = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ')[19];
    // Ours, but made by a process that still runs (another replica): its business, not ours.
    const replica = { name: `rdp-${suffix()}`, comment: `rdp-session ${installation} ${process.pid}.${selfStart}` };
    for (const d of [other, legacy, replica]) {
      execFileSync('useradd', ['--comment', d.comment, d.name]);
      accounts.push(d.name);
    }

    const xrdpPid = Number(readFileSync(join(dataDir, 'xrdp', 'etc', 'servers', server.id, 'instance.pid'), 'utf8'));
    expect(alive(xrdpPid)).toBe(true);
    const again = await startTestApp({ DATA_DIR: dataDir, RDP_PORT_RANGE: `${rdpBase}-${rdpBase + 9}` });
    try {
      expect(passwdEntry(server.username)).toBeUndefined();
      // The memory store knows no server: the crashed run's instance is stopped too.
      expect(alive(xrdpPid)).toBe(false);
      for (const d of [other, legacy, replica]) expect(passwdEntry(d.name), d.comment).toBeDefined();
    } finally {
      await again.stop();
    }
    // The sesman the crashed run started is this installation's: the next run's shutdown stops it.
    const sesman = sesmanPid(dataDir);
    if (sesman !== null) expect(alive(sesman)).toBe(false);
  }, 120_000);
});
