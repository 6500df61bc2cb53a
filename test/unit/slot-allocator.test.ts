import { describe, expect, it } from 'vitest';
import { MemoryClaimStore } from '../../src/adapters/memory/memory-claim-store.js';
import type { Claim, ClaimStore } from '../../src/domain/shared/claim-store.js';
import { SlotAllocator } from '../../src/domain/shared/slot-allocator.js';

/** A shared store seen through a replica's network: every call takes 0–3 ms and is counted. */
class SlowStore implements ClaimStore {
  calls = { tryClaim: 0, list: 0, count: 0, release: 0 };
  failLists = false;
  constructor(
    private readonly inner: ClaimStore,
    private readonly batched = false,
  ) {}
  private async lag() {
    await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 4)));
  }
  async tryClaim(key: string, owner: string) {
    this.calls.tryClaim++;
    await this.lag();
    return this.inner.tryClaim(key, owner);
  }
  async release(key: string, owner: string) {
    this.calls.release++;
    await this.lag();
    return this.inner.release(key, owner);
  }
  /** The batched insert, when the store under test has it (MemoryClaimStore does). */
  get tryClaimMany() {
    const inner = this.inner.tryClaimMany?.bind(this.inner);
    if (!inner || !this.batched) return undefined;
    return async (claims: readonly { key: string; owner: string }[]) => {
      this.calls.tryClaim += claims.length;
      await this.lag();
      return inner(claims);
    };
  }
  async list(prefix: string): Promise<Claim[]> {
    this.calls.list++;
    await this.lag();
    if (this.failLists) throw new Error('store down');
    return this.inner.list(prefix);
  }
  async count(prefix: string) {
    this.calls.count++;
    await this.lag();
    return this.inner.count(prefix);
  }
}

const P = 'slot:sessions:global:';

