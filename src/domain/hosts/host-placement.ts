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

/** A placement intent older than this is from a caller that died; it no longer counts. */
const INTENT_TTL_MS = 30_000;
const INTENT_PREFIX = 'placing:';

/**
 * Places servers on hosts. Candidates are the ONLINE hosts (not draining, heartbeat fresh); the
 * one with the most free capacity wins, ties going to the lower reported load (the larger of CPU
 * and memory percent; a host without a reading last), then to the lower id. Free capacity is
 * min(maxServers, usable ports) minus the servers placed there. Claims make it exact under any
 * number of replicas: the port `port:<hostId>:<n>` and, where maxServers is below the number of
 * ports, a slot `slot:host:<hostId>:<k>` of the host's cap. A host that turns out full is
 * skipped for the next candidate; a refusal lists each host with its reason.
 *
 * Concurrent creates (on any replica) would all read the same counts and pick the same host. So
 * with several candidates each create first records an intent (`placing:<serverId>`), then reads
 * the intents still waiting for a port and hands them out in order (claimedAt, then id) one at a
 * time, each to the host with the most room left: every caller that sees the same intents makes
 * the same assignment, and takes its own. The claims then decide, as above.
 */
export class HostPlacement implements ServerPlacement {
  readonly claimPrefixes = ['port:', HOST_SLOT_PREFIX, INTENT_PREFIX];

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
    // With one candidate there is nothing to choose: its claims decide, saving the reads.
    const intent = candidates.length > 1 && (await this.deps.claims.tryClaim(`${INTENT_PREFIX}${owner}`, owner));
    try {
      const ranked = candidates.length > 1 ? await this.rank(candidates, owner, refusals) : candidates;
      for (const host of ranked) {
        const placed = await this.claimOn(host, owner, refusals);
        if (placed) return placed;
      }
    } finally {
      if (intent) await this.deps.claims.release(`${INTENT_PREFIX}${owner}`, owner).catch(() => false);
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

  /**
   * The candidates in the order to try: first the host the shared assignment of waiting intents
   * gives this caller, then the others by room left. Hosts full by the counts are refused
   * without trying them.
   */
  private async rank(candidates: Host[], owner: string, refusals: HostRefusal[]): Promise<Host[]> {
    const now = this.deps.clock.now().getTime();
    // A caller holding a host's slot or port is placed there, its port claim done or not.
    // Three reads whatever the number of hosts (each an indexed prefix range). The intents come
    // first, the claims after: a caller that gave its intent back before the first read holds its
    // port (or slot) by then, so every earlier caller is counted, as waiting or as placed. Read
    // together, one that finished between the two reads was in neither, and under load (CI) a
    // burst then piled onto one host.
    const intents = await this.deps.claims.list(INTENT_PREFIX);
    const [ports, slots] = await Promise.all([this.deps.claims.list('port:'), this.deps.claims.list(HOST_SLOT_PREFIX)]);
    const ownersOn = (host: Host) =>
      new Set(
        [...ports, ...slots]
          .filter((c) => c.key.startsWith(portPrefix(host.id)) || c.key.startsWith(hostSlotPrefix(host.id)))
          .map((c) => c.owner),
      );
    const held = candidates.map(ownersOn);
    const placed = new Set(held.flatMap((owners) => [...owners]));
    const rooms: { host: Host; room: number; busy: number }[] = [];
    candidates.forEach((host, i) => {
      const servers = held[i]?.size ?? 0;
      const room = Math.min(host.capacity.maxServers, usablePorts(host.portRange).length) - servers;
      if (room > 0) {
        const busy = host.usage ? Math.max(host.usage.cpuPercent, host.usage.memoryPercent) : Number.POSITIVE_INFINITY;
        rooms.push({ host, room, busy });
      } else {
        refusals.push(this.fullRefusal(host, servers));
      }
    });
    const byRoom = (a: (typeof rooms)[number], b: (typeof rooms)[number]) =>
      b.room - a.room || a.busy - b.busy || (a.host.id < b.host.id ? -1 : 1);
    const waiting = (intents ?? [])
      .filter((c) => !placed.has(c.owner) && now - Date.parse(c.claimedAt) < INTENT_TTL_MS)
      .sort((a, b) => (a.claimedAt < b.claimedAt ? -1 : a.claimedAt > b.claimedAt ? 1 : a.key < b.key ? -1 : 1));
    let mine: Host | undefined;
    for (const intent of waiting) {
      const best = [...rooms].sort(byRoom)[0];
      if (!best || best.room <= 0) break;
      best.room--;
      if (intent.owner === owner) {
        mine = best.host;
        break;
      }
    }
    const rest = rooms.sort(byRoom).map((r) => r.host);
    return mine ? [mine, ...rest.filter((h) => h !== mine)] : rest;
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
    }
  }
}
