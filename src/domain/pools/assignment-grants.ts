import type { Viewer } from '../auth/viewer.js';
import type { GrantSource, Grants } from '../servers/server-visibility.js';
import type { PrincipalType } from './pool.js';
import type { AssignmentStore } from './pool-store.js';

/** The principals a viewer acts as: their user id and each group of their token. */
export function principalsOf(userId: string, groups: readonly string[] = []): { type: PrincipalType; id: string }[] {
  return [{ type: 'USER' as const, id: userId }, ...[...new Set(groups)].map((g) => ({ type: 'GROUP' as const, id: g }))];
}

/**
 * What a viewer was assigned, read from the assignments on every call: taking an assignment away
 * is seen by the next request on any replica.
 */
export class AssignmentGrants implements GrantSource {
  constructor(private readonly store: Pick<AssignmentStore, 'findByPrincipals'>) {}

  async grantsOf(viewer: Pick<Viewer, 'userId' | 'groups'>): Promise<Grants> {
    const found = await this.store.findByPrincipals(principalsOf(viewer.userId, viewer.groups));
    return {
      serverIds: found.filter((a) => a.targetType === 'SERVER').map((a) => a.targetId),
      poolIds: found.filter((a) => a.targetType === 'POOL').map((a) => a.targetId),
    };
  }
}
