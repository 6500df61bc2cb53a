import type { CollectorLease } from '../../domain/resources/collector-lease.js';

/** Without Redis there is one replica: it always holds the lease. */
export class MemoryCollectorLease implements CollectorLease {
  async acquire(): Promise<boolean> {
    return true;
  }

  async release(): Promise<void> {}
}
