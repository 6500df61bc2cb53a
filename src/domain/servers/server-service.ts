import { type AuditTarget, actorOf, SYSTEM_ACTOR } from '../audit/audit-event.js';
import { type AuditRecorder, audited } from '../audit/audit-service.js';
import { canManage, canSee, isAdmin, isOperator, type Viewer } from '../auth/viewer.js';
import { usablePorts } from '../hosts/host.js';
import type { AdmissionGate } from '../resources/host-admission.js';
import type { ResourceLimitsProvider } from '../resources/resource-limits.js';
import { type ClaimStore, claimSlot, releaseOrphanClaims } from '../shared/claim-store.js';
import type { Clock, IdGenerator } from '../shared/clock.js';
import {
  ConflictError,
  DomainError,
  ForbiddenError,
  HostUnavailableError,
  LimitExceededError,
  NotFoundError,
  RuntimeFailureError,
  ServiceUnavailableError,
  ValidationError,
} from '../shared/errors.js';
import type { EventPublisher } from '../shared/event-publisher.js';
import { type Cursor, decodeCursor, MAX_PAGE_SIZE, type Page, type PageRequest } from '../shared/page.js';
import type { InstanceProbe } from './instance-probe.js';
import type { LiveSessions } from './live-sessions.js';
import type { EnforcementCapability, ResourceEnforcement } from './resource-enforcement.js';
import type { RdpServer, ServerStatus } from './server.js';
import type { ServerChangeKind } from './server-events.js';
import { validateCreateServer, validateUpdateServer } from './server-input.js';
import { type Placed, portKey, type ServerPlacement, SingleHostPlacement } from './server-placement.js';
import type { ServerRuntime } from './server-runtime.js';
import type { ServerFilter, ServerStore } from './server-store.js';
import {
  type FleetScope,
  type GrantSource,
  type Grants,
  NO_GRANTS,
  seesServer,
  userFleetScope,
  WHOLE_FLEET,
} from './server-visibility.js';

/** Counters the service bumps; the app binds them to Prometheus. */
export interface ServerMetrics {
  created(): void;
  deleted(): void;
}

export interface ServerServiceDeps {
  store: ServerStore;
  claims: ClaimStore;
  runtime: ServerRuntime;
  events: EventPublisher;
  limits: ResourceLimitsProvider;
  clock: Clock;
  newId: IdGenerator;
  /** Chooses each new server's host and claims its port there (the hosts area's HostPlacement). */
  placement?: ServerPlacement;
  /** Without `placement`: every server goes to this one host (id and address), ports from portRange. */
  portRange?: { from: number; to: number };
  host?: string;
  /**
   * Health checks probe the running servers of this host only (the all-in-one process probes its
   * own instances); unset, every running server is probed at its own address (agents).
   */
  healthCheckedHost?: string;
  metrics?: ServerMetrics;
  sessions?: LiveSessions;
  /** Records create, update, delete, start, stop, restart and maintenance, refusals included. */
  audit?: AuditRecorder;
  /** Refuses starts while the host is overloaded (resources area). */
  admission?: AdmissionGate;
  /** Makes cpuLimit and memoryLimitMb bind on this host (changes reach running servers). */
  enforcement?: ResourceEnforcement;
  /** Health probe of running instances (checkHealth). */
  health?: InstanceProbe;
  /** What users were assigned (pools area): assigned servers are visible to them. */
  grants?: GrantSource;
  /** Whether a pool exists (pools area), for setPool. */
  pools?: { exists(id: string): Promise<boolean> };
  /** Removes the assignments of a deleted server (pools area). */
  forgetAssignments?: (serverId: string) => Promise<unknown>;
}

const NO_ENFORCEMENT: EnforcementCapability = {
  enforced: false,
  mechanism: null,
  reason: 'nothing enforces resource limits on this host',
};

const serverTarget = (id: string | null, name: string | null = null): AuditTarget => ({ type: 'server', id, name });

/** The name a create asked for, for the audit of a refused create. */
function requestedName(input: unknown): string | null {
  const name = typeof input === 'object' && input !== null ? (input as { name?: unknown }).name : undefined;
  return typeof name === 'string' ? name : null;
}

const SLOT_PREFIX = 'slot:servers:';

/** The rules of RDP servers: validation, caps, placement, ownership and the status machine. */
export class ServerService {
  private readonly placement: ServerPlacement;

  constructor(private readonly deps: ServerServiceDeps) {
    if (deps.placement) {
      this.placement = deps.placement;
    } else {
      const { host, portRange } = deps;
      if (host === undefined || portRange === undefined)
        throw new Error('ServerService needs a placement, or a host and portRange');
      this.placement = new SingleHostPlacement(deps.claims, {
        id: host,
        address: host,
        ports: usablePorts(portRange),
        ...portRange,
      });
    }
  }

