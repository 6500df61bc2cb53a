import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Assignment, Pool } from '../../src/domain/pools/pool.js';
import type { AssignmentStore, PoolStore } from '../../src/domain/pools/pool-store.js';

export interface PoolStoresFixture {
  pools: PoolStore;
  assignments: AssignmentStore;
  cleanup(): Promise<void>;
}

/** A fully populated pool; fields differ from the defaults so a dropped field shows. */
export function aPool(overrides: Partial<Pool> & { id: string }): Pool {
  return {
    name: `pool ${overrides.id}`,
    description: 'a test pool',
    placementPolicy: 'DEPTH_FIRST',
    maxSessions: 42,
    defaultCredentialMode: 'EPHEMERAL',
    createdBy: 'olga',
    createdAt: '2025-03-01T10:00:00.001Z',
    updatedAt: '2025-03-01T10:00:00.002Z',
    version: 1,
    ...overrides,
  };
}

export function anAssignment(overrides: Partial<Assignment> & { id: string }): Assignment {
  return {
    principalType: 'USER',
    principal: 'alice',
    targetType: 'POOL',
    targetId: 'pool-1',
    createdBy: 'olga',
    createdAt: '2025-03-01T10:00:00.001Z',
    ...overrides,
  };
}

/** The shared contract every PoolStore and AssignmentStore adapter must pass. */
export function poolStoresContract(name: string, make: () => Promise<PoolStoresFixture>): void {
  describe(`PoolStore and AssignmentStore contract: ${name}`, () => {
    let f: PoolStoresFixture;
    beforeEach(async () => {
      f = await make();
    });
    afterEach(async () => {
      await f.cleanup();
    });

    it('round-trips a pool with every field, and one with no cap and no default mode', async () => {
      const full = aPool({ id: 'p1' });
      const bare = aPool({ id: 'p2', maxSessions: null, defaultCredentialMode: null, placementPolicy: 'BREADTH_FIRST' });
      await f.pools.insert(full);
      await f.pools.insert(bare);
      expect(await f.pools.findById('p1')).toEqual(full);
      expect(await f.pools.findById('p2')).toEqual(bare);
      expect(await f.pools.findById('nope')).toBeNull();
      expect((await f.pools.findByIds(['p2', 'nope', 'p1'])).map((p) => p.id).sort()).toEqual(['p1', 'p2']);
    });

    it('lists every pool by name, then id', async () => {
      await f.pools.insert(aPool({ id: 'p3', name: 'beta' }));
      await f.pools.insert(aPool({ id: 'p2', name: 'alpha' }));
      await f.pools.insert(aPool({ id: 'p1', name: 'beta' }));
      expect((await f.pools.list()).map((p) => p.id)).toEqual(['p2', 'p1', 'p3']);
    });

    it('compareAndSet writes only over the expected version; one of two concurrent writers wins', async () => {
      await f.pools.insert(aPool({ id: 'p1' }));
      expect(await f.pools.compareAndSet(aPool({ id: 'p1', name: 'x', version: 3 }), 2)).toBe(false);
      const results = await Promise.all([
        f.pools.compareAndSet(aPool({ id: 'p1', name: 'first', version: 2 }), 1),
        f.pools.compareAndSet(aPool({ id: 'p1', name: 'second', version: 2 }), 1),
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      const now = await f.pools.findById('p1');
      expect(now?.version).toBe(2);
      expect(now?.name).toBe(results[0] ? 'first' : 'second');
      expect(await f.pools.compareAndSet(aPool({ id: 'gone', version: 2 }), 1)).toBe(false);
    });

    it('deletes a pool once', async () => {
      await f.pools.insert(aPool({ id: 'p1' }));
      expect(await f.pools.delete('p1')).toBe(true);
      expect(await f.pools.delete('p1')).toBe(false);
      expect(await f.pools.findById('p1')).toBeNull();
    });

    it('an assignment round-trips; the same principal and target a second time is refused', async () => {
      const a = anAssignment({ id: 'a1' });
      expect(await f.assignments.insert(a)).toBe(true);
      expect(await f.assignments.findById('a1')).toEqual(a);
      expect(await f.assignments.insert(anAssignment({ id: 'a2' }))).toBe(false);
      expect(await f.assignments.findById('a2')).toBeNull();
      // Same principal name as a group, or another target: different assignments.
      expect(await f.assignments.insert(anAssignment({ id: 'a3', principalType: 'GROUP' }))).toBe(true);
      expect(await f.assignments.insert(anAssignment({ id: 'a4', targetType: 'SERVER' }))).toBe(true);
    });

    it('of 10 concurrent inserts of the same assignment exactly one lands', async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => f.assignments.insert(anAssignment({ id: `c${i}` }))),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await f.assignments.findByTarget('POOL', 'pool-1')).toHaveLength(1);
    });

    it('finds by principals (users and groups) and by target, oldest first; deletes one and by target', async () => {
      await f.assignments.insert(anAssignment({ id: 'a1', createdAt: '2025-03-01T10:00:00.003Z' }));
      await f.assignments.insert(
        anAssignment({ id: 'a2', principalType: 'GROUP', principal: 'devs', createdAt: '2025-03-01T10:00:00.002Z' }),
      );
      await f.assignments.insert(
        anAssignment({
          id: 'a3',
          principal: 'bob',
          targetType: 'SERVER',
          targetId: 'srv-1',
          createdAt: '2025-03-01T10:00:00.001Z',
        }),
      );
      await f.assignments.insert(anAssignment({ id: 'a4', principalType: 'GROUP', principal: 'alice', targetId: 'pool-2' }));
      const ids = (xs: Assignment[]) => xs.map((a) => a.id);
      expect(
        ids(
          await f.assignments.findByPrincipals([
            { type: 'USER', id: 'alice' },
            { type: 'GROUP', id: 'devs' },
          ]),
        ),
      ).toEqual(['a2', 'a1']);
      expect(ids(await f.assignments.findByPrincipals([{ type: 'USER', id: 'bob' }]))).toEqual(['a3']);
      expect(ids(await f.assignments.findByPrincipals([{ type: 'GROUP', id: 'alice' }]))).toEqual(['a4']);
      expect(await f.assignments.findByPrincipals([])).toEqual([]);
      expect(ids(await f.assignments.findByTarget('POOL', 'pool-1'))).toEqual(['a2', 'a1']);
      expect(ids(await f.assignments.findByTarget('SERVER', 'srv-1'))).toEqual(['a3']);
      expect(await f.assignments.delete('a3')).toBe(true);
      expect(await f.assignments.delete('a3')).toBe(false);
      expect(await f.assignments.deleteByTarget('POOL', 'pool-1')).toBe(2);
      expect(ids(await f.assignments.findByPrincipals([{ type: 'GROUP', id: 'alice' }]))).toEqual(['a4']);
    });
  });
}
