import type { RdpSession, SessionStatus } from '../../domain/sessions/session.js';
import type { SessionFilter, SessionStore } from '../../domain/sessions/session-store.js';
import { type Cursor, compareByCursor } from '../../domain/shared/page.js';

function matches(s: RdpSession, f: SessionFilter): boolean {
  if (f.serverId !== undefined && s.serverId !== f.serverId) return false;
  if (f.poolId !== undefined && s.poolId !== f.poolId) return false;
  if (f.userId !== undefined && s.owner !== f.userId) return false;
  if (f.status !== undefined && s.status !== f.status) return false;
  if (f.statuses !== undefined && !f.statuses.includes(s.status)) return false;
  if (f.visibleTo !== undefined && s.owner !== f.visibleTo && s.createdBy !== f.visibleTo) return false;
  return true;
}

const isLive = (s: RdpSession) => s.status !== 'TERMINATED';

/**
 * A copy that shares nothing with the original, field by field for the reasons of copyServer in
 * memory-server-store.ts. The compiler flags a new field that is missing.
 */
function copySession(s: RdpSession): RdpSession {
  return {
    id: s.id,
    serverId: s.serverId,
    ...(s.hostId !== undefined ? { hostId: s.hostId } : {}),
    ...(s.poolId !== undefined ? { poolId: s.poolId } : {}),
    owner: s.owner,
    createdBy: s.createdBy,
    status: s.status,
    terminationReason: s.terminationReason,
    clientInfo: { ...s.clientInfo },
    credentialMode: s.credentialMode,
    username: s.username,
    credentialHash: s.credentialHash,
    credentialExpiresAt: s.credentialExpiresAt,
    // Documents from before the field existed have none: nothing to lock.
    credentialDeadline: s.credentialDeadline ?? null,
    display: s.display,
    slots: { ...s.slots },
    createdAt: s.createdAt,
    connectedAt: s.connectedAt,
    lastActivityAt: s.lastActivityAt,
    terminatedAt: s.terminatedAt,
    idleDeadline: s.idleDeadline,
    sessionDeadline: s.sessionDeadline,
    ...(s.lastHostEvent !== undefined ? { lastHostEvent: s.lastHostEvent } : {}),
    version: s.version,
  };
}

/** Sessions in a Map; copies in and out. */
export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, RdpSession>();

  async insert(session: RdpSession): Promise<void> {
    if (this.sessions.has(session.id)) throw new Error(`duplicate session id ${session.id}`);
    this.sessions.set(session.id, copySession(session));
  }

  async findById(id: string): Promise<RdpSession | null> {
    const s = this.sessions.get(id);
    return s ? copySession(s) : null;
  }

  async findByIds(ids: readonly string[]): Promise<RdpSession[]> {
    return ids.flatMap((id) => {
      const s = this.sessions.get(id);
      return s ? [copySession(s)] : [];
    });
  }

  async compareAndSet(next: RdpSession, expectedVersion: number): Promise<boolean> {
    const current = this.sessions.get(next.id);
    if (!current || current.version !== expectedVersion) return false;
    this.sessions.set(next.id, copySession(next));
    return true;
  }

  async list(filter: SessionFilter, first: number, after?: Cursor): Promise<{ items: RdpSession[]; hasNextPage: boolean }> {
    const sorted = [...this.sessions.values()].filter((s) => matches(s, filter)).sort(compareByCursor);
    const start = after ? sorted.filter((s) => compareByCursor(s, after) > 0) : sorted;
    return { items: start.slice(0, first).map((s) => copySession(s)), hasNextPage: start.length > first };
  }

  async count(filter: SessionFilter): Promise<number> {
    let n = 0;
    for (const s of this.sessions.values()) if (matches(s, filter)) n++;
    return n;
  }

  async countByStatus(): Promise<Partial<Record<SessionStatus, number>>> {
    const out: Partial<Record<SessionStatus, number>> = {};
    for (const s of this.sessions.values()) out[s.status] = (out[s.status] ?? 0) + 1;
    return out;
  }

  async findDue(now: string, limit: number): Promise<RdpSession[]> {
    return [...this.sessions.values()]
      .filter(
        (s) =>
          isLive(s) &&
          (s.sessionDeadline <= now ||
            (s.idleDeadline !== null && s.idleDeadline <= now) ||
            (s.credentialDeadline !== null && s.credentialDeadline <= now)),
      )
      .slice(0, limit)
      .map((s) => copySession(s));
  }

  async findByServerIds(serverIds: readonly string[], statuses: readonly SessionStatus[]): Promise<RdpSession[]> {
    const ids = new Set(serverIds);
    return [...this.sessions.values()]
      .filter((s) => ids.has(s.serverId) && statuses.includes(s.status))
      .sort(compareByCursor)
      .map((s) => copySession(s));
  }

  async findLiveByAccount(serverId: string, username: string): Promise<RdpSession | null> {
    for (const s of this.sessions.values()) {
      if (s.serverId === serverId && s.username === username && isLive(s)) return copySession(s);
    }
    return null;
  }
}
