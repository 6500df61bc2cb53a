import { type AuditActor, type AuditTarget, actorOf, SYSTEM_ACTOR } from '../audit/audit-event.js';
import { type AuditRecorder, audited } from '../audit/audit-service.js';
import { canManage, canSee, isOperator, type Viewer } from '../auth/viewer.js';
import type { PlacementPolicy, Pool } from '../pools/pool.js';
import type { AdmissionGate } from '../resources/host-admission.js';
import type { ResourceLimitsProvider } from '../resources/resource-limits.js';
import type { LiveSessions } from '../servers/live-sessions.js';
import type { ResourceEnforcement } from '../servers/resource-enforcement.js';
import type { RdpServer } from '../servers/server.js';
import { assertNotDraining, type DrainNotice } from '../servers/server-drain.js';
import type { ServerStore } from '../servers/server-store.js';
import { type GrantSource, NO_GRANTS, seesServer } from '../servers/server-visibility.js';
import { type ClaimStore, releaseOrphanClaims } from '../shared/claim-store.js';
import type { Clock, IdGenerator } from '../shared/clock.js';
import { ConflictError, LimitExceededError, NotFoundError, ValidationError } from '../shared/errors.js';
import type { EventPublisher } from '../shared/event-publisher.js';
import { type Cursor, decodeCursor, MAX_PAGE_SIZE, type Page, type PageRequest } from '../shared/page.js';
import { SlotAllocator } from '../shared/slot-allocator.js';
import type { XrdpSessionEvent } from '../xrdp/xrdp-session-events.js';
import { hashPassword, LINUX_USERNAME, newAccountName, newPassword } from './credentials.js';
import {
  type ConnectionInfo,
  type CredentialMode,
  LIVE_STATUSES,
  type RdpSession,
  renderRdpFile,
  type SessionSlots,
  type SessionStatus,
  type TerminationReason,
} from './session.js';
import type { AccountHost, SessionAccounts } from './session-accounts.js';
import type { SessionEvent, SessionEventKind } from './session-events.js';
import type { SessionActivityReport, SessionHost, SessionHostState, SessionRef } from './session-host.js';
import { validateCreateSession } from './session-input.js';
import type { SessionFilter, SessionStore } from './session-store.js';

export interface SessionMetrics {
  created(): void;
  terminated(reason: TerminationReason): void;
}

export interface SessionServiceDeps {
  store: SessionStore;
  claims: ClaimStore;
  /** Reads servers (the server store): sessions need a server's status, owner and port, not its rules. */
  servers: Pick<ServerStore, 'findById'>;
  events: EventPublisher;
  limits: ResourceLimitsProvider;
  clock: Clock;
  newId: IdGenerator;
  /**
   * idleSeconds: an ACTIVE session without input this long has its client disconnected.
   * disconnectedSeconds: a DISCONNECTED session is ended (IDLE_TIMEOUT) this long after its client
   * left, unless one comes back (@default idleSeconds). sessionSeconds: the maximum duration.
   */
  timeouts: { idleSeconds: number; sessionSeconds: number; disconnectedSeconds?: number };
  /** Mode when the caller names none: EPHEMERAL where accounts can be made (root), else HOST_ACCOUNT. */
  defaultCredentialMode: CredentialMode;
  /** Needed for EPHEMERAL sessions. */
  accounts?: SessionAccounts;
  /**
   * The host the desktops run on: ends them on terminate, drops clients on disconnect and idle,
   * and tells whether a client is really connected. Without it the records alone decide.
   */
  host?: SessionHost;
  metrics?: SessionMetrics;
  /** Credentials expire after this long. @default 3600 */
  credentialTtlSeconds?: number;
  /** Records admissions (refusals included) and terminations, by users and by the service itself. */
  audit?: AuditRecorder;
  /** Refuses sessions while the host is overloaded (resources area). */
  admission?: AdmissionGate;
  /** Puts logged-in sessions under perSession.maxCpu / maxMemoryMb; reports its own failures. */
  enforcement?: ResourceEnforcement;
  /** Refuses sessions on a server whose host is draining or OFFLINE (hosts area). */
  hosts?: { checkAcceptsSessions(hostId: string): Promise<void> };
  /** Pools (pools area): a pooled server's sessions also hold a slot of its pool's cap. */
  pools?: { findById(id: string): Promise<Pool | null> };
  /** What users were assigned (pools area): a user may open sessions on servers assigned to them. */
  grants?: GrantSource;
}

/** Where the broker may place a session: RUNNING servers that passed the host checks, and the rule. */
export interface PlacementRequest {
  candidates: readonly RdpServer[];
  policy: PlacementPolicy;
  pool: Pool | null;
  credentialMode?: CredentialMode | undefined;
  clientInfo?: unknown;
}

/** An admission with where it went and why. */
export interface Admission {
  session: RdpSession;
  connection: ConnectionInfo;
  server: RdpServer;
  /** Sessions the chosen server held when it was chosen (its server slots). */
  loadBefore: number;
}

const sessionTarget = (id: string | null, name: string | null = null): AuditTarget => ({ type: 'session', id, name });

const SLOT = {
  /** The caps of one kind whose rounds a burst's callers share (SlotAllocator's families). */
  families: { user: 'slot:sessions:user:', hostAccount: 'slot:sessions:account:' },
  global: 'slot:sessions:global:',
  pool: (poolId: string) => `slot:sessions:pool:${encodeURIComponent(poolId)}:`,
  server: (serverId: string) => `slot:sessions:server:${encodeURIComponent(serverId)}:`,
  user: (userId: string) => `slot:sessions:user:${encodeURIComponent(userId)}:`,
  /** One live HOST_ACCOUNT session per account and server: xrdp would put a second on the same desktop. */
  hostAccount: (serverId: string, username: string) =>
    `slot:sessions:account:${encodeURIComponent(serverId)}:${encodeURIComponent(username)}:`,
};

/**
 * Whether a host event was applied to a session already: keys are `<hostId>/<ms>-<seq>` stream
 * entry ids, which grow with every event of one host.
 */
