import type { RdpServer } from './server.js';
import type { DrainNotice } from './server-drain.js';

/**
 * DRAIN_STARTED: a drain began or was rescheduled; DRAIN_NOTICE: a countdown step; DRAINED: the
 * deadline action ended its sessions (and stopped it); DRAIN_CANCELLED: it takes sessions again.
 */
export type DrainEventKind = 'DRAIN_STARTED' | 'DRAIN_NOTICE' | 'DRAINED' | 'DRAIN_CANCELLED';

/** What the server's own writes (ServerService) publish; fleet events carry these. */
export type ServerChangeKind = 'CREATED' | 'UPDATED' | 'STATUS_CHANGED' | 'DELETED';

export type ServerEventKind = ServerChangeKind | DrainEventKind;

/** Published on `server:changed` keyed by the server id; carries the server as it now is. */
export interface ServerEvent {
  kind: ServerEventKind;
  server: RdpServer;
  at: string;
  /** The countdown, on the drain kinds. */
  drain?: DrainNotice;
}
