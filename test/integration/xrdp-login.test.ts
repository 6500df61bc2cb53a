import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRecentLines } from '../../src/adapters/xrdp/file-xrdp-log-reader.js';
import { isAlive, listeningSockets, listProcs } from '../../src/adapters/xrdp/procfs.js';
import { createSesmanSupervisor, type HostSesman } from '../../src/adapters/xrdp/sesman-supervisor.js';
import { createSessionTerminator } from '../../src/adapters/xrdp/session-terminator.js';
import { createXrdpSessionWatcher, type XrdpSessionWatcher } from '../../src/adapters/xrdp/xrdp-session-watcher.js';
import type { EventPublisher } from '../../src/domain/shared/event-publisher.js';
import { DEFAULT_XRDP_CONFIG } from '../../src/domain/xrdp/xrdp-config.js';
import type { XrdpSessionEvent } from '../../src/domain/xrdp/xrdp-session-events.js';
import { lockHostSesman } from '../support/host-sesman-lock.js';
import { needXrdp } from '../support/xrdp-available.js';

const TOOLS = ['/usr/sbin/xrdp-sesman', '/usr/bin/xfreerdp', '/usr/bin/Xvfb', '/usr/bin/xterm', '/usr/bin/Xvnc'];

function needLoginTools(): boolean {
  if (!needXrdp('xrdp login')) return false;
  const missing = TOOLS.filter((t) => !existsSync(t));
  if (missing.length === 0) return true;
  const reason = `xrdp login: skipped, missing ${missing.join(', ')} (apt-get install xrdp tigervnc-standalone-server freerdp2-x11 xvfb xterm)`;
  if (process.env.REQUIRE_REAL_SERVICES === '1') throw new Error(`REQUIRE_REAL_SERVICES=1 but ${reason}`);
  console.warn(`SKIPPED ${reason}`);
  return false;
}

interface Received extends XrdpSessionEvent {
  receivedAt: number;
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls with a deadline; resolves with the milliseconds it took. */
async function until(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const t0 = performance.now();
  while (!(await predicate())) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await delay(10);
  }
  return Math.round(performance.now() - t0);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? Number.NaN;
}

