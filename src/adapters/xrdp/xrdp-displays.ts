import { execFile } from 'node:child_process';
import { open, readdir, readlink } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { SessionHostState, SessionRef } from '../../domain/sessions/session-host.js';
import { parseXrdpLogLine } from '../../domain/xrdp/xrdp-log.js';
import { instancePaths } from './instance-paths.js';
import { listProcs, type ProcInfo, readProc } from './procfs.js';

export interface XrdpDisplaysOptions {
  /** XRDP_CONFIG_PATH: the instance logs are `servers/<id>/xrdp.log` under it. */
  configPath: string;
  /** @default '/usr/bin/xprintidle' */
  xprintidle?: string;
  /** Bound on one xprintidle run. @default 2000 */
  idleProbeTimeoutMs?: number;
  /** How much of a log is read the first time it is seen (its end). @default 8 MiB */
  initialReadBytes?: number;
}

/** A desktop that runs on this host and is attributed to one of its servers. */
export interface LiveDisplay extends SessionRef {
  xServerPid: number;
  /** Live xrdp connection processes serving it: a client is connected when there is one. */
  connectionPids: number[];
}

/**
 * The desktops of this host's xrdp servers, as the kernel and the logs show them: X servers
 * (Xvnc/Xorg `:N`, run by sesman as the session user) from /proc, attributed to a server and a
 * user by the instance log line `[pid:P] login successful for user U on display N` (the rendered
 * xrdp.ini sets EnableProcessId); P is the connection process serving the client, so a client is
 * connected while one such process lives. Input idle time is what the X server's
 * MIT-SCREEN-SAVER extension counts (xprintidle).
 */
export interface XrdpDisplays {
  list(): Promise<LiveDisplay[]>;
  inspect(ref: SessionRef): Promise<SessionHostState>;
  /** Live connection processes of the desktop (those to end to drop its client). */
  connectionPids(ref: SessionRef): Promise<number[]>;
  /** Milliseconds since the last input on the X server of the display, or null. */
  idleMs(xServerPid: number, display: number): Promise<number | null>;
}

const X_SERVERS = new Set(['Xvnc', 'Xorg']);
const LOGIN = /^login successful for user (\S+) on display (\d+)/;
const SERVER_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** (user, display) pairs remembered per log; EPHEMERAL accounts make a new pair each session. */
const MAX_LOGINS_PER_LOG = 4096;
const MAX_PIDS_PER_LOGIN = 64;

interface Login {
  pids: number[];
  /** Order across every log: the latest login on a display wins. */
  seq: number;
}

interface LogIndex {
  offset: number;
  rest: string;
  logins: Map<string, Login>;
}

const loginKey = (user: string, display: number) => `${user}\0${display}`;
const live = (p: ProcInfo) => p.state !== 'Z' && p.state !== 'X';

function displayOf(p: ProcInfo): number | null {
  if (!live(p) || !X_SERVERS.has(basename(p.argv[0] ?? p.comm))) return null;
  const arg = p.argv.slice(1).find((a) => /^:\d+$/.test(a));
  return arg === undefined ? null : Number(arg.slice(1));
}

function uidOf(user: string): Promise<number | null> {
  return new Promise((done) => {
    execFile('id', ['-u', '--', user], { timeout: 2000 }, (err, stdout) => {
      const uid = Number(stdout.trim());
      done(err || !Number.isInteger(uid) ? null : uid);
    });
  });
}

