import type { Host } from './host.js';

/** Persistence of hosts. A fleet has dozens to hundreds of hosts: lists read them all. */
export interface HostStore {
  /** Inserts a new host; false (and nothing written) when the id exists. */
  insert(host: Host): Promise<boolean>;
  findById(id: string): Promise<Host | null>;
  findByIds(ids: readonly string[]): Promise<Host[]>;
  /** Every host, ordered by id. */
  list(): Promise<Host[]>;
  /**
   * Writes `next` (whose version is expectedVersion + 1) when the stored version is still
   * expectedVersion. Exactly one of several concurrent writers with the same expectedVersion wins.
   */
  compareAndSet(next: Host, expectedVersion: number): Promise<boolean>;
}
