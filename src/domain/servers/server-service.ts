import { type AuditTarget, actorOf } from '../audit/audit-event.js';
import { type AuditRecorder, audited } from '../audit/audit-service.js';
import { canManage, canSee, isAdmin, isOperator, type Viewer } from '../auth/viewer.js';
import type { AdmissionGate } from '../resources/host-admission.js';
import type { ResourceLimitsProvider } from '../resources/resource-limits.js';
import { type ClaimStore, claimLowest, claimSlot, range, releaseOrphanClaims } from '../shared/claim-store.js';
import type { Clock, IdGenerator } from '../shared/clock.js';
import {
  ConflictError,
  DomainError,
  ForbiddenError,
  LimitExceededError,
  NotFoundError,
  PortExhaustedError,
  RuntimeFailureError,
  ValidationError,
} from '../shared/errors.js';
import type { EventPublisher } from '../shared/event-publisher.js';
import { type Cursor, decodeCursor, MAX_PAGE_SIZE, type Page, type PageRequest } from '../shared/page.js';
import type { LiveSessions } from './live-sessions.js';
import type { RdpServer, ServerStatus } from './server.js';
import type { ServerEventKind } from './server-events.js';
import { validateCreateServer, validateUpdateServer } from './server-input.js';
import type { ServerRuntime } from './server-runtime.js';
import type { ServerFilter, ServerStore } from './server-store.js';

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
  portRange: { from: number; to: number };
  host: string;
  metrics?: ServerMetrics;
  sessions?: LiveSessions;
  /** Records create, update, delete, start, stop, restart and maintenance, refusals included. */
  audit?: AuditRecorder;
  /** Refuses starts while the host is overloaded (resources area). */
  admission?: AdmissionGate;
}

const serverTarget = (id: string | null, name: string | null = null): AuditTarget => ({ type: 'server', id, name });

/** The name a create asked for, for the audit of a refused create. */
function requestedName(input: unknown): string | null {
  const name = typeof input === 'object' && input !== null ? (input as { name?: unknown }).name : undefined;
  return typeof name === 'string' ? name : null;
}

/** The standard RDP port is never handed out, whatever the configured range. */
const RESERVED_PORTS = new Set([3389]);

const SLOT_PREFIX = 'slot:servers:';

/** The rules of RDP servers: validation, caps, ports, ownership and the status machine. */
export class ServerService {
  constructor(private readonly deps: ServerServiceDeps) {}

  private get portPrefix(): string {
    return `port:${this.deps.host}:`;
  }

  async get(viewer: Viewer, id: string): Promise<RdpServer> {
    const server = await this.deps.store.findById(id);
    if (!server) throw new NotFoundError('server', id);
    if (!canSee(viewer, server)) throw new NotFoundError('server', id, true);
    return server;
  }

  /** Batch read for DataLoader: one entry per id, null where missing or not visible. */
  async getMany(viewer: Viewer, ids: readonly string[]): Promise<(RdpServer | null)[]> {
    const found = await this.deps.store.findByIds(ids);
    const byId = new Map(found.map((s) => [s.id, s]));
    return ids.map((id) => {
      const s = byId.get(id);
      return s && canSee(viewer, s) ? s : null;
    });
  }

  async list(viewer: Viewer, filter: Omit<ServerFilter, 'visibleTo'>, page: PageRequest): Promise<Page<RdpServer>> {
    if (!Number.isInteger(page.first) || page.first < 0 || page.first > MAX_PAGE_SIZE) {
      throw new ValidationError('first', `must be between 0 and ${MAX_PAGE_SIZE}`);
    }
    const after = page.after === undefined ? undefined : decodeCursor(page.after);
    if (after === null) throw new ValidationError('after', 'is not a cursor from this API');
    const scoped: ServerFilter = { ...filter, ...(isOperator(viewer) ? {} : { visibleTo: viewer.userId }) };
    const [{ items, hasNextPage }, totalCount] = await Promise.all([
      this.deps.store.list(scoped, page.first, after),
      this.deps.store.count(scoped),
    ]);
    return { items, hasNextPage, totalCount };
  }

