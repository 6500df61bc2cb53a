import type { RdpSession } from './session.js';

export type SessionEventKind = 'CREATED' | 'CONNECTED' | 'DISCONNECTED' | 'TERMINATED' | 'UPDATED';

/** Published on `session:changed` keyed by session id and by `server:<serverId>`. */
export interface SessionEvent {
  kind: SessionEventKind;
  session: RdpSession;
  at: string;
}
