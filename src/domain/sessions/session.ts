export const SESSION_STATUSES = ['ACTIVE', 'DISCONNECTED', 'TERMINATED'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

export const TERMINATION_REASONS = [
  'USER',
  'ADMIN',
  'IDLE_TIMEOUT',
  'SESSION_TIMEOUT',
  'SERVER_STOPPED',
  'SERVER_ERROR',
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

/** Renders a .rdp file (CRLF lines, as mstsc writes them). */
export function renderRdpFile(info: {
  host: string;
  port: number;
  username: string;
  resolution: string | null;
  colorDepth: number | null;
}): string {
  const [w, h] = (info.resolution ?? '1920x1080').split('x');
  const lines = [
    `full address:s:${info.host}:${info.port}`,
    `username:s:${info.username}`,
    'screen mode id:i:1',
    `desktopwidth:i:${w}`,
    `desktopheight:i:${h}`,
    `session bpp:i:${info.colorDepth ?? 24}`,
    'prompt for credentials:i:1',
    'authentication level:i:0',
    'redirectclipboard:i:1',
  ];
  return `${lines.join('\r\n')}\r\n`;
}
