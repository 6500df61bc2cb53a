import type { Host, HostStatus } from './host.js';

/**
 * REGISTERED: first registration; UPDATED: a later registration changed what the agent reports;
 * STATUS_CHANGED: online, offline or drain changed; HEARTBEAT: a heartbeat with fresh usage.
 */
export type HostEventKind = 'REGISTERED' | 'UPDATED' | 'STATUS_CHANGED' | 'HEARTBEAT';

/** Published on `host:changed` keyed by the host id and by `all`; carries the host as it now is. */
export interface HostEvent {
  kind: HostEventKind;
  host: Host;
  /** The status when the event was published. */
  status: HostStatus;
  at: string;
}
