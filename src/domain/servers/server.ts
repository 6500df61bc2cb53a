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
  /** Incremented on every write; the basis of compare-and-set. */
  version: number;
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
