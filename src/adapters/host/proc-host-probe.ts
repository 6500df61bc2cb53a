import { readFile } from 'node:fs/promises';
import type { HostProbe, ProbeResult, ProbeServer, ProbeSession } from '../../domain/resources/host-probe.js';
import { emptyFigures, type ResourceFigures, round2 } from '../../domain/resources/resource-sample.js';
import { instancePaths } from '../xrdp/instance-paths.js';
import {
  type CpuTimes,
  envValue,
  type NetBytes,
  parseCpuTimes,
  parseMeminfo,
  parseNetDev,
  parseSsTcpInfo,
  parseUptime,
} from './proc-parsers.js';
import { filesystemUsage, ProcReader, readTcpCounters, uidsOf } from './proc-reader.js';
import {
  type CpuBaseline,
  childrenIndex,
  cpuTicksSince,
  instancePids,
  isLive,
  type ProcRecord,
  sessionPids,
} from './process-attribution.js';

export interface ProcHostProbeOptions {
  /** XRDP_CONFIG_PATH: each instance records its pid in `<configPath>/servers/<id>/instance.pid`. */
  configPath: string;
  /** The host's disk figures are those of the filesystem holding this directory (DATA_DIR). */
  dataDir: string;
  reader?: ProcReader;
  /** Raw `ss -tinH` output for the ports; null when unavailable. @default readTcpCounters */
  tcpCounters?: (ports: readonly number[]) => Promise<string | null>;
  passwdPath?: string;
}

const MB = 1024 * 1024;

interface Previous {
  cpu: CpuTimes;
  net: NetBytes;
  atMs: number;
  uptimeTicks: number | null;
}

/**
 * Measures from /proc what the kernel keeps:
 * - host: CPU from /proc/stat, memory from /proc/meminfo (used = total - available), network
 *   from /proc/net/dev (loopback left out), disk from statfs of DATA_DIR's filesystem;
 * - server: CPU and RSS of its xrdp process group (listener plus per-connection children) and of
 *   its sessions; network from the kernel's per-socket byte counters of the TCP connections on
 *   its RDP port (INET_DIAG, read with `ss`), which is exactly its RDP traffic;
 * - session: CPU and RSS of its processes (process-attribution.ts).
 * Null where the kernel keeps nothing: a session's network (its RDP connection belongs to the
 * server's xrdp connection process, and nothing in the session record names that socket; X11
 * traffic between Xvnc and xrdp is loopback), and disk of servers and sessions (they share the
 * host's filesystems and no quota is set). CPU is null on the first round (no earlier reading).
 * CPU percentages are of all CPUs of the host: one busy core on a 4-core host is 25 %.
 */
