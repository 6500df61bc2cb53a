import type { DrainNotice } from '../servers/server-drain.js';
import type { RdpSession } from './session.js';

/**
 * DRAIN_NOTICE: its server drains and the session ends at `drain.deadline` (sent to ACTIVE
 * sessions at the start and at each countdown step); DRAIN_CANCELLED: that drain was cancelled.
 * Neither changes the session (its version stays).
 */
export type SessionEventKind =
  | 'CREATED'
  | 'CONNECTED'
  | 'DISCONNECTED'
  | 'TERMINATED'
  | 'UPDATED'
  | 'DRAIN_NOTICE'
  | 'DRAIN_CANCELLED';

/** Published on `session:changed` keyed by session id and by `server:<serverId>`. */
export interface SessionEvent {
  kind: SessionEventKind;
  session: RdpSession;
  at: string;
  /** The countdown, on the drain kinds. */
  drain?: DrainNotice;
}
