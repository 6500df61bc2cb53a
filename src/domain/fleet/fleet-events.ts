import type { RdpServer } from '../servers/server.js';
import type { ServerChangeKind } from '../servers/server-events.js';

/**
 * The kinds of object a console's fleet list shows. Only servers today; pools join as `POOL`
 * with a change of their own, so a client that switches on `subject` keeps working.
 */
export type FleetSubject = 'SERVER';

/** A server's own change (a drain's start, deadline or cancel is UPDATED), or SESSIONS_CHANGED: its live sessions were admitted, moved between ACTIVE and DISCONNECTED, or ended. */
export type FleetChange = ServerChangeKind | 'SESSIONS_CHANGED';

/** Published on `fleet:changed` keyed `all` (docs/DOMAIN.md, "Live lists"). */
export interface FleetEvent {
  subject: FleetSubject;
  change: FleetChange;
  serverId: string;
  /** The server after its own change; null for SESSIONS_CHANGED (the sessions area has no server to send). */
  server: RdpServer | null;
  at: string;
}
