import type { Placed, ServerPlacement } from '../servers/server-placement.js';
import { portKey } from '../servers/server-placement.js';
import { type ClaimStore, claimLowest, claimSlot } from '../shared/claim-store.js';
import type { Clock } from '../shared/clock.js';
import { PortExhaustedError, ValidationError } from '../shared/errors.js';
import { type Host, hostStatus, usablePorts } from './host.js';
import { type HostRefusal, PlacementError } from './host-errors.js';
import { validateHostId } from './host-input.js';
import type { HostStore } from './host-store.js';

const HOST_SLOT_PREFIX = 'slot:host:';
const hostSlotPrefix = (hostId: string) => `${HOST_SLOT_PREFIX}${hostId}:`;
const portPrefix = (hostId: string) => `port:${hostId}:`;

export interface HostPlacementDeps {
  hosts: HostStore;
  claims: ClaimStore;
  clock: Clock;
  heartbeatIntervalSeconds: number;
}

/** How full a host is: every server on it holds one of its ports. */
export interface HostLoad {
  servers: number;
  /** Servers it can still take: the lesser of maxServers and its usable ports, minus its servers. */
  free: number;
}

/**
 * Places servers on hosts. Candidates are the ONLINE hosts (not draining, heartbeat fresh); the
 * one with the most free capacity wins, ties going to the lower reported load (the larger of CPU
 * and memory percent; a host without a reading last), then to the lower id. Free capacity is
 * min(maxServers, usable ports) minus the servers placed there. Claims make it exact under any
 * number of replicas: the port `port:<hostId>:<n>` and, where maxServers is below the number of
 * ports, a slot `slot:host:<hostId>:<k>` of the host's cap. A host that turns out full is
 * skipped for the next candidate; a refusal lists each host with its reason.
 *
 * A burst of creates reads the same counts, so this process also counts the placements it has
 * in flight per host: without that, every create of a burst would pick the same host.
 */
export class HostPlacement implements ServerPlacement {
  readonly claimPrefixes = ['port:', HOST_SLOT_PREFIX];
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly deps: HostPlacementDeps) {}

  async place(owner: string, hostId: string | undefined): Promise<Placed> {
    let hosts: Host[];
    if (hostId !== undefined) {
      const id = validateHostId(hostId);
      const host = await this.deps.hosts.findById(id);
      if (!host) throw new ValidationError('hostId', `no host "${id}" is registered`);
      hosts = [host];
    } else {
      hosts = await this.deps.hosts.list();
    }
    const now = this.deps.clock.now();
    const refusals: HostRefusal[] = [];
    const candidates: Host[] = [];
    for (const host of hosts) {
      const status = hostStatus(host, now, this.deps.heartbeatIntervalSeconds);
      if (status === 'OFFLINE') {
        refusals.push({
          hostId: host.id,
          reason: 'OFFLINE',
          detail: `is offline (last heartbeat ${host.lastHeartbeatAt ?? 'never'})`,
        });
      } else if (status === 'DRAINING') {
        refusals.push({ hostId: host.id, reason: 'DRAINING', detail: 'is draining: an admin stopped new placements there' });
      } else {
        candidates.push(host);
      }
    }
    for (const host of await this.rank(candidates, refusals)) {
      const placed = await this.claimOn(host, owner, refusals);
      if (placed) return placed;
    }
    const [only] = refusals;
    if (hosts.length === 1 && only?.reason === 'PORTS_EXHAUSTED' && hosts[0]) {
      // One host to choose from answers as before hosts existed.
      throw new PortExhaustedError(only.hostId, hosts[0].portRange.from, hosts[0].portRange.to);
    }
    throw new PlacementError(refusals.sort((a, b) => (a.hostId < b.hostId ? -1 : a.hostId > b.hostId ? 1 : 0)));
  }

  async release(owner: string, hostId: string, port: number): Promise<void> {
    await this.deps.claims.release(portKey(hostId, port), owner);
    const slots = await this.deps.claims.list(hostSlotPrefix(hostId));
    for (const c of slots) if (c.owner === owner) await this.deps.claims.release(c.key, owner);
  }

  /** The servers on the host and what it can still take. */
  async load(host: Host): Promise<HostLoad> {
    const servers = await this.deps.claims.count(portPrefix(host.id));
    const room = Math.min(host.capacity.maxServers, usablePorts(host.portRange).length);
    return { servers, free: Math.max(0, room - servers) };
  }

  /** Most free first; hosts that are full by the counts are refused without trying them. */
  private async rank(candidates: Host[], refusals: HostRefusal[]): Promise<Host[]> {
    // With one candidate there is nothing to choose: its claims decide, saving the reads.
    if (candidates.length <= 1) return candidates;
    const loads = await Promise.all(candidates.map((h) => this.load(h)));
    const ranked: { host: Host; free: number; busy: number }[] = [];
    candidates.forEach((host, i) => {
      const load = loads[i] as HostLoad;
      if (load.free > 0) {
        const busy = host.usage ? Math.max(host.usage.cpuPercent, host.usage.memoryPercent) : Number.POSITIVE_INFINITY;
        ranked.push({ host, free: load.free - (this.inFlight.get(host.id) ?? 0), busy });
      } else {
        refusals.push(this.fullRefusal(host, load.servers));
      }
    });
    ranked.sort((a, b) => b.free - a.free || a.busy - b.busy || (a.host.id < b.host.id ? -1 : 1));
    return ranked.map((r) => r.host);
  }

  private fullRefusal(host: Host, servers: number): HostRefusal {
    const ports = usablePorts(host.portRange).length;
    return servers >= ports
      ? this.portsRefusal(host)
      : { hostId: host.id, reason: 'AT_CAPACITY', detail: `has its maximum of ${host.capacity.maxServers} servers` };
  }

  private portsRefusal(host: Host): HostRefusal {
    const { from, to } = host.portRange;
    return { hostId: host.id, reason: 'PORTS_EXHAUSTED', detail: `has no free RDP port in ${from}-${to}` };
  }

  /** Claims a host slot (where the cap is below the ports) and the lowest free port; null when full. */
  private async claimOn(host: Host, owner: string, refusals: HostRefusal[]): Promise<Placed | null> {
    const { claims } = this.deps;
    const ports = usablePorts(host.portRange);
    const capped = host.capacity.maxServers < ports.length;
    this.inFlight.set(host.id, (this.inFlight.get(host.id) ?? 0) + 1);
    let slot: number | null = null;
    try {
      if (capped) {
        slot = await claimSlot(claims, hostSlotPrefix(host.id), host.capacity.maxServers, owner);
        if (slot === null) {
          refusals.push(this.fullRefusal(host, host.capacity.maxServers));
          return null;
        }
      }
      const port = await claimLowest(claims, portPrefix(host.id), ports, owner);
      if (port === null) {
        refusals.push(this.portsRefusal(host));
        if (slot !== null) await claims.release(`${hostSlotPrefix(host.id)}${slot}`, owner);
        return null;
      }
      return { hostId: host.id, address: host.rdpAddress, port };
    } catch (err) {
      if (slot !== null) await claims.release(`${hostSlotPrefix(host.id)}${slot}`, owner).catch(() => false);
      throw err;
    } finally {
      const n = (this.inFlight.get(host.id) ?? 1) - 1;
      if (n > 0) this.inFlight.set(host.id, n);
      else this.inFlight.delete(host.id);
    }
  }
}
