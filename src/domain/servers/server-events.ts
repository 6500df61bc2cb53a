import type { RdpServer } from './server.js';

export type ServerEventKind = 'CREATED' | 'UPDATED' | 'STATUS_CHANGED' | 'DELETED';

/** Published on `server:changed` keyed by the server id; carries the server as it now is. */
export interface ServerEvent {
  kind: ServerEventKind;
  server: RdpServer;
  at: string;
}