  async get(viewer: Viewer, id: string): Promise<RdpServer> {
    const server = await this.deps.store.findById(id);
    if (!server) throw new NotFoundError('server', id);
    if (!(await this.canSee(viewer, server))) throw new NotFoundError('server', id, true);
    return server;
  }

  /** Batch read for DataLoader: one entry per id, null where missing or not visible. */
  async getMany(viewer: Viewer, ids: readonly string[]): Promise<(RdpServer | null)[]> {
    const found = await this.deps.store.findByIds(ids);
    const byId = new Map(found.map((s) => [s.id, s]));
    const grants = await this.grantsOf(viewer);
    return ids.map((id) => {
      const s = byId.get(id);
      return s && seesServer(viewer, s, grants) ? s : null;
    });
  }

  /** Whether the viewer may see the server: own, assigned (directly or through its pool), or an operator. */
  async canSee(viewer: Viewer, server: RdpServer): Promise<boolean> {
    if (canSee(viewer, server)) return true;
    return seesServer(viewer, server, await this.grantsOf(viewer));
  }

  /**
   * Which servers a live fleet list of the viewer shows: the rule of `list` (and `canSee`), as a
   * filter of change events; nothing is read for operators and admins.
   */
  fleetScope(viewer: Viewer): FleetScope {
    return isOperator(viewer) ? WHOLE_FLEET : userFleetScope(viewer, () => this.grantsOf(viewer));
  }

  /** A user's assignments; operators see everything and need none. */
  private async grantsOf(viewer: Viewer): Promise<Grants> {
    if (isOperator(viewer) || !this.deps.grants) return NO_GRANTS;
    return this.deps.grants.grantsOf(viewer);
  }

  async list(viewer: Viewer, filter: Omit<ServerFilter, 'visibleTo'>, page: PageRequest): Promise<Page<RdpServer>> {
    if (!Number.isInteger(page.first) || page.first < 0 || page.first > MAX_PAGE_SIZE) {
      throw new ValidationError('first', `must be between 0 and ${MAX_PAGE_SIZE}`);
    }
    const after = page.after === undefined ? undefined : decodeCursor(page.after);
    if (after === null) throw new ValidationError('after', 'is not a cursor from this API');
    const scoped: ServerFilter = {
      ...filter,
      ...(isOperator(viewer) ? {} : { visibleTo: viewer.userId, visibleVia: await this.grantsOf(viewer) }),
    };
    const [{ items, hasNextPage }, totalCount] = await Promise.all([
      this.deps.store.list(scoped, page.first, after),
      this.deps.store.count(scoped),
    ]);
    return { items, hasNextPage, totalCount };
  }

  /**
   * Every server the viewer may see (as `list` scopes them), in list order, in one store read
   * and without a count: the fleetEvents snapshot, which holds the whole fleet anyway.
   */
  async listAll(viewer: Viewer): Promise<RdpServer[]> {
    const scoped: ServerFilter = isOperator(viewer) ? {} : { visibleTo: viewer.userId, visibleVia: await this.grantsOf(viewer) };
    return this.deps.store.listAll(scoped);
  }

  async create(viewer: Viewer, input: unknown): Promise<RdpServer> {
    return audited(
      this.deps.audit,
      { actor: actorOf(viewer), action: 'server.create', target: serverTarget(null, requestedName(input)) },
      () => this.createUnaudited(viewer, input),
      (s) => ({ target: serverTarget(s.id, s.name), details: { hostId: s.hostId, host: s.host, port: s.port, owner: s.owner } }),
    );
  }

  private async createUnaudited(viewer: Viewer, input: unknown): Promise<RdpServer> {
    const limits = await this.deps.limits.get();
    const valid = validateCreateServer(input, limits);
    if (valid.ownerId !== undefined && valid.ownerId !== viewer.userId && !isOperator(viewer)) {
      throw new ValidationError('ownerId', 'only operators and admins may create servers for someone else');
    }
    const id = this.deps.newId();
    const max = limits.global.maxServers;
    const slot = await claimSlot(this.deps.claims, SLOT_PREFIX, max, id);
    if (slot === null) {
      throw new LimitExceededError(
        'maxServers',
        max,
        `the fleet already has the maximum of ${max} servers`,
        'raise global.maxServers with updateResourceLimits; MAX_CONCURRENT_SERVERS sets the default',
      );
    }
    let placed: Placed | null = null;
    let keepClaims = false;
    try {
      placed = await this.placement.place(id, valid.hostId);
      const now = this.deps.clock.now().toISOString();
      const server: RdpServer = {
        id,
        name: valid.name,
        description: valid.description,
        owner: valid.ownerId ?? viewer.userId,
        createdBy: viewer.userId,
        status: 'STOPPED',
        statusMessage: null,
        statusBeforeMaintenance: null,
        hostId: placed.hostId,
        host: placed.address,
        port: placed.port,
        poolId: null,
        configuration: valid.configuration,
        resources: valid.resources,
        createdAt: now,
        updatedAt: now,
        lastStartedAt: null,
        lastStoppedAt: null,
        drain: null,
        version: 1,
      };
      if (!(await this.insertOrFind(server))) {
        // Whether the insert landed is unknown (the database went away mid-write): the claims stay,
        // so no port is handed out twice, until the reconciler sees no server holds them.
        keepClaims = true;
        throw new ServiceUnavailableError();
      }
      this.publish('CREATED', server);
      this.deps.metrics?.created();
      return server;
    } catch (err) {
      if (!keepClaims) await this.releaseClaims(id, placed, slot);
      throw err;
    }
  }

