/** Which live xrdp session to end: sesman runs at most one per display. */
export interface XrdpSessionRef {
  /** The Linux user the session runs as; a display of another user is left alone. */
  user: string;
  /** X display number, e.g. 10 for `:10`. */
  display: number;
}

export interface XrdpSessionEndResult {
  /** True when no process of that display is left (false when there was no such session). */
  ended: boolean;
  /** sesman logged `++ terminated session` for the display. */
  logConfirmed: boolean;
  /** Time taken, in milliseconds. */
  ms: number;
}

/**
 * Ends a live session. `xrdp-sesadmin -c=kill` does nothing in xrdp 0.9.21, so the adapter ends
 * the session's processes (the window manager first: sesman ends a session when it exits).
 */
export interface XrdpSessionTerminator {
  end(session: XrdpSessionRef): Promise<XrdpSessionEndResult>;
}
