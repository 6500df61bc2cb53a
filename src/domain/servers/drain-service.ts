import { actorOf, SYSTEM_ACTOR } from '../audit/audit-event.js';
import { type AuditRecorder, audited } from '../audit/audit-service.js';
import { isOperator, type Viewer } from '../auth/viewer.js';
import type { Clock, IdGenerator } from '../shared/clock.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../shared/errors.js';
import type { EventPublisher } from '../shared/event-publisher.js';
import { type Cursor, MAX_PAGE_SIZE } from '../shared/page.js';
import type { LiveSessions } from './live-sessions.js';
import type { DrainOrigin, RdpServer, ServerDrain } from './server.js';
import { type DrainNotice, dueNoticeStep, noticeOf, secondsLeft } from './server-drain.js';
import type { ServerEventKind } from './server-events.js';
import type { ServerStore } from './server-store.js';

/** The countdown steps when none are configured (DRAIN_NOTICE_SECONDS): 15, 5 and 1 minute before. */
export const DEFAULT_NOTICE_STEPS: readonly number[] = [900, 300, 60];

/** The furthest a deadline may lie ahead. */
export const MAX_DRAIN_SECONDS = 30 * 24 * 3600;

/** A deadline action taken this long ago and not finished belongs to a replica that died: another retries it. */
export const DRAIN_ACTION_RETRY_MS = 120_000;

/** What a host drain with a deadline asks of its servers (hosts area; read by the job). */
export interface HostDrainSource {
  /** Hosts that drain with a deadline: their servers drain with it (origin HOST). */
  drainingWithDeadline(): Promise<{ hostId: string; deadline: string; stopServers: boolean; startedBy: string }[]>;
}

export interface DrainServiceDeps {
  store: ServerStore;
  sessions: LiveSessions;
  /** Stops a server as the system at a stopServer drain's deadline (ServerService.stopForDrain). */
  stopServer(serverId: string): Promise<unknown>;
  events: EventPublisher;
  clock: Clock;
  newId: IdGenerator;
  /** Seconds before the deadline at which ACTIVE sessions get a DRAIN_NOTICE. @default DEFAULT_NOTICE_STEPS */
  noticeSteps?: readonly number[];
  /** Host drains with a deadline, applied to their servers by the job. */
  hosts?: HostDrainSource;
  /** Records drain, cancel and each deadline action. */
  audit?: AuditRecorder;
  /** @default DRAIN_ACTION_RETRY_MS */
  actionRetryMs?: number;
}

const ATTEMPTS = 5;

/**
 * Drains as a workflow (docs/DOMAIN.md, "Drain"): a drain stops new sessions on a server at once,
 * counts down to its deadline in DRAIN_NOTICE events, and at the deadline ends the sessions left
 * (DRAINED) and optionally stops the server. The state lives in the server document and every
 * step is a compare-and-set of it, so any replica's job (`tick`) may run it, after a restart too,
 * and each notice and the deadline action happen once.
 */
export class DrainService {
  private readonly steps: readonly number[];

  constructor(private readonly deps: DrainServiceDeps) {
    this.steps = [...(deps.noticeSteps ?? DEFAULT_NOTICE_STEPS)].sort((a, b) => b - a);
  }

