/** What RDP clients and placement know of one RDP host: the machine an agent runs xrdp on. */

/** Host ids are DNS-label-like, so they fit claim keys, stream names and Redis ACL patterns. */
export { HOST_ID_PATTERN } from '../cluster/host-protocol.js';

export const HOST_STATUSES = ['ONLINE', 'OFFLINE', 'DRAINING'] as const;
export type HostStatus = (typeof HOST_STATUSES)[number];

/** A host is OFFLINE after this many heartbeat intervals without one. */
export const MISSED_HEARTBEATS_OFFLINE = 3;

export interface PortRange {
  from: number;
  to: number;
}

export interface HostCapacity {
  /** Most servers placed on the host at once. */
  maxServers: number;
  /** CPU cores of the host, as its agent reports them (not reserved by placement). */
  cpuCount: number;
  /** Memory of the host in MB, as its agent reports it (not reserved by placement). */
  memoryMb: number;
}

/** The latest load the agent reported with a heartbeat. */
export interface HostUsage {
  cpuPercent: number;
  memoryPercent: number;
  /** When it was measured (the heartbeat's time). */
  at: string;
}

/** Times are ISO-8601 UTC strings. */
export interface Host {
  id: string;
  name: string;
  labels: Record<string, string>;
  /**
   * False once the host missed MISSED_HEARTBEATS_OFFLINE heartbeats (markStale), true again at
   * its next heartbeat or registration. The status also reads a stale heartbeat as OFFLINE
   * before markStale has run.
   */
  connected: boolean;
  /** Set by an admin: no new servers or sessions are placed here; running ones continue. */
  draining: boolean;
  /**
   * Set with a drain that has a deadline: the servers of the host drain with it (a drain of
   * origin HOST, docs/DOMAIN.md "Drain"), so their sessions get the countdown and end at the
   * deadline. Null: the drain refuses new servers and sessions and ends nothing.
   */
  drainDeadline: { deadline: string; stopServers: boolean; by: string } | null;
  lastHeartbeatAt: string | null;
  agentVersion: string;
  /** What RDP clients connect to for servers on this host (a name or an address). */
  rdpAddress: string;
  portRange: PortRange;
  capacity: HostCapacity;
  usage: HostUsage | null;
  createdAt: string;
  updatedAt: string;
  /** Incremented on every write; the basis of compare-and-set. */
  version: number;
}

/** ONLINE, OFFLINE (silent too long, draining or not) or DRAINING (online, drain flag set). */
export function hostStatus(host: Host, now: Date, heartbeatIntervalSeconds: number): HostStatus {
  if (!isAlive(host, now, heartbeatIntervalSeconds)) return 'OFFLINE';
  return host.draining ? 'DRAINING' : 'ONLINE';
}

/** Connected, and its last heartbeat is younger than MISSED_HEARTBEATS_OFFLINE intervals. */
export function isAlive(host: Host, now: Date, heartbeatIntervalSeconds: number): boolean {
  if (!host.connected || host.lastHeartbeatAt === null) return false;
  return now.getTime() - Date.parse(host.lastHeartbeatAt) <= MISSED_HEARTBEATS_OFFLINE * heartbeatIntervalSeconds * 1000;
}

/** The standard RDP port is never handed out, whatever the configured range. */
export const RESERVED_PORTS: ReadonlySet<number> = new Set([3389]);

/** The ports of a range that may be handed out, lowest first. */
export function usablePorts(range: PortRange): number[] {
  const out: number[] = [];
  for (let p = range.from; p <= range.to; p++) if (!RESERVED_PORTS.has(p)) out.push(p);
  return out;
}
