import { execFile } from 'node:child_process';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { ValidationError } from '../../domain/shared/errors.js';
import { parseXrdpLogLine } from '../../domain/xrdp/xrdp-log.js';
import type { XrdpSessionEndResult, XrdpSessionRef, XrdpSessionTerminator } from '../../domain/xrdp/xrdp-session-terminator.js';
import { listProcs, type ProcInfo, readEnvVar, readProc } from './procfs.js';

export interface SessionTerminatorOptions {
  /** sesman's log, where the end of the session is confirmed. */
  sesmanLog: string;
  /** How long sesman gets to end the session after its window manager went. @default 1500 */
  graceMs?: number;
  /** Between SIGTERM and SIGKILL. @default 1000 */
  killAfterMs?: number;
  /** How long to wait for sesman's `++ terminated session` line. @default 2000 */
  confirmMs?: number;
  /** The instances' xrdp logs, where the connection process that served the session is named. */
  instanceLogs?: () => Promise<string[]>;
}

/**
 * Pids of xrdp connection processes that logged the user's login on the display (the instance
 * logs carry `[pid:N tid:M]` because the rendered xrdp.ini sets EnableProcessId).
 */
async function connectionPids(logs: string[], user: string, display: number): Promise<number[]> {
  const pids = new Set<number>();
  const login = `login successful for user ${user} on display ${display}`;
  for (const path of logs) {
    let text = '';
    try {
      const handle = await open(path, 'r');
      try {
        const size = (await handle.stat()).size;
        const length = Math.min(size, 256 * 1024);
        const buffer = Buffer.alloc(length);
        await handle.read(buffer, 0, length, size - length);
        text = buffer.toString('utf8');
      } finally {
        await handle.close();
      }
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (!line.includes(login)) continue;
      const m = /\[pid:(\d+)/.exec(line);
      if (m) pids.add(Number(m[1]));
    }
  }
  const alive: number[] = [];
  for (const pid of pids) {
    const p = await readProc(pid);
    if (p && live(p) && basename(p.argv[0] ?? p.comm) === 'xrdp') alive.push(pid);
  }
  return alive;
}

const X_SERVERS = new Set(['Xvnc', 'Xorg']);
const USER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$/;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function signal(pids: Iterable<number>, sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // gone already
    }
  }
}

function uidOf(user: string): Promise<number | null> {
  return new Promise((resolve) => {
    execFile('id', ['-u', '--', user], { timeout: 2000 }, (err, stdout) => {
      const uid = Number(stdout.trim());
      resolve(err || !Number.isInteger(uid) ? null : uid);
    });
  });
}

const live = (p: ProcInfo) => p.state !== 'Z' && p.state !== 'X';

function isXServerOf(p: ProcInfo, display: number): boolean {
  return live(p) && X_SERVERS.has(basename(p.argv[0] ?? p.comm)) && p.argv.includes(`:${display}`);
}

/** Every live process of the display: its X server, and the user's processes with DISPLAY=:N. */
async function displayProcesses(display: number, uid: number): Promise<{ xServer: ProcInfo | null; others: ProcInfo[] }> {
  const procs = (await listProcs()).filter((p) => p.uid === uid && live(p));
  const xServer = procs.find((p) => isXServerOf(p, display)) ?? null;
  const others: ProcInfo[] = [];
  for (const p of procs) {
    if (p === xServer) continue;
    const value = await readEnvVar(p.pid, 'DISPLAY');
    if (value === `:${display}` || value === `:${display}.0`) others.push(p);
  }
  return { xServer, others };
}