function appliedAlready(last: string | undefined, key: string): boolean {
  if (!last) return false;
  const [lastHost, lastId = ''] = last.split('/');
  const [host, id = ''] = key.split('/');
  if (lastHost !== host) return false;
  const [a1 = 0, a2 = 0] = lastId.split('-').map(Number);
  const [b1 = 0, b2 = 0] = id.split('-').map(Number);
  return a1 > b1 || (a1 === b1 && a2 >= b2);
}

const addSeconds = (iso: string, s: number) => new Date(Date.parse(iso) + s * 1000).toISOString();

/** The finest step in which reported input moves lastActivityAt (a quarter of the idle timeout when that is less). */
export const ACTIVITY_RESOLUTION_MS = 30_000;

/** The desktop of a session, once xrdp reported its login. */
const refOf = (s: RdpSession): SessionRef | null =>
  s.display === null ? null : { serverId: s.serverId, user: s.username, display: s.display };

/**
 * The rules of sessions: admission under three caps that hold across replicas, credentials shown
 * once, the status machine driven by mutations and by what xrdp reports, and timeouts enforced
 * from stored deadlines so any replica can act on them.
 */
export class SessionService implements LiveSessions {
  /** Cap slots for this process's callers, claimed in rounds: a burst against a full cap costs one read. */
  private readonly slots: SlotAllocator;

  constructor(private readonly deps: SessionServiceDeps) {
    this.slots = new SlotAllocator(deps.claims);
  }

  async get(viewer: Viewer, id: string): Promise<RdpSession> {
    const session = await this.deps.store.findById(id);
    if (!session) throw new NotFoundError('session', id);
    if (!canSee(viewer, session)) throw new NotFoundError('session', id, true);
    return session;
  }

  async getMany(viewer: Viewer, ids: readonly string[]): Promise<(RdpSession | null)[]> {
    const byId = new Map((await this.deps.store.findByIds(ids)).map((s) => [s.id, s]));
    return ids.map((id) => {
      const s = byId.get(id);
      return s && canSee(viewer, s) ? s : null;
    });
  }

  async list(
    viewer: Viewer,
    filter: Omit<SessionFilter, 'visibleTo' | 'statuses'>,
    page: PageRequest,
  ): Promise<Page<RdpSession>> {
    if (!Number.isInteger(page.first) || page.first < 0 || page.first > MAX_PAGE_SIZE) {
      throw new ValidationError('first', `must be between 0 and ${MAX_PAGE_SIZE}`);
    }
    const after = page.after === undefined ? undefined : decodeCursor(page.after);
    if (after === null) throw new ValidationError('after', 'is not a cursor from this API');
    const scoped: SessionFilter = { ...filter, ...(isOperator(viewer) ? {} : { visibleTo: viewer.userId }) };
    const [{ items, hasNextPage }, totalCount] = await Promise.all([
      this.deps.store.list(scoped, page.first, after),
      this.deps.store.count(scoped),
    ]);
    return { items, hasNextPage, totalCount };
  }

  /** Admits the caller onto a running server and returns the session with its one-time credentials. */
  async create(viewer: Viewer, input: unknown): Promise<{ session: RdpSession; connection: ConnectionInfo }> {
    const serverId = typeof input === 'object' && input !== null ? (input as { serverId?: unknown }).serverId : undefined;
    return audited(
      this.deps.audit,
      {
        actor: actorOf(viewer),
        action: 'session.create',
        target: sessionTarget(null),
        details: { serverId: typeof serverId === 'string' ? serverId : null },
      },
      () => this.createUnaudited(viewer, input),
      // The account name is not a secret; the password and its hash never reach the audit.
      ({ session }) => ({
        target: sessionTarget(session.id, session.username),
        details: { credentialMode: session.credentialMode, clientIp: session.clientInfo.clientIp },
      }),
    );
  }

  private async createUnaudited(viewer: Viewer, input: unknown): Promise<{ session: RdpSession; connection: ConnectionInfo }> {
    const valid = validateCreateSession(input);
    const mode = this.modeFor(viewer, valid.credentialMode);
    const server = await this.visibleServer(viewer, valid.serverId);
    if (server.status !== 'RUNNING') {
      throw new ConflictError(`server is ${server.status.toLowerCase()}; sessions are admitted on running servers only`);
    }
    assertNotDraining(server);
    await this.deps.hosts?.checkAcceptsSessions(server.hostId);
    if (mode === 'HOST_ACCOUNT' && this.deps.accounts) {
      if (!(await this.deps.accounts.exists(viewer.username, { hostId: server.hostId }))) {
        throw new ValidationError(
          'credentialMode',
          `there is no Linux account "${viewer.username}" on the host of this server; ask for one or use EPHEMERAL`,
        );
      }
    }
    await this.deps.admission?.check('session', server.host);
    const pool = server.poolId && this.deps.pools ? await this.deps.pools.findById(server.poolId) : null;
    const { session, connection } = await this.admit(viewer, mode, valid.clientInfo, [server], 'DEPTH_FIRST', pool, false);
    return { session, connection };
  }

  /**
   * Admits the caller onto one of `request.candidates` (servers the broker checked are RUNNING on
   * hosts that accept sessions), chosen by the policy, through the same caps as createSession.
   * Not audited here: the broker audits its connect.
   */
  async admitPlaced(viewer: Viewer, request: PlacementRequest): Promise<Admission> {
    const clientInfo = validateCreateSession({
      serverId: request.candidates[0]?.id ?? '-',
      ...(typeof request.clientInfo === 'object' && request.clientInfo !== null ? { clientInfo: request.clientInfo } : {}),
    }).clientInfo;
    const mode = this.modeFor(viewer, request.credentialMode);
    return this.admit(viewer, mode, clientInfo, request.candidates, request.policy, request.pool, true);
  }

  private modeFor(viewer: Viewer, asked: CredentialMode | undefined): CredentialMode {
    const mode = asked ?? this.deps.defaultCredentialMode;
    if (mode === 'EPHEMERAL' && !this.deps.accounts) {
      throw new ValidationError('credentialMode', 'EPHEMERAL accounts are not available on this host');
    }
    if (mode === 'HOST_ACCOUNT' && !LINUX_USERNAME.test(viewer.username)) {
      throw new ValidationError('credentialMode', `"${viewer.username}" is not a Linux account name; use EPHEMERAL`);
    }
    return mode;
  }

