export const ROLES = ['user', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** The authenticated caller, taken from a verified JWT. */
export interface Viewer {
  userId: string;
  username: string;
  email?: string | undefined;
  roles: Role[];
  permissions: string[];
  /** Groups from the token's GROUPS_CLAIM (assignments to a group reach its members); none when absent. */
  groups?: string[] | undefined;
  /** Address the request came from, set per request by the API (for the audit log); not a claim. */
  ip?: string | null | undefined;
}

export function hasRole(viewer: Viewer, role: Role): boolean {
  if (viewer.roles.includes('admin')) return true;
  if (role === 'operator') return viewer.roles.includes('operator');
  if (role === 'user') return true;
  return false;
}

export const isOperator = (viewer: Viewer): boolean => hasRole(viewer, 'operator');
export const isAdmin = (viewer: Viewer): boolean => hasRole(viewer, 'admin');

/** Something with an owner and a creator: "own" means either is the caller. */
export interface Owned {
  owner: string;
  createdBy: string;
}

export function owns(viewer: Viewer, object: Owned): boolean {
  return object.owner === viewer.userId || object.createdBy === viewer.userId;
}

/** Operators and admins see all; users see their own. */
export function canSee(viewer: Viewer, object: Owned): boolean {
  return isOperator(viewer) || owns(viewer, object);
}

/** Update, start, stop, delete: the same rule as reading in docs/DOMAIN.md's table. */
export const canManage = canSee;

/**
 * Viewers with the same key are shown the same objects and fields: operators and admins see all
 * (by role), a user sees their own and what is assigned to them or their groups. What may be computed once for one viewer and handed to every
 * viewer with the same key (a subscription's result for an event).
 */
export function visibilityKey(viewer: Viewer | null): string {
  if (!viewer) return 'anonymous';
  if (isAdmin(viewer)) return 'role:admin';
  if (isOperator(viewer)) return 'role:operator';
  // What a user sees also follows their groups (assignments to a group): two tokens of one user
  // with other groups see different servers.
  const groups = viewer.groups?.length ? `|groups:${JSON.stringify([...viewer.groups].sort())}` : '';
  return `user:${viewer.userId}${groups}`;
}
