import { type ClaimStore, claimSlot } from './claim-store.js';

interface Waiter {
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
 */
export class SlotAllocator {
  private readonly queues = new Map<string, Waiter[]>();

  constructor(
    private readonly claims: ClaimStore,
    private readonly random: () => number = Math.random,
  ) {}

  /** A free slot below `max` under `prefix`, claimed for `owner`, or null when the cap is full. */
  claim(prefix: string, max: number, owner: string): Promise<number | null> {
    if (max <= 0) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(prefix);
      const waiter: Waiter = { max, owner, overshoots: 0, resolve, reject };
      if (queue) {
        queue.push(waiter);
        return;
      }
      this.queues.set(prefix, [waiter]);
      // The next turn of the event loop: callers arriving in the same burst share the first round.
      setImmediate(() => void this.drain(prefix));
    });
  }

  private async drain(prefix: string): Promise<void> {
    const queue = this.queues.get(prefix);
    try {
      while (queue && queue.length > 0) {
        const batch = queue.splice(0);
        const retry = batch.length === 1 ? await this.single(prefix, batch[0] as Waiter) : await this.round(prefix, batch);
        queue.unshift(...retry);
        // After an overshoot the replicas that overshot retry at random moments, not in step.
        if (retry.some((w) => w.overshoots > 0)) await new Promise((r) => setTimeout(r, this.random() * 20));
      }
    } finally {
      this.queues.delete(prefix);
      // Callers that arrived after the last check and before the delete get a drain of their own.
      if (queue && queue.length > 0) {
        this.queues.set(prefix, queue);
        setImmediate(() => void this.drain(prefix));
      }
    }
  }

  private async single(prefix: string, w: Waiter): Promise<Waiter[]> {
    try {
      w.resolve(await claimSlot(this.claims, prefix, w.max, w.owner, this.random));
    } catch (err) {
      w.reject(err);
    }
    return [];
  }

  private async round(prefix: string, batch: Waiter[]): Promise<Waiter[]> {
    let held: number[];
    try {
      held = await this.heldSlots(prefix);
    } catch (err) {
      for (const w of batch) w.reject(err);
      return [];
    }
    const taken = new Set(held);
    const assigned: { w: Waiter; slot: number }[] = [];
    const retry: Waiter[] = [];
    for (const w of batch) {
      if (held.length >= w.max) {
        w.resolve(null);
        continue;
      }
      const free: number[] = [];
      if (held.length + assigned.length < w.max) {
        for (let n = 0; n < w.max; n++) if (!taken.has(n)) free.push(n);
      }
      const slot = free[Math.floor(this.random() * free.length)];
      if (slot === undefined) {
        // The rest of the room went to others in this round; their inserts may still fail.
        retry.push(w);
        continue;
      }
      taken.add(slot);
      assigned.push({ w, slot });
    }
    let won: boolean[];
    try {
      won = await this.insert(prefix, assigned);
    } catch (err) {
      for (const { w } of assigned) w.reject(err);
      return retry;
    }
    const winners = assigned.filter((_, i) => won[i]);
    for (const [i, { w }] of assigned.entries()) if (!won[i]) retry.push(w);
    if (winners.length === 0) return retry;
    let heldAfter: number;
    try {
      heldAfter = (await this.heldSlots(prefix)).length;
    } catch (err) {
      await this.giveBack(prefix, winners);
      for (const { w } of winners) w.reject(err);
      return retry;
    }
    // Over the cap only after it was lowered below what is held (slots at or above it still held)
    // and other callers claimed at once: give back and try again, a bounded number of times.
    const over = winners.filter(({ w }) => heldAfter > w.max);
    await this.giveBack(prefix, over);
    for (const { w, slot } of winners) {
      if (heldAfter <= w.max) w.resolve(slot);
      else if (++w.overshoots > MAX_OVERSHOOTS) w.resolve(null);
      else retry.push(w);
    }
    return retry;
  }

  /** One insertMany for the round where the store has it, else an insert per claim (in parallel). */
  private async insert(prefix: string, assigned: { w: Waiter; slot: number }[]): Promise<boolean[]> {
    if (assigned.length === 0) return [];
    const claims = assigned.map(({ w, slot }) => ({ key: `${prefix}${slot}`, owner: w.owner }));
    if (this.claims.tryClaimMany) return this.claims.tryClaimMany(claims);
    return Promise.all(claims.map((c) => this.claims.tryClaim(c.key, c.owner)));
  }

  private async heldSlots(prefix: string): Promise<number[]> {
    return (await this.claims.list(prefix)).map((c) => Number(c.key.slice(prefix.length)));
  }

  private async giveBack(prefix: string, claimed: { w: Waiter; slot: number }[]): Promise<void> {
    // One that fails stays held until the reconciler frees it (its owner never got a session).
    await Promise.all(claimed.map(({ w, slot }) => this.claims.release(`${prefix}${slot}`, w.owner).catch(() => false)));
  }
}
