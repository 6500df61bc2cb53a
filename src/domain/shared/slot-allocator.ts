import { type ClaimStore, claimSlot } from './claim-store.js';

interface Waiter {
  /** The cap's slots are `${prefix}${n}`. */
  prefix: string;
  max: number;
  /** Rounds this caller's claim was given back because concurrent claims overshot a lowered cap. */
  overshoots: number;
  owner: string;
  resolve: (slot: number | null) => void;
  reject: (err: unknown) => void;
}

const MAX_OVERSHOOTS = 8;

/**
 * Cap slots claimed in rounds, per prefix, for every caller of this process at once: a burst of
 * 500 callers for a full cap costs one read, not 500 inserts that fail (each a database round
 * trip that FerretDB serializes). Exact across replicas by the same argument as claimSlot:
 *
 * - a round reads the held slots (the read starts after every caller in the round arrived); a
 *   caller is refused only when that read shows at least `max` held, i.e. the cap was full
 *   during its call;
 * - callers are given distinct free slots below `max` (no more than `max` minus held) and insert
 *   them; an insert lost to another replica puts the caller in the next round;
 * - the winners of a round are kept only if a read started after their inserts shows at most
 *   `max` held. The last such read of all kept claims saw every one of them, so the cap holds
 *   even after it was lowered below what is held. (Until then, distinct slots below `max` cannot
 *   overshoot it; after, an overshoot gives the round's claims back and retries them.)
 *
 * A lone caller takes claimSlot's path (a blind insert and a count), two round trips either way.
 *
 * Caps of one kind (every user's own cap, say) can share rounds too: callers that name the same
 * `family`, a prefix of all their prefixes, are served together, the family's slots read at once
 * and the round's claims inserted at once, so 100 admissions that each need a slot of their
 * user's cap are three database commands, not 200. The argument above holds per prefix: each
 * read of the family is a read of every one of its caps.
 */
export class SlotAllocator {
  private readonly queues = new Map<string, Waiter[]>();