/** Reads what sesman logged since `offset` and looks for the end of the display's session. */
async function sesmanConfirmed(path: string, offset: number, display: number): Promise<boolean> {
  let text = '';
  try {
    const handle = await open(path, 'r');
    try {
      const size = (await handle.stat()).size;
      const from = size < offset ? 0 : offset;
      const buffer = Buffer.alloc(Math.min(size - from, 1024 * 1024));
      await handle.read(buffer, 0, buffer.length, from);
      text = buffer.toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return false;
  }
  const ended = new RegExp(`^\\+\\+ terminated session:\\s+username \\S+, display :${display}(\\.\\d+)?,`);
  return text.split('\n').some((line) => ended.test(parseXrdpLogLine(line)?.message ?? ''));
}

async function fileSize(path: string): Promise<number> {
  try {
    const handle = await open(path, 'r');
    try {
      return (await handle.stat()).size;
    } finally {
      await handle.close();
    }
  } catch {
    return 0;
  }
}

/**
 * Ends an xrdp session by its processes, since `xrdp-sesadmin -c=kill` does nothing in 0.9.21:
 * SIGTERM to the window manager (sesman then stops the X server and chansrv and logs
 * `++ terminated session`), then SIGTERM and SIGKILL to whatever of the display is left. The
 * X server's going also ends the xrdp connection process, which drops the RDP client.
 */
export function createSessionTerminator(options: SessionTerminatorOptions): XrdpSessionTerminator {
  const graceMs = options.graceMs ?? 1500;
  const killAfterMs = options.killAfterMs ?? 1000;
  const confirmMs = options.confirmMs ?? 2000;

  async function until(predicate: () => Promise<boolean>, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (await predicate()) return true;
      await delay(25);
    }
    return predicate();
  }

  async function terminate(pids: () => Promise<number[]>): Promise<void> {
    const first = await pids();
    if (first.length === 0) return;
    signal(first, 'SIGTERM');
    if (await until(async () => (await pids()).length === 0, killAfterMs)) return;
    signal(await pids(), 'SIGKILL');
    await until(async () => (await pids()).length === 0, killAfterMs);
  }

  return {
    async end({ user, display }: XrdpSessionRef): Promise<XrdpSessionEndResult> {
      const t0 = performance.now();
      if (!Number.isInteger(display) || display < 0 || display > 65535) {
        throw new ValidationError('display', 'must be an X display number');
      }
      if (!USER_NAME.test(user)) throw new ValidationError('user', 'is not a user name');
      const ms = () => Math.round(performance.now() - t0);
      const uid = await uidOf(user);
      if (uid === null) return { ended: false, logConfirmed: false, ms: ms() };
      const before = await displayProcesses(display, uid);
      const x = before.xServer;
      if (!x && before.others.length === 0) return { ended: false, logConfirmed: false, ms: ms() };
      const logOffset = await fileSize(options.sesmanLog);

      if (x) {
        // The window manager is the user's other child of sesman's session process.
        const all = await listProcs();
        const wm = all.filter(
          (p) => p.ppid === x.ppid && p.pid !== x.pid && p.uid === uid && live(p) && basename(p.argv[0] ?? '') !== 'xrdp-chansrv',
        );
        signal(
          wm.map((p) => p.pid),
          'SIGTERM',
        );
        const xGone = async () => {
          const now = await readProc(x.pid);
          return now === null || !live(now);
        };
        if (wm.length === 0 || !(await until(xGone, graceMs))) {
          await terminate(async () => ((await xGone()) ? [] : [x.pid]));
        }
      }
      // What the session left: programs started in it (they carry DISPLAY=:N), chansrv.
      await terminate(async () => {
        const left = await displayProcesses(display, uid);
        return [...(left.xServer ? [left.xServer.pid] : []), ...left.others.map((p) => p.pid)];
      });

      // The connection process may stay up showing xrdp's login screen: end it, so the RDP
      // client is disconnected rather than left at a login prompt.
      if (options.instanceLogs) {
        const logs = await options.instanceLogs();
        await terminate(() => connectionPids(logs, user, display));
      }

      const after = await displayProcesses(display, uid);
      const ended = after.xServer === null && after.others.length === 0;
      const logConfirmed = await until(() => sesmanConfirmed(options.sesmanLog, logOffset, display), confirmMs);
      return { ended, logConfirmed, ms: ms() };
    },
  };
}
