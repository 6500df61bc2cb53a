import { type AuditTarget, actorOf } from '../audit/audit-event.js';
import { type AuditRecorder, audited } from '../audit/audit-service.js';
import { isOperator, owns, type Viewer } from '../auth/viewer.js';
import type { RdpServer } from '../servers/server.js';
import type { Grants } from '../servers/server-visibility.js';
import type { Clock, IdGenerator } from '../shared/clock.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../shared/errors.js';
import type { EventPublisher } from '../shared/event-publisher.js';
import { AssignmentGrants, principalsOf } from './assignment-grants.js';
import type { Assignment, AssignmentTargetType, Pool } from './pool.js';
import { validateAssign, validateCreatePool, validateUpdatePool } from './pool-input.js';
import type { AssignmentStore, PoolStore } from './pool-store.js';

export interface PoolServiceDeps {
  store: PoolStore;
  assignments: AssignmentStore;
  /** Reads servers (for effective access and assignment targets). */
  servers: { findById(id: string): Promise<RdpServer | null> };
  /** Takes every server out of a deleted pool (the server service, which publishes their changes). */
  clearPool(poolId: string): Promise<number>;
  /** How many servers a pool has. */
  countServers(poolId: string): Promise<number>;
  /** Live sessions admitted in a pool. */
  countLiveSessions(poolId: string): Promise<number>;
  clock: Clock;
  newId: IdGenerator;
  audit?: AuditRecorder;
  /** Told of each assignment made or taken away (fleet lists of its principal show what it changed). */
  events?: EventPublisher;
}

/** Why a user may (or may not) use a server or a pool. */
export type AccessReason = 'OPERATOR_ROLE' | 'OWNER' | 'USER_ASSIGNMENT' | 'GROUP_ASSIGNMENT' | 'POOL_ASSIGNMENT' | 'NONE';

export interface EffectiveAccess {
  allowed: boolean;
  reason: AccessReason;
  /** A sentence for people, naming the assignment, group or pool that gives the access. */
  explanation: string;
  /** The assignment that gives it, when one does. */
  assignment: Assignment | null;
}

const poolTarget = (id: string | null, name: string | null = null): AuditTarget => ({ type: 'pool', id, name });
const assignmentTarget = (a: Pick<Assignment, 'id' | 'targetType' | 'targetId'> | null): AuditTarget => ({
  type: 'assignment',
  id: a?.id ?? null,
  name: a ? `${a.targetType.toLowerCase()} ${a.targetId}` : null,
});

/**
 * Pools (named sets of servers with a placement policy and a session cap) and assignments (who
 * may use a pool or a server). Operators and admins manage both; a user sees the pools assigned
 * to them, and another pool answers as a missing one (docs/DOMAIN.md, "Pools and assignments").
 */
export class PoolService {
  private readonly grants: AssignmentGrants;

  constructor(private readonly deps: PoolServiceDeps) {
    this.grants = new AssignmentGrants(deps.assignments);
  }

  private grantsOf(viewer: Viewer): Promise<Grants> {
    return this.grants.grantsOf(viewer);
  }

  async get(viewer: Viewer, id: string): Promise<Pool> {
    const pool = await this.deps.store.findById(id);
    if (!pool) throw new NotFoundError('pool', id);
    if (!isOperator(viewer) && !(await this.grantsOf(viewer)).poolIds.includes(id)) throw new NotFoundError('pool', id, true);
    return pool;
  }

  async getMany(viewer: Viewer, ids: readonly string[]): Promise<(Pool | null)[]> {
    const byId = new Map((await this.deps.store.findByIds(ids)).map((p) => [p.id, p]));
    const allowed = isOperator(viewer) ? null : new Set((await this.grantsOf(viewer)).poolIds);
    return ids.map((id) => {
      const p = byId.get(id);
      return p && (!allowed || allowed.has(id)) ? p : null;
    });
  }

  /** Every pool for operators; the pools assigned to a user (directly or through a group). */
  async list(viewer: Viewer): Promise<Pool[]> {
    const all = await this.deps.store.list();
    if (isOperator(viewer)) return all;
    const allowed = new Set((await this.grantsOf(viewer)).poolIds);
    return all.filter((p) => allowed.has(p.id));
  }

  /** A pool without the visibility check (the broker resolves a server's pool with it). */
  findById(id: string): Promise<Pool | null> {
    return this.deps.store.findById(id);
  }

  countLiveSessions(poolId: string): Promise<number> {
    return this.deps.countLiveSessions(poolId);
  }

