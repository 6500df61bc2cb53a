import type { Assignment, AssignmentTargetType, Pool, PrincipalType } from './pool.js';

/** Persistence of pools. A fleet has tens of pools: lists read them all. */
export interface PoolStore {
  insert(pool: Pool): Promise<void>;
  findById(id: string): Promise<Pool | null>;
  findByIds(ids: readonly string[]): Promise<Pool[]>;
  /** Every pool, ordered by name then id. */
  list(): Promise<Pool[]>;
  /** Same contract as ServerStore.compareAndSet: one of several concurrent writers wins. */
  compareAndSet(next: Pool, expectedVersion: number): Promise<boolean>;
  delete(id: string): Promise<boolean>;
}

/** Persistence of assignments; (principal, target) is unique. */
export interface AssignmentStore {
  /** Inserts it; false (nothing written) when the same principal already has the same target. */
  insert(assignment: Assignment): Promise<boolean>;
  findById(id: string): Promise<Assignment | null>;
  delete(id: string): Promise<boolean>;
  /** Assignments of any of these principals, oldest first. */
  findByPrincipals(principals: readonly { type: PrincipalType; id: string }[]): Promise<Assignment[]>;
  /** Assignments to this target, oldest first. */
  findByTarget(type: AssignmentTargetType, id: string): Promise<Assignment[]>;
  /** Removes every assignment to the target (it was deleted); returns how many. */
  deleteByTarget(type: AssignmentTargetType, id: string): Promise<number>;
}
