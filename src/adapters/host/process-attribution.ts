import type { PidStat } from './proc-parsers.js';

/** A process as the collector sees it in one round. */
export interface ProcRecord extends PidStat {
  /** Effective uid, when it was read (only needed while sessions are measured). */
  uid: number | null;
  /** Command line, read for X server candidates only. */
  argv: string[] | null;
  /** DISPLAY from its environment, read for session users' processes only. */
  display: string | null;
}

const X_SERVERS = new Set(['Xvnc', 'Xorg']);

export const isLive = (p: PidStat) => p.state !== 'Z' && p.state !== 'X';

export function childrenIndex(procs: readonly ProcRecord[]): Map<number, ProcRecord[]> {
  const index = new Map<number, ProcRecord[]>();
  for (const p of procs) {
    const siblings = index.get(p.ppid);
    if (siblings) siblings.push(p);
    else index.set(p.ppid, [p]);
  }
  return index;
}

function addTree(pid: number, byPid: Map<number, ProcRecord>, children: Map<number, ProcRecord[]>, into: Set<number>): void {
  const stack = [pid];
  while (stack.length > 0) {
    const next = stack.pop() as number;
    if (into.has(next) || !byPid.has(next)) continue;
    into.add(next);
    for (const c of children.get(next) ?? []) stack.push(c.pid);
  }
}

/**
 * The processes of an xrdp instance: its process group (the listener spawned detached, and the
 * child it forks for each connection). Sessions run under the host's sesman, not in this group.
 */
export function instancePids(procs: readonly ProcRecord[], instancePid: number): Set<number> {
  const out = new Set<number>();
  const leader = procs.find((p) => p.pid === instancePid);
  if (!leader || !isLive(leader) || leader.pgid !== instancePid) return out;
  for (const p of procs) if (p.pgid === instancePid && isLive(p)) out.add(p.pid);
  return out;
}

export function isXServerOf(p: ProcRecord, uid: number, display: number): boolean {
  return (
    isLive(p) &&
    p.uid === uid &&
    X_SERVERS.has(p.comm) &&
    (p.argv ?? []).some((a) => a === `:${display}` || a === `:${display}.0`)
  );
}

/**
 * The processes of a session (the account's X server on the display): everything below sesman's
 * session process that started that X server (window manager, its programs, chansrv), plus any
 * process of the account whose DISPLAY is the session's (programs that left the tree by
 * daemonizing). The same rule the session terminator uses to end a session.
 */
export function sessionPids(
  procs: readonly ProcRecord[],
  session: { uid: number; display: number },
  children: Map<number, ProcRecord[]> = childrenIndex(procs),
): Set<number> {
  const byPid = new Map(procs.filter(isLive).map((p) => [p.pid, p]));
  const out = new Set<number>();
  const x = procs.find((p) => isXServerOf(p, session.uid, session.display));
  if (x) {
    // sesman forks one process per session and starts the X server and window manager from it;
    // that process is a child of the main sesman (whose tree holds every session, never taken).
    const root = byPid.get(x.ppid);
    const isSessionProcess = (p: ProcRecord | undefined) => p?.comm.startsWith('xrdp-sesman') === true;
    if (root && isSessionProcess(root) && isSessionProcess(byPid.get(root.ppid))) addTree(root.pid, byPid, children, out);
    else addTree(x.pid, byPid, children, out);
  }
  const wanted = new Set([`:${session.display}`, `:${session.display}.0`]);
  for (const p of byPid.values()) {
    if (p.uid === session.uid && p.display !== null && wanted.has(p.display)) addTree(p.pid, byPid, children, out);
  }
  return out;
}

/** Per-process CPU ticks as last seen, to turn cumulative counters into rates. */
export type CpuBaseline = Map<number, { startTicks: number; cpuTicks: number }>;

/**
 * Ticks a process used since the previous round: the difference for one seen before; its whole
 * life for one started after the previous round; 0 on the first round or for a process that
 * existed then but was not read (no basis).
 */
export function cpuTicksSince(p: PidStat, previous: CpuBaseline, previousUptimeTicks: number | null): number {
  const before = previous.get(p.pid);
  if (before && before.startTicks === p.startTicks) return Math.max(0, p.cpuTicks - before.cpuTicks);
  if (previousUptimeTicks !== null && p.startTicks >= previousUptimeTicks) return p.cpuTicks;
  return 0;
}
