import type { Assignment, AssignmentTargetType, Pool, PrincipalType } from '../../domain/pools/pool.js';
import { assignmentKey } from '../../domain/pools/pool.js';
import type { AssignmentStore, PoolStore } from '../../domain/pools/pool-store.js';

const byNameThenId = (a: Pool, b: Pool) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Pools in a Map; copies in and out. */
export class MemoryPoolStore implements PoolStore {
  private readonly pools = new Map<string, Pool>();

  async insert(pool: Pool): Promise<void> {
    if (this.pools.has(pool.id)) throw new Error(`duplicate pool id ${pool.id}`);
    this.pools.set(pool.id, { ...pool });
  }

  async findById(id: string): Promise<Pool | null> {
    const p = this.pools.get(id);
    return p ? { ...p } : null;
  }

  async findByIds(ids: readonly string[]): Promise<Pool[]> {
    return ids.flatMap((id) => {
      const p = this.pools.get(id);
      return p ? [{ ...p }] : [];
    });
  }

  async list(): Promise<Pool[]> {
    return [...this.pools.values()].sort(byNameThenId).map((p) => ({ ...p }));
  }

  async compareAndSet(next: Pool, expectedVersion: number): Promise<boolean> {
    const current = this.pools.get(next.id);
    if (!current || current.version !== expectedVersion) return false;
    this.pools.set(next.id, { ...next });
    return true;
  }

  async delete(id: string): Promise<boolean> {
    return this.pools.delete(id);
  }
}

const byCreated = (a: Assignment, b: Assignment) =>
  a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

/** Assignments in a Map, unique by (principal, target) as the Mongo store's index makes them. */
export class MemoryAssignmentStore implements AssignmentStore {
  private readonly byId = new Map<string, Assignment>();

  async insert(assignment: Assignment): Promise<boolean> {
    const key = assignmentKey(assignment);
    for (const a of this.byId.values()) if (assignmentKey(a) === key) return false;
    if (this.byId.has(assignment.id)) return false;
    this.byId.set(assignment.id, { ...assignment });
    return true;
  }

  async findById(id: string): Promise<Assignment | null> {
    const a = this.byId.get(id);
    return a ? { ...a } : null;
  }

  async delete(id: string): Promise<boolean> {
    return this.byId.delete(id);
  }

  async findByPrincipals(principals: readonly { type: PrincipalType; id: string }[]): Promise<Assignment[]> {
    const wanted = new Set(principals.map((p) => `${p.type}:${p.id}`));
    return [...this.byId.values()]
      .filter((a) => wanted.has(`${a.principalType}:${a.principal}`))
      .sort(byCreated)
      .map((a) => ({ ...a }));
  }

  async findByTarget(type: AssignmentTargetType, id: string): Promise<Assignment[]> {
    return [...this.byId.values()]
      .filter((a) => a.targetType === type && a.targetId === id)
      .sort(byCreated)
      .map((a) => ({ ...a }));
  }

  async deleteByTarget(type: AssignmentTargetType, id: string): Promise<number> {
    let n = 0;
    for (const a of [...this.byId.values()]) {
      if (a.targetType === type && a.targetId === id && this.byId.delete(a.id)) n++;
    }
    return n;
  }
}