  private async admit(
    viewer: Viewer,
    mode: CredentialMode,
    clientInfo: RdpSession['clientInfo'],
    candidates: readonly RdpServer[],
    policy: PlacementPolicy,
    pool: Pool | null,
    /** Read the chosen server's load before admission (for the broker's reason). */
    measure: boolean,
  ): Promise<Admission> {
    const limits = await this.deps.limits.get();
    const id = this.deps.newId();
    const held: [string, number][] = [];
    // Each release on its own: one that fails must neither hide the refusal nor keep the others
    // (the reconciler frees what is left).
    const release = async () => {
      for (const [prefix, n] of held) await this.deps.claims.release(`${prefix}${n}`, id).catch(() => false);
    };
    const refuse = async (limit: string, max: number, text: string, setting: string): Promise<never> => {
      await release();
      throw new LimitExceededError(limit, max, text, setting);
    };
    // The cap most likely full first: under a burst a caller it refuses has no other slot to give
    // back (1,000 callers for 100 slots: about half the database round trips). That is the
    // pool's where there is one (at most the fleet's in practice), else the global one. Both come
    // before the server's, so a caller they refuse never held (nor skewed the spread of) a server slot.
    const claimPool = async (): Promise<number | null> => {
      if (pool?.maxSessions == null) return null;
      const slot = await this.slots.claim(SLOT.pool(pool.id), pool.maxSessions, id);
      if (slot === null) {
        await refuse(
          'pool.maxSessions',
          pool.maxSessions,
          `pool ${pool.name} already has its maximum of ${pool.maxSessions} sessions`,
          "raise the pool's maxSessions with updatePool",
        );
      }
      held.push([SLOT.pool(pool.id), slot as number]);
      return slot;
    };
    const claimGlobal = async (): Promise<number> => {
      const max = limits.global.maxSessions;
      const slot = await this.slots.claim(SLOT.global, max, id);
      if (slot === null) {
        await refuse(
          'maxSessions',
          max,
          `the fleet already has the maximum of ${max} sessions`,
          'raise global.maxSessions with updateResourceLimits; MAX_CONCURRENT_SESSIONS sets the default',
        );
      }
      held.push([SLOT.global, slot as number]);
      return slot as number;
    };
    let poolSlot: number | null;
    let globalSlot: number;
    if (pool?.maxSessions != null) {
      poolSlot = await claimPool();
      globalSlot = await claimGlobal();
    } else {
      globalSlot = await claimGlobal();
      poolSlot = null;
    }
    const placed = await this.claimServerSlot(candidates, policy, id, measure);
    if (placed === null) {
      const only = candidates.length === 1 ? candidates[0] : undefined;
      if (only) {
        await refuse(
          'server.maxSessions',
          only.configuration.maxSessions,
          `this server already has its maximum of ${only.configuration.maxSessions} sessions`,
          "raise the server's configuration.maxSessions with updateServer",
        );
      }
      const room = candidates.reduce((n, s) => n + s.configuration.maxSessions, 0);
      await refuse(
        'server.maxSessions',
        room,
        `every server of ${pool ? `pool ${pool.name}` : 'the target'} that takes sessions is full (${candidates.length} servers, ${room} sessions)`,
        "raise the servers' configuration.maxSessions with updateServer, or add running servers to the pool with setServerPool",
      );
    }
    const { server, slot: serverSlot, loadBefore } = placed as NonNullable<typeof placed>;
    held.push([SLOT.server(server.id), serverSlot]);
    const userMax = limits.perUser.maxSessions;
    // Every admitted caller of a burst needs a slot of its own user's cap: one round for them all.
    const userSlot = await this.slots.claim(SLOT.user(viewer.userId), userMax, id, SLOT.families.user);
    if (userSlot === null) {
      await refuse(
        'user.maxSessions',
        userMax,
        `you already have the maximum of ${userMax} sessions`,
        'raise perUser.maxSessions with updateResourceLimits',
      );
    }
    held.push([SLOT.user(viewer.userId), userSlot as number]);
    const slots: SessionSlots = {
      global: globalSlot,
      server: serverSlot,
      user: userSlot as number,
      ...(poolSlot !== null ? { pool: poolSlot } : {}),
    };
    if (mode === 'HOST_ACCOUNT') {
      // xrdp's sesman joins a second login of the same account (same size and depth) to the desktop
      // it already runs, so two live sessions would be one desktop with two records and no way to
      // tell their logins apart.
      const prefix = SLOT.hostAccount(server.id, viewer.username);
      if ((await this.slots.claim(prefix, 1, id, SLOT.families.hostAccount)) === null) {
        await release();
        throw new ConflictError(
          `you already have a live session on this server with your host account "${viewer.username}"; reconnect to it or terminate it first`,
        );
      }
      held.push([prefix, 0]);
      // createSession checked its one server before any slot; the broker's pick is known only now.
      if (
        candidates.length > 1 &&
        this.deps.accounts &&
        !(await this.deps.accounts.exists(viewer.username, { hostId: server.hostId }))
      ) {
        await release();
        throw new ValidationError(
          'credentialMode',
          `there is no Linux account "${viewer.username}" on the host of server ${server.name}; ask for one or use EPHEMERAL`,
        );
      }
    }

    let username = viewer.username;
    let password: string | null = null;
    let accountMade = false;
    try {
      if (mode === 'EPHEMERAL' && this.deps.accounts) {
        username = newAccountName();
        password = newPassword();
        await this.deps.accounts.create(username, password, { desktop: server.configuration.desktop, hostId: server.hostId });
        accountMade = true;
      }
      const now = this.deps.clock.now().toISOString();
      const expiresAt = addSeconds(now, this.deps.credentialTtlSeconds ?? 3600);
      const session: RdpSession = {
        id,
        serverId: server.id,
        hostId: server.hostId,
        ...(pool ? { poolId: pool.id } : {}),
        owner: viewer.userId,
        createdBy: viewer.userId,
        status: 'ACTIVE',
        terminationReason: null,
        clientInfo,
        credentialMode: mode,
        username,
        credentialHash: password ? await hashPassword(password) : null,
        credentialExpiresAt: expiresAt,
        credentialDeadline: mode === 'EPHEMERAL' ? expiresAt : null,
        display: null,
        slots,
        createdAt: now,
        connectedAt: null,
        lastActivityAt: now,
        terminatedAt: null,
        idleDeadline: addSeconds(now, this.deps.timeouts.idleSeconds),
        sessionDeadline: addSeconds(now, Math.min(this.deps.timeouts.sessionSeconds, limits.perSession.maxDurationSeconds)),
        version: 1,
      };
      await this.deps.store.insert(session);
      this.publish('CREATED', session);
      this.deps.metrics?.created();
      // A stop may have begun while the account was made: a server that is not running now keeps
      // no session (its stop sweeps what it saw; this catches what it could not see yet).
      const current = await this.deps.servers.findById(server.id).catch(() => null);
      if (current?.status !== 'RUNNING') {
        await this.end(session, 'SERVER_STOPPED');
        throw new ConflictError('the server stopped while the session was being admitted');
      }
      // Likewise a drain that began meanwhile: its notices may not have seen this session.
      if (current.drain) {
        await this.end(session, 'DRAINED');
        assertNotDraining(current);
      }
      return { session, connection: this.connectionOf(session, server, password), server, loadBefore };
    } catch (err) {
      if (accountMade) await this.deps.accounts?.remove(username, { hostId: server.hostId }).catch(() => undefined);
      await release();
      throw err;
    }
  }