describe.skipIf(!needLoginTools())('a real RDP login through xrdp, sesman and PAM (xfreerdp)', () => {
  const serverId = randomUUID();
  const user = `rdpit${randomBytes(3).toString('hex')}`;
  const password = `Rdp-${randomBytes(8).toString('hex')}`;
  const port = 26000 + Math.floor(Math.random() * 1000);
  const children: ChildProcess[] = [];
  const exited = new Map<ChildProcess, Promise<void>>();
  const events: Received[] = [];
  let dir: string;
  let clientDisplay: number;
  let instanceLog: string;
  let sesman: HostSesman | undefined;
  let watcher: XrdpSessionWatcher | undefined;
  let release: (() => Promise<void>) | undefined;
  let userCreated = false;
  const loginMs: number[] = [];
  const endMs: number[] = [];
  const clientGoneMs: number[] = [];

  /** Spawns in a process group of its own, so cleanup can take everything it started. */
  function spawnGroup(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
    const child = spawn(command, args, { detached: true, stdio: 'ignore', env });
    children.push(child);
    exited.set(child, new Promise((resolve) => child.once('exit', () => resolve())));
    return child;
  }

  function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // gone
    }
  }

  function client(pass: string): ChildProcess {
    return spawnGroup(
      'xfreerdp',
      [`/v:127.0.0.1:${port}`, `/u:${user}`, `/p:${pass}`, '/cert:ignore', '/size:1024x768', '/log-level:OFF'],
      { ...process.env, DISPLAY: `:${clientDisplay}` },
    );
  }

  async function event(since: number, what: string, match: (e: Received) => boolean, timeoutMs = 8000): Promise<Received> {
    let found: Received | undefined;
    await until(
      () => {
        found = events.slice(since).find(match);
        return found !== undefined;
      },
      timeoutMs,
      `${what} (events so far: ${JSON.stringify(events.slice(since).map((e) => e.kind))})`,
    );
    return found as Received;
  }

  async function xServerPid(display: number): Promise<number | undefined> {
    const procs = await listProcs();
    return procs.find((p) => p.state !== 'Z' && /(^|\/)(Xvnc|Xorg)$/.test(p.argv[0] ?? '') && p.argv.includes(`:${display}`))
      ?.pid;
  }

  beforeAll(async () => {
    release = await lockHostSesman();
    dir = mkdtempSync(join(tmpdir(), 'xrdp-login-'));

    execFileSync('useradd', ['-m', '-s', '/bin/bash', user]);
    userCreated = true;
    execFileSync('chpasswd', { input: `${user}:${password}\n` });
    const home = `/home/${user}`;
    // A minimal session: /etc/X11/Xsession would start an ssh-agent that outlives it.
    writeFileSync(`${home}/startwm.sh`, '#!/bin/sh\nexec xterm -geometry 80x24+10+10\n', { mode: 0o755 });
    execFileSync('chown', [`${user}:`, `${home}/startwm.sh`]);

    clientDisplay = 150 + Math.floor(Math.random() * 50);
    while (existsSync(`/tmp/.X11-unix/X${clientDisplay}`) || existsSync(`/tmp/.X${clientDisplay}-lock`)) clientDisplay++;
    spawnGroup('Xvfb', [`:${clientDisplay}`, '-screen', '0', '1280x800x24', '-nolisten', 'tcp']);

    sesman = createSesmanSupervisor({
      xrdpBinary: '/usr/sbin/xrdp',
      dir: join(dir, 'sesman'),
      logFile: join(dir, 'sesman', 'xrdp-sesman.log'),
      config: async () => DEFAULT_XRDP_CONFIG,
    });
    await sesman.start();

    const inst = join(dir, 'instance');
    mkdirSync(inst);
    instanceLog = join(inst, 'xrdp.log');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
        '-keyout',
        join(inst, 'key.pem'),
        '-out',
        join(inst, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    // docs/XRDP.md, "Logs", plus process ids in the log.
    writeFileSync(
      join(inst, 'xrdp.ini'),
      [
        '[Globals]',
        'ini_version=1',
        'fork=true',
        `port=tcp://.:${port}`,
        'security_layer=negotiate',
        'crypt_level=high',
        `certificate=${join(inst, 'cert.pem')}`,
        `key_file=${join(inst, 'key.pem')}`,
        'ssl_protocols=TLSv1.2, TLSv1.3',
        'autorun=Xvnc',
        'allow_channels=true',
        '[Logging]',
        `LogFile=${instanceLog}`,
        'LogLevel=INFO',
        'EnableSyslog=false',
        'EnableProcessId=true',
        '[Channels]',
        'rdpdr=false',
        'rdpsnd=false',
        'drdynvc=false',
        'cliprdr=false',
        'rail=false',
        'xrdpvr=false',
        '[Xvnc]',
        'name=Xvnc',
        'lib=libvnc.so',
        'username=ask',
        'password=ask',
        'ip=127.0.0.1',
        'port=-1',
        '',
      ].join('\n'),
    );
    if ((await listeningSockets(port)).length > 0) throw new Error(`port ${port} is taken; run again`);

    const publisher: EventPublisher = {
      publish: (_topic, _id, payload) => {
        events.push({ ...(payload as XrdpSessionEvent), receivedAt: Date.now() });
      },
    };
    watcher = createXrdpSessionWatcher({ sesmanLog: sesman.logFile, events: publisher });
    await watcher.watchServer(serverId, instanceLog);
    await watcher.ready;

    spawnGroup('/usr/sbin/xrdp', ['--nodaemon', '-c', join(inst, 'xrdp.ini')]);
    await until(async () => (await listeningSockets(port)).length > 0, 3000, 'xrdp listening');
    await until(() => existsSync(`/tmp/.X11-unix/X${clientDisplay}`), 3000, 'Xvfb up');
  }, 120_000);

  afterAll(async () => {
    for (const child of children) if (child.spawnargs[0] === 'xfreerdp') killGroup(child, 'SIGKILL');
    await watcher?.stop();
    if (userCreated) {
      try {
        execFileSync('pkill', ['-KILL', '-u', user]);
      } catch {
        // no process left
      }
    }
    if (sesman && (await sesman.state()).pid !== null) await sesman.stop();
    for (const child of children) killGroup(child, 'SIGTERM');
    await Promise.race([Promise.all(exited.values()), delay(3000)]);
    for (const child of children) killGroup(child, 'SIGKILL');
    if (userCreated) {
      await until(
        async () => !(await listProcs()).some((p) => p.state !== 'Z' && p.argv.some((a) => a.includes(user))),
        3000,
        'user processes gone',
      ).catch(() => undefined);
      try {
        execFileSync('userdel', ['-r', user], { stdio: 'ignore' });
      } catch {
        execFileSync('userdel', ['-f', '-r', user], { stdio: 'ignore' });
      }
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
    await release?.();
    if (loginMs.length > 0) {
      console.log(
        `xrdp login: login ms ${JSON.stringify(loginMs)} p50 ${median(loginMs)}; X server gone after end ms ${JSON.stringify(endMs)} p50 ${median(endMs)}; xfreerdp exited after end ms ${JSON.stringify(clientGoneMs)}`,
      );
    }
  }, 60_000);

  it('shows each login as an event and in the log within 3 s; ending the session removes its X server within 2 s and drops the client', async () => {
    const terminator = createSessionTerminator({ sesmanLog: sesman?.logFile ?? '' });
    for (let round = 0; round < 5; round++) {
      const since = events.length;
      const t0 = Date.now();
      const rdp = client(password);

      const ok = await event(since, 'LOGIN_SUCCEEDED', (e) => e.kind === 'LOGIN_SUCCEEDED' && e.user === user);
      loginMs.push(ok.receivedAt - t0);
      expect(ok.serverId).toBe(serverId);
      expect(ok.display).toEqual(expect.any(Number));
      // `at` is the log line's second; the event may come at most 3 s after it was written.
      expect(ok.receivedAt - Date.parse(ok.at)).toBeLessThan(3000);
      const display = ok.display as number;
      const connected = await event(since, 'CONNECTED', (e) => e.kind === 'CONNECTED' && e.display === display, 3000);
      expect(connected).toMatchObject({ serverId, user, clientAddress: ok.clientAddress });
      const logged = await readRecentLines(instanceLog, 200, 'INFO');
      expect(logged.map((l) => l.message)).toContain(`login successful for user ${user} on display ${display}`);

      expect((await sesman?.state())?.liveSessions).toBe(1);
      const x = await xServerPid(display);
      expect(x, 'the X server of the new session').toBeDefined();
      const tEnd = performance.now();
      const xGone = until(async () => !(await isAlive(x as number)), 5000, 'X server gone');
      const result = await terminator.end({ user, display });
      const goneMs = await xGone;
      endMs.push(goneMs);
      expect(result).toMatchObject({ ended: true, logConfirmed: true });
      expect(goneMs).toBeLessThan(2000);

      await event(since, 'SESSION_ENDED', (e) => e.kind === 'SESSION_ENDED' && e.display === display, 3000);
      await event(since, 'DISCONNECTED', (e) => e.kind === 'DISCONNECTED' && e.clientAddress === ok.clientAddress, 3000);
      // The client is off: xfreerdp exits once xrdp drops the connection.
      await until(() => rdp.exitCode !== null || rdp.signalCode !== null, 5000, 'xfreerdp exit');
      clientGoneMs.push(Math.round(performance.now() - tEnd));
      expect(await xServerPid(display)).toBeUndefined();
      expect((await sesman?.state())?.liveSessions).toBe(0);
    }
    expect(median(loginMs)).toBeLessThan(3000);
  }, 60_000);

  it('reports a wrong password as LOGIN_FAILED', async () => {
    const since = events.length;
    const rdp = client('wrong-password');
    const failed = await event(since, 'LOGIN_FAILED', (e) => e.kind === 'LOGIN_FAILED' && e.user === user, 10_000);
    expect(failed).toMatchObject({ serverId, display: null });
    expect(events.slice(since).some((e) => e.kind === 'LOGIN_SUCCEEDED')).toBe(false);
    killGroup(rdp, 'SIGKILL');
  }, 20_000);

  it('ending a session that does not exist reports ended: false', async () => {
    const result = await createSessionTerminator({ sesmanLog: sesman?.logFile ?? '' }).end({ user, display: 4242 });
    expect(result).toMatchObject({ ended: false, logConfirmed: false });
  });
});
