import { isOperator, owns, type Viewer } from '../auth/viewer.js';
import type { RdpServer } from './server.js';

/** What a viewer was given the use of, directly or through one of their groups (pools area). */
export interface Grants {
  serverIds: readonly string[];
  poolIds: readonly string[];
}

export const NO_GRANTS: Grants = { serverIds: [], poolIds: [] };

/** Reads a viewer's grants (the pools area's assignments). */
export interface GrantSource {
  grantsOf(viewer: Viewer): Promise<Grants>;
}

/**
 * Operators and admins see every server; a user sees the servers they own or created, those
 * assigned to them and those of pools assigned to them (docs/DOMAIN.md, "Who may do what").
 */
export function seesServer(
  viewer: Viewer,
  server: Pick<RdpServer, 'id' | 'owner' | 'createdBy' | 'poolId'>,
  grants: Grants,
): boolean {
  if (isOperator(viewer) || owns(viewer, server)) return true;
  if (grants.serverIds.includes(server.id)) return true;
  return server.poolId !== null && grants.poolIds.includes(server.poolId);
}

/**
 * What one viewer sees of the fleet, for a live list that filters a stream of changes: `all` for
 * operators and admins (every server passes, nothing is read), else the rule of `seesServer` with
 * the viewer's grants read once and kept until `refresh` (an assignment changed, or a resync).
 */
export interface FleetScope {
  readonly all: boolean;
  sees(server: Pick<RdpServer, 'id' | 'owner' | 'createdBy' | 'poolId'>): boolean | Promise<boolean>;
  /** Reads the grants again at the next `sees` that needs them. */
  refresh(): void;
}

export const WHOLE_FLEET: FleetScope = { all: true, sees: () => true, refresh: () => undefined };

/** A user's scope: own servers answer at once; the grants are read only for the others, once. */
export function userFleetScope(viewer: Viewer, grants: () => Promise<Grants>): FleetScope {
  let read: Promise<Grants> | null = null;
  const current = () => {
    if (read) return read;
    const p = grants();
    read = p;
    // A failed read is not kept: the next event tries again.
    p.catch(() => {
      if (read === p) read = null;
    });
    return p;
  };
  return {
    all: false,
    sees: (server) => owns(viewer, server) || current().then((g) => seesServer(viewer, server, g)),
    refresh: () => {
      read = null;
    },
  };
}