  /**
   * A fresh one-time password for a live EPHEMERAL session, for its owner or an operator: the
   * account's password changes on its host first (the old one fails at xrdp from then on, and a
   * lock of SESSION_CREDENTIAL_TTL is lifted), then the record gets the new hash and expiry.
   */
  async reissueCredentials(viewer: Viewer, id: string): Promise<{ session: RdpSession; connection: ConnectionInfo }> {
    return audited(
      this.deps.audit,
      { actor: actorOf(viewer), action: 'session.reissue', target: sessionTarget(id) },
      () => this.reissueUnaudited(viewer, id),
      ({ session }) => ({ target: sessionTarget(session.id, session.username), details: { owner: session.owner } }),
    );
  }

  private async reissueUnaudited(viewer: Viewer, id: string): Promise<{ session: RdpSession; connection: ConnectionInfo }> {
    let session = await this.getManageable(viewer, id);
    const refuse = (s: RdpSession) => {
      if (s.status === 'TERMINATED') throw new ConflictError('session is terminated; its account is gone');
      if (s.credentialMode === 'HOST_ACCOUNT') {
        throw new ConflictError('a HOST_ACCOUNT session logs in with your own Linux password; there is none to reissue');
      }
    };
    refuse(session);
    const accounts = this.deps.accounts;
    if (!accounts) throw new ConflictError('EPHEMERAL accounts are not available on this host');
    const server = await this.deps.servers.findById(session.serverId);
    if (!server) throw new NotFoundError('session', id);
    const password = newPassword();
    const credentialHash = await hashPassword(password);
    const where = await this.hostOf(session);
    for (let attempt = 0; attempt < 5; attempt++) {
      const expiresAt = addSeconds(this.deps.clock.now().toISOString(), this.deps.credentialTtlSeconds ?? 3600);
      let next: RdpSession;
      try {
        next = await this.transition(session, 'UPDATED', {
          credentialHash,
          credentialExpiresAt: expiresAt,
          credentialDeadline: expiresAt,
        });
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        const reread = await this.deps.store.findById(id);
        if (!reread) throw new NotFoundError('session', id);
        refuse(reread);
        session = reread;
        continue;
      }
      // The record first, then the account: a sweep that read the old deadline and locks the
      // account after this write finds its own write refused and unlocks it (sweep), so the new
      // password is never left locked.
      try {
        await accounts.setPassword(next.username, password, where);
      } catch (err) {
        // The old password must not outlive its own deadline because of a longer one written here.
        await this.transition(next, 'UPDATED', {
          credentialHash: session.credentialHash,
          credentialExpiresAt: session.credentialExpiresAt,
          credentialDeadline: session.credentialDeadline,
        }).catch(() => undefined);
        throw err;
      }
      return { session: next, connection: this.connectionOf(next, server, password) };
    }
    throw new ConflictError('session kept changing; retry');
  }

  /**
   * What an RDP client needs for a session on its server (docs/DOMAIN.md, "The .rdp file");
   * `password` only right after admission or a reissue.
   */
  connectionOf(session: RdpSession, server: RdpServer, password: string | null): ConnectionInfo {
    const { configuration } = server;
    return {
      host: server.host,
      port: server.port,
      username: session.username,
      password,
      expiresAt: session.credentialExpiresAt,
      rdpFile: renderRdpFile({
        host: server.host,
        port: server.port,
        username: session.username,
        resolution: session.clientInfo.resolution ?? configuration.resolution,
        colorDepth: session.clientInfo.colorDepth ?? configuration.colorDepth,
        redirection: {
          clipboard: configuration.clipboard,
          audio: configuration.audio,
          driveRedirection: configuration.driveRedirection,
          printerRedirection: configuration.printerRedirection,
        },
      }),
    };
  }