  async create(viewer: Viewer, input: unknown): Promise<Pool> {
    const name = typeof input === 'object' && input !== null ? (input as { name?: unknown }).name : undefined;
    return audited(
      this.deps.audit,
      { actor: actorOf(viewer), action: 'pool.create', target: poolTarget(null, typeof name === 'string' ? name : null) },
      async () => {
        this.requireOperator(viewer, 'creating a pool');
        const v = validateCreatePool(input);
        const now = this.deps.clock.now().toISOString();
        const pool: Pool = {
          id: this.deps.newId(),
          name: v.name,
          description: v.description ?? '',
          placementPolicy: v.placementPolicy ?? 'BREADTH_FIRST',
          maxSessions: v.maxSessions ?? null,
          defaultCredentialMode: v.defaultCredentialMode ?? null,
          createdBy: viewer.userId,
          createdAt: now,
          updatedAt: now,
          version: 1,
        };
        await this.deps.store.insert(pool);
        return pool;
      },
      (p) => ({ target: poolTarget(p.id, p.name), details: { placementPolicy: p.placementPolicy, maxSessions: p.maxSessions } }),
    );
  }

  async update(viewer: Viewer, id: string, input: unknown): Promise<Pool> {
    return audited(
      this.deps.audit,
      { actor: actorOf(viewer), action: 'pool.update', target: poolTarget(id) },
      async () => {
        this.requireOperator(viewer, 'changing a pool');
        const v = validateUpdatePool(input);
        const pool = await this.deps.store.findById(id);
        if (!pool) throw new NotFoundError('pool', id);
        const next: Pool = {
          ...pool,
          ...(v.name !== undefined ? { name: v.name } : {}),
          ...(v.description !== undefined ? { description: v.description } : {}),
          ...(v.placementPolicy !== undefined ? { placementPolicy: v.placementPolicy } : {}),
          ...(v.maxSessions !== undefined ? { maxSessions: v.maxSessions } : {}),
          ...(v.clearMaxSessions ? { maxSessions: null } : {}),
          ...(v.defaultCredentialMode !== undefined ? { defaultCredentialMode: v.defaultCredentialMode } : {}),
          ...(v.clearDefaultCredentialMode ? { defaultCredentialMode: null } : {}),
          updatedAt: this.deps.clock.now().toISOString(),
          version: pool.version + 1,
        };
        if (!(await this.deps.store.compareAndSet(next, pool.version))) {
          throw new ConflictError('pool was changed by another request; reload and retry');
        }
        return next;
      },
      (p) => ({ target: poolTarget(p.id, p.name), details: { placementPolicy: p.placementPolicy, maxSessions: p.maxSessions } }),
    );
  }

  /**
   * Deletes a pool and its assignments. A pool with servers is a CONFLICT unless `force`, which
   * takes its servers out first (their sessions go on; the pool's slots they hold are given back
   * as they end).
   */
  async delete(viewer: Viewer, id: string, force = false): Promise<Pool> {
    return audited(
      this.deps.audit,
      { actor: actorOf(viewer), action: 'pool.delete', target: poolTarget(id), details: { force } },
      async () => {
        this.requireOperator(viewer, 'deleting a pool');
        const pool = await this.deps.store.findById(id);
        if (!pool) throw new NotFoundError('pool', id);
        const servers = await this.deps.countServers(id);
        if (servers > 0 && !force) {
          throw new ConflictError(`pool ${pool.name} has ${servers} server(s); pass force: true to take them out and delete it`);
        }
        if (servers > 0) await this.deps.clearPool(id);
        if (!(await this.deps.store.delete(id))) throw new NotFoundError('pool', id);
        await this.deps.assignments.deleteByTarget('POOL', id);
        return pool;
      },
      (p) => ({ target: poolTarget(p.id, p.name) }),
    );
  }

  /** Grants a user or a group the use of a pool or a server; a repeat is a CONFLICT. */
  async assign(viewer: Viewer, input: unknown): Promise<Assignment> {
    return audited(
      this.deps.audit,
      { actor: actorOf(viewer), action: 'assignment.create', target: assignmentTarget(null) },
      async () => {
        this.requireOperator(viewer, 'assigning pools and servers');
        const v = validateAssign(input);
        await this.requireTarget(v.targetType, v.targetId);
        const assignment: Assignment = {
          id: this.deps.newId(),
          ...v,
          createdBy: viewer.userId,
          createdAt: this.deps.clock.now().toISOString(),
        };
        if (!(await this.deps.assignments.insert(assignment))) {
          throw new ConflictError(
            `${v.principalType.toLowerCase()} ${v.principal} is already assigned ${v.targetType.toLowerCase()} ${v.targetId}`,
          );
        }
        this.accessChanged(assignment);
        return assignment;
      },
      (a) => ({ target: assignmentTarget(a), details: { principalType: a.principalType, principal: a.principal } }),
    );
  }

  /** Takes an assignment away: nothing running ends, the next connect is refused. */
  async unassign(viewer: Viewer, id: string): Promise<Assignment> {
    return audited(
      this.deps.audit,
      { actor: actorOf(viewer), action: 'assignment.delete', target: { type: 'assignment', id, name: null } },
      async () => {
        this.requireOperator(viewer, 'removing assignments');
        const found = await this.deps.assignments.findById(id);
        if (!found || !(await this.deps.assignments.delete(id))) throw new NotFoundError('assignment', id);
        this.accessChanged(found);
        return found;
      },
      (a) => ({ target: assignmentTarget(a), details: { principalType: a.principalType, principal: a.principal } }),
    );
  }

