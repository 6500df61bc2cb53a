import { describe, expect, it } from 'vitest';
import { MemoryClaimStore } from '../../src/adapters/memory/memory-claim-store.js';
import { type Claim, type ClaimStore, claimLowest, claimSlot, range } from '../../src/domain/shared/claim-store.js';

/** Lets a rival claim a key just before our own tryClaim of it, whenever `steal` says so. */
class RivalFirst implements ClaimStore {
  readonly attempts: string[] = [];
  constructor(
    readonly inner: MemoryClaimStore,
    private readonly steal: (key: string) => boolean,
  ) {}
  async tryClaim(key: string, owner: string): Promise<boolean> {
    this.attempts.push(key);
    if (this.steal(key)) await this.inner.tryClaim(key, 'rival');
    return this.inner.tryClaim(key, owner);
  }
  release(key: string, owner: string): Promise<boolean> {
    return this.inner.release(key, owner);
  }
  list(prefix: string): Promise<Claim[]> {
    return this.inner.list(prefix);
  }
  count(prefix: string): Promise<number> {
    return this.inner.count(prefix);
  }
}

describe('claimLowest', () => {
  it('claims the lowest candidate of an empty store under the prefix, for the owner', async () => {
    const claims = new MemoryClaimStore();
    expect(await claimLowest(claims, 'port:h:', range(33890, 33899), 'srv-1')).toBe(33890);
    expect((await claims.list('')).map((c) => [c.key, c.owner])).toEqual([['port:h:33890', 'srv-1']]);
  });

  it('skips taken numbers and fills the lowest gap', async () => {
    const claims = new MemoryClaimStore();
    for (const n of [33890, 33891, 33893]) await claims.tryClaim(`port:h:${n}`, `other-${n}`);
    expect(await claimLowest(claims, 'port:h:', range(33890, 33899), 'srv-1')).toBe(33892);
    expect(await claimLowest(claims, 'port:h:', range(33890, 33899), 'srv-2')).toBe(33894);
  });

  it('ignores claims under other prefixes', async () => {
    const claims = new MemoryClaimStore();
    await claims.tryClaim('port:other:33890', 'x');
    await claims.tryClaim('port:h:33890x', 'x');
    expect(await claimLowest(claims, 'port:h:', range(33890, 33899), 'srv-1')).toBe(33890);
  });

  it('follows the candidates’ order, not numeric order', async () => {
    const claims = new MemoryClaimStore();
    expect(await claimLowest(claims, 'p:', [5, 3, 1], 'a')).toBe(5);
    expect(await claimLowest(claims, 'p:', [5, 3, 1], 'b')).toBe(3);
  });

  it('returns null and claims nothing new when every candidate is taken', async () => {
    const claims = new MemoryClaimStore();
    for (const n of range(1, 3)) await claims.tryClaim(`slot:${n}`, 'taken');
    expect(await claimLowest(claims, 'slot:', range(1, 3), 'late')).toBeNull();
    expect((await claims.list('')).filter((c) => c.owner === 'late')).toEqual([]);
  });

  it('returns null for no candidates', async () => {
    expect(await claimLowest(new MemoryClaimStore(), 'slot:', [], 'x')).toBeNull();
  });

  it('after losing a race for the lowest key, claims another free key instead of giving up', async () => {
    const claims = new RivalFirst(new MemoryClaimStore(), (key) => key === 'port:h:33890');
    const n = await claimLowest(claims, 'port:h:', range(33890, 33899), 'srv-1');
    expect(n).not.toBeNull();
    expect(n).not.toBe(33890);
    const owners = Object.fromEntries((await claims.list('')).map((c) => [c.key, c.owner]));
    expect(owners).toEqual({ 'port:h:33890': 'rival', [`port:h:${n}`]: 'srv-1' });
  });

  it('returns null, trying each key at most once, when a rival takes every key it tries', async () => {
    const claims = new RivalFirst(new MemoryClaimStore(), () => true);
    expect(await claimLowest(claims, 'port:h:', range(33890, 33899), 'srv-1')).toBeNull();
    expect(new Set(claims.attempts).size).toBe(claims.attempts.length);
    expect(claims.attempts.length).toBeLessThanOrEqual(10);
    expect((await claims.list('')).every((c) => c.owner === 'rival')).toBe(true);
  });

  it('gives 30 concurrent callers over a range of 20 twenty distinct numbers and ten nulls', async () => {
    const claims = new MemoryClaimStore();
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => claimLowest(claims, 'port:h:', range(1, 20), `srv-${i}`)),
    );
    const numbers = results.filter((n): n is number => n !== null);
    expect(numbers.sort((a, b) => a - b)).toEqual([...range(1, 20)]);
    expect(results.filter((n) => n === null)).toHaveLength(10);
    const stored = await claims.list('port:h:');
    expect(stored).toHaveLength(20);
    for (const [i, n] of results.entries()) {
      if (n !== null) expect(stored.find((c) => c.key === `port:h:${n}`)?.owner).toBe(`srv-${i}`);
    }
  });
});

describe('claimSlot', () => {
  it('claims a slot below max for the owner', async () => {
    const claims = new MemoryClaimStore();
    const slot = await claimSlot(claims, 'slot:servers:', 3, 'srv-1');
    expect(slot === null ? -1 : slot).toBeGreaterThanOrEqual(0);
    expect(slot).toBeLessThan(3);
    expect((await claims.list('')).map((c) => [c.key, c.owner])).toEqual([[`slot:servers:${slot}`, 'srv-1']]);
  });

  it('returns null when every slot below max is held', async () => {
    const claims = new MemoryClaimStore();
    for (const n of range(0, 2)) await claims.tryClaim(`slot:servers:${n}`, `srv-${n}`);
    expect(await claimSlot(claims, 'slot:servers:', 3, 'late')).toBeNull();
    expect(await claims.count('slot:servers:')).toBe(3);
  });

  it('after the cap is lowered, refuses a freed low slot while held slots still exceed the cap, giving it back', async () => {
    const claims = new MemoryClaimStore();
    for (const n of range(0, 4)) await claims.tryClaim(`slot:servers:${n}`, `srv-${n}`);
    expect(await claims.release('slot:servers:0', 'srv-0')).toBe(true);
    expect(await claimSlot(claims, 'slot:servers:', 3, 'new')).toBeNull();
    expect((await claims.list('slot:servers:')).map((c) => c.owner).sort()).toEqual(['srv-1', 'srv-2', 'srv-3', 'srv-4']);
    for (const n of [3, 4]) await claims.release(`slot:servers:${n}`, `srv-${n}`);
    expect(await claimSlot(claims, 'slot:servers:', 3, 'new')).toBe(0);
  });

  it('admits exactly max of 30 concurrent claimers and holds max distinct slots', async () => {
    const claims = new MemoryClaimStore();
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => claimSlot(claims, 'slot:s:', 20, `srv-${i}`)));
    const slots = results.filter((n): n is number => n !== null);
    expect(slots.sort((a, b) => a - b)).toEqual([...range(0, 19)]);
    expect(await claims.count('slot:s:')).toBe(20);
  });
});