  /** Starts a drain, or reschedules the server's drain (a new deadline restarts the countdown). */
  async drain(viewer: Viewer, serverId: string, input: { deadline: string; stopServer?: boolean }): Promise<RdpServer> {
    const stopServer = input.stopServer ?? false;
    return audited(
      this.deps.audit,
      {
        actor: actorOf(viewer),
        action: 'server.drain',
        target: { type: 'server', id: serverId, name: null },
        details: { deadline: input.deadline, stopServer },
      },
      async () => {
        if (!isOperator(viewer)) throw new ForbiddenError('draining servers', 'operator');
        const deadline = this.validDeadline(input.deadline);
        for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
          const server = await this.find(serverId);
          this.refuseDuringAction(server);
          const started = await this.begin(server, { origin: 'SERVER', deadline, stopServer, startedBy: viewer.userId });
          if (started) return started;
        }
        throw new ConflictError('server kept changing; retry');
      },
      (s) => ({ target: { type: 'server', id: s.id, name: s.name } }),
    );
  }

  /** Ends a drain (before or after its deadline): the server takes new sessions again. */
  async cancel(viewer: Viewer, serverId: string): Promise<RdpServer> {
    return audited(
      this.deps.audit,
      { actor: actorOf(viewer), action: 'server.drain.cancel', target: { type: 'server', id: serverId, name: null } },
      async () => {
        if (!isOperator(viewer)) throw new ForbiddenError('cancelling server drains', 'operator');
        for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
          const server = await this.find(serverId);
          const drain = server.drain;
          if (!drain) throw new ConflictError('server is not draining');
          if (drain.origin === 'HOST') {
            throw new ConflictError(
              `server drains because its host ${server.hostId} drains; end that with setHostDrain(drain: false), or drain the server itself with drainServer`,
            );
          }
          this.refuseDuringAction(server);
          const cancelled = await this.end(server, drain);
          if (cancelled) return cancelled;
        }
        throw new ConflictError('server kept changing; retry');
      },
      (s) => ({ target: { type: 'server', id: s.id, name: s.name } }),
    );
  }

  /**
   * One round of the job (every replica runs it): host drains reach their servers, countdown
   * notices go out, and deadlines are acted on. Each step is a compare-and-set: of several
   * replicas running the same round, one acts.
   */
  async tick(): Promise<{ notices: number; drained: string[]; failures: unknown[] }> {
    const { failures } = await this.applyHostDrains();
    let notices = 0;
    const drained: string[] = [];
    for (const server of await this.draining()) {
      try {
        const r = await this.step(server);
        if (r === 'notice') notices++;
        if (r === 'drained') drained.push(server.id);
      } catch (err) {
        if (!(err instanceof ConflictError)) failures.push(err);
      }
    }
    return { notices, drained, failures };
  }

  private async step(server: RdpServer): Promise<'notice' | 'drained' | null> {
    const drain = server.drain;
    if (!drain || drain.completedAt !== null) return null;
    const now = this.deps.clock.now();
    if (secondsLeft(drain, now) === 0) return (await this.act(server, drain)) ? 'drained' : null;
    const step = dueNoticeStep(drain, now, this.steps);
    if (step === null) return null;
    const notice = noticeOf(server, drain, now);
    const written = await this.write(server, 'DRAIN_NOTICE', { drain: { ...drain, noticeStep: step } }, notice);
    if (!written) return null;
    await this.deps.sessions.notifyDrain('DRAIN_NOTICE', notice);
    return 'notice';
  }

  /**
   * The deadline: the replica whose compare-and-set marks the action ends the sessions left and
   * stops the server if asked, then marks the drain complete. One that dies in between leaves
   * the mark, and another replica takes the action over once it is DRAIN_ACTION_RETRY_MS old
   * (ending sessions and stopping are idempotent).
   */
  private async act(server: RdpServer, drain: ServerDrain): Promise<boolean> {
    const now = this.deps.clock.now();
    const retryMs = this.deps.actionRetryMs ?? DRAIN_ACTION_RETRY_MS;
    if (drain.actionStartedAt !== null && now.getTime() - Date.parse(drain.actionStartedAt) < retryMs) return false;
    const marked = await this.write(server, null, { drain: { ...drain, actionStartedAt: now.toISOString() } });
    if (!marked) return false;
    const sessionsEnded = await this.deps.sessions.terminateAll(server.id, 'DRAINED');
    let stopFailure: string | null = null;
    if (drain.stopServer) {
      await this.deps.stopServer(server.id).catch((err: unknown) => {
        stopFailure = err instanceof Error ? err.message : String(err);
      });
    }
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const current = await this.deps.store.findById(server.id);
      if (current?.drain?.id !== drain.id) break;
      const done = this.deps.clock.now();
      const completed = await this.write(
        current,
        'DRAINED',
        { drain: { ...current.drain, completedAt: done.toISOString() } },
        noticeOf(current, current.drain, done),
      );
      if (completed) break;
    }
    await this.deps.audit?.record({
      actor: SYSTEM_ACTOR,
      action: 'server.drained',
      target: { type: 'server', id: server.id, name: server.name },
      result: stopFailure === null ? 'SUCCESS' : 'FAILURE',
      details: {
        deadline: drain.deadline,
        sessionsEnded,
        stopServer: drain.stopServer,
        ...(stopFailure ? { stopFailure } : {}),
      },
    });
    return true;
  }

  /**
   * Servers of hosts that drain with a deadline drain with it (origin HOST), unless they drain
   * on their own; HOST drains whose host no longer drains so are cancelled. Part of each tick.
   */
  async applyHostDrains(): Promise<{ failures: unknown[] }> {
    if (!this.deps.hosts) return { failures: [] };
    try {
      await this.followHosts(this.deps.hosts);
      return { failures: [] };
    } catch (err) {
      return { failures: [err] };
    }
  }

  private async followHosts(source: HostDrainSource): Promise<void> {
    const hosts = await source.drainingWithDeadline();
    const byHost = new Map(hosts.map((h) => [h.hostId, h]));
    for (const host of hosts) {
      for (const server of await this.all({ hostId: host.hostId })) {
        const d = server.drain;
        if (d && (d.origin === 'SERVER' || (d.deadline === host.deadline && d.stopServer === host.stopServers))) continue;
        if (d && d.actionStartedAt !== null && d.completedAt === null) continue;
        await this.begin(server, {
          origin: 'HOST',
          deadline: host.deadline,
          stopServer: host.stopServers,
          startedBy: host.startedBy,
        }).catch(() => null);
      }
    }
    for (const server of await this.draining()) {
      const d = server.drain;
      if (d?.origin !== 'HOST' || byHost.has(server.hostId)) continue;
      if (d.actionStartedAt !== null && d.completedAt === null) continue;
      await this.end(server, d).catch(() => null);
    }
  }

  private async begin(
    server: RdpServer,
    what: { origin: DrainOrigin; deadline: string; stopServer: boolean; startedBy: string },
  ): Promise<RdpServer | null> {
    const now = this.deps.clock.now();
    const drain: ServerDrain = {
      id: this.deps.newId(),
      ...what,
      startedAt: now.toISOString(),
      noticeStep: secondsLeft({ deadline: what.deadline }, now),
      actionStartedAt: null,
      completedAt: null,
    };
    const notice = noticeOf(server, drain, now);
    const written = await this.write(server, 'DRAIN_STARTED', { drain }, notice);
    if (written) await this.deps.sessions.notifyDrain('DRAIN_NOTICE', notice);
    return written;
  }

  private async end(server: RdpServer, drain: ServerDrain): Promise<RdpServer | null> {
    const notice = noticeOf(server, drain, this.deps.clock.now());
    const written = await this.write(server, 'DRAIN_CANCELLED', { drain: null }, notice);
    if (written) await this.deps.sessions.notifyDrain('DRAIN_CANCELLED', notice);
    return written;
  }

  private refuseDuringAction(server: RdpServer): void {
    const d = server.drain;
    if (d && d.actionStartedAt !== null && d.completedAt === null) {
      throw new ConflictError("the drain's deadline has come and its sessions are being ended; retry once that has finished");
    }
  }

  private validDeadline(value: string): string {
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) throw new ValidationError('deadline', 'must be an ISO-8601 time');
    const now = this.deps.clock.now().getTime();
    if (ms <= now) throw new ValidationError('deadline', 'must be in the future');
    if (ms - now > MAX_DRAIN_SECONDS * 1000) {
      throw new ValidationError('deadline', `must be at most ${MAX_DRAIN_SECONDS / 86400} days ahead`);
    }
    return new Date(ms).toISOString();
  }

  private async find(serverId: string): Promise<RdpServer> {
    const server = await this.deps.store.findById(serverId);
    if (!server) throw new NotFoundError('server', serverId);
    return server;
  }

  private draining(): Promise<RdpServer[]> {
    return this.all({ draining: true });
  }

  private async all(filter: { draining?: boolean; hostId?: string }): Promise<RdpServer[]> {
    const out: RdpServer[] = [];
    let after: Cursor | undefined;
    while (true) {
      const page = await this.deps.store.list(filter, MAX_PAGE_SIZE, after);
      out.push(...page.items);
      const last = page.items.at(-1);
      if (!page.hasNextPage || !last) return out;
      after = last;
    }
  }

  /** Compare-and-set plus its event (none for kind null); null when another writer got there first. */
  private async write(
    server: RdpServer,
    kind: ServerEventKind | null,
    patch: Partial<RdpServer>,
    notice?: DrainNotice,
  ): Promise<RdpServer | null> {
    const at = this.deps.clock.now().toISOString();
    const next: RdpServer = { ...server, ...patch, updatedAt: at, version: server.version + 1 };
    if (!(await this.deps.store.compareAndSet(next, server.version))) return null;
    if (kind)
      this.deps.events.publish('server:changed', next.id, { kind, server: next, at, ...(notice ? { drain: notice } : {}) });
    // Fleet lists show `draining`: a drain's start, deadline and cancel change it (a notice does not).
    if (kind && kind !== 'DRAIN_NOTICE') {
      this.deps.events.publish('fleet:changed', 'all', {
        subject: 'SERVER',
        change: 'UPDATED',
        serverId: next.id,
        server: next,
        at,
      });
    }
    return next;
  }
}