  constructor(
    private readonly claims: ClaimStore,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * A free slot below `max` under `prefix`, claimed for `owner`, or null when the cap is full.
   * `family` (a prefix of `prefix`, ending in ':' as it does) lets callers of other caps under it
   * share this one's rounds; by default a cap's rounds are its own.
   */
  claim(prefix: string, max: number, owner: string, family: string = prefix): Promise<number | null> {
    // A slot's key is its prefix and a number: the prefix ends in ':' and that is the key's last ':'.
    if (!prefix.endsWith(':') || !prefix.startsWith(family)) {
      throw new Error(`slot prefix ${prefix} must end in ':' and start with its family ${family}`);
    }
    if (max <= 0) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(family);
      const waiter: Waiter = { prefix, max, owner, overshoots: 0, resolve, reject };
      if (queue) {
        queue.push(waiter);
        return;
      }
      this.queues.set(family, [waiter]);
      // The next turn of the event loop: callers arriving in the same burst share the first round.
      setImmediate(() => void this.drain(family));
    });
  }

  private async drain(family: string): Promise<void> {
    const queue = this.queues.get(family);
    try {
      while (queue && queue.length > 0) {
        const batch = queue.splice(0);
        const retry = batch.length === 1 ? await this.single(batch[0] as Waiter) : await this.round(family, batch);
        queue.unshift(...retry);
        // After an overshoot the replicas that overshot retry at random moments, not in step.
        if (retry.some((w) => w.overshoots > 0)) await new Promise((r) => setTimeout(r, this.random() * 20));
      }
    } finally {
      this.queues.delete(family);
      // Callers that arrived after the last check and before the delete get a drain of their own.
      if (queue && queue.length > 0) {
        this.queues.set(family, queue);
        setImmediate(() => void this.drain(family));
      }
    }
  }

  private async single(w: Waiter): Promise<Waiter[]> {
    try {
      w.resolve(await claimSlot(this.claims, w.prefix, w.max, w.owner, this.random));
    } catch (err) {
      w.reject(err);
    }
    return [];
  }

  private async round(family: string, batch: Waiter[]): Promise<Waiter[]> {
    let held: Map<string, number[]>;
    try {
      held = await this.heldSlots(family);
    } catch (err) {
      for (const w of batch) w.reject(err);
      return [];
    }
    const taken = new Map<string, Set<number>>();
    const takenOf = (prefix: string) => {
      const set = taken.get(prefix) ?? new Set(held.get(prefix));
      taken.set(prefix, set);
      return set;
    };
    const assignedTo = new Map<string, number>();
    const assigned: { w: Waiter; slot: number }[] = [];
    const retry: Waiter[] = [];
    for (const w of batch) {
      const heldHere = held.get(w.prefix)?.length ?? 0;
      if (heldHere >= w.max) {
        w.resolve(null);
        continue;
      }
      const mine = takenOf(w.prefix);
      const free: number[] = [];
      if (heldHere + (assignedTo.get(w.prefix) ?? 0) < w.max) {
        for (let n = 0; n < w.max; n++) if (!mine.has(n)) free.push(n);
      }
      const slot = free[Math.floor(this.random() * free.length)];
      if (slot === undefined) {
        // The rest of the room went to others in this round; their inserts may still fail.
        retry.push(w);
        continue;
      }
      mine.add(slot);
      assignedTo.set(w.prefix, (assignedTo.get(w.prefix) ?? 0) + 1);
      assigned.push({ w, slot });
    }
    let won: boolean[];
    try {
      won = await this.insert(assigned);
    } catch (err) {
      for (const { w } of assigned) w.reject(err);
      return retry;
    }
    const winners = assigned.filter((_, i) => won[i]);
    for (const [i, { w }] of assigned.entries()) if (!won[i]) retry.push(w);
    if (winners.length === 0) return retry;
    let heldAfter: Map<string, number[]>;
    try {
      heldAfter = await this.heldSlots(family);
    } catch (err) {
      await this.giveBack(winners);
      for (const { w } of winners) w.reject(err);
      return retry;
    }
    // Over the cap only after it was lowered below what is held (slots at or above it still held)
    // and other callers claimed at once: give back and try again, a bounded number of times.
    const countAfter = (w: Waiter) => heldAfter.get(w.prefix)?.length ?? 0;
    const over = winners.filter(({ w }) => countAfter(w) > w.max);
    await this.giveBack(over);
    for (const { w, slot } of winners) {
      if (countAfter(w) <= w.max) w.resolve(slot);
      else if (++w.overshoots > MAX_OVERSHOOTS) w.resolve(null);
      else retry.push(w);
    }
    return retry;
  }

  /** One insertMany for the round where the store has it, else an insert per claim (in parallel). */
  private async insert(assigned: { w: Waiter; slot: number }[]): Promise<boolean[]> {
    if (assigned.length === 0) return [];
    const claims = assigned.map(({ w, slot }) => ({ key: `${w.prefix}${slot}`, owner: w.owner }));
    if (this.claims.tryClaimMany) return this.claims.tryClaimMany(claims);
    return Promise.all(claims.map((c) => this.claims.tryClaim(c.key, c.owner)));
  }

  /** The held slot numbers of every cap under `family`, by prefix (a key's prefix ends at its last ':'). */
  private async heldSlots(family: string): Promise<Map<string, number[]>> {
    const byPrefix = new Map<string, number[]>();
    for (const { key } of await this.claims.list(family)) {
      const cut = key.lastIndexOf(':') + 1;
      const prefix = key.slice(0, cut);
      const slots = byPrefix.get(prefix);
      const n = Number(key.slice(cut));
      if (slots) slots.push(n);
      else byPrefix.set(prefix, [n]);
    }
    return byPrefix;
  }

  private async giveBack(claimed: { w: Waiter; slot: number }[]): Promise<void> {
    // One that fails stays held until the reconciler frees it (its owner never got a session).
    await Promise.all(claimed.map(({ w, slot }) => this.claims.release(`${w.prefix}${slot}`, w.owner).catch(() => false)));
  }
}