  /**
   * Claims a server slot on one of the candidates. One candidate: any free slot (the SlotAllocator,
   * as createSession always did). Several: the policy picks the server by how many slots each
   * holds — BREADTH_FIRST the fewest (ties at random, so a burst spreads instead of colliding),
   * DEPTH_FIRST the most that still has room (ties in the candidates' order) — and its lowest
   * free slot is claimed by insert. A lost insert re-reads that server's slots and picks again.
   * Slots only move by inserts, so under a burst a caller that wins a slot at count n saw every
   * other server at n or more: BREADTH_FIRST holds across replicas (docs/DOMAIN.md, "Broker").
   */
  private async claimServerSlot(
    candidates: readonly RdpServer[],
    policy: PlacementPolicy,
    owner: string,
    measure: boolean,
  ): Promise<{ server: RdpServer; slot: number; loadBefore: number } | null> {
    if (candidates.length === 1) {
      const server = candidates[0] as RdpServer;
      const prefix = SLOT.server(server.id);
      const loadBefore = measure ? await this.deps.claims.count(prefix) : 0;
      const slot = await this.slots.claim(prefix, server.configuration.maxSessions, owner);
      return slot === null ? null : { server, slot, loadBefore };
    }
    const readTaken = async (server: RdpServer) => {
      const prefix = SLOT.server(server.id);
      return new Set((await this.deps.claims.list(prefix)).map((c) => Number(c.key.slice(prefix.length))));
    };
    // One read of every server's slots (bounded by the global cap), not one per candidate.
    const taken = new Map<string, Set<number>>(candidates.map((s) => [s.id, new Set<number>()]));
    const all = await this.deps.claims.list('slot:sessions:server:');
    for (const server of candidates) {
      const prefix = SLOT.server(server.id);
      const mine = taken.get(server.id) as Set<number>;
      for (const c of all) if (c.key.startsWith(prefix)) mine.add(Number(c.key.slice(prefix.length)));
    }
    const countOf = (s: RdpServer) => taken.get(s.id)?.size ?? 0;
    // Bounded: each turn either wins, or learns of at least one more taken slot.
    for (let turn = 0; turn < 10_000; turn++) {
      const open = candidates.filter((s) => countOf(s) < s.configuration.maxSessions);
      if (open.length === 0) return null;
      let server: RdpServer;
      if (policy === 'BREADTH_FIRST') {
        const least = Math.min(...open.map(countOf));
        const tied = open.filter((s) => countOf(s) === least);
        server = tied[Math.floor(Math.random() * tied.length)] as RdpServer;
      } else {
        const most = Math.max(...open.map(countOf));
        server = open.find((s) => countOf(s) === most) as RdpServer;
      }
      const mine = taken.get(server.id) as Set<number>;
      let slot = 0;
      while (mine.has(slot)) slot++;
      const prefix = SLOT.server(server.id);
      const loadBefore = mine.size;
      if (await this.deps.claims.tryClaim(`${prefix}${slot}`, owner)) {
        // As claimSlot: after a lowered cap, slots above it are still held.
        if ((await this.deps.claims.count(prefix)) <= server.configuration.maxSessions) return { server, slot, loadBefore };
        await this.deps.claims.release(`${prefix}${slot}`, owner).catch(() => false);
        for (let n = 0; n < server.configuration.maxSessions; n++) mine.add(n);
        continue;
      }
      const now = await readTaken(server);
      now.add(slot);
      taken.set(server.id, now);
    }
    return null;
  }

  async connect(viewer: Viewer, id: string): Promise<RdpSession> {
    return this.auditedChange(viewer, 'session.connect', id, async () => {
      const session = await this.getManageable(viewer, id);
      if (session.status === 'TERMINATED') throw new ConflictError('session is terminated and cannot come back');
      if (session.status === 'ACTIVE') throw new ConflictError('session is already connected');
      return this.transition(session, 'CONNECTED', this.activePatch());
    });
  }

  /**
   * Drops the session's RDP client for real while its desktop keeps running, so a reconnect with
   * the same account finds it again. The client goes first: a failure leaves the record as it was.
   */
  async disconnect(viewer: Viewer, id: string): Promise<RdpSession> {
    return this.auditedChange(viewer, 'session.disconnect', id, async () => {
      let session = await this.getManageable(viewer, id);
      if (session.status === 'TERMINATED') throw new ConflictError('session is terminated');
      const ref = refOf(session);
      const dropped = ref && this.deps.host ? await this.deps.host.disconnectClient(ref) : false;
      if (session.status === 'DISCONNECTED' && !dropped) throw new ConflictError('session is already disconnected');
      for (let attempt = 0; attempt < 5; attempt++) {
        // The xrdp watcher may record the client's going first: that is this request's outcome too.
        if (session.status === 'DISCONNECTED') return session;
        if (session.status === 'TERMINATED') throw new ConflictError('session is terminated');
        try {
          return await this.transition(session, 'DISCONNECTED', this.disconnectedPatch());
        } catch (err) {
          if (!(err instanceof ConflictError)) throw err;
          const reread = await this.deps.store.findById(id);
          if (!reread) throw new NotFoundError('session', id);
          session = reread;
        }
      }
      throw new ConflictError('session kept changing; retry');
    });
  }

  /** Connect and disconnect by hand: an operator may do it to anyone's session, so both are audited. */
  private auditedChange(viewer: Viewer, action: string, id: string, run: () => Promise<RdpSession>): Promise<RdpSession> {
    return audited(this.deps.audit, { actor: actorOf(viewer), action, target: sessionTarget(id) }, run, (s) => ({
      target: sessionTarget(s.id, s.username),
      details: { owner: s.owner, serverId: s.serverId },
    }));
  }

  /**
   * Ends a session for good. Without `force` it is refused while a client is really connected,
   * as the host tells it, whatever the record says.
   */
  async terminate(viewer: Viewer, id: string, force = false): Promise<RdpSession> {
    return audited(
      this.deps.audit,
      { actor: actorOf(viewer), action: 'session.terminate', target: sessionTarget(id), details: { force } },
      async () => {
        const session = await this.getManageable(viewer, id);
        if (session.status === 'TERMINATED') {
          // A terminate whose write landed but whose acknowledgement was lost left them: a repeat frees them.
          await this.releaseSlots(session);
          throw new ConflictError('session is already terminated');
        }
        const reason: TerminationReason = session.owner === viewer.userId ? 'USER' : 'ADMIN';
        // A login may land between this check and the write: it is made again on every retry.
        return this.end(session, reason, null, force ? undefined : (current) => this.refuseIfClientConnected(current));
      },
      (s) => ({ target: sessionTarget(s.id, s.username), details: { reason: s.terminationReason, serverId: s.serverId } }),
    );
  }

  /** The viewer's own live sessions (owner), oldest first: the snapshot of mySessions. */
  async liveOwnedBy(viewer: Viewer): Promise<RdpSession[]> {
    const out: RdpSession[] = [];
    let after: RdpSession | undefined;
    for (;;) {
      const cursor = after ? { createdAt: after.createdAt, id: after.id } : undefined;
      const { items, hasNextPage } = await this.deps.store.list(
        { userId: viewer.userId, statuses: LIVE_STATUSES },
        MAX_PAGE_SIZE,
        cursor,
      );
      out.push(...items);
      after = items.at(-1);
      if (!hasNextPage || !after) return out;
    }
  }

