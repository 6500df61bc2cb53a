import { readdir, readFile, readlink } from 'node:fs/promises';

/** One process as /proc describes it. */
export interface ProcInfo {
  pid: number;
  ppid: number;
  /** Process group id. */
  pgid: number;
  /** Real uid. */
  uid: number;
  /** R, S, D, Z (zombie), T, ... */
  state: string;
  comm: string;
  argv: string[];
}

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

export async function listPids(): Promise<number[]> {
  const names = await readdir('/proc');
  return names.filter((n) => /^\d+$/.test(n)).map(Number);
}

/** Null when the process is gone (or went while we read it). */
export async function readProc(pid: number): Promise<ProcInfo | null> {
  const [stat, status, cmdline] = await Promise.all([
    readText(`/proc/${pid}/stat`),
    readText(`/proc/${pid}/status`),
    readText(`/proc/${pid}/cmdline`),
  ]);
  if (stat === null || status === null) return null;
  // comm may hold spaces and parentheses: it ends at the last ')'.
  const close = stat.lastIndexOf(')');
  const comm = stat.slice(stat.indexOf('(') + 1, close);
  const fields = stat.slice(close + 2).split(' ');
  const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1];
  return {
    pid,
    state: fields[0] ?? '?',
    ppid: Number(fields[1]),
    pgid: Number(fields[2]),
    uid: uid === undefined ? -1 : Number(uid),
    comm,
    argv: (cmdline ?? '').split('\0').filter((a) => a !== ''),
  };
}

export async function listProcs(): Promise<ProcInfo[]> {
  const all = await Promise.all((await listPids()).map(readProc));
  return all.filter((p): p is ProcInfo => p !== null);
}

/** Alive means present and not a zombie: PID 1 may reap orphans late (docs/XRDP.md, "Starting and stopping"). */
export async function isAlive(pid: number): Promise<boolean> {
  const p = await readProc(pid);
  return p !== null && p.state !== 'Z' && p.state !== 'X';
}

/** One variable of a process's environment (root reads anyone's), or null. */
export async function readEnvVar(pid: number, name: string): Promise<string | null> {
  const env = await readText(`/proc/${pid}/environ`);
  if (env === null) return null;
  const prefix = `${name}=`;
  const entry = env.split('\0').find((e) => e.startsWith(prefix));
  return entry === undefined ? null : entry.slice(prefix.length);
}

export interface ListeningSocket {
  /** Local address as the kernel lists it (hex), e.g. `0100007F` or an IPv6 word string. */
  address: string;
  inode: number;
}

/** TCP sockets in LISTEN on `port`, IPv4 and IPv6. */
export async function listeningSockets(port: number): Promise<ListeningSocket[]> {
  const out: ListeningSocket[] = [];
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readText(table);
    if (text === null) continue;
    for (const row of text.split('\n').slice(1)) {
      const cols = row.trim().split(/\s+/);
      const local = cols[1];
      if (local === undefined || cols[3] !== '0A') continue;
      const [address, p] = local.split(':');
      if (p === hexPort && address !== undefined) out.push({ address, inode: Number(cols[9]) });
    }
  }
  return out;
}

/** Pids that hold any of the given socket inodes. */
export async function pidsHoldingSockets(inodes: readonly number[]): Promise<number[]> {
  if (inodes.length === 0) return [];
  const wanted = new Set(inodes.map((i) => `socket:[${i}]`));
  const found: number[] = [];
  for (const pid of await listPids()) {
    let fds: string[];
    try {
      fds = await readdir(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      if (wanted.has(target)) {
        found.push(pid);
        break;
      }
    }
  }
  return found;
}
