interface Waiting<V> {
  key: string;
  resolve: (value: V | null) => void;
  reject: (err: unknown) => void;
}

/** Keys one batched read carries at most. */
const MAX_KEYS = 1000;

/**
 * Reads by key, group-committed: while a read is in flight the keys asked for wait and go in the
 * next read together. Alone, a key is read at once; a burst of 500 requests reading the same
 * server is a few reads instead of 500 (which FerretDB serialized, bench P3). Every read is
 * issued after the caller asked, so no caller gets a state older than its call (unlike sharing a
 * read already in flight). A failed read fails only the keys it carried.
 */
export class GroupedReads<V> {
  private readonly waiting: Waiting<V>[] = [];
  private reading = false;

  constructor(private readonly readMany: (keys: string[]) => Promise<Map<string, V>>) {}

  load(key: string): Promise<V | null> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ key, resolve, reject });
      if (!this.reading) void this.run();
    });
  }

  private async run(): Promise<void> {
    this.reading = true;
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0, MAX_KEYS);
        try {
          const found = await this.readMany([...new Set(batch.map((w) => w.key))]);
          for (const w of batch) w.resolve(found.get(w.key) ?? null);
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      this.reading = false;
    }
  }
}
