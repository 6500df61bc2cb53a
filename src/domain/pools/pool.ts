import type { CredentialMode } from '../sessions/session.js';

export const PLACEMENT_POLICIES = ['BREADTH_FIRST', 'DEPTH_FIRST'] as const;
/** BREADTH_FIRST: the server with the fewest sessions first. DEPTH_FIRST: fill a server before the next. */
export type PlacementPolicy = (typeof PLACEMENT_POLICIES)[number];

/** A named set of servers that users connect to through the broker (docs/DOMAIN.md, "Pools"). */
export interface Pool {
  id: string;
  name: string;
  description: string;
  placementPolicy: PlacementPolicy;
  /** Most live sessions on the pool's servers together; null: only the servers' own caps. */
  maxSessions: number | null;
  /** Credential mode of sessions the broker admits in this pool; null: the service's default. */
  defaultCredentialMode: CredentialMode | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export const PRINCIPAL_TYPES = ['USER', 'GROUP'] as const;
export type PrincipalType = (typeof PRINCIPAL_TYPES)[number];
export const ASSIGNMENT_TARGETS = ['POOL', 'SERVER'] as const;
export type AssignmentTargetType = (typeof ASSIGNMENT_TARGETS)[number];

/** Grants a user (JWT sub) or a group (GROUPS_CLAIM) the use of a pool or of one server. */
export interface Assignment {
  id: string;
  principalType: PrincipalType;
  /** A user id, or a group name. */
  principal: string;
  targetType: AssignmentTargetType;
  targetId: string;
  createdBy: string;
  createdAt: string;
}

/** One assignment per principal and target: the unique key stores enforce. */
export const assignmentKey = (a: Pick<Assignment, 'principalType' | 'principal' | 'targetType' | 'targetId'>): string =>
  `${a.principalType}:${encodeURIComponent(a.principal)}:${a.targetType}:${a.targetId}`;
