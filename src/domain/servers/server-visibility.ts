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