export function createXrdpDisplays(options: XrdpDisplaysOptions): XrdpDisplays {
  const xprintidle = options.xprintidle ?? '/usr/bin/xprintidle';
  const probeTimeoutMs = options.idleProbeTimeoutMs ?? 2000;
  const initialReadBytes = options.initialReadBytes ?? 8 * 1024 * 1024;
  const indexes = new Map<string, LogIndex>();
  const uids = new Map<string, number | null>();
  let seq = 0;

  /** Reads what the server's log gained since the last call (the end of it, the first time). */
  async function refresh(serverId: string): Promise<LogIndex> {
    let index = indexes.get(serverId);
    const path = instancePaths(options.configPath, serverId).log;
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(path, 'r');
    } catch {
      indexes.delete(serverId);
      return { offset: 0, rest: '', logins: new Map() };
    }
    try {
      const size = (await handle.stat()).size;
      if (!index || size < index.offset) {
        // New, or truncated: start again from (the end of) what is there.
        index = { offset: Math.max(0, size - initialReadBytes), rest: '', logins: new Map() };
        indexes.set(serverId, index);
      }
      while (index.offset < size) {
        const length = Math.min(size - index.offset, 1024 * 1024);
        const buffer = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buffer, 0, length, index.offset);
        if (bytesRead === 0) break;
        index.offset += bytesRead;
        const lines = (index.rest + buffer.toString('utf8', 0, bytesRead)).split('\n');
        index.rest = lines.pop() ?? '';
        for (const raw of lines) {
          const line = parseXrdpLogLine(raw);
          const m = line?.pid !== undefined ? LOGIN.exec(line.message) : null;
          if (!m?.[1] || !m[2] || line?.pid === undefined) continue;
          const key = loginKey(m[1], Number(m[2]));
          const login = index.logins.get(key) ?? { pids: [], seq: 0 };
          index.logins.delete(key);
          if (!login.pids.includes(line.pid)) login.pids = [...login.pids, line.pid].slice(-MAX_PIDS_PER_LOGIN);
          login.seq = ++seq;
          index.logins.set(key, login);
          if (index.logins.size > MAX_LOGINS_PER_LOG) {
            const oldest = index.logins.keys().next().value;
            if (oldest !== undefined) index.logins.delete(oldest);
          }
        }
      }
      return index;
    } finally {
      await handle.close();
    }
  }

  async function serverIds(): Promise<string[]> {
    const ids = await readdir(`${options.configPath}/servers`).catch(() => [] as string[]);
    return ids.filter((id) => SERVER_ID.test(id));
  }

  async function cachedUid(user: string): Promise<number | null> {
    if (uids.has(user)) return uids.get(user) ?? null;
    const uid = await uidOf(user);
    // An account that does not exist yet may be made later: only found ones are kept.
    if (uid !== null) {
      if (uids.size >= 4096) uids.clear();
      uids.set(user, uid);
    }
    return uid;
  }

  async function liveConnections(pids: readonly number[]): Promise<number[]> {
    const alive: number[] = [];
    for (const pid of pids) {
      const p = await readProc(pid);
      if (p && live(p) && basename(p.argv[0] ?? p.comm) === 'xrdp') alive.push(pid);
    }
    return alive;
  }

  async function xServerOf(display: number, uid: number): Promise<ProcInfo | null> {
    return (await listProcs()).find((p) => p.uid === uid && displayOf(p) === display) ?? null;
  }

  async function connectionPids(ref: SessionRef): Promise<number[]> {
    if (!SERVER_ID.test(ref.serverId)) return [];
    const index = await refresh(ref.serverId);
    return liveConnections(index.logins.get(loginKey(ref.user, ref.display))?.pids ?? []);
  }

  async function idleMs(xServerPid: number, display: number): Promise<number | null> {
    const proc = await readProc(xServerPid);
    if (!proc) return null;
    // sesman starts the X server in the user's home with `-auth .Xauthority`.
    const auth = proc.argv[proc.argv.indexOf('-auth') + 1];
    const cwd = await readlink(`/proc/${xServerPid}/cwd`).catch(() => null);
    // Only what X clients need: the rest of our environment (secrets included) stays here.
    const env: NodeJS.ProcessEnv = { DISPLAY: `:${display}` };
    if (proc.argv.includes('-auth') && auth !== undefined && cwd !== null) env.XAUTHORITY = resolve(cwd, auth);
    return new Promise((done) => {
      execFile(xprintidle, [], { env, timeout: probeTimeoutMs }, (err, stdout) => {
        const ms = Number(stdout.trim());
        done(err || stdout.trim() === '' || !Number.isFinite(ms) || ms < 0 ? null : ms);
      });
    });
  }

  return {
    connectionPids,
    idleMs,

    async inspect(ref) {
      const uid = await cachedUid(ref.user);
      const x = uid === null ? null : await xServerOf(ref.display, uid);
      const pids = await connectionPids(ref);
      return {
        desktopRunning: x !== null,
        clientConnected: pids.length > 0,
        idleMs: x ? await idleMs(x.pid, ref.display) : null,
      };
    },

    async list() {
      const ids = await serverIds();
      const logs = await Promise.all(ids.map(async (id) => [id, await refresh(id)] as const));
      for (const id of indexes.keys()) if (!ids.includes(id)) indexes.delete(id);
      // Per display, the logins on it, latest first: the latest by the X server's owner names it.
      const byDisplay = new Map<number, { serverId: string; user: string; login: Login }[]>();
      for (const [serverId, index] of logs) {
        for (const [key, login] of index.logins) {
          const [user, d] = key.split('\0');
          if (user === undefined) continue;
          const list = byDisplay.get(Number(d)) ?? [];
          list.push({ serverId, user, login });
          byDisplay.set(Number(d), list);
        }
      }
      for (const list of byDisplay.values()) list.sort((a, b) => b.login.seq - a.login.seq);
      const out: LiveDisplay[] = [];
      for (const p of await listProcs()) {
        const display = displayOf(p);
        if (display === null) continue;
        let owner: { serverId: string; user: string; login: Login } | null = null;
        for (const candidate of byDisplay.get(display) ?? []) {
          if ((await cachedUid(candidate.user)) !== p.uid) continue;
          owner = candidate;
          break;
        }
        if (!owner) continue;
        out.push({
          serverId: owner.serverId,
          user: owner.user,
          display,
          xServerPid: p.pid,
          connectionPids: await liveConnections(owner.login.pids),
        });
      }
      return out;
    },
  };
}
