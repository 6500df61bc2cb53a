export const SERVER_STATUSES = ['STOPPED', 'STARTING', 'RUNNING', 'STOPPING', 'ERROR', 'MAINTENANCE'] as const;
export type ServerStatus = (typeof SERVER_STATUSES)[number];

export const DESKTOPS = ['xfce', 'gnome', 'kde', 'lxde'] as const;
export type Desktop = (typeof DESKTOPS)[number];
export const COLOR_DEPTHS = [16, 24, 32] as const;
export type ColorDepth = (typeof COLOR_DEPTHS)[number];

export interface ServerConfiguration {
  desktop: Desktop;
  resolution: string;
  colorDepth: ColorDepth;
  audio: boolean;
  clipboard: boolean;
  driveRedirection: boolean;
  printerRedirection: boolean;
  maxSessions: number;
}

export interface ServerResources {
  cpuLimit: number;
  memoryLimitMb: number;
  diskLimitMb: number;
  bandwidthMbps: number;
}

/** One xrdp instance on a host. Times are ISO-8601 UTC strings. */
export interface RdpServer {
  id: string;
  name: string;
  description: string;
  owner: string;
  createdBy: string;
  status: ServerStatus;
  /** Why the server is in ERROR, or the last runtime message. */
  statusMessage: string | null;
  /** The status to return to when maintenance ends. */
  statusBeforeMaintenance: ServerStatus | null;
  /** The host the server is placed on (records from before hosts existed: the local host). */
  hostId: string;
  /** What RDP clients connect to: the host's RDP address when the server was placed. */
  host: string;
  /** Its port on that host; ports are unique per host, not across the fleet. */
  port: number;
  /** The pool it belongs to (at most one), or null. */
  poolId: string | null;
  configuration: ServerConfiguration;
  resources: ServerResources;
  createdAt: string;
  updatedAt: string;
  lastStartedAt: string | null;
  lastStoppedAt: string | null;
  /** Set while the server drains (docs/DOMAIN.md, "Drain"): no new sessions; null otherwise. */
  drain: ServerDrain | null;
  /** Incremented on every write; the basis of compare-and-set. */
  version: number;
}

/** Where a drain comes from: drainServer, or its host's drain with a deadline (setHostDrain). */
export type DrainOrigin = 'SERVER' | 'HOST';

/**
 * A drain in progress, kept in the server document so every replica sees it and any one of them
 * runs its steps (each step is a compare-and-set of this object, so it happens once).
 */
export interface ServerDrain {
  /** New for every drain and every reschedule: a write for an old drain never touches a new one. */
  id: string;
  origin: DrainOrigin;
  deadline: string;
  /** Stop the server at the deadline, once its sessions have ended. */
  stopServer: boolean;
  startedAt: string;
  /** User id of who started it (the host's drainer for HOST drains). */
  startedBy: string;
  /** The seconds left announced last (DRAIN_NOTICE): the next notice is for a lower step. */
  noticeStep: number;
  /** When a replica took the deadline action; another one retries it once this is stale. */
  actionStartedAt: string | null;
  /** When the deadline action finished: sessions ended (and the server stopped). It still drains. */
  completedAt: string | null;
}

export const DEFAULT_CONFIGURATION: ServerConfiguration = {
  desktop: 'xfce',
  resolution: '1920x1080',
  colorDepth: 24,
  audio: true,
  clipboard: true,
  driveRedirection: false,
  printerRedirection: false,
  maxSessions: 10,
};

export const DEFAULT_RESOURCES: ServerResources = {
  cpuLimit: 2.0,
  memoryLimitMb: 4096,
  diskLimitMb: 20480,
  bandwidthMbps: 1000,
};

/** Seconds since the last start while RUNNING, else null. */
export function uptimeSeconds(server: RdpServer, now: Date): number | null {
  if (server.status !== 'RUNNING' || !server.lastStartedAt) return null;
  return Math.max(0, Math.floor((now.getTime() - Date.parse(server.lastStartedAt)) / 1000));
}