  /** Batch read for DataLoader: each server's sessions in the statuses, visible to the viewer. */
  async byServers(viewer: Viewer, serverIds: readonly string[], statuses: readonly SessionStatus[]): Promise<RdpSession[][]> {
    const all = await this.deps.store.findByServerIds(serverIds, statuses);
    // One pass, not one filter per server: a page of 100 servers made this quadratic.
    const byServer = new Map<string, RdpSession[]>(serverIds.map((id) => [id, []]));
    for (const s of all) if (canSee(viewer, s)) byServer.get(s.serverId)?.push(s);
    return serverIds.map((id) => byServer.get(id) ?? []);
  }

  // LiveSessions, for the servers area (stop/restart/delete with force).
  async countLive(serverId: string): Promise<number> {
    return this.deps.store.count({ serverId, statuses: LIVE_STATUSES });
  }

  async notifyDrain(kind: 'DRAIN_NOTICE' | 'DRAIN_CANCELLED', notice: DrainNotice): Promise<number> {
    let n = 0;
    let after: Cursor | undefined;
    const at = this.deps.clock.now().toISOString();
    while (true) {
      const page = await this.deps.store.list({ serverId: notice.serverId, status: 'ACTIVE' }, MAX_PAGE_SIZE, after);
      for (const session of page.items) {
        this.publish(kind, session, { at, drain: notice });
        n++;
      }
      const last = page.items.at(-1);
      if (!page.hasNextPage || !last) return n;
      after = last;
    }
  }

  async terminateAll(serverId: string, reason: 'SERVER_STOPPED' | 'SERVER_ERROR' | 'DRAINED'): Promise<number> {
    let n = 0;
    while (true) {
      const { items } = await this.deps.store.list({ serverId, statuses: LIVE_STATUSES }, MAX_PAGE_SIZE);
      if (items.length === 0) return n;
      for (const s of items) {
        try {
          await this.end(s, reason);
          n++;
        } catch (err) {
          if (!(err instanceof ConflictError)) throw err;
        }
      }
    }
  }

  /** What xrdp reported for a server: logins and disconnects of session accounts move sessions. */
  async applyXrdpEvent(event: XrdpSessionEvent, eventKey?: string): Promise<RdpSession | null> {
    if (event.kind === 'LOGIN_FAILED') return null;
    const seen = eventKey ? { lastHostEvent: eventKey } : {};
    for (let attempt = 0; attempt < 5; attempt++) {
      const session = await this.deps.store.findLiveByAccount(event.serverId, event.user);
      if (!session) return null;
      if (eventKey && appliedAlready(session.lastHostEvent, eventKey)) return session;
      try {
        if (event.kind === 'LOGIN_SUCCEEDED' || event.kind === 'CONNECTED') {
          const patch = { ...this.activePatch(), ...(event.display !== null ? { display: event.display } : {}), ...seen };
          if (session.status === 'ACTIVE' && session.connectedAt && session.display === (event.display ?? session.display)) {
            return await this.confine(await this.transition(session, 'UPDATED', patch));
          }
          return await this.confine(
            await this.transition(session, 'CONNECTED', {
              ...patch,
              connectedAt: session.connectedAt ?? this.deps.clock.now().toISOString(),
            }),
          );
        }
        if (event.kind === 'DISCONNECTED' && session.status === 'ACTIVE') {
          return await this.transition(session, 'DISCONNECTED', { ...this.disconnectedPatch(), ...seen });
        }
        if (event.kind === 'SESSION_ENDED') return await this.end(session, 'USER');
        return session;
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
      }
    }
    return null;
  }

  /**
   * What a host measured on its live desktops: input on an ACTIVE session's desktop moves its
   * last activity and idle deadline; input on a DISCONNECTED one with a client connected since it
   * was disconnected means the record missed a reconnect, and it is ACTIVE again. Idempotent, and
   * an activity change under ACTIVITY_RESOLUTION is not written, so reports every few seconds do
   * not make an event each. Returns how many sessions changed.
   *
   * @param measuredAt when the host measured (idle times count back from it) @default now
   */
  async applyActivity(reports: readonly SessionActivityReport[], measuredAt?: Date): Promise<number> {
    const nowMs = this.deps.clock.now().getTime();
    // A host clock ahead of ours must not put input in the future.
    const at = Math.min(measuredAt?.getTime() ?? nowMs, nowMs);
    let changed = 0;
    let failure: unknown = null;
    for (const report of reports) {
      try {
        if (await this.applyOneActivity(report, at)) changed++;
      } catch (err) {
        if (!(err instanceof ConflictError)) failure ??= err;
      }
    }
    if (failure) throw failure;
    return changed;
  }

  private async applyOneActivity(report: SessionActivityReport, at: number): Promise<boolean> {
    if (!report.clientConnected || report.idleMs === null || !Number.isFinite(report.idleMs)) return false;
    const session = await this.deps.store.findLiveByAccount(report.serverId, report.user);
    if (!session || session.display !== report.display) return false;
    const inputAt = at - Math.max(0, report.idleMs);
    if (session.status === 'ACTIVE') {
      if (inputAt - Date.parse(session.lastActivityAt) < this.activityResolutionMs()) return false;
      await this.transition(session, 'UPDATED', this.activityPatch(inputAt));
      return true;
    }
    // Only input after the disconnect counts: a report measured before it (the client was still
    // there) arriving after it must not bring the session back.
    const disconnectedAt = this.disconnectedAt(session);
    if (disconnectedAt === null || inputAt <= disconnectedAt) return false;
    await this.transition(session, 'CONNECTED', this.activityPatch(inputAt));
    return true;
  }

