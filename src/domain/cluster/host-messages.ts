/**
 * What API replicas and host agents say to each other: the commands an agent runs for the
 * domain's host-side ports and the events it reports. The envelope (ids, deadlines, versions) is
 * the transport's; these are the bodies. Payloads are plain JSON.
 */
import type { ProbeResult, ProbeServer, ProbeSession } from '../resources/host-probe.js';
import type { ResourceFigures } from '../resources/resource-sample.js';
import type { EnforcementCapability, SessionConfinement } from '../servers/resource-enforcement.js';
import type { Desktop, RdpServer } from '../servers/server.js';
import type { OwnAccount } from '../sessions/session-accounts.js';
import type { SessionActivityReport, SessionHostState, SessionRef } from '../sessions/session-host.js';
import type { XrdpConfig } from '../xrdp/xrdp-config.js';
import type { SesmanState } from '../xrdp/xrdp-host.js';
import type { XrdpLogLevel, XrdpLogLine } from '../xrdp/xrdp-log.js';
import type { XrdpSessionEvent } from '../xrdp/xrdp-session-events.js';
import type { XrdpSessionEndResult, XrdpSessionRef } from '../xrdp/xrdp-session-terminator.js';

/** Version of these bodies; an agent refuses a command of a version it does not know. */
export const HOST_MESSAGES_VERSION = 1;

/** Figures of a probe round as JSON (the domain's ProbeResult holds maps). */
export interface ProbeResultJson {
  host: ResourceFigures;
  servers: [string, ResourceFigures][];
  sessions: [string, ResourceFigures][];
}

export const probeResultToJson = (r: ProbeResult): ProbeResultJson => ({
  host: r.host,
  servers: [...r.servers],
  sessions: [...r.sessions],
});

export const probeResultFromJson = (r: ProbeResultJson): ProbeResult => ({
  host: r.host,
  servers: new Map(r.servers),
  sessions: new Map(r.sessions),
});

/** Each command: what the API sends and what the agent answers. */
export interface HostCommandMap {
  'runtime.checkAvailable': { payload: Record<string, never>; result: null };
  /** Starts the server's instance with the configuration in force (the agent has no database). */
  'runtime.start': { payload: { server: RdpServer; xrdp: XrdpConfig }; result: null };
  'runtime.stop': { payload: { server: RdpServer }; result: null };
  'runtime.remove': { payload: { server: RdpServer }; result: null };
  'runtime.isRunning': { payload: { server: RdpServer }; result: boolean };
  'runtime.adopt': { payload: { server: RdpServer }; result: boolean };
  /** Stops every instance of the host not in `keep`. */
  'runtime.reap': { payload: { keep: string[] }; result: string[] };
  /** The password travels in the command; the issuer deletes the entry once it is answered. */
  'accounts.create': { payload: { username: string; password: string; desktop?: Desktop }; result: null };
  'accounts.lock': { payload: { username: string }; result: null };
  'accounts.remove': { payload: { username: string }; result: null };
  'accounts.unlock': { payload: { username: string }; result: null };
  /** A new password for an account the agent made (the old one stops working, a lock is lifted). */
  'accounts.setPassword': { payload: { username: string; password: string }; result: null };
  /** Whether a Linux account of this name exists on the host. */
  'accounts.exists': { payload: { username: string }; result: boolean };
  /** The accounts this host's agent made (any of its runs), for the clean-up after it restarts. */
  'accounts.listOwn': { payload: Record<string, never>; result: OwnAccount[] };
  'session.end': { payload: XrdpSessionRef; result: XrdpSessionEndResult };
  /** Drops the desktop's RDP client, the desktop keeps running; true when one was dropped. */
  'session.disconnectClient': { payload: SessionRef; result: boolean };
  /** What really runs for the desktop: X server, client, input idle time. */
  'session.inspect': { payload: SessionRef; result: SessionHostState };
  'sesman.state': { payload: Record<string, never>; result: SesmanState };
  'sesman.start': { payload: { xrdp: XrdpConfig }; result: null };
  'sesman.stop': { payload: Record<string, never>; result: null };
  'logs.read': { payload: { serverId: string; last: number; minLevel: XrdpLogLevel }; result: XrdpLogLine[] };
  /**
   * Report the server's new log lines (`xrdp.log` events) for the next `forMs` (1 ms to 2 min;
   * a lease each replica renews while it has followers, left to run out). One tail per server
   * on the agent, whatever the number of replicas renewing.
   */
  'logs.follow': { payload: { serverId: string; forMs: number }; result: null };
  'probe.measure': {
    payload: { servers: ProbeServer[]; sessions: ProbeSession[] };
    result: ProbeResultJson;
  };
  /** The host's cgroup limits (servers are confined by the agent itself when their instance starts). */
  'limits.capability': { payload: Record<string, never>; result: EnforcementCapability };
  'limits.updateServer': { payload: { server: RdpServer }; result: null };
  'limits.confineSession': { payload: SessionConfinement; result: null };
  'limits.releaseSession': { payload: { serverId: string; sessionId: string }; result: null };
}
export type HostCommandType = keyof HostCommandMap;

/** What runs on a host, reported when its agent starts (the API reconciles records with it). */
export interface HostInventory {
  /** Servers whose xrdp instance runs (adopted by the agent at its start). */
  instances: string[];
}

/** The agent's description of its host, sent at start and with every heartbeat. */
export interface HostDescription {
  hostId: string;
  name: string;
  labels: Record<string, string>;
  agentVersion: string;
  /** What RDP clients connect to. */
  rdpAddress: string;
  portRange: { from: number; to: number };
  capacity: { maxServers: number; cpuCount: number; memoryMb: number };
  /** Seconds between heartbeats; the host is OFFLINE after three silent ones. */
  heartbeatIntervalSeconds: number;
}

export interface HostEventMap {
  /** The agent started (or reconnected): what the host is and what runs there. */
  'agent.hello': { host: HostDescription; inventory: HostInventory; at: string };
  'agent.heartbeat': { host: HostDescription; usage: { cpuPercent: number | null; memoryPercent: number | null }; at: string };
  /** The agent is stopping on purpose. */
  'agent.bye': { at: string };
  /** An instance exited without being asked to. */
  'runtime.exit': { serverId: string; message: string };
  /** What xrdp's and sesman's logs report. */
  'xrdp.session': XrdpSessionEvent;
  /** New lines of a followed server's xrdp log (see `logs.follow`). */
  'xrdp.log': { serverId: string; lines: XrdpLogLine[] };
  /** Input idle time and client of every live desktop, measured at `measuredAt`. */
  'session.activity': { reports: SessionActivityReport[]; measuredAt: string };
}
export type HostEventType = keyof HostEventMap;
