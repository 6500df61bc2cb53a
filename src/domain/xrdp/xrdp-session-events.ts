import type { XrdpLogLine } from './xrdp-log.js';

export const XRDP_SESSION_EVENT_KINDS = [
  'LOGIN_SUCCEEDED',
  'LOGIN_FAILED',
  'CONNECTED',
  'DISCONNECTED',
  'SESSION_ENDED',
] as const;
export type XrdpSessionEventKind = (typeof XRDP_SESSION_EVENT_KINDS)[number];

/**
 * What xrdp and sesman report about logins and sessions of one server; published on
 * `xrdp:session-event` keyed by the server id.
 */
export interface XrdpSessionEvent {
  serverId: string;
  kind: XrdpSessionEventKind;
  /** The Linux user name the client logged in as. */
  user: string;
  /** X display number of the session (null for a failed login). */
  display: number | null;
  /** The RDP client's address as `ip:port`, when the logs tell it. */
  clientAddress: string | null;
  /** When it happened: the log line's time (one-second resolution), or when it was noticed. */
  at: string;
}

/** One RDP connection, i.e. one forked xrdp child (all lines of one pid). */
interface Connection {
  serverId: string;
  pid: number;
  clientAddress: string | null;
  user: string | null;
  display: number | null;
  /** LOGIN_SUCCEEDED was emitted and no DISCONNECTED yet. */
  live: boolean;
}

/** A sesman line whose RDP connection no instance log has named yet. */
interface Pending {
  kind: 'CONNECTED';
  user: string;
  display: number;
  clientAddress: string;
  at: string;
  expiresAt: number;
}

export interface TrackerLimits {
  /** Connections remembered per tracker; the oldest that never logged in go first. @default 1024 */
  maxConnections: number;
  /** Client addresses remembered for matching sesman lines. @default 1024 */
  maxAddresses: number;
  /** How long a sesman line waits for its instance's line. @default 10000 */
  pendingMs: number;
}

const RE = {
  // Logged by the listener, before the child that serves the connection says anything.
  received: /^Socket \d+: AF_INET6? connection received from (\S+) port (\d+)/,
  tls: /^TLS connection established from (\S+) port (\d+):/,
  loginOk: /^login successful for user (\S+) on display (\d+)/,
  loginFailed: /^login failed for user (\S+)/,
  connected: /^connected ok\b/,
  // What a child logs when its client has gone (xrdp 0.9.21, LogLevel INFO, client killed).
  gone: /^(SSL_read: |SSL: error:.*unexpected eof|xrdp_iso_send: trans_write_copy_s failed|Sending \[ITU T\.125\] DisconnectProviderUltimatum failed)/,
  starting: /^Starting session: session_pid \d+, display :(\d+)(?:\.\d+)?, .*client ip (\S+) - socket: \d+, user name (\S+)/,
  reconnected: /^\+\+ reconnected session: username (\S+), display :(\d+)(?:\.\d+)?, session_pid \d+, ip (\S+) - socket/,
  terminated: /^\+\+ terminated session:\s+username (\S+), display :(\d+)/,
};

const address = (ip: string, port: string) => `${ip}:${port}`;

/**
 * Turns xrdp and sesman log lines into session events. Pure: the adapter feeds lines in the
 * order each file has them and publishes what comes back.
 *
 * Instance logs (one per server) carry logins; the host's one sesman log carries session
 * creation, reconnection and end but no server. The two meet on the client address (xrdp logs
 * `TLS connection established from IP port P`, sesman logs `ip IP:P`) and on the display (owned
 * by the server whose instance logged the login on it).
 */
export class XrdpSessionEventTracker {
  private readonly limits: TrackerLimits;
  private readonly connections = new Map<string, Connection>();
  private readonly serverOfAddress = new Map<string, string>();
  private readonly serverOfDisplay = new Map<number, string>();
  private pending: Pending[] = [];

  constructor(limits: Partial<TrackerLimits> = {}) {
    this.limits = { maxConnections: 1024, maxAddresses: 1024, pendingMs: 10_000, ...limits };
  }

  /** A line of a server's xrdp.log. */
  instanceLine(serverId: string, line: XrdpLogLine): XrdpSessionEvent[] {
    const msg = line.message;
    let m = RE.received.exec(msg);
    if (m?.[1] && m[2]) {
      this.rememberAddress(address(m[1], m[2]), serverId);
      return this.resolvePending(Date.parse(line.time));
    }
    const conn = this.connection(serverId, line.pid ?? 0);
    m = RE.tls.exec(msg);
    if (m?.[1] && m[2]) {
      conn.clientAddress = address(m[1], m[2]);
      this.rememberAddress(conn.clientAddress, serverId);
      return this.resolvePending(Date.parse(line.time));
    }
    m = RE.loginOk.exec(msg);
    if (m?.[1] && m[2]) {
      // Without process ids every line is one "connection"; a new login starts a new one.
      conn.live = false;
      conn.user = m[1];
      conn.display = Number(m[2]);
      this.serverOfDisplay.set(conn.display, serverId);
      return [];
    }
    if (RE.connected.test(msg) && conn.user !== null && !conn.live) {
      conn.live = true;
      return [this.event(serverId, 'LOGIN_SUCCEEDED', conn.user, conn.display, conn.clientAddress, line.time)];
    }
    m = RE.loginFailed.exec(msg);
    if (m?.[1]) return [this.event(serverId, 'LOGIN_FAILED', m[1], null, conn.clientAddress, line.time)];
    if (conn.live && RE.gone.test(msg)) return this.disconnect(conn, line.time);
    return [];
  }