  /**
   * One sweep of the deadlines (run by every replica): a session past its maximum duration is
   * terminated; an ACTIVE one past its idle deadline has its client disconnected, unless the host
   * shows recent input; a DISCONNECTED one past its deadline is terminated (IDLE_TIMEOUT), unless
   * a client is connected after all; an EPHEMERAL account whose one-time password expired is
   * locked. Each transition is a compare-and-set, so however many replicas sweep, it happens
   * once; the lock comes first and is idempotent, so a replica that dies in between leaves it for
   * the next sweep, never a password that still works. A host that cannot be asked leaves its
   * sessions for the next sweep: a working user is never disconnected on a guess.
   */
  async sweep(limit = 200): Promise<{ terminated: number; disconnected: number; credentialsLocked: number }> {
    const now = this.deps.clock.now().toISOString();
    const due = await this.deps.store.findDue(now, limit);
    let terminated = 0;
    let disconnected = 0;
    let credentialsLocked = 0;
    let failure: unknown = null;
    const recordFailure = (err: unknown) => {
      failure ??= err;
      return null;
    };
    for (const s of due) {
      try {
        if (s.sessionDeadline <= now) {
          await this.end(s, 'SESSION_TIMEOUT');
          terminated++;
          continue;
        }
        let current = s;
        if (s.credentialDeadline !== null && s.credentialDeadline <= now && this.deps.accounts) {
          // A lock that fails leaves the deadline for the next sweep; the others go on.
          const locked = await this.deps.accounts.lock(s.username, await this.hostOf(s)).then(() => true, recordFailure);
          if (!locked) continue;
          try {
            current = await this.transition(s, 'UPDATED', { credentialDeadline: null });
          } catch (err) {
            if (err instanceof ConflictError) await this.unlockIfReissued(s, now).catch(recordFailure);
            throw err;
          }
          credentialsLocked++;
        }
        if (current.idleDeadline === null || current.idleDeadline > now) continue;
        const ref = refOf(current);
        const state = ref && this.deps.host ? await this.deps.host.inspect(ref).catch(recordFailure) : undefined;
        if (state === null) continue;
        const nowMs = Date.parse(now);
        if (current.status === 'ACTIVE') {
          if (state?.clientConnected && state.idleMs !== null && state.idleMs < this.deps.timeouts.idleSeconds * 1000) {
            await this.transition(current, 'UPDATED', this.activityPatch(nowMs - state.idleMs));
            continue;
          }
          await this.transition(current, 'DISCONNECTED', this.disconnectedPatch());
          disconnected++;
          if (ref && state?.clientConnected) await this.deps.host?.disconnectClient(ref).catch(recordFailure);
          continue;
        }
        if (state?.clientConnected) {
          // The record missed a reconnect: a session with a client is not ended as abandoned.
          const inputAt = state.idleMs === null ? nowMs : Math.max(nowMs - state.idleMs, Date.parse(current.lastActivityAt));
          await this.transition(current, 'CONNECTED', this.activityPatch(inputAt));
          continue;
        }
        await this.end(current, 'IDLE_TIMEOUT');
        terminated++;
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
      }
    }
    if (failure) throw failure;
    return { terminated, disconnected, credentialsLocked };
  }

  /**
   * A sweep locked the account of `read` but could not record it: when the record now carries a
   * reissued password with a deadline ahead, the lock may have hit that password (set after the
   * sweep read), so it is lifted. Unlocking a password set after the lock changes nothing.
   */
  private async unlockIfReissued(read: RdpSession, now: string): Promise<void> {
    const current = await this.deps.store.findById(read.id);
    if (!current || current.status === 'TERMINATED' || current.credentialHash === read.credentialHash) return;
    if (current.credentialDeadline === null || current.credentialDeadline <= now) return;
    await this.deps.accounts?.unlock(current.username, await this.hostOf(current));
  }

  /** Frees cap slots whose session was never written or has ended (its replica died first). */
  async reconcileClaims(): Promise<number> {
    return releaseOrphanClaims(this.deps.claims, ['slot:sessions:'], this.deps.clock.now(), async (ids) => {
      const found = await this.deps.store.findByIds(ids);
      return new Set(found.filter((s) => s.status !== 'TERMINATED').map((s) => s.id));
    });
  }

  async countByStatus(): Promise<Partial<Record<SessionStatus, number>>> {
    return this.deps.store.countByStatus();
  }

  /** Where a session's account lives: recorded at admission, or its server's host for older records. */
  private async hostOf(session: RdpSession): Promise<AccountHost> {
    const hostId = session.hostId ?? (await this.deps.servers.findById(session.serverId))?.hostId;
    return hostId ? { hostId } : {};
  }

  /** The server as the viewer may see it; another user's answers exactly as a missing one. */
  private async visibleServer(viewer: Viewer, id: string): Promise<RdpServer> {
    const server = await this.deps.servers.findById(id);
    if (!server) throw new NotFoundError('server', id);
    if (canSee(viewer, server)) return server;
    const grants = isOperator(viewer) || !this.deps.grants ? NO_GRANTS : await this.deps.grants.grantsOf(viewer);
    if (!seesServer(viewer, server, grants)) throw new NotFoundError('server', id, true);
    return server;
  }

  /** A session xrdp reported on a display runs under the per-session limits from then on. */
  private async confine(session: RdpSession): Promise<RdpSession> {
    if (this.deps.enforcement && session.display !== null) {
      const { perSession } = await this.deps.limits.get();
      await this.deps.enforcement.confineSession({
        sessionId: session.id,
        serverId: session.serverId,
        username: session.username,
        display: session.display,
        cpuPercent: perSession.maxCpu,
        memoryMb: perSession.maxMemoryMb,
      });
    }
    return session;
  }

  private activePatch(): Partial<RdpSession> {
    return this.activityPatch(this.deps.clock.now().getTime());
  }

  private activityPatch(inputAtMs: number): Partial<RdpSession> {
    const at = new Date(inputAtMs).toISOString();
    return { status: 'ACTIVE', lastActivityAt: at, idleDeadline: addSeconds(at, this.deps.timeouts.idleSeconds) };
  }

  /** A DISCONNECTED session's deadline is when it is ended if no client comes back. */
  private disconnectedPatch(): Partial<RdpSession> {
    const now = this.deps.clock.now().toISOString();
    return { status: 'DISCONNECTED', idleDeadline: addSeconds(now, this.disconnectedSeconds()) };
  }

  private disconnectedSeconds(): number {
    return this.deps.timeouts.disconnectedSeconds ?? this.deps.timeouts.idleSeconds;
  }