  private accessChanged(a: Assignment): void {
    this.deps.events?.publish('fleet:changed', 'all', {
      subject: 'SERVER',
      change: 'ACCESS_CHANGED',
      serverId: '',
      server: null,
      principals: [{ type: a.principalType, id: a.principal }],
      at: this.deps.clock.now().toISOString(),
    });
  }

  /** The viewer's own assignments (as a user and through their groups). */
  async assignmentsOf(viewer: Viewer): Promise<Assignment[]> {
    return this.deps.assignments.findByPrincipals(principalsOf(viewer.userId, viewer.groups));
  }

  /** Assignments to one pool or server (operators). */
  async assignmentsTo(viewer: Viewer, type: AssignmentTargetType, id: string): Promise<Assignment[]> {
    if (!isOperator(viewer)) return [];
    return this.deps.assignments.findByTarget(type, id);
  }

  /**
   * Whether user U (with these groups) may use the pool or server, and why, as the broker and the
   * visibility rules decide it. Operators and admins ask it; the roles of U are not known here
   * (they come with U's token), so OPERATOR_ROLE is answered only for the asker themself.
   */
  async effectiveAccess(
    viewer: Viewer,
    subject: { userId: string; groups?: readonly string[] | undefined },
    target: { poolId?: string | undefined; serverId?: string | undefined },
  ): Promise<EffectiveAccess> {
    this.requireOperator(viewer, 'asking for effective access');
    const assignments = await this.deps.assignments.findByPrincipals(principalsOf(subject.userId, subject.groups ?? []));
    const explain = (a: Assignment | undefined, what: string): EffectiveAccess | null => {
      if (!a) return null;
      return a.principalType === 'USER'
        ? { allowed: true, reason: 'USER_ASSIGNMENT', explanation: `${subject.userId} is assigned ${what}`, assignment: a }
        : {
            allowed: true,
            reason: 'GROUP_ASSIGNMENT',
            explanation: `${subject.userId} is in group ${a.principal}, which is assigned ${what}`,
            assignment: a,
          };
    };
    const pick = (type: AssignmentTargetType, id: string) =>
      assignments.find((a) => a.targetType === type && a.targetId === id && a.principalType === 'USER') ??
      assignments.find((a) => a.targetType === type && a.targetId === id);
    const self = subject.userId === viewer.userId && isOperator(viewer);
    const roleAnswer = (what: string): EffectiveAccess => ({
      allowed: true,
      reason: 'OPERATOR_ROLE',
      explanation: `${subject.userId} has the operator or admin role and may use ${what}`,
      assignment: null,
    });
    if (target.poolId !== undefined) {
      const pool = await this.deps.store.findById(target.poolId);
      if (!pool) throw new NotFoundError('pool', target.poolId);
      const what = `pool ${pool.name}`;
      return (
        explain(pick('POOL', pool.id), what) ??
        (self ? roleAnswer(what) : null) ?? {
          allowed: false,
          reason: 'NONE',
          explanation: `neither ${subject.userId} nor any of their groups is assigned ${what}`,
          assignment: null,
        }
      );
    }
    if (target.serverId === undefined) throw new ConflictError('name a poolId or a serverId');
    const server = await this.deps.servers.findById(target.serverId);
    if (!server) throw new NotFoundError('server', target.serverId);
    const what = `server ${server.name}`;
    if (owns({ ...viewer, userId: subject.userId }, server)) {
      return { allowed: true, reason: 'OWNER', explanation: `${subject.userId} owns or created ${what}`, assignment: null };
    }
    const direct = explain(pick('SERVER', server.id), what);
    if (direct) return direct;
    if (server.poolId !== null) {
      const viaPool = pick('POOL', server.poolId);
      if (viaPool) {
        const pool = await this.deps.store.findById(server.poolId);
        const via = viaPool.principalType === 'USER' ? subject.userId : `group ${viaPool.principal}`;
        return {
          allowed: true,
          reason: 'POOL_ASSIGNMENT',
          explanation: `${what} is in pool ${pool?.name ?? server.poolId}, which is assigned to ${via}`,
          assignment: viaPool,
        };
      }
    }
    if (self) return roleAnswer(what);
    return {
      allowed: false,
      reason: 'NONE',
      explanation: `${subject.userId} does not own ${what}, and neither they nor their groups are assigned it or its pool`,
      assignment: null,
    };
  }

  private async requireTarget(type: AssignmentTargetType, id: string): Promise<void> {
    const found = type === 'POOL' ? await this.deps.store.findById(id) : await this.deps.servers.findById(id);
    if (!found) throw new NotFoundError(type.toLowerCase(), id);
  }

  private requireOperator(viewer: Viewer, what: string): void {
    if (!isOperator(viewer)) throw new ForbiddenError(what, 'operator');
  }
}
