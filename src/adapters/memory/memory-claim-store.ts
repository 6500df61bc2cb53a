import type { Claim, ClaimStore } from '../../domain/shared/claim-store.js';
import { type Clock, systemClock } from '../../domain/shared/clock.js';

/** Claims in a Map: single-threaded, so every insert is atomic. */
export class MemoryClaimStore implements ClaimStore {
  private readonly claims = new Map<string, Claim>();

  constructor(private readonly clock: Clock = systemClock) {}

  async tryClaim(key: string, owner: string): Promise<boolean> {
    if (this.claims.has(key)) return false;
    this.claims.set(key, { key, owner, claimedAt: this.clock.now().toISOString() });
    return true;
  }

  async tryClaimMany(claims: readonly { key: string; owner: string }[]): Promise<boolean[]> {
    const out: boolean[] = [];
    for (const c of claims) out.push(await this.tryClaim(c.key, c.owner));
    return out;
  }

  async release(key: string, owner: string): Promise<boolean> {
    if (this.claims.get(key)?.owner !== owner) return false;
    return this.claims.delete(key);
  }

  async count(prefix: string): Promise<number> {
    let n = 0;
    for (const key of this.claims.keys()) if (key.startsWith(prefix)) n++;
    return n;
  }

  async list(prefix: string): Promise<Claim[]> {
    return [...this.claims.values()].filter((c) => c.key.startsWith(prefix)).map((c) => ({ ...c }));
  }
}
