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
  /** Removes the claim when `owner` still holds it; returns whether it did. */
  release(key: string, owner: string): Promise<boolean>;
  /** Every claim whose key starts with `prefix`. */
  list(prefix: string): Promise<Claim[]>;
}

/**
 * Claims the lowest free key `${prefix}${n}` for n in candidates. Reads the taken set once, then
 * tries the free ones in order; a lost race moves on to the next. Returns the n, or null.
 */
export async function claimLowest(
  claims: ClaimStore,
  prefix: string,
  candidates: Iterable<number>,
  owner: string,
): Promise<number | null> {
  const taken = new Set((await claims.list(prefix)).map((c) => c.key));
  for (const n of candidates) {
    const key = `${prefix}${n}`;
    if (taken.has(key)) continue;
    if (await claims.tryClaim(key, owner)) return n;
  }
  return null;
}

export function* range(from: number, toInclusive: number): Generator<number> {
  for (let n = from; n <= toInclusive; n++) yield n;
}
