import { type ClaimStore, claimLowest } from '../shared/claim-store.js';
import { PortExhaustedError, ValidationError } from '../shared/errors.js';

/** Where a new server went: its host, the address clients use for it and its port there. */
export interface Placed {
  hostId: string;
  address: string;
  port: number;
}

/** Chooses a host for a new server and claims what it takes there (a port, a host slot). */
export interface ServerPlacement {
  /**
   * Claims a port (and whatever else the host counts) for server `owner`, on `hostId` when given,
   * else on the host this placement prefers. Throws when no host can take it.
   */
  place(owner: string, hostId: string | undefined): Promise<Placed>;
  /** Gives back what `place` claimed for the server. */
  release(owner: string, hostId: string, port: number): Promise<void>;
  /** Key prefixes of the claims it makes, for the reconciler of orphaned claims. */
  readonly claimPrefixes: readonly string[];
}

export const portKey = (hostId: string, port: number): string => `port:${hostId}:${port}`;

/**
 * Every server on one fixed host, capped by its ports only: the placement of a service built
 * without a hosts area (unit tests, embedding).
 */
export class SingleHostPlacement implements ServerPlacement {
  readonly claimPrefixes: readonly string[];

  constructor(
    private readonly claims: ClaimStore,
    private readonly host: { id: string; address: string; ports: readonly number[]; from: number; to: number },
  ) {
    this.claimPrefixes = [`port:${host.id}:`];
  }

  async place(owner: string, hostId: string | undefined): Promise<Placed> {
    if (hostId !== undefined && hostId !== this.host.id) throw new ValidationError('hostId', `no host "${hostId}" is registered`);
    const port = await claimLowest(this.claims, `port:${this.host.id}:`, this.host.ports, owner);
    if (port === null) throw new PortExhaustedError(this.host.id, this.host.from, this.host.to);
    return { hostId: this.host.id, address: this.host.address, port };
  }

  async release(owner: string, hostId: string, port: number): Promise<void> {
    await this.claims.release(portKey(hostId, port), owner);
  }
}
