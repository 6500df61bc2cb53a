import { actorOf } from '../audit/audit-event.js';
import { type AuditRecorder, audited } from '../audit/audit-service.js';
import { isAdmin, isOperator, type Viewer } from '../auth/viewer.js';
import type { Clock } from '../shared/clock.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../shared/errors.js';
import type { EventPublisher } from '../shared/event-publisher.js';
import { type Host, type HostStatus, hostStatus, isAlive } from './host.js';
import type { HostEventKind } from './host-events.js';
import { type HostHello, validateHeartbeat, validateHello, validateHostId } from './host-input.js';
import type { HostLoad, HostPlacement } from './host-placement.js';
import type { HostStore } from './host-store.js';

export interface HostServiceDeps {
  store: HostStore;
  events: EventPublisher;
  clock: Clock;
  /** Seconds between an agent's heartbeats (HOST_HEARTBEAT_INTERVAL); 3 missed make a host OFFLINE. */
  heartbeatIntervalSeconds: number;
  /** Counts servers per host (for `load`). */
  placement: HostPlacement;
  /** Records drain changes, refusals included. */
  audit?: AuditRecorder;
}

/** The furthest a host drain's deadline may lie ahead (as a server drain's). */
const MAX_HOST_DRAIN_DAYS = 30;

/** Compare-and-set writes retried this often when another writer got there first. */
const ATTEMPTS = 8;

const sameHello = (host: Host, hello: HostHello): boolean =>
  host.name === hello.name &&
  host.agentVersion === hello.agentVersion &&
  host.rdpAddress === hello.rdpAddress &&
  JSON.stringify(host.labels) === JSON.stringify(hello.labels) &&
  host.portRange.from === hello.portRange.from &&
  host.portRange.to === hello.portRange.to &&
  host.capacity.maxServers === hello.capacity.maxServers &&
  host.capacity.cpuCount === hello.capacity.cpuCount &&
  host.capacity.memoryMb === hello.capacity.memoryMb;

const later = (a: string | null, b: string): string => (a !== null && a > b ? a : b);

/**
 * The hosts of the fleet: agents register and heartbeat, a job marks silent hosts OFFLINE, admins
 * drain them. Every write is a compare-and-set by version, so any number of replicas may apply
 * the same heartbeat or run the same job: the outcome is one write and one event.
 */
export class HostService {
  constructor(private readonly deps: HostServiceDeps) {}