  /**
   * Inserts the new server. A failed insert may still have landed (its reply was lost): then the
   * server exists and the create succeeded. True when stored, false when that cannot be told;
   * throws the insert's error when it surely did not land.
   */
  private async insertOrFind(server: RdpServer): Promise<boolean> {
    try {
      await this.deps.store.insert(server);
      return true;
    } catch (err) {
      const found = await this.deps.store.findById(server.id).then(
        (s) => s !== null,
        () => null,
      );
      if (found === null) return false;
      if (found) return true;
      throw err;
    }
  }

  async update(viewer: Viewer, id: string, input: unknown): Promise<RdpServer> {
    return this.audited(viewer, 'server.update', id, () => this.updateUnaudited(viewer, id, input));
  }

  private async updateUnaudited(viewer: Viewer, id: string, input: unknown): Promise<RdpServer> {
    const server = await this.getManageable(viewer, id);
    const patch = validateUpdateServer(input, { current: server.resources, limits: await this.deps.limits.get() });
    const resources = { ...server.resources, ...patch.resources };
    const enforcement = patch.resources ? this.deps.enforcement : undefined;
    if (enforcement) {
      // Applied before it is stored, so a limit the kernel refuses (memory below what the server
      // uses now) changes nothing; put back when the write loses a race.
      try {
        await enforcement.updateServer({ ...server, resources });
      } catch (err) {
        await enforcement.updateServer(server).catch(() => undefined);
        throw new ValidationError(
          'resources',
          `cannot be applied to the running server: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
    try {
      return await this.write(server, 'UPDATED', {
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        configuration: { ...server.configuration, ...patch.configuration },
        resources,
      });
    } catch (err) {
      await enforcement?.updateServer(server).catch(() => undefined);
      throw err;
    }
  }

  /** Whether cpuLimit, memoryLimitMb and the per-session limits bind on this host, and why not. */
  async enforcementCapability(): Promise<EnforcementCapability> {
    return this.deps.enforcement ? this.deps.enforcement.capability() : NO_ENFORCEMENT;
  }

  /**
   * One round of health checks of this host's running servers (HEALTH_CHECK_INTERVAL). A server
   * whose instance does not answer twice in a row goes to ERROR with the reason, its instance is
   * stopped (freeing the port) and its sessions end; restartServer brings it back. The move to
   * ERROR is a compare-and-set from the state that was probed, so when several replicas check,
   * one acts, and a server that changed meanwhile (stopped, restarted) is left alone.
   */
  async checkHealth(): Promise<{ checked: number; failed: string[] }> {
    const probe = this.deps.health;
    if (!probe) return { checked: 0, failed: [] };
    const running: RdpServer[] = [];
    let after: Cursor | undefined;
    while (true) {
      const page = await this.deps.store.list({ status: 'RUNNING' }, MAX_PAGE_SIZE, after);
      const only = this.deps.healthCheckedHost;
      running.push(...page.items.filter((s) => only === undefined || s.hostId === only));
      const last = page.items.at(-1);
      if (!page.hasNextPage || !last) break;
      after = last;
    }
    const failed: string[] = [];
    await Promise.all(
      running.map(async (server) => {
        // A loaded host may miss one answer: only a second miss counts.
        if ((await probe.check(server)) === null) return;
        const reason = await probe.check(server);
        if (reason === null) return;
        if (await this.failUnhealthy(server, `health check failed: ${reason}`)) failed.push(server.id);
      }),
    );
    return { checked: running.length, failed };
  }

  private async failUnhealthy(server: RdpServer, message: string): Promise<boolean> {
    try {
      await this.write(server, 'STATUS_CHANGED', { status: 'ERROR', statusMessage: message });
    } catch (err) {
      if (err instanceof ConflictError) return false;
      throw err;
    }
    // A hung instance would keep the port and its clients: it goes, and its sessions with it.
    await this.deps.runtime.stop(server).catch(() => undefined);
    await this.sweepSessions(server.id, 'SERVER_ERROR');
    return true;
  }

  async start(viewer: Viewer, id: string): Promise<RdpServer> {
    return this.audited(viewer, 'server.start', id, () => this.startUnaudited(viewer, id));
  }

  private async startUnaudited(viewer: Viewer, id: string): Promise<RdpServer> {
    const server = await this.getManageable(viewer, id);
    if (server.status === 'MAINTENANCE') return this.startInMaintenance(viewer, server);
    if (server.status === 'RUNNING' || server.status === 'STARTING') {
      throw new ConflictError(`server is already ${server.status.toLowerCase()}`);
    }
    if (server.status === 'STOPPING') throw new ConflictError('server is stopping; start it once it has stopped');
    await this.deps.runtime.checkAvailable();
    await this.deps.admission?.check('server start', server.host);
    return this.runStart(server);
  }

  async stop(viewer: Viewer, id: string, force = false): Promise<RdpServer> {
    return this.audited(viewer, 'server.stop', id, () => this.stopUnaudited(viewer, id, force), { force });
  }

  private async stopUnaudited(viewer: Viewer, id: string, force: boolean): Promise<RdpServer> {
    const server = await this.getManageable(viewer, id);
    if (server.status === 'MAINTENANCE') return this.stopInMaintenance(viewer, server, force);
    if (server.status === 'STOPPED') throw new ConflictError('server is already stopped');
    if (server.status === 'STOPPING') throw new ConflictError('server is already stopping');
    await this.endSessions(server, force);
    return this.runStop(server);
  }

  async restart(viewer: Viewer, id: string, force = false): Promise<RdpServer> {
    return this.audited(viewer, 'server.restart', id, () => this.restartUnaudited(viewer, id, force), { force });
  }

  private async restartUnaudited(viewer: Viewer, id: string, force: boolean): Promise<RdpServer> {
    const server = await this.getManageable(viewer, id);
    if (server.status === 'MAINTENANCE') {
      const stopped = await this.stopInMaintenance(viewer, server, force);
      return this.startInMaintenance(viewer, stopped);
    }
    if (server.status !== 'RUNNING' && server.status !== 'ERROR') {
      throw new ConflictError(`server is ${server.status.toLowerCase()}; only a running or failed server restarts`);
    }
    await this.deps.runtime.checkAvailable();
    await this.endSessions(server, force);
    const stopped = await this.runStop(server);
    return this.runStart(stopped);
  }

  async delete(viewer: Viewer, id: string, force = false): Promise<RdpServer> {
    return this.audited(viewer, 'server.delete', id, () => this.deleteUnaudited(viewer, id, force), { force });
  }

  private async deleteUnaudited(viewer: Viewer, id: string, force: boolean): Promise<RdpServer> {
    const server = await this.getManageable(viewer, id);
    if (server.status === 'STARTING' || server.status === 'STOPPING') {
      throw new ConflictError(`server is ${server.status.toLowerCase()}; delete it once that has finished`);
    }
    if (!force && server.status === 'MAINTENANCE') {
      throw new ConflictError('server is in maintenance; pass force: true to delete it anyway');
    }
    if (!force && server.drain) {
      throw new ConflictError(
        `server is draining (deadline ${server.drain.deadline}); pass force: true to delete it now and end its sessions`,
      );
    }
    await this.endSessions(server, force);
    if (server.status !== 'STOPPED') await this.deps.runtime.stop(server);
    if (!(await this.deps.store.delete(id))) throw new NotFoundError('server', id);
    await this.sweepSessions(id, 'SERVER_STOPPED');
    await this.releaseClaims(id, { hostId: server.hostId, address: server.host, port: server.port }, null);
    await this.deps.runtime.remove(server).catch(() => undefined);
    // Ids are never reused, so one left behind by a failure grants nothing; it is only clutter.
    await this.deps.forgetAssignments?.(id).catch(() => undefined);
    this.publish('DELETED', server);
    this.deps.metrics?.deleted();
    return server;
  }

  async setMaintenance(viewer: Viewer, id: string, enabled: boolean): Promise<RdpServer> {
    return this.audited(viewer, 'server.maintenance', id, () => this.setMaintenanceUnaudited(viewer, id, enabled), { enabled });
  }

  private async setMaintenanceUnaudited(viewer: Viewer, id: string, enabled: boolean): Promise<RdpServer> {
    if (!isAdmin(viewer)) throw new ForbiddenError('setting maintenance', 'admin');
    const server = await this.get(viewer, id);
    if (enabled) {
      if (server.status === 'MAINTENANCE') throw new ConflictError('server is already in maintenance');
      if (server.status === 'STARTING' || server.status === 'STOPPING') {
        throw new ConflictError(`server is ${server.status.toLowerCase()}; try again once that has finished`);
      }
      return this.write(server, 'STATUS_CHANGED', { status: 'MAINTENANCE', statusBeforeMaintenance: server.status });
    }
    if (server.status !== 'MAINTENANCE') throw new ConflictError('server is not in maintenance');
    return this.write(server, 'STATUS_CHANGED', {
      status: server.statusBeforeMaintenance ?? 'STOPPED',
      statusBeforeMaintenance: null,
    });
  }

  /**
   * Puts a server into a pool or takes it out (null), operators and admins only. A server is in
   * at most one pool; its live sessions stay where they are and keep the pool slot they hold.
   */
  async setPool(viewer: Viewer, id: string, poolId: string | null): Promise<RdpServer> {
    return this.audited(viewer, 'server.pool', id, () => this.setPoolUnaudited(viewer, id, poolId), { poolId });
  }

  private async setPoolUnaudited(viewer: Viewer, id: string, poolId: string | null): Promise<RdpServer> {
    if (!isOperator(viewer)) throw new ForbiddenError('putting a server into a pool', 'operator');
    const server = await this.get(viewer, id);
    if (poolId !== null && !(await this.deps.pools?.exists(poolId))) throw new NotFoundError('pool', poolId);
    if (server.poolId === poolId) return server;
    return this.write(server, 'UPDATED', { poolId });
  }

  /** Takes every server out of a deleted pool; returns how many. */
  async clearPool(poolId: string): Promise<number> {
    let n = 0;
    for (let round = 0; round < 50; round++) {
      const { items } = await this.deps.store.list({ poolId }, MAX_PAGE_SIZE);
      if (items.length === 0) return n;
      for (const server of items) {
        try {
          await this.write(server, 'UPDATED', { poolId: null });
          n++;
        } catch (err) {
          if (!(err instanceof ConflictError)) throw err;
        }
      }
    }
    throw new ConflictError("the pool's servers kept changing; retry");
  }

  /** Called when the runtime reports an instance that died on its own. */
  async markFailed(id: string, message: string): Promise<RdpServer | null> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const server = await this.deps.store.findById(id);
      if (!server) return null;
      const patch: Partial<RdpServer> =
        server.status === 'MAINTENANCE'
          ? { statusBeforeMaintenance: 'ERROR', statusMessage: message }
          : server.status === 'RUNNING' || server.status === 'STARTING'
            ? { status: 'ERROR', statusMessage: message }
            : {};
      if (Object.keys(patch).length === 0) return server;
      try {
        const failed = await this.write(server, 'STATUS_CHANGED', patch);
        // The instance is gone, and with it every session on it.
        await this.sweepSessions(id, 'SERVER_ERROR');
        return failed;
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
      }
    }
    return null;
  }

  /**
   * After a restart of the control plane: instances of servers recorded as running are adopted
   * or, when gone, the server is marked ERROR; instances no server wants are stopped.
   */
  async recoverRuntime(): Promise<{ adopted: string[]; failed: string[]; reaped: string[] }> {
    const adopted: string[] = [];
    const failed: string[] = [];
    const keep = new Set<string>();
    for (const status of ['RUNNING', 'STARTING', 'STOPPING', 'MAINTENANCE'] as const) {
      let after: Cursor | undefined;
      while (true) {
        const page = await this.deps.store.list({ status }, MAX_PAGE_SIZE, after);
        for (const server of page.items) {
          const wasRunning = status !== 'MAINTENANCE' || server.statusBeforeMaintenance === 'RUNNING';
          if (!wasRunning) continue;
          if (await this.deps.runtime.adopt(server)) {
            keep.add(server.id);
            adopted.push(server.id);
            if (status === 'STARTING') await this.write(server, 'STATUS_CHANGED', { status: 'RUNNING' }).catch(() => undefined);
          } else if (status === 'STOPPING') {
            await this.write(server, 'STATUS_CHANGED', {
              status: 'STOPPED',
              lastStoppedAt: this.deps.clock.now().toISOString(),
            }).catch(() => undefined);
          } else {
            failed.push(server.id);
            await this.markFailed(server.id, 'xrdp was not running when the control plane started');
          }
        }
        const last = page.items.at(-1);
        if (!page.hasNextPage || !last) break;
        after = last;
      }
    }
    const reaped = await this.deps.runtime.reap(keep);
    return { adopted, failed, reaped };
  }

  /**
   * A host's agent (re)started and reported the instances that really run there: records of its
   * servers follow (a STARTING one that runs is RUNNING, a STOPPING one that does not is STOPPED,
   * one that should run and does not is ERROR), and instances no server of this host wants are
   * orphans for the agent to stop. Applying the same report twice changes nothing more.
   */
  async reconcileHost(
    hostId: string,
    running: readonly string[],
  ): Promise<{ adopted: string[]; failed: string[]; orphans: string[] }> {
    const adopted: string[] = [];
    const failed: string[] = [];
    const runs = new Set(running);
    const wanted = new Set<string>();
    let after: Cursor | undefined;
    while (true) {
      const page = await this.deps.store.list({ hostId }, MAX_PAGE_SIZE, after);
      for (const server of page.items) {
        const shouldRun =
          server.status === 'RUNNING' ||
          server.status === 'STARTING' ||
          (server.status === 'MAINTENANCE' && server.statusBeforeMaintenance === 'RUNNING');
        if (runs.has(server.id) && (shouldRun || server.status === 'STOPPING')) {
          wanted.add(server.id);
          if (server.status === 'STOPPING') continue;
          adopted.push(server.id);
          if (server.status === 'STARTING')
            await this.write(server, 'STATUS_CHANGED', { status: 'RUNNING' }).catch(() => undefined);
        } else if (server.status === 'STOPPING') {
          await this.write(server, 'STATUS_CHANGED', {
            status: 'STOPPED',
            lastStoppedAt: this.deps.clock.now().toISOString(),
          }).catch(() => undefined);
        } else if (shouldRun) {
          failed.push(server.id);
          await this.markFailed(server.id, 'xrdp was not running when the host agent started');
        }
      }
      const last = page.items.at(-1);
      if (!page.hasNextPage || !last) break;
      after = last;
    }
    return { adopted, failed, orphans: running.filter((id) => !wanted.has(id)) };
  }

  /**
   * A start or stop whose API replica died between its two writes leaves STARTING or STOPPING
   * behind, and nothing else moves it: start, restart and delete refuse those states, and a
   * host's reconciliation waits for its agent's next hello. Once such a record is older than any
   * start or stop can take (`olderThanMs`, set by the wiring above its command timeouts), the
   * host says whether the instance runs and the record follows: RUNNING, or ERROR (a start) /
   * STOPPED (a stop). A host that does not answer is left to reconcile when its agent says hello.
   */
  async settleAbandoned(olderThanMs: number): Promise<{ running: string[]; notRunning: string[] }> {
    const running: string[] = [];
    const notRunning: string[] = [];
    const cutoff = this.deps.clock.now().getTime() - olderThanMs;
    for (const status of ['STARTING', 'STOPPING'] as const) {
      let after: Cursor | undefined;
      const stale: RdpServer[] = [];
      while (true) {
        const page = await this.deps.store.list({ status }, MAX_PAGE_SIZE, after);
        stale.push(...page.items.filter((s) => Date.parse(s.updatedAt) < cutoff));
        const last = page.items.at(-1);
        if (!page.hasNextPage || !last) break;
        after = last;
      }
      for (const server of stale) {
        const runs = await this.deps.runtime.isRunning(server).catch(() => null);
        if (runs === null) continue;
        const now = this.deps.clock.now().toISOString();
        const patch: Partial<RdpServer> = runs
          ? status === 'STARTING'
            ? { status: 'RUNNING', lastStartedAt: now }
            : { status: 'RUNNING', statusMessage: 'its stop did not finish (the API replica running it stopped); stop it again' }
          : status === 'STARTING'
            ? { status: 'ERROR', statusMessage: 'its start did not finish (the API replica running it stopped)' }
            : { status: 'STOPPED', statusMessage: null, lastStoppedAt: now };
        try {
          await this.write(server, 'STATUS_CHANGED', patch);
        } catch (err) {
          if (err instanceof ConflictError) continue;
          throw err;
        }
        if (runs) running.push(server.id);
        else {
          notRunning.push(server.id);
          await this.sweepSessions(server.id, status === 'STARTING' ? 'SERVER_ERROR' : 'SERVER_STOPPED');
        }
      }
    }
    return { running, notRunning };
  }

  /** Frees port and slot claims whose server was never written (a replica died in between). */
  async reconcileClaims(): Promise<number> {
    const prefixes = [...this.placement.claimPrefixes, SLOT_PREFIX];
    return releaseOrphanClaims(this.deps.claims, prefixes, this.deps.clock.now(), async (ids) => {
      return new Set((await this.deps.store.findByIds(ids)).map((s) => s.id));
    });
  }

  /**
   * Ports were claimed as `port:<RDP_PUBLIC_HOST>:<n>` before hosts existed; they are the local
   * host's now. Moves each such claim to `port:<hostId>:<n>` for the same server (idempotent).
   * Returns how many moved; a port already claimed under the new key by another server is left
   * (and logged by the caller) rather than shared.
   */
  async migrateLegacyPortClaims(legacyHost: string, hostId: string): Promise<{ moved: number; conflicts: string[] }> {
    const legacyPrefix = `port:${legacyHost}:`;
    if (legacyPrefix === `port:${hostId}:`) return { moved: 0, conflicts: [] };
    let moved = 0;
    const conflicts: string[] = [];
    for (const claim of await this.deps.claims.list(legacyPrefix)) {
      const port = Number(claim.key.slice(legacyPrefix.length));
      if (!Number.isInteger(port)) continue;
      const key = portKey(hostId, port);
      const taken = !(await this.deps.claims.tryClaim(key, claim.owner));
      if (taken && !(await this.deps.claims.list(key)).some((c) => c.key === key && c.owner === claim.owner)) {
        conflicts.push(claim.key);
        continue;
      }
      await this.deps.claims.release(claim.key, claim.owner);
      moved++;
    }
    return { moved, conflicts };
  }

  async countByStatus(): Promise<Partial<Record<ServerStatus, number>>> {
    return this.deps.store.countByStatus();
  }

  /**
   * The deadline action of a drain with stopServer (docs/DOMAIN.md, "Drain"): stops the server as
   * the system, whatever its status allows; null when there was nothing to stop. Its sessions were
   * ended (DRAINED) before; any admitted since are ended as a forced stop would.
   */
  async stopForDrain(id: string): Promise<RdpServer | null> {
    const server = await this.deps.store.findById(id);
    if (!server) return null;
    const system: Viewer = { userId: SYSTEM_ACTOR.userId ?? 'system', username: 'system', roles: ['admin'], permissions: [] };
    const runs =
      server.status === 'RUNNING' ||
      server.status === 'ERROR' ||
      (server.status === 'MAINTENANCE' &&
        (server.statusBeforeMaintenance === 'RUNNING' || server.statusBeforeMaintenance === 'ERROR'));
    if (!runs) return null;
    return audited(
      this.deps.audit,
      { actor: SYSTEM_ACTOR, action: 'server.stop', target: serverTarget(id, server.name), details: { reason: 'drain' } },
      () =>
        server.status === 'MAINTENANCE' ? this.stopInMaintenance(system, server, true) : this.stopUnaudited(system, id, true),
      (s) => ({ details: { status: s.status } }),
    );
  }

  /**
   * Maintenance hides the status a server had (statusBeforeMaintenance) without blocking an
   * admin: an admin's start or stop acts on the instance and records the outcome there, and the
   * server stays in maintenance. Others are refused, since an admin set it.
   */
  private mayOperateInMaintenance(viewer: Viewer): void {
    if (!isAdmin(viewer)) {
      throw new ConflictError('server is in maintenance; only an admin may start or stop it until maintenance ends');
    }
  }

  private async startInMaintenance(viewer: Viewer, server: RdpServer): Promise<RdpServer> {
    this.mayOperateInMaintenance(viewer);
    if (server.statusBeforeMaintenance === 'RUNNING') throw new ConflictError('server is already running (in maintenance)');
    await this.deps.runtime.checkAvailable();
    await this.deps.admission?.check('server start', server.host);
    try {
      await this.deps.runtime.start(server);
    } catch (err) {
      if (!(err instanceof HostUnavailableError)) {
        await this.write(server, 'STATUS_CHANGED', {
          statusBeforeMaintenance: 'ERROR',
          statusMessage: err instanceof Error ? err.message : String(err),
        });
      }
      throw err instanceof DomainError ? err : new RuntimeFailureError(err instanceof Error ? err.message : String(err));
    }
    return this.write(server, 'STATUS_CHANGED', {
      statusBeforeMaintenance: 'RUNNING',
      statusMessage: null,
      lastStartedAt: this.deps.clock.now().toISOString(),
    });
  }

  private async stopInMaintenance(viewer: Viewer, server: RdpServer, force: boolean): Promise<RdpServer> {
    this.mayOperateInMaintenance(viewer);
    if (server.statusBeforeMaintenance !== 'RUNNING' && server.statusBeforeMaintenance !== 'ERROR') {
      throw new ConflictError('server is already stopped (in maintenance)');
    }
    await this.endSessions(server, force);
    try {
      await this.deps.runtime.stop(server);
    } catch (err) {
      if (!(err instanceof HostUnavailableError)) {
        await this.write(server, 'STATUS_CHANGED', {
          statusBeforeMaintenance: 'ERROR',
          statusMessage: err instanceof Error ? err.message : String(err),
        });
      }
      throw err instanceof DomainError ? err : new RuntimeFailureError(err instanceof Error ? err.message : String(err));
    }
    const stopped = await this.write(server, 'STATUS_CHANGED', {
      statusBeforeMaintenance: 'STOPPED',
      statusMessage: null,
      lastStoppedAt: this.deps.clock.now().toISOString(),
    });
    await this.sweepSessions(server.id, 'SERVER_STOPPED');
    return stopped;
  }

  private async getManageable(viewer: Viewer, id: string): Promise<RdpServer> {
    const server = await this.deps.store.findById(id);
    if (!server) throw new NotFoundError('server', id);
    if (!canManage(viewer, server)) throw new NotFoundError('server', id, true);
    return server;
  }

  private audited(
    viewer: Viewer,
    action: string,
    id: string,
    run: () => Promise<RdpServer>,
    details?: Record<string, unknown>,
  ): Promise<RdpServer> {
    return audited(
      this.deps.audit,
      { actor: actorOf(viewer), action, target: serverTarget(id), ...(details ? { details } : {}) },
      run,
      (s) => ({ target: serverTarget(s.id, s.name), details: { status: s.status } }),
    );
  }

  private async endSessions(server: RdpServer, force: boolean): Promise<void> {
    const sessions = this.deps.sessions;
    if (!sessions) return;
    const live = await sessions.countLive(server.id);
    if (live === 0) return;
    if (!force) throw new ConflictError(`server has ${live} live session(s); pass force: true to terminate them`);
    await sessions.terminateAll(server.id, 'SERVER_STOPPED');
  }

  private async runStart(server: RdpServer): Promise<RdpServer> {
    const starting = await this.write(server, 'STATUS_CHANGED', { status: 'STARTING', statusMessage: null });
    try {
      await this.deps.runtime.start(starting);
    } catch (err) {
      await this.afterFailedRuntimeCall(starting, server, err);
      throw err instanceof DomainError ? err : new RuntimeFailureError(err instanceof Error ? err.message : String(err));
    }
    return this.write(starting, 'STATUS_CHANGED', {
      status: 'RUNNING',
      lastStartedAt: this.deps.clock.now().toISOString(),
    });
  }

  private async runStop(server: RdpServer): Promise<RdpServer> {
    const stopping = await this.write(server, 'STATUS_CHANGED', { status: 'STOPPING' });
    try {
      await this.deps.runtime.stop(stopping);
    } catch (err) {
      await this.afterFailedRuntimeCall(stopping, server, err);
      throw err instanceof DomainError ? err : new RuntimeFailureError(err instanceof Error ? err.message : String(err));
    }
    const stopped = await this.write(stopping, 'STATUS_CHANGED', {
      status: 'STOPPED',
      statusMessage: null,
      lastStoppedAt: this.deps.clock.now().toISOString(),
    });
    await this.sweepSessions(server.id, 'SERVER_STOPPED');
    return stopped;
  }

  /**
   * A start or stop that failed on the host leaves the server in ERROR with the reason; one whose
   * host never took the command (HOST_UNAVAILABLE: nothing was done there) goes back to how it was.
   */
  private async afterFailedRuntimeCall(current: RdpServer, before: RdpServer, err: unknown): Promise<void> {
    const patch: Partial<RdpServer> =
      err instanceof HostUnavailableError
        ? { status: before.status, statusMessage: before.statusMessage }
        : { status: 'ERROR', statusMessage: err instanceof Error ? err.message : String(err) };
    await this.write(current, 'STATUS_CHANGED', patch);
  }

  /**
   * Ends sessions admitted while the server was going away (after endSessions counted). Admission
   * re-reads the server after writing its session, so between the two no session survives.
   */
  private async sweepSessions(serverId: string, reason: 'SERVER_STOPPED' | 'SERVER_ERROR'): Promise<void> {
    await this.deps.sessions?.terminateAll(serverId, reason).catch(() => 0);
  }

  /** Compare-and-set write plus its event; a lost race is a CONFLICT the caller may retry. */
  private async write(server: RdpServer, kind: ServerChangeKind, patch: Partial<RdpServer>): Promise<RdpServer> {
    const next: RdpServer = {
      ...server,
      ...patch,
      updatedAt: this.deps.clock.now().toISOString(),
      version: server.version + 1,
    };
    if (!(await this.deps.store.compareAndSet(next, server.version))) {
      throw new ConflictError('server was changed by another request; reload and retry');
    }
    this.publish(kind, next);
    return next;
  }

  private publish(kind: ServerChangeKind, server: RdpServer): void {
    const at = this.deps.clock.now().toISOString();
    this.deps.events.publish('server:changed', server.id, { kind, server, at });
    this.deps.events.publish('fleet:changed', 'all', { subject: 'SERVER', change: kind, serverId: server.id, server, at });
  }

  private async releaseClaims(owner: string, placed: Placed | null, slot: number | null): Promise<void> {
    if (placed !== null) await this.placement.release(owner, placed.hostId, placed.port);
    if (slot !== null) {
      await this.deps.claims.release(`${SLOT_PREFIX}${slot}`, owner);
    } else {
      const mine = (await this.deps.claims.list(SLOT_PREFIX)).filter((c) => c.owner === owner);
      for (const c of mine) await this.deps.claims.release(c.key, owner);
    }
  }
}
