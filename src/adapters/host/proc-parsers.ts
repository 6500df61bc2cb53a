/**
 * Pure parsers of the kernel's text interfaces (proc(5)), tested on recorded text. Everything
 * that reads files or runs programs is in the readers next to this file.
 */

/** Aggregate CPU time of all CPUs from /proc/stat, in USER_HZ ticks. */
export interface CpuTimes {
  /** Every tick of every CPU (guest time is already inside user and nice). */
  total: number;
  /** Ticks doing nothing: idle plus waiting for I/O. */
  idle: number;
}

/** The `cpu ` line of /proc/stat: user nice system idle iowait irq softirq steal [guest guest_nice]. */
export function parseCpuTimes(stat: string): CpuTimes | null {
  const line = stat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return null;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  if (v.length < 4 || v.some((n) => !Number.isFinite(n))) return null;
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
  return { total: user + nice + system + idle + iowait + irq + softirq + steal, idle: idle + iowait };
}

export interface MemInfo {
  totalKb: number;
  /** What could be given to new work without swapping: MemAvailable, or an estimate on old kernels. */
  availableKb: number;
}

/** /proc/meminfo; null when MemTotal is missing. */
export function parseMeminfo(text: string): MemInfo | null {
  const kb = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s+kB)?$/.exec(line.trim());
    if (m?.[1] && m[2]) kb.set(m[1], Number(m[2]));
  }
  const totalKb = kb.get('MemTotal');
  if (totalKb === undefined) return null;
  const availableKb = kb.get('MemAvailable') ?? (kb.get('MemFree') ?? 0) + (kb.get('Buffers') ?? 0) + (kb.get('Cached') ?? 0);
  return { totalKb, availableKb };
}

export interface NetBytes {
  rxBytes: number;
  txBytes: number;
}

/**
 * /proc/net/dev summed over the interfaces, loopback left out (traffic between local processes
 * is not the host's network load).
 */
export function parseNetDev(text: string, exclude: (iface: string) => boolean = (i) => i === 'lo'): NetBytes {
  let rxBytes = 0;
  let txBytes = 0;
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const iface = line.slice(0, colon).trim();
    if (exclude(iface)) continue;
    const cols = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    rxBytes += cols[0] ?? 0;
    txBytes += cols[8] ?? 0;
  }
  return { rxBytes, txBytes };
}

/** What the collector needs of /proc/<pid>/stat. */
export interface PidStat {
  pid: number;
  comm: string;
  /** R, S, D, Z (zombie), T, ... */
  state: string;
  ppid: number;
  /** Process group id. */
  pgid: number;
  /** utime + stime, USER_HZ ticks. */
  cpuTicks: number;
  /** Start time in ticks since boot (with the pid, it names one process for good). */
  startTicks: number;
  /** Resident set size in pages. */
  rssPages: number;
}

/** /proc/<pid>/stat. comm may hold spaces and parentheses: it ends at the last ')'. */
export function parsePidStat(text: string): PidStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  const f = text
    .slice(close + 2)
    .trim()
    .split(' ');
  // f[0] is field 3 (state); field n is f[n - 3].
  const num = (field: number) => Number(f[field - 3]);
  const stat: PidStat = {
    pid,
    comm: text.slice(open + 1, close),
    state: f[0] ?? '?',
    ppid: num(4),
    pgid: num(5),
    cpuTicks: num(14) + num(15),
    startTicks: num(22),
    rssPages: num(24),
  };
  return Number.isInteger(pid) && Number.isFinite(stat.cpuTicks) && Number.isFinite(stat.rssPages) ? stat : null;
}

/** Seconds since boot, the first number of /proc/uptime. */
export function parseUptime(text: string): number | null {
  const v = Number(text.trim().split(/\s+/)[0]);
  return Number.isFinite(v) ? v : null;
}

/** Entries of an auxiliary vector (/proc/self/auxv) of a 64-bit little-endian process. */
export function parseAuxv(buf: Uint8Array): Map<number, bigint> {
  const out = new Map<number, bigint>();
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let off = 0; off + 16 <= buf.byteLength; off += 16) {
    const type = Number(view.getBigUint64(off, true));
    if (type === 0) break;
    out.set(type, view.getBigUint64(off + 8, true));
  }
  return out;
}

export const AT_PAGESZ = 6;
export const AT_CLKTCK = 17;

/** One established TCP socket with the kernel's byte counters (`ss -tinH`). */
export interface TcpSocketCounters {
  localPort: number;
  /** `local peer`, which names the connection while it lives. */
  key: string;
  /** Bytes the peer acknowledged (delivered), or sent when the kernel does not report that. */
  bytesOut: number;
  bytesIn: number;
}

const portOf = (address: string) => Number(address.slice(address.lastIndexOf(':') + 1));

/**
 * Output of `ss -tinH state established [filter]`: a socket line (Recv-Q Send-Q Local Peer),
 * then an indented line of tcp_info fields such as bytes_acked:N bytes_received:N. The kernel
 * keeps these per socket (INET_DIAG); /proc/net/tcp has no byte counters.
 */
export function parseSsTcpInfo(text: string): TcpSocketCounters[] {
  const out: TcpSocketCounters[] = [];
  let current: TcpSocketCounters | null = null;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (/^\s/.test(line)) {
      if (!current) continue;
      const field = (name: string) => {
        const m = new RegExp(`(?:^|\\s)${name}:(\\d+)`).exec(line);
        return m?.[1] === undefined ? null : Number(m[1]);
      };
      current.bytesIn = field('bytes_received') ?? 0;
      current.bytesOut = field('bytes_acked') ?? field('bytes_sent') ?? 0;
      continue;
    }
    const cols = line.trim().split(/\s+/);
    // With a state filter ss leaves the State column out: Recv-Q Send-Q Local Peer [Process].
    const [local, peer] = /^\d+$/.test(cols[0] ?? '') ? [cols[2], cols[3]] : [cols[3], cols[4]];
    if (local === undefined || peer === undefined) {
      current = null;
      continue;
    }
    current = { localPort: portOf(local), key: `${local} ${peer}`, bytesIn: 0, bytesOut: 0 };
    out.push(current);
  }
  return out;
}

/** The value of one variable in a NUL-separated environment (/proc/<pid>/environ). */
export function envValue(environ: string, name: string): string | null {
  const prefix = `${name}=`;
  const entry = environ.split('\0').find((e) => e.startsWith(prefix));
  return entry === undefined ? null : entry.slice(prefix.length);
}
