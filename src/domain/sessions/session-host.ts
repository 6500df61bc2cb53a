import type { XrdpSessionEndResult } from '../xrdp/xrdp-session-terminator.js';

/** One live desktop on a host: sesman runs at most one per display. */
export interface SessionRef {
  serverId: string;
  /** The Linux user the desktop runs as; a display of another user is left alone. */
  user: string;
  /** X display number, e.g. 10 for `:10`. */
  display: number;
}

/** What really runs for a session right now, whatever its record says. */
export interface SessionHostState {
  /** The session's X server runs. */
  desktopRunning: boolean;
  /** An RDP client is connected to the desktop (an xrdp connection process serves it). */
  clientConnected: boolean;
  /** Milliseconds since the last keyboard or pointer input on the desktop; null when unknown. */
  idleMs: number | null;
}

/**
 * What the sessions area asks of the host its desktops run on. The local implementation works
 * on this machine's processes; a remote one sends the same requests to the host's agent.
 */
export interface SessionHost {
  /** Ends the desktop and drops its client. */
  end(ref: SessionRef): Promise<XrdpSessionEndResult>;
  /** Drops the RDP client while the desktop keeps running; true when a client was dropped. */
  disconnectClient(ref: SessionRef): Promise<boolean>;
  inspect(ref: SessionRef): Promise<SessionHostState>;
}

/**
 * What a host measures, periodically, for each live desktop it can attribute to a server.
 * Applying the same report twice changes nothing.
 */
export interface SessionActivityReport {
  serverId: string;
  user: string;
  display: number;
  /** Milliseconds since the last input on the desktop; null when it could not be read. */
  idleMs: number | null;
  clientConnected: boolean;
}
