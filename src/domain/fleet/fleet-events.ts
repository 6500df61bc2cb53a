import type { ResourceSample } from '../resources/resource-sample.js';
import type { RdpServer } from '../servers/server.js';
import type { ServerChangeKind } from '../servers/server-events.js';

/**
 * The kinds of object a console's fleet list shows. Only servers today; pools join as `POOL`
 * with a change of their own, so a client that switches on `subject` keeps working.
 */
export type FleetSubject = 'SERVER';

/**
 * A server's own change (a drain's start, deadline or cancel is UPDATED), SESSIONS_CHANGED: its
 * live sessions were admitted, moved between ACTIVE and DISCONNECTED, or ended; or ACCESS_CHANGED:
 * an assignment of `principals` was made or taken away, so what they see may have changed (never
 * delivered as such: a user's view answers it with the servers that appeared or went).
 */
export type FleetChange = ServerChangeKind | 'SESSIONS_CHANGED' | 'ACCESS_CHANGED';

/** Who an assignment is for (a user id, or a group of the token's GROUPS_CLAIM). */
export interface FleetPrincipal {
  type: 'USER' | 'GROUP';
  id: string;
}

/** Published on `fleet:changed` keyed `all` (docs/DOMAIN.md, "Live lists"). */
export interface FleetEvent {
  subject: FleetSubject;
  change: FleetChange;
  /** The server changed; empty for ACCESS_CHANGED. */
  serverId: string;
  /** The server after its own change; null for SESSIONS_CHANGED (the sessions area has no server to send) and ACCESS_CHANGED. */
  server: RdpServer | null;
  /** ACCESS_CHANGED only: whose assignment changed. */
  principals?: FleetPrincipal[];
  at: string;
}

/** One fleet event as a viewer's `fleetEvents` delivers it: the server and its live session counts. */
export interface FleetViewEvent {
  kind: Exclude<FleetChange, 'ACCESS_CHANGED'> | 'SNAPSHOT';
  subject: FleetSubject;
  server: RdpServer;
  activeSessions: number;
  disconnectedSessions: number;
  at: string;
}

/** What a sample's visibility is decided by: the server's owner, creator and pool. */
export type FleetSampleServer = Pick<RdpServer, 'id' | 'owner' | 'createdBy' | 'poolId'>;

/**
 * Published on `fleet:usage` keyed `all` once per collection round of a host (after its samples
 * are stored): the sample of every server measured in it, each with what decides who may see it,
 * so a viewer's `fleetUsage` filters a round without reading anything.
 */
export interface FleetUsageRound {
  at: string;
  /** The host whose collector measured the round. */
  host: string;
  samples: { server: FleetSampleServer; sample: ResourceSample }[];
}

/** What a viewer's `fleetUsage` delivers: the samples it may see of one round, or the newest ones (SNAPSHOT). */
export interface FleetUsageView {
  kind: 'SNAPSHOT' | 'ROUND';
  at: string;
  samples: ResourceSample[];
}
