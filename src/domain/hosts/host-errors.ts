import { DomainError } from '../shared/errors.js';

export const PLACEMENT_REASONS = ['OFFLINE', 'DRAINING', 'PORTS_EXHAUSTED', 'AT_CAPACITY'] as const;
export type PlacementReason = (typeof PLACEMENT_REASONS)[number];

export interface HostRefusal {
  hostId: string;
  reason: PlacementReason;
  /** The reason for people, with the figures behind it. */
  detail: string;
}

/** No host could take a new server: each host considered, with why not. */
export class PlacementError extends DomainError {
  readonly code = 'PLACEMENT_REFUSED';
  constructor(readonly hosts: readonly HostRefusal[]) {
    super(
      hosts.length === 0
        ? 'no RDP host is registered: start a host agent first'
        : `no host can take a new server: ${hosts.map((h) => `${h.hostId} ${h.detail}`).join('; ')}`,
    );
    this.name = 'PlacementError';
  }
}
