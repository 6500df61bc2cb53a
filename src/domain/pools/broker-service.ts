import { actorOf } from '../audit/audit-event.js';
import { type AuditRecorder, audited } from '../audit/audit-service.js';
import type { Viewer } from '../auth/viewer.js';
import type { AdmissionGate } from '../resources/host-admission.js';
import type { RdpServer } from '../servers/server.js';
import { assertNotDraining } from '../servers/server-drain.js';
import type { ServerStore } from '../servers/server-store.js';
import { type ConnectionInfo, type CredentialMode, LIVE_STATUSES, type RdpSession } from '../sessions/session.js';
import type { Admission, PlacementRequest } from '../sessions/session-service.js';
import type { SessionStore } from '../sessions/session-store.js';
import { ConflictError, ValidationError } from '../shared/errors.js';
import { type Cursor, MAX_PAGE_SIZE } from '../shared/page.js';
import type { Pool } from './pool.js';

export interface BrokerServiceDeps {
  /** Pools as the viewer may see them (PoolService.get): another's answers as a missing one. */
  pools: { get(viewer: Viewer, id: string): Promise<Pool>; findById(id: string): Promise<Pool | null> };
  /** Servers as the viewer may see them (ServerService.get), the same rule as createSession. */
  servers: { get(viewer: Viewer, id: string): Promise<RdpServer> };
  serverStore: Pick<ServerStore, 'list' | 'findById'>;
  sessionStore: Pick<SessionStore, 'list'>;
  sessions: {
    admitPlaced(viewer: Viewer, request: PlacementRequest): Promise<Admission>;
    connectionOf(session: RdpSession, server: RdpServer, password: string | null): ConnectionInfo;
  };
  /** Refuses sessions on servers whose host is OFFLINE or draining (hosts area). */
  hosts?: { checkAcceptsSessions(hostId: string): Promise<void> };
  /** Refuses sessions on an overloaded host (resources area). */
  admission?: AdmissionGate;
  audit?: AuditRecorder;
}

/** Exactly one of the two (a ValidationError otherwise). */
export interface ConnectTarget {
  poolId?: string | undefined;
  serverId?: string | undefined;
}

export interface ConnectOptions {
  credentialMode?: CredentialMode | undefined;
  clientInfo?: unknown;
}

export interface ConnectResult {
  session: RdpSession;
  server: RdpServer;
  /** True when an existing live session was handed back (no new admission). */
  reconnected: boolean;
  /** As createSession's; on a reconnect without a password (it was shown once, at admission). */
  connection: ConnectionInfo;
  /** Why this server, for people. */
  reason: string;
}

/**
 * "Give me my desktop": one call for a user to reach a pool or a server. A live session of theirs
 * there is handed back (reconnect); otherwise a new one is admitted through SessionService's
 * caps on the server the pool's policy picks (docs/DOMAIN.md, "Broker").
 */
export class BrokerService {
  constructor(private readonly deps: BrokerServiceDeps) {}

  async connect(viewer: Viewer, target: ConnectTarget, options: ConnectOptions = {}): Promise<ConnectResult> {
    return audited(
      this.deps.audit,
      {
        actor: actorOf(viewer),
        action: 'broker.connect',
        target:
          target.poolId !== undefined
            ? { type: 'pool', id: target.poolId, name: null }
            : { type: 'server', id: target.serverId ?? null, name: null },
      },
      () => this.connectUnaudited(viewer, target, options),
      (r) => ({
        details: { sessionId: r.session.id, serverId: r.server.id, reconnected: r.reconnected, reason: r.reason },
      }),
    );
  }