  /** When a DISCONNECTED session went so (its deadline less the timeout), or null for records without one. */
  private disconnectedAt(session: RdpSession): number | null {
    return session.idleDeadline === null ? null : Date.parse(session.idleDeadline) - this.disconnectedSeconds() * 1000;
  }

  /**
   * Activity moves less than this is not written (ACTIVITY_RESOLUTION): the idle deadline is at
   * most this much early, and the sweep asks the host again before it acts on it.
   */
  private activityResolutionMs(): number {
    return Math.min(ACTIVITY_RESOLUTION_MS, this.deps.timeouts.idleSeconds * 250);
  }

  /** Refuses while a client is connected: the host's word when it can tell, else the record's. */
  private async refuseIfClientConnected(session: RdpSession): Promise<void> {
    const ref = refOf(session);
    let state: SessionHostState | null = null;
    if (ref && this.deps.host) {
      try {
        state = await this.deps.host.inspect(ref);
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        throw new ConflictError(`cannot tell whether a client is connected (${why}); pass force: true to end it`);
      }
    }
    const connected = state ? state.clientConnected : session.status === 'ACTIVE' && session.connectedAt !== null;
    if (connected) throw new ConflictError('a client is connected to this session; pass force: true to end it');
  }

  private async getManageable(viewer: Viewer, id: string): Promise<RdpSession> {
    const session = await this.deps.store.findById(id);
    if (!session) throw new NotFoundError('session', id);
    if (!canManage(viewer, session)) throw new NotFoundError('session', id, true);
    return session;
  }

  /**
   * Terminates once: the compare-and-set from a live status to TERMINATED has one winner; the
   * winner ends the xrdp session, removes the account and gives the slots back. The service's own
   * terminations (timeouts, server stops, xrdp reports) are audited here as `system`; a caller's
   * terminate is audited by `terminate` (actor null here).
   */
  private async end(
    session: RdpSession,
    reason: TerminationReason,
    actor: AuditActor | null = SYSTEM_ACTOR,
    guard?: (current: RdpSession) => Promise<void>,
  ): Promise<RdpSession> {
    let current = session;
    for (let attempt = 0; attempt < 5; attempt++) {
      if (current.status === 'TERMINATED') throw new ConflictError('session is already terminated');
      await guard?.(current);
      try {
        const ended = await this.transition(current, 'TERMINATED', {
          status: 'TERMINATED',
          terminationReason: reason,
          terminatedAt: this.deps.clock.now().toISOString(),
          idleDeadline: null,
          credentialDeadline: null,
        });
        this.deps.metrics?.terminated(reason);
        await this.cleanUp(ended);
        if (actor) {
          await this.deps.audit?.record({
            actor,
            action: 'session.terminate',
            target: sessionTarget(ended.id, ended.username),
            result: 'SUCCESS',
            details: { reason, serverId: ended.serverId },
          });
        }
        return ended;
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        const reread = await this.deps.store.findById(session.id);
        if (!reread) throw new NotFoundError('session', session.id);
        // Ended meanwhile, by another request or by this one's own write whose acknowledgement was
        // lost (a pool cleared under it): either way a TERMINATED session holds no slots.
        if (reread.status === 'TERMINATED') await this.releaseSlots(reread);
        current = reread;
      }
    }
    throw new ConflictError('session kept changing; retry');
  }

  private async cleanUp(session: RdpSession): Promise<void> {
    const ref = refOf(session);
    if (ref && this.deps.host) await this.deps.host.end(ref).catch(() => undefined);
    await this.deps.enforcement?.releaseSession(session.serverId, session.id);
    if (session.credentialMode === 'EPHEMERAL') {
      await this.deps.accounts?.remove(session.username, await this.hostOf(session).catch(() => ({}))).catch(() => undefined);
    }
    await this.releaseSlots(session);
  }

  /**
   * Gives a TERMINATED session's cap slots back. Idempotent: each release is of the session's own
   * claim (a slot claimed since by another session stays), so running it again changes nothing.
   */
  private async releaseSlots(session: RdpSession): Promise<void> {
    for (const key of [
      ...(session.credentialMode === 'HOST_ACCOUNT' ? [`${SLOT.hostAccount(session.serverId, session.username)}0`] : []),
      `${SLOT.user(session.owner)}${session.slots.user}`,
      `${SLOT.server(session.serverId)}${session.slots.server}`,
      `${SLOT.global}${session.slots.global}`,
      ...(session.poolId !== undefined && session.slots.pool !== undefined
        ? [`${SLOT.pool(session.poolId)}${session.slots.pool}`]
        : []),
    ]) {
      // What fails here is freed by the reconciler: the session is TERMINATED either way.
      await this.deps.claims.release(key, session.id).catch(() => false);
    }
  }

  private async transition(session: RdpSession, kind: SessionEventKind, patch: Partial<RdpSession>): Promise<RdpSession> {
    const next: RdpSession = { ...session, ...patch, version: session.version + 1 };
    if (!(await this.deps.store.compareAndSet(next, session.version))) {
      throw new ConflictError('session was changed by another request; reload and retry');
    }
    this.publish(kind, next);
    return next;
  }

  private publish(kind: SessionEventKind, session: RdpSession, extra?: { at: string; drain: DrainNotice }): void {
    // Events fan out to subscribers and across Redis: the credential hash never travels.
    const event: SessionEvent = {
      kind,
      session: { ...session, credentialHash: null },
      at: extra?.at ?? this.deps.clock.now().toISOString(),
      ...(extra ? { drain: extra.drain } : {}),
    };
    this.deps.events.publish('session:changed', session.id, event);
    this.deps.events.publish('session:changed', `server:${session.serverId}`, event);
    this.deps.events.publish('session:changed', `owner:${session.owner}`, event);
    // A server's live counts move with admissions, ends and ACTIVE <-> DISCONNECTED (not with drain notices).
    if (kind !== 'UPDATED' && !extra) {
      this.deps.events.publish('fleet:changed', 'all', {
        subject: 'SERVER',
        change: 'SESSIONS_CHANGED',
        serverId: session.serverId,
        server: null,
        at: event.at,
      });
    }
  }
}
