/**
 * Which replica collects for a host. The lease only saves work: samples are keyed by subject and
 * time and alerts by claims, so two collectors for a moment (a lease changing hands) store
 * nothing twice.
 */
export interface CollectorLease {
  /** Takes the lease or renews it; true while this replica holds it. */
  acquire(): Promise<boolean>;
  /** Gives it up (on shutdown) so a standby takes over at its next round. */
  release(): Promise<void>;
}