export function createProcHostProbe(options: ProcHostProbeOptions): HostProbe {
  const reader = options.reader ?? new ProcReader();
  const tcpCounters = options.tcpCounters ?? readTcpCounters;
  let constants: { pageSize: number; clkTck: number } | null = null;
  let previous: Previous | null = null;
  let baseline: CpuBaseline = new Map();
  let sockets = new Map<string, { bytesIn: number; bytesOut: number }>();

  async function instancePid(serverId: string): Promise<number | null> {
    try {
      const pid = Number((await readFile(`${instancePaths(options.configPath, serverId).dir}/instance.pid`, 'utf8')).trim());
      return Number.isInteger(pid) && pid > 1 ? pid : null;
    } catch {
      return null;
    }
  }

  /** Reads argv of X server candidates and DISPLAY of the session accounts' processes. */
  async function enrich(procs: ProcRecord[], sessionUids: Set<number>): Promise<void> {
    await Promise.all(
      procs.map(async (p) => {
        if (!isLive(p) || p.uid === null || !sessionUids.has(p.uid)) return;
        if (p.comm === 'Xvnc' || p.comm === 'Xorg') p.argv = await reader.argv(p.pid);
        const environ = await reader.environ(p.pid);
        p.display = environ === null ? null : envValue(environ, 'DISPLAY');
      }),
    );
  }

  return {
    async measure(targets: { servers: readonly ProbeServer[]; sessions: readonly ProbeSession[] }): Promise<ProbeResult> {
      constants ??= await reader.constants();
      const { pageSize, clkTck } = constants;
      const atMs = Date.now();
      const [statText, memText, netText, uptimeText, disk] = await Promise.all([
        reader.text('stat'),
        reader.text('meminfo'),
        reader.text('net/dev'),
        reader.text('uptime'),
        filesystemUsage(options.dataDir),
      ]);
      const cpu = statText === null ? null : parseCpuTimes(statText);
      const mem = memText === null ? null : parseMeminfo(memText);
      const net = netText === null ? null : parseNetDev(netText);
      const uptime = uptimeText === null ? null : parseUptime(uptimeText);
      const uptimeTicks = uptime === null ? null : Math.floor(uptime * clkTck);
      const memTotalBytes = mem ? mem.totalKb * 1024 : null;
      const dTotal = cpu && previous ? cpu.total - previous.cpu.total : 0;
      const seconds = previous ? (atMs - previous.atMs) / 1000 : 0;

      const host = emptyFigures();
      if (cpu && previous && dTotal > 0) host.cpuPercent = round2((1 - (cpu.idle - previous.cpu.idle) / dTotal) * 100);
      if (mem) {
        const used = (mem.totalKb - mem.availableKb) * 1024;
        host.memoryUsedMb = round2(used / MB);
        host.memoryTotalMb = round2((mem.totalKb * 1024) / MB);
        host.memoryPercent = round2((used / (mem.totalKb * 1024)) * 100);
      }
      if (disk) {
        host.diskUsedMb = round2(disk.usedBytes / MB);
        host.diskTotalMb = round2(disk.totalBytes / MB);
        const usable = disk.usedBytes + disk.availableBytes;
        host.diskPercent = usable > 0 ? round2((disk.usedBytes / usable) * 100) : null;
      }
      if (net && previous && seconds > 0) {
        host.networkInKbps = round2((Math.max(0, net.rxBytes - previous.net.rxBytes) * 8) / 1000 / seconds);
        host.networkOutKbps = round2((Math.max(0, net.txBytes - previous.net.txBytes) * 8) / 1000 / seconds);
      }

      const uids = await uidsOf([...new Set(targets.sessions.map((s) => s.username))], options.passwdPath);
      const procs = await reader.processes(targets.sessions.length > 0);
      await enrich(procs, new Set(uids.values()));
      const byPid = new Map(procs.map((p) => [p.pid, p]));
      const children = childrenIndex(procs);
      const previousUptime = previous?.uptimeTicks ?? null;

      const figuresOf = (pids: Set<number>): ResourceFigures => {
        const f = emptyFigures();
        let ticks = 0;
        let rss = 0;
        for (const pid of pids) {
          const p = byPid.get(pid);
          if (!p) continue;
          ticks += cpuTicksSince(p, baseline, previousUptime);
          rss += p.rssPages * pageSize;
        }
        if (previous && dTotal > 0) f.cpuPercent = round2((ticks / dTotal) * 100);
        f.memoryUsedMb = round2(rss / MB);
        if (memTotalBytes) {
          f.memoryTotalMb = round2(memTotalBytes / MB);
          f.memoryPercent = round2((rss / memTotalBytes) * 100);
        }
        return f;
      };

      const sessions = new Map<string, ResourceFigures>();
      const sessionSets = new Map<string, Set<number>>();
      for (const s of targets.sessions) {
        const uid = uids.get(s.username);
        if (uid === undefined) continue;
        const pids = sessionPids(procs, { uid, display: s.display }, children);
        if (pids.size === 0) continue;
        sessionSets.set(s.id, pids);
        sessions.set(s.id, figuresOf(pids));
      }

      const counters = targets.servers.length > 0 ? await tcpCounters(targets.servers.map((s) => s.port)) : '';
      const parsedSockets = counters === null ? null : parseSsTcpInfo(counters);
      const servers = new Map<string, ResourceFigures>();
      for (const server of targets.servers) {
        const pid = await instancePid(server.id);
        if (pid === null) continue;
        const pids = instancePids(procs, pid);
        if (pids.size === 0) continue;
        for (const s of targets.sessions) {
          if (s.serverId !== server.id) continue;
          for (const p of sessionSets.get(s.id) ?? []) pids.add(p);
        }
        const f = figuresOf(pids);
        if (parsedSockets && previous && seconds > 0) {
          let bytesIn = 0;
          let bytesOut = 0;
          for (const sock of parsedSockets) {
            if (sock.localPort !== server.port) continue;
            const before = sockets.get(sock.key);
            bytesIn += Math.max(0, sock.bytesIn - (before?.bytesIn ?? 0));
            bytesOut += Math.max(0, sock.bytesOut - (before?.bytesOut ?? 0));
          }
          f.networkInKbps = round2((bytesIn * 8) / 1000 / seconds);
          f.networkOutKbps = round2((bytesOut * 8) / 1000 / seconds);
        }
        servers.set(server.id, f);
      }

      baseline = new Map(procs.map((p) => [p.pid, { startTicks: p.startTicks, cpuTicks: p.cpuTicks }]));
      if (parsedSockets) sockets = new Map(parsedSockets.map((s) => [s.key, { bytesIn: s.bytesIn, bytesOut: s.bytesOut }]));
      if (cpu && net) previous = { cpu, net, atMs, uptimeTicks };
      return { host, servers, sessions };
    },
  };
}
