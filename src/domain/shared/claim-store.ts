/**
 * Claims made by inserting a uniquely keyed record: the one primitive every backend (MongoDB and
 * FerretDB alike) enforces under concurrency. Used for ports, caps and once-only transitions.
 */
export interface Claim {
  key: string;
  owner: string;
  claimedAt: string;
}

export interface ClaimStore {
  /** Inserts the claim; false when the key is already claimed. */
  tryClaim(key: string, owner: string): Promise<boolean>;
  /**
   * tryClaim for several keys in one round trip where the backend can (an unordered insertMany):
   * one result per claim, in order. Optional; callers fall back to tryClaim per key.
   */
  tryClaimMany?(claims: readonly { key: string; owner: string }[]): Promise<boolean[]>;
  /** Removes the claim when `owner` still holds it; returns whether it did. */
  release(key: string, owner: string): Promise<boolean>;
  /** Every claim whose key starts with `prefix`. */
  list(prefix: string): Promise<Claim[]>;
  /** How many claims' keys start with `prefix`. */
  count(prefix: string): Promise<number>;
}

/**
 * Claims one of `max` numbered slots for a cap (servers, sessions, ...), exact under any number of
 * concurrent callers on any backend: a free slot number below `max` is claimed by insert, then
 * the claimer counts every held slot and gives its own back when the count is over `max`. The
 * count matters only after the cap was lowered (slots at or above the new cap are still held):
 * every admitted claimer saw a count within the cap after its own insert, and the last of those
 * reads saw every admitted claim, so the cap holds. Returns the slot, or null when full.
 */
export async function claimSlot(
  claims: ClaimStore,
  prefix: string,
  max: number,
  owner: string,
  random: () => number = Math.random,
): Promise<number | null> {
  const slot = await claimAny(claims, prefix, range(0, max - 1), owner, random);
  if (slot === null) return null;
  if ((await claims.count(prefix)) > max) {
    await claims.release(`${prefix}${slot}`, owner);
    return null;
  }
  return slot;
}

/** Failed inserts after which a claimer re-reads the taken set instead of trusting its old one. */
const REREAD_AFTER_FAILURES = 4;

/**
 * Claims the lowest free key `${prefix}${n}` for n in candidates and returns n, or null when
 * every one is taken. Reads the taken set and tries the lowest free key. A caller that loses the
 * race tries a random free key instead of the next-lowest, so a burst of concurrent callers does
 * not collide on the same key over and over (quadratic), and re-reads the taken set every few
 * losses, so a full range is noticed without walking a stale list. Uncontended, the result is
 * always the lowest free key.
 */
export async function claimLowest(
  claims: ClaimStore,
  prefix: string,
  candidates: Iterable<number>,
  owner: string,
  random: () => number = Math.random,
): Promise<number | null> {
  const all = [...candidates];
  const readFree = async () => {
    const taken = new Set((await claims.list(prefix)).map((c) => c.key));
    return all.filter((n) => !taken.has(`${prefix}${n}`));
  };
  let free = await readFree();
  let index = 0;
  let failures = 0;
  while (free.length > 0) {
    const n = free[index] as number;
    if (await claims.tryClaim(`${prefix}${n}`, owner)) return n;
    failures++;
    if (failures % REREAD_AFTER_FAILURES === 0) free = await readFree();
    else free.splice(index, 1);
    index = Math.floor(random() * free.length);
  }
  return null;
}

/**
 * Claims any free key (for cap slots, where the number means nothing). Tries a few random keys
 * blind, which costs no read while the range is mostly free, then reads the taken set and tries
 * the free ones in random order.
 */
export async function claimAny(
  claims: ClaimStore,
  prefix: string,
  candidates: Iterable<number>,
  owner: string,
  random: () => number = Math.random,
): Promise<number | null> {
  const all = [...candidates];
  for (let attempt = 0; attempt < 3 && all.length > 0; attempt++) {
    const n = all[Math.floor(random() * all.length)] as number;
    if (await claims.tryClaim(`${prefix}${n}`, owner)) return n;
  }
  const taken = new Set((await claims.list(prefix)).map((c) => c.key));
  const free = all.filter((n) => !taken.has(`${prefix}${n}`));
  while (free.length > 0) {
    const index = Math.floor(random() * free.length);
    const n = free[index] as number;
    if (await claims.tryClaim(`${prefix}${n}`, owner)) return n;
    free.splice(index, 1);
  }
  return null;
}

export function* range(from: number, toInclusive: number): Generator<number> {
  for (let n = from; n <= toInclusive; n++) yield n;
}

/** A claim this old whose owner is not live belongs to a caller that died before finishing. */
export const ORPHAN_CLAIM_AGE_MS = 60_000;

/**
 * Frees claims under the prefixes that are older than ORPHAN_CLAIM_AGE_MS and whose owner is not
 * live (a replica died between claiming and writing, or before giving them back).
 */
export async function releaseOrphanClaims(
  claims: ClaimStore,
  prefixes: readonly string[],
  now: Date,
  liveOwners: (owners: string[]) => Promise<Set<string>>,
): Promise<number> {
  const cutoff = now.getTime() - ORPHAN_CLAIM_AGE_MS;
  const all = (await Promise.all(prefixes.map((p) => claims.list(p)))).flat();
  const old = all.filter((c) => Date.parse(c.claimedAt) < cutoff);
  if (old.length === 0) return 0;
  const live = await liveOwners([...new Set(old.map((c) => c.owner))]);
  let freed = 0;
  for (const c of old) {
    if (!live.has(c.owner) && (await claims.release(c.key, c.owner))) freed++;
  }
  return freed;
}
