import type { ServerConfiguration } from '../servers/server.js';

export const SESSION_STATUSES = ['ACTIVE', 'DISCONNECTED', 'TERMINATED'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

export const TERMINATION_REASONS = [
  'USER',
  'ADMIN',
  'IDLE_TIMEOUT',
  'SESSION_TIMEOUT',
  'SERVER_STOPPED',
  'SERVER_ERROR',
  'DRAINED',
] as const;
export type TerminationReason = (typeof TERMINATION_REASONS)[number];

export const CREDENTIAL_MODES = ['HOST_ACCOUNT', 'EPHEMERAL'] as const;
export type CredentialMode = (typeof CREDENTIAL_MODES)[number];

export interface ClientInfo {
  clientName: string | null;
  clientVersion: string | null;
  clientIp: string | null;
  resolution: string | null;
  colorDepth: number | null;
}

/** The cap slots a session holds, given back when it ends. */
export interface SessionSlots {
  global: number;
  server: number;
  user: number;
  /** Held when its server's pool has a session cap (maxSessions). */
  pool?: number;
}

/** A user's admitted session on a server. Times are ISO-8601 UTC strings. */
export interface RdpSession {
  id: string;
  serverId: string;
  /** The host of its server, where its account and desktop live (absent on records from before hosts). */
  hostId?: string;
  /** The pool its server was in at admission (absent: none); its pool slot is that pool's. */
  poolId?: string;
  /** The user the session belongs to. */
  owner: string;
  createdBy: string;
  status: SessionStatus;
  terminationReason: TerminationReason | null;
  clientInfo: ClientInfo;
  credentialMode: CredentialMode;
  /** The Linux account the RDP client logs in as. */
  username: string;
  /** Salted hash (credentials.ts) of the one-time password (EPHEMERAL); never the password itself. */
  credentialHash: string | null;
  credentialExpiresAt: string;
  /**
   * When the sweeper locks the EPHEMERAL account's password (credentialExpiresAt): new logins
   * with it fail from then on, a desktop already running stays. Null once locked, for
   * HOST_ACCOUNT sessions (the user's own password is not ours to expire) and after the end.
   */
  credentialDeadline: string | null;
  /** X display of the live xrdp session, once xrdp reported the login. */
  display: number | null;
  slots: SessionSlots;
  createdAt: string;
  connectedAt: string | null;
  lastActivityAt: string;
  terminatedAt: string | null;
  /** Idle deadline: lastActivityAt + idle timeout (ACTIVE sessions only). */
  idleDeadline: string | null;
  /** Maximum duration: createdAt + session timeout. */
  sessionDeadline: string;
  /**
   * The last host event applied to it (`<hostId>/<stream entry id>`): an event redelivered after
   * a replica died, or older than one applied, changes nothing.
   */
  lastHostEvent?: string;
  version: number;
}

export const LIVE_STATUSES: readonly SessionStatus[] = ['ACTIVE', 'DISCONNECTED'];

/** What the user gets back once, at creation: everything an RDP client needs. */
export interface ConnectionInfo {
  host: string;
  port: number;
  username: string;
  /** One-time password, shown once; null for HOST_ACCOUNT (the user's own password applies). */
  password: string | null;
  expiresAt: string;
  /** The body of a .rdp file for this connection (no password in it). */
  rdpFile: string;
}

/** What of a server's configuration a .rdp file reflects (docs/DOMAIN.md, "The .rdp file"). */
export type RdpFileRedirection = Pick<ServerConfiguration, 'clipboard' | 'audio' | 'driveRedirection' | 'printerRedirection'>;

/**
 * Renders a .rdp file (CRLF lines `name:type:value`, as mstsc writes them). The redirection keys
 * follow the channels the server's xrdp.ini allows: a client asked for a channel xrdp refuses
 * gets nothing, so the file asks only for what the server gives.
 */
export function renderRdpFile(info: {
  host: string;
  port: number;
  username: string;
  resolution: string | null;
  colorDepth: number | null;
  redirection: RdpFileRedirection;
}): string {
  const [w, h] = (info.resolution ?? '1920x1080').split('x');
  const r = info.redirection;
  const flag = (on: boolean) => (on ? 1 : 0);
  const lines = [
    `full address:s:${info.host}:${info.port}`,
    `username:s:${info.username}`,
    // 1: a window of the desktop's size (2 would be full screen, which hides the client's own).
    'screen mode id:i:1',
    `desktopwidth:i:${w}`,
    `desktopheight:i:${h}`,
    `session bpp:i:${info.colorDepth ?? 24}`,
    'prompt for credentials:i:1',
    'authentication level:i:0',
    `redirectclipboard:i:${flag(r.clipboard)}`,
    // 0: play on this computer; 2: do not play.
    `audiomode:i:${r.audio ? 0 : 2}`,
    `redirectdrives:i:${flag(r.driveRedirection)}`,
    `drivestoredirect:s:${r.driveRedirection ? '*' : ''}`,
    `redirectprinters:i:${flag(r.printerRedirection)}`,
  ];
  return `${lines.join('\r\n')}\r\n`;
}
