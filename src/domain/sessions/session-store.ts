import type { Cursor } from '../shared/page.js';
import type { RdpSession, SessionStatus } from './session.js';

export interface SessionFilter {
  serverId?: string | undefined;
  /** Sessions admitted in this pool. */
  poolId?: string | undefined;
  /** Sessions of this owner. */
  userId?: string | undefined;
  status?: SessionStatus | undefined;
  /** Only these statuses. */
  statuses?: readonly SessionStatus[] | undefined;
  /** Only sessions this user owns or created. */
  visibleTo?: string | undefined;
}

/** Persistence of sessions. Lists are ordered by (createdAt, id). */
export interface SessionStore {
  insert(session: RdpSession): Promise<void>;
  findById(id: string): Promise<RdpSession | null>;
  findByIds(ids: readonly string[]): Promise<RdpSession[]>;
  /** Same contract as ServerStore.compareAndSet: one of several concurrent writers wins. */
  compareAndSet(next: RdpSession, expectedVersion: number): Promise<boolean>;
  list(filter: SessionFilter, first: number, after?: Cursor): Promise<{ items: RdpSession[]; hasNextPage: boolean }>;
  count(filter: SessionFilter): Promise<number>;
  countByStatus(): Promise<Partial<Record<SessionStatus, number>>>;
  /** Live sessions whose idle or session deadline is at or before `now`. */
  findDue(now: string, limit: number): Promise<RdpSession[]>;
  /** Sessions of several servers in the given statuses, in one read (for DataLoader). */
  findByServerIds(serverIds: readonly string[], statuses: readonly SessionStatus[]): Promise<RdpSession[]>;
  /** The live session of this Linux account on this server, if any. */
  findLiveByAccount(serverId: string, username: string): Promise<RdpSession | null>;
}
