interface Waiting<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (err: unknown) => void;
}

/** One item's outcome in a batch: its value, or the error that failed it alone. */
export type Settled<O> = { ok: true; value: O } | { ok: false; error: unknown };

/**
 * Group commit: while one batch is in flight, the items submitted wait and go in the next batch
 * together. Alone, an item goes at once; a burst of 500 becomes a handful of database commands
 * instead of 500 (which FerretDB serialized into timeouts, bench P3). Each batch starts after its
 * items were submitted, so a read never hands a caller a state older than its call (unlike
 * sharing a read already in flight), and each submit settles with its own item's outcome. A batch
 * that throws fails every item it carried, and only those.
 */
export class GroupCommit<I, O> {
  private readonly waiting: Waiting<I, O>[] = [];
  private running = false;

  constructor(
    /** Outcomes in the order of the items. */
    private readonly runBatch: (items: I[]) => Promise<Settled<O>[]>,
    private readonly maxBatch = 1000,
    /**
     * Start an idle batch on the next turn of the event loop instead of at once, so the items
     * submitted in the same turn (requests whose replies came in one socket read) go together.
     */
    private readonly gather = false,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.running) return;
      if (!this.gather) {
        void this.run();
        return;
      }
      this.running = true;
      setImmediate(() => void this.run());
    });
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0, this.maxBatch);
        let outcomes: Settled<O>[];
        try {
          outcomes = await this.runBatch(batch.map((w) => w.item));
        } catch (err) {
          outcomes = batch.map(() => ({ ok: false, error: err }));
        }
        for (const [i, w] of batch.entries()) {
          const outcome = outcomes[i] ?? { ok: false, error: new Error('the batch gave no outcome for this item') };
          if (outcome.ok) w.resolve(outcome.value);
          else w.reject(outcome.error);
        }
      }
    } finally {
      this.running = false;
    }
  }
}

/**
 * Reads by key through a GroupCommit: concurrent reads of the same or other keys go to the
 * database in one query (deduplicated); a key not found reads as null.
 */
export class GroupedReads<V> {
  private readonly commit: GroupCommit<string, V | null>;

  constructor(readMany: (keys: string[]) => Promise<Map<string, V>>) {
    // Gathering: a burst's reads of the same server or host, made in one turn, are one query.
    this.commit = new GroupCommit<string, V | null>(
      async (keys) => {
        const found = await readMany([...new Set(keys)]);
        return keys.map((k): Settled<V | null> => ({ ok: true, value: found.get(k) ?? null }));
      },
      1000,
      true,
    );
  }

  load(key: string): Promise<V | null> {
    return this.commit.submit(key);
  }
}