  private async connectUnaudited(viewer: Viewer, target: ConnectTarget, options: ConnectOptions): Promise<ConnectResult> {
    if ((target.poolId === undefined) === (target.serverId === undefined)) {
      throw new ValidationError('target', 'name exactly one of poolId and serverId');
    }
    let pool: Pool | null;
    let servers: RdpServer[];
    if (target.poolId !== undefined) {
      pool = await this.deps.pools.get(viewer, target.poolId);
      servers = await this.serversOf(pool.id);
    } else {
      const server = await this.deps.servers.get(viewer, target.serverId as string);
      pool = server.poolId ? await this.deps.pools.findById(server.poolId) : null;
      servers = [server];
    }
    const place = pool ? `pool ${pool.name}` : `server ${servers[0]?.name ?? ''}`;

    const again = await this.liveSession(viewer, servers, target.poolId !== undefined ? pool : null);
    if (again) {
      const server = servers.find((s) => s.id === again.serverId) ?? (await this.deps.serverStore.findById(again.serverId));
      if (server) {
        return {
          session: again,
          server,
          reconnected: true,
          connection: this.deps.sessions.connectionOf(again, server, null),
          reason: `you already have a ${again.status.toLowerCase()} session in ${place} on server ${server.name}: connect to it again with the same account (${again.username}); the one-time password was shown when it was created and is not shown again`,
        };
      }
    }

    const refused: string[] = [];
    const candidates: RdpServer[] = [];
    // Servers share hosts: each host is asked once per connect.
    const hostChecks = new Map<string, Promise<unknown>>();
    const hostRefusal = (server: RdpServer) => {
      const key = `${server.hostId}\n${server.host}`;
      let check = hostChecks.get(key);
      if (!check) {
        check = (async () => {
          await this.deps.hosts?.checkAcceptsSessions(server.hostId);
          await this.deps.admission?.check('session', server.host);
        })().then(
          () => null,
          (err: unknown) => err,
        );
        hostChecks.set(key, check);
      }
      return check;
    };
    for (const server of servers) {
      if (server.status !== 'RUNNING') {
        refused.push(`${server.name}: ${server.status.toLowerCase()}`);
        continue;
      }
      if (server.drain) {
        // A single server named by the caller answers as createSession does (SERVER_DRAINING).
        if (target.serverId !== undefined) assertNotDraining(server);
        refused.push(`${server.name}: draining until ${server.drain.deadline}`);
        continue;
      }
      const err = await hostRefusal(server);
      if (err === null) {
        candidates.push(server);
        continue;
      }
      // A single server named by the caller answers as createSession does.
      if (target.serverId !== undefined) throw err;
      refused.push(`${server.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (candidates.length === 0) {
      if (target.serverId !== undefined) {
        throw new ConflictError(`server is ${servers[0]?.status.toLowerCase()}; sessions are admitted on running servers only`);
      }
      throw new ConflictError(
        servers.length === 0
          ? `${place} has no servers; an operator adds them with setServerPool`
          : `no server of ${place} takes sessions now (${refused.join('; ')})`,
      );
    }
    // DEPTH_FIRST fills in a stable order: by name, then id.
    candidates.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : 1));
    const policy = pool?.placementPolicy ?? 'DEPTH_FIRST';
    const admitted = await this.deps.sessions.admitPlaced(viewer, {
      candidates,
      policy,
      pool,
      credentialMode: options.credentialMode ?? pool?.defaultCredentialMode ?? undefined,
      clientInfo: options.clientInfo,
    });
    const load = `${admitted.loadBefore} of ${admitted.server.configuration.maxSessions} sessions`;
    const reason =
      target.serverId !== undefined
        ? `the server you asked for, ${admitted.server.name}: ${load} before yours`
        : policy === 'BREADTH_FIRST'
          ? `least loaded server in ${place} (BREADTH_FIRST): ${admitted.server.name} had ${load}`
          : `${place} fills one server before the next (DEPTH_FIRST): ${admitted.server.name} had ${load}`;
    return { session: admitted.session, server: admitted.server, reconnected: false, connection: admitted.connection, reason };
  }

  /** Every server of the pool. */
  private async serversOf(poolId: string): Promise<RdpServer[]> {
    const out: RdpServer[] = [];
    let after: Cursor | undefined;
    while (true) {
      const page = await this.deps.serverStore.list({ poolId }, MAX_PAGE_SIZE, after);
      out.push(...page.items);
      const last = page.items.at(-1);
      if (!page.hasNextPage || !last) return out;
      after = last;
    }
  }

  /**
   * The viewer's live session on these servers (or admitted in the pool): a DISCONNECTED one
   * first (a client came back), else the newest ACTIVE one (xrdp hands the desktop to the new
   * client).
   */
  private async liveSession(viewer: Viewer, servers: RdpServer[], pool: Pool | null): Promise<RdpSession | null> {
    const ids = new Set(servers.map((s) => s.id));
    const { items } = await this.deps.sessionStore.list({ userId: viewer.userId, statuses: LIVE_STATUSES }, MAX_PAGE_SIZE);
    const here = items.filter((s) => ids.has(s.serverId) || (pool !== null && s.poolId === pool.id)).reverse();
    return here.find((s) => s.status === 'DISCONNECTED') ?? here[0] ?? null;
  }
}