describe('SlotAllocator', () => {
  it.each([
    ['an insert per claim', false],
    ['one insertMany per round', true],
  ])('admits exactly max of 1,000 callers split between two replicas, on distinct slots (%s)', async (_, batched) => {
    const shared = new MemoryClaimStore();
    const replicas = [new SlotAllocator(new SlowStore(shared, batched)), new SlotAllocator(new SlowStore(shared, batched))];
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => replicas[i % 2]?.claim(P, 100, `s-${i}`) ?? Promise.resolve(null)),
    );
    const slots = results.filter((n): n is number => n !== null);
    expect(slots).toHaveLength(100);
    expect(new Set(slots).size).toBe(100);
    expect(Math.max(...slots)).toBeLessThan(100);
    const held = await shared.list(P);
    expect(held).toHaveLength(100);
    // Each admitted caller holds the slot it was given.
    const owners = new Map(held.map((c) => [c.key, c.owner]));
    results.forEach((slot, i) => {
      if (slot !== null) expect(owners.get(`${P}${slot}`)).toBe(`s-${i}`);
    });
  });

  it('refuses a burst against a full cap with a read per round, not an insert per caller', async () => {
    const shared = new MemoryClaimStore();
    for (let n = 0; n < 10; n++) await shared.tryClaim(`${P}${n}`, `held-${n}`);
    const store = new SlowStore(shared);
    const results = await Promise.all(Array.from({ length: 500 }, (_, i) => new SlotAllocator(store).claim(P, 10, `late-${i}`)));
    expect(results.every((r) => r === null)).toBe(true);
    const one = new SlotAllocator(store);
    store.calls = { tryClaim: 0, list: 0, count: 0, release: 0 };
    expect(
      (await Promise.all(Array.from({ length: 500 }, (_, i) => one.claim(P, 10, `late-${i}`)))).every((r) => r === null),
    ).toBe(true);
    expect(store.calls).toEqual({ tryClaim: 0, list: 1, count: 0, release: 0 });
  });

  it('after the cap was lowered below what is held, admits only up to the new cap', async () => {
    const shared = new MemoryClaimStore();
    for (let n = 0; n < 120; n++) await shared.tryClaim(`${P}${n}`, `old-${n}`);
    const replicas = [new SlotAllocator(new SlowStore(shared)), new SlotAllocator(new SlowStore(shared))];
    const burst = (n: number, tag: string) =>
      Promise.all(Array.from({ length: n }, (_, i) => replicas[i % 2]?.claim(P, 100, `${tag}-${i}`) ?? Promise.resolve(null)));
    expect((await burst(50, 'a')).every((r) => r === null)).toBe(true);
    // 30 low slots end: 90 held, 20 of them at or above the new cap of 100.
    for (let n = 0; n < 30; n++) await shared.release(`${P}${n}`, `old-${n}`);
    const admitted = (await burst(50, 'b')).filter((r) => r !== null);
    expect(admitted).toHaveLength(10);
    expect(admitted.every((n) => n < 100)).toBe(true);
    expect(await shared.count(P)).toBe(100);
  });

  it('a lone caller gets a slot; a failing store rejects the round and leaves nothing held', async () => {
    const shared = new MemoryClaimStore();
    const store = new SlowStore(shared);
    const allocator = new SlotAllocator(store);
    const slot = await allocator.claim(P, 5, 'alone');
    expect(slot).not.toBeNull();
    expect((await shared.list(P)).map((c) => c.owner)).toEqual(['alone']);
    store.failLists = true;
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => allocator.claim(P, 5, `x-${i}`)));
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
    expect((await shared.list(P)).map((c) => c.owner)).toEqual(['alone']);
    expect(await allocator.claim(P, 0, 'none')).toBeNull();
  });

  it('callers of many caps of one family share rounds and each cap stays exact', async () => {
    const F = 'slot:sessions:user:';
    const user = (u: number) => `${F}u${u}:`;
    const shared = new MemoryClaimStore();
    // u0 is full already (2 of 2); u1 holds one of its 2.
    await shared.tryClaim(`${user(0)}0`, 'old-a');
    await shared.tryClaim(`${user(0)}1`, 'old-b');
    await shared.tryClaim(`${user(1)}0`, 'old-c');
    const stores = [new SlowStore(shared, true), new SlowStore(shared, true)];
    const replicas = stores.map((s) => new SlotAllocator(s));
    // 100 users, three callers each at once over both replicas, cap 2 per user.
    const calls = Array.from({ length: 300 }, (_, i) => ({ u: i % 100, owner: `c-${i}` }));
    const results = await Promise.all(calls.map((c, i) => replicas[i % 2]?.claim(user(c.u), 2, c.owner, F)));
    const held = await shared.list(F);
    for (let u = 0; u < 100; u++) {
      const mine = held.filter((c) => c.key.startsWith(user(u)));
      expect(mine).toHaveLength(2);
      expect(new Set(mine.map((c) => c.key)).size).toBe(2);
    }
    // Each admitted caller holds the slot it was given, under its own user's cap.
    const owners = new Map(held.map((c) => [c.key, c.owner]));
    results.forEach((slot, i) => {
      const c = calls[i];
      if (slot !== null && slot !== undefined && c) expect(owners.get(`${user(c.u)}${slot}`)).toBe(c.owner);
    });
    expect(results.filter((r) => r !== null)).toHaveLength(200 - 3);
    // Rounds, not a blind insert and a count per caller: a handful of reads for 300 callers.
    const lists = stores.reduce((n, s) => n + s.calls.list, 0);
    expect(lists).toBeLessThan(40);
    expect(stores.reduce((n, s) => n + s.calls.count, 0)).toBe(0);
  });

  it('a prefix outside its family or without its closing colon is refused', () => {
    const allocator = new SlotAllocator(new MemoryClaimStore());
    expect(() => allocator.claim('slot:a:', 1, 'x', 'slot:b:')).toThrow(/family/);
    expect(() => allocator.claim('slot:a', 1, 'x')).toThrow(/end in ':'/);
  });
});