  async create(viewer: Viewer, input: unknown): Promise<RdpServer> {
    return audited(
      this.deps.audit,
      { actor: actorOf(viewer), action: 'server.create', target: serverTarget(null, requestedName(input)) },
      () => this.createUnaudited(viewer, input),
      (s) => ({ target: serverTarget(s.id, s.name), details: { host: s.host, port: s.port, owner: s.owner } }),
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
    const { from, to } = this.deps.portRange;
    const candidates = [...range(from, to)].filter((p) => !RESERVED_PORTS.has(p));
    let port: number | null = null;
    try {
      port = await claimLowest(this.deps.claims, this.portPrefix, candidates, id);
      if (port === null) throw new PortExhaustedError(this.deps.host, from, to);
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
        host: this.deps.host,
        port,
        configuration: valid.configuration,
        resources: valid.resources,
        createdAt: now,
        updatedAt: now,
        lastStartedAt: null,
        lastStoppedAt: null,
        version: 1,
      };
      await this.deps.store.insert(server);
      this.publish('CREATED', server);
      this.deps.metrics?.created();
      return server;
    } catch (err) {
      await this.releaseClaims(id, port, slot);
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
    return this.write(server, 'UPDATED', {
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.description !== undefined ? { description: patch.description } : {}),
      configuration: { ...server.configuration, ...patch.configuration },
      resources,
    });
  }

  async start(viewer: Viewer, id: string): Promise<RdpServer> {
    return this.audited(viewer, 'server.start', id, () => this.startUnaudited(viewer, id));
  }

  private async startUnaudited(viewer: Viewer, id: string): Promise<RdpServer> {
    const server = await this.getManageable(viewer, id);
    if (server.status === 'MAINTENANCE') throw new ConflictError('server is in maintenance; no start or stop');
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
    if (server.status === 'MAINTENANCE') throw new ConflictError('server is in maintenance; no start or stop');
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
    if (server.status === 'MAINTENANCE') throw new ConflictError('server is in maintenance; no start or stop');
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
    await this.endSessions(server, force);
    if (server.status !== 'STOPPED') await this.deps.runtime.stop(server);
    if (!(await this.deps.store.delete(id))) throw new NotFoundError('server', id);
    await this.sweepSessions(id, 'SERVER_STOPPED');
    await this.releaseClaims(id, server.port, null);
    await this.deps.runtime.remove(server).catch(() => undefined);
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

  /** Frees port and slot claims whose server was never written (a replica died in between). */
  async reconcileClaims(): Promise<number> {
    return releaseOrphanClaims(this.deps.claims, [this.portPrefix, SLOT_PREFIX], this.deps.clock.now(), async (ids) => {
      return new Set((await this.deps.store.findByIds(ids)).map((s) => s.id));
    });
  }

  async countByStatus(): Promise<Partial<Record<ServerStatus, number>>> {
    return this.deps.store.countByStatus();
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
      const message = err instanceof Error ? err.message : String(err);
      await this.write(starting, 'STATUS_CHANGED', { status: 'ERROR', statusMessage: message });
      throw err instanceof DomainError ? err : new RuntimeFailureError(message);
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
      const message = err instanceof Error ? err.message : String(err);
      await this.write(stopping, 'STATUS_CHANGED', { status: 'ERROR', statusMessage: message });
      throw err instanceof DomainError ? err : new RuntimeFailureError(message);
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
   * Ends sessions admitted while the server was going away (after endSessions counted). Admission
   * re-reads the server after writing its session, so between the two no session survives.
   */
  private async sweepSessions(serverId: string, reason: 'SERVER_STOPPED' | 'SERVER_ERROR'): Promise<void> {
    await this.deps.sessions?.terminateAll(serverId, reason).catch(() => 0);
  }

  /** Compare-and-set write plus its event; a lost race is a CONFLICT the caller may retry. */
  private async write(server: RdpServer, kind: ServerEventKind, patch: Partial<RdpServer>): Promise<RdpServer> {
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

  private publish(kind: ServerEventKind, server: RdpServer): void {
    this.deps.events.publish('server:changed', server.id, { kind, server, at: this.deps.clock.now().toISOString() });
  }

  private async releaseClaims(owner: string, port: number | null, slot: number | null): Promise<void> {
    if (port !== null) await this.deps.claims.release(`${this.portPrefix}${port}`, owner);
    if (slot !== null) {
      await this.deps.claims.release(`${SLOT_PREFIX}${slot}`, owner);
    } else {
      const mine = (await this.deps.claims.list(SLOT_PREFIX)).filter((c) => c.owner === owner);
      for (const c of mine) await this.deps.claims.release(c.key, owner);
    }
  }
}