  /** An agent started (or re-announced itself): creates the host or updates what it reports. */
  async register(input: unknown): Promise<Host> {
    const hello = validateHello(input);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const now = this.deps.clock.now().toISOString();
      const existing = await this.deps.store.findById(hello.id);
      if (!existing) {
        const host: Host = {
          ...hello,
          connected: true,
          draining: false,
          drainDeadline: null,
          lastHeartbeatAt: now,
          usage: null,
          createdAt: now,
          updatedAt: now,
          version: 1,
        };
        if (await this.deps.store.insert(host)) {
          this.publish('REGISTERED', host);
          return host;
        }
        continue;
      }
      const changed = !sameHello(existing, hello);
      const wasAlive = this.alive(existing);
      // A concurrent registration of the same agent already wrote all this.
      if (!changed && wasAlive && existing.lastHeartbeatAt !== null && existing.lastHeartbeatAt >= now) return existing;
      const written = await this.write(existing, {
        ...hello,
        connected: true,
        lastHeartbeatAt: later(existing.lastHeartbeatAt, now),
      });
      if (!written) continue;
      this.publish(changed ? 'UPDATED' : wasAlive ? 'HEARTBEAT' : 'STATUS_CHANGED', written);
      return written;
    }
    throw new ConflictError(`host ${hello.id} kept changing during its registration; retry`);
  }

  /**
   * A heartbeat at `at` (capped at now: a fast agent clock cannot keep a host alive) with the
   * host's load. Idempotent: lastHeartbeatAt only moves forward, usage is the latest reading, and
   * a heartbeat seen before (or older) writes nothing. One older than the OFFLINE window does not
   * bring a host back.
   */
  async heartbeat(hostId: string, input: unknown): Promise<Host> {
    const id = validateHostId(hostId);
    const beat = validateHeartbeat(input);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const now = this.deps.clock.now();
      const at = [beat.at, now.toISOString()].sort()[0] as string;
      const host = await this.deps.store.findById(id);
      if (!host) throw new NotFoundError('host', id);
      const newer = host.lastHeartbeatAt === null || at > host.lastHeartbeatAt;
      const usage = beat.usage && at >= (host.lastHeartbeatAt ?? at) ? { ...beat.usage, at } : host.usage;
      const usageChanged = JSON.stringify(usage) !== JSON.stringify(host.usage);
      const lastHeartbeatAt = later(host.lastHeartbeatAt, at);
      const connected = isAlive({ ...host, connected: true, lastHeartbeatAt }, now, this.deps.heartbeatIntervalSeconds);
      if (!newer && !usageChanged && connected === host.connected) return host;
      const wasAlive = this.alive(host);
      const written = await this.write(host, { lastHeartbeatAt, connected, usage });
      if (!written) continue;
      this.publish(wasAlive === this.alive(written) ? 'HEARTBEAT' : 'STATUS_CHANGED', written);
      return written;
    }
    throw new ConflictError(`host ${id} kept changing during a heartbeat; retry`);
  }

  /** The job: hosts silent for 3 heartbeat intervals go OFFLINE. Their servers' records stay. */
  async markStale(): Promise<string[]> {
    const marked: string[] = [];
    for (const host of await this.deps.store.list()) {
      if (!host.connected || this.alive(host)) continue;
      // A lost race means a heartbeat or another replica's job wrote first: either way, done.
      const written = await this.write(host, { connected: false });
      if (written) {
        this.publish('STATUS_CHANGED', written);
        marked.push(host.id);
      }
    }
    return marked;
  }

  /** Its agent said it is stopping: OFFLINE at once rather than after three silent heartbeats. */
  async markOffline(hostId: string): Promise<Host | null> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const host = await this.deps.store.findById(validateHostId(hostId));
      if (!host?.connected) return host;
      const written = await this.write(host, { connected: false });
      if (!written) continue;
      this.publish('STATUS_CHANGED', written);
      return written;
    }
    return null;
  }

  /**
   * Admins only: a draining host gets no new servers or sessions. Without a deadline running ones
   * continue; with one, its servers drain with it (docs/DOMAIN.md, "Drain"): their sessions get
   * the countdown and end at the deadline, and with stopServers the servers stop then.
   */
  async setDrain(
    viewer: Viewer,
    hostId: string,
    drain: boolean,
    options: { deadline?: string | null; stopServers?: boolean } = {},
  ): Promise<Host> {
    const details = { drain, deadline: options.deadline ?? null, stopServers: options.stopServers ?? false };
    return audited(
      this.deps.audit,
      { actor: actorOf(viewer), action: 'host.drain', target: { type: 'host', id: hostId, name: null }, details },
      async () => {
        if (!isAdmin(viewer)) throw new ForbiddenError('draining hosts', 'admin');
        const id = validateHostId(hostId);
        const plan = this.drainPlan(viewer, drain, options);
        for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
          const host = await this.deps.store.findById(id);
          if (!host) throw new NotFoundError('host', id);
          const same =
            host.draining === drain &&
            (host.drainDeadline?.deadline ?? null) === (plan?.deadline ?? null) &&
            (host.drainDeadline?.stopServers ?? false) === (plan?.stopServers ?? false);
          if (same) return host;
          const written = await this.write(host, { draining: drain, drainDeadline: plan });
          if (!written) continue;
          this.publish('STATUS_CHANGED', written);
          return written;
        }
        throw new ConflictError(`host ${id} kept changing; retry`);
      },
      (h) => ({ target: { type: 'host', id: h.id, name: h.name } }),
    );
  }

  private drainPlan(
    viewer: Viewer,
    drain: boolean,
    options: { deadline?: string | null; stopServers?: boolean },
  ): Host['drainDeadline'] {
    const deadline = options.deadline ?? null;
    if (deadline === null) {
      if (options.stopServers) throw new ValidationError('stopServers', 'needs a deadline');
      return null;
    }
    if (!drain) throw new ValidationError('deadline', 'is only given with drain: true');
    const ms = Date.parse(deadline);
    if (Number.isNaN(ms)) throw new ValidationError('deadline', 'must be an ISO-8601 time');
    const now = this.deps.clock.now().getTime();
    if (ms <= now) throw new ValidationError('deadline', 'must be in the future');
    if (ms - now > MAX_HOST_DRAIN_DAYS * 86_400_000) {
      throw new ValidationError('deadline', `must be at most ${MAX_HOST_DRAIN_DAYS} days ahead`);
    }
    return { deadline: new Date(ms).toISOString(), stopServers: options.stopServers ?? false, by: viewer.userId };
  }

  /** Hosts that drain with a deadline, for the drain job (their servers drain with them). */
  async drainingWithDeadline(): Promise<{ hostId: string; deadline: string; stopServers: boolean; startedBy: string }[]> {
    return (await this.deps.store.list()).flatMap((h) =>
      h.draining && h.drainDeadline
        ? [
            {
              hostId: h.id,
              deadline: h.drainDeadline.deadline,
              stopServers: h.drainDeadline.stopServers,
              startedBy: h.drainDeadline.by,
            },
          ]
        : [],
    );
  }

  /** Operators and admins; users are FORBIDDEN (hosts are infrastructure, like the xrdp service). */
  async list(viewer: Viewer): Promise<Host[]> {
    this.mustOperate(viewer);
    return this.deps.store.list();
  }

  async get(viewer: Viewer, hostId: string): Promise<Host> {
    this.mustOperate(viewer);
    const id = validateHostId(hostId);
    const host = await this.deps.store.findById(id);
    if (!host) throw new NotFoundError('host', id);
    return host;
  }

  /** Batch read for DataLoader: null where missing, and for callers who may not read hosts. */
  async getMany(viewer: Viewer, ids: readonly string[]): Promise<(Host | null)[]> {
    if (!isOperator(viewer)) return ids.map(() => null);
    const byId = new Map((await this.deps.store.findByIds(ids)).map((h) => [h.id, h]));
    return ids.map((id) => byId.get(id) ?? null);
  }

  statusOf(host: Host): HostStatus {
    return hostStatus(host, this.deps.clock.now(), this.deps.heartbeatIntervalSeconds);
  }

  load(host: Host): Promise<HostLoad> {
    return this.deps.placement.load(host);
  }

  /**
   * For session admission: throws CONFLICT when the server's host is draining or OFFLINE. A host
   * that is not registered (yet) is not judged.
   */
  async checkAcceptsSessions(hostId: string): Promise<void> {
    const host = await this.deps.store.findById(hostId);
    if (!host) return;
    const status = this.statusOf(host);
    if (status === 'OFFLINE') {
      throw new ConflictError(
        `host ${host.id} is offline (last heartbeat ${host.lastHeartbeatAt ?? 'never'}): no new sessions are admitted there`,
      );
    }
    if (status === 'DRAINING') {
      throw new ConflictError(`host ${host.id} is draining: no new sessions are admitted there; running ones continue`);
    }
  }

  private alive(host: Host): boolean {
    return isAlive(host, this.deps.clock.now(), this.deps.heartbeatIntervalSeconds);
  }

  private mustOperate(viewer: Viewer): void {
    if (!isOperator(viewer)) throw new ForbiddenError('reading hosts', 'operator');
  }

  /** Compare-and-set; null when another writer got there first. */
  private async write(host: Host, patch: Partial<Host>): Promise<Host | null> {
    const next: Host = { ...host, ...patch, updatedAt: this.deps.clock.now().toISOString(), version: host.version + 1 };
    return (await this.deps.store.compareAndSet(next, host.version)) ? next : null;
  }

  private publish(kind: HostEventKind, host: Host): void {
    const event = { kind, host, status: this.statusOf(host), at: this.deps.clock.now().toISOString() };
    this.deps.events.publish('host:changed', host.id, event);
    this.deps.events.publish('host:changed', 'all', event);
  }
}
