import DataLoader from 'dataloader';
import type { PrefetchingLoader } from '../../resolvers/index.js';

/**
 * A DataLoader with a read-ahead: a list resolver that knows its page prefetches the values its
 * items will ask for in one batch, and each item then gets its value synchronously (no promise,
 * no DataLoader load). Keys not prefetched are loaded through a DataLoader on the same batch
 * function, made when first needed. Values are kept for the operation, as DataLoader's are.
 */
export class PrefetchedDataLoader<K, V> implements PrefetchingLoader<K, V> {
  /** As DataLoader's batch results: an Error is that key's failure. */
  readonly #values = new Map<K, V | Error>();
  #loader?: DataLoader<K, V>;

  constructor(private readonly batch: (keys: readonly K[]) => Promise<readonly (V | Error)[]>) {}

  async prefetch(keys: readonly K[]): Promise<void> {
    const missing = keys.filter((k) => !this.#values.has(k));
    if (missing.length === 0) return;
    const values = await this.batch(missing);
    if (values.length !== missing.length) throw new Error(`prefetch: ${values.length} values for ${missing.length} keys`);
    for (const [i, key] of missing.entries()) this.#values.set(key, values[i] as V | Error);
  }

  get(key: K): V | Promise<V> {
    if (this.#values.has(key)) {
      const value = this.#values.get(key) as V | Error;
      if (value instanceof Error) throw value;
      return value;
    }
    this.#loader ??= new DataLoader(this.batch);
    return this.#loader.load(key);
  }
}