  /** A line of the host's sesman log. */
  sesmanLine(line: XrdpLogLine): XrdpSessionEvent[] {
    const msg = line.message;
    const now = Date.parse(line.time);
    // `++ created session (access granted): username U, ip A` comes first but names no display;
    // the `Starting session` line right after it (same sesman process) names user, display and A.
    let m = RE.starting.exec(msg);
    if (m?.[1] && m[2] && m[3]) return this.connected(m[3], Number(m[1]), m[2], line.time, now);
    m = RE.reconnected.exec(msg);
    if (m?.[1] && m[2] && m[3]) return this.connected(m[1], Number(m[2]), m[3], line.time, now);
    m = RE.terminated.exec(msg);
    if (m?.[1] && m[2]) {
      const display = Number(m[2]);
      const serverId = this.serverOfDisplay.get(display);
      if (serverId === undefined) return [];
      this.serverOfDisplay.delete(display);
      return [this.event(serverId, 'SESSION_ENDED', m[1], display, null, line.time)];
    }
    return [];
  }

  /** The xrdp child serving a connection has exited (found by the adapter, not in any log). */
  connectionGone(serverId: string, pid: number, at: string): XrdpSessionEvent[] {
    const key = `${serverId}/${pid}`;
    const conn = this.connections.get(key);
    this.connections.delete(key);
    return conn?.live ? this.disconnect(conn, at) : [];
  }

  /** Connections with a logged-in client, for the adapter to check that their process lives. */
  liveConnections(): { serverId: string; pid: number }[] {
    return [...this.connections.values()].filter((c) => c.live && c.pid > 0).map((c) => ({ serverId: c.serverId, pid: c.pid }));
  }

  /** Drops sesman lines that no instance claimed in time; returns nothing (they had no server). */
  expire(now: number): void {
    this.pending = this.pending.filter((p) => p.expiresAt > now);
  }

  /** Forgets a server (deleted or stopped): its connections and displays. */
  forgetServer(serverId: string): void {
    for (const [key, conn] of this.connections) if (conn.serverId === serverId) this.connections.delete(key);
    for (const [display, owner] of this.serverOfDisplay) if (owner === serverId) this.serverOfDisplay.delete(display);
  }

  private connected(user: string, display: number, clientAddress: string, at: string, now: number): XrdpSessionEvent[] {
    const serverId = this.serverOfAddress.get(clientAddress);
    if (serverId === undefined) {
      this.pending.push({ kind: 'CONNECTED', user, display, clientAddress, at, expiresAt: now + this.limits.pendingMs });
      return [];
    }
    this.serverOfDisplay.set(display, serverId);
    return [this.event(serverId, 'CONNECTED', user, display, clientAddress, at)];
  }

  private resolvePending(now: number): XrdpSessionEvent[] {
    this.expire(now);
    const out: XrdpSessionEvent[] = [];
    this.pending = this.pending.filter((p) => {
      const serverId = this.serverOfAddress.get(p.clientAddress);
      if (serverId === undefined) return true;
      this.serverOfDisplay.set(p.display, serverId);
      out.push(this.event(serverId, p.kind, p.user, p.display, p.clientAddress, p.at));
      return false;
    });
    return out;
  }

  private disconnect(conn: Connection, at: string): XrdpSessionEvent[] {
    conn.live = false;
    return [this.event(conn.serverId, 'DISCONNECTED', conn.user ?? '', conn.display, conn.clientAddress, at)];
  }

  private connection(serverId: string, pid: number): Connection {
    const key = `${serverId}/${pid}`;
    let conn = this.connections.get(key);
    if (!conn) {
      conn = { serverId, pid, clientAddress: null, user: null, display: null, live: false };
      this.connections.set(key, conn);
      this.evictConnections();
    }
    return conn;
  }

  /** Probes and failed logins leave connections that never go live; drop the oldest of those. */
  private evictConnections(): void {
    if (this.connections.size <= this.limits.maxConnections) return;
    for (const [key, conn] of this.connections) {
      if (this.connections.size <= this.limits.maxConnections) return;
      if (!conn.live) this.connections.delete(key);
    }
    for (const key of this.connections.keys()) {
      if (this.connections.size <= this.limits.maxConnections) return;
      this.connections.delete(key);
    }
  }

  private rememberAddress(clientAddress: string, serverId: string): void {
    this.serverOfAddress.delete(clientAddress);
    this.serverOfAddress.set(clientAddress, serverId);
    for (const key of this.serverOfAddress.keys()) {
      if (this.serverOfAddress.size <= this.limits.maxAddresses) break;
      this.serverOfAddress.delete(key);
    }
  }

  private event(
    serverId: string,
    kind: XrdpSessionEventKind,
    user: string,
    display: number | null,
    clientAddress: string | null,
    at: string,
  ): XrdpSessionEvent {
    return { serverId, kind, user, display, clientAddress, at };
  }
}
