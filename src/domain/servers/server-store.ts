import type { Cursor } from '../shared/page.js';
import type { RdpServer, ServerStatus } from './server.js';
import type { Grants } from './server-visibility.js';

export interface ServerFilter {
  status?: ServerStatus | undefined;
  ownerId?: string | undefined;
  /** Only servers placed on this host. */
  hostId?: string | undefined;
  /** Only servers of this pool. */
  poolId?: string | undefined;
  /** Only servers this user owns or created (or, with visibleVia, is granted). */
  visibleTo?: string | undefined;
  /** Only servers with a drain (true) or without one (false). */
  draining?: boolean | undefined;
  /** With visibleTo: also these servers and the servers of these pools. */
  visibleVia?: Grants | undefined;
}

/** Persistence of RDP servers. Lists are ordered by (createdAt, id). */
export interface ServerStore {
  insert(server: RdpServer): Promise<void>;
  findById(id: string): Promise<RdpServer | null>;
  findByIds(ids: readonly string[]): Promise<RdpServer[]>;
  /**
   * Writes `next` (whose version is expectedVersion + 1) when the stored version is still
   * expectedVersion. Exactly one of several concurrent writers with the same expectedVersion wins.
   */
  compareAndSet(next: RdpServer, expectedVersion: number): Promise<boolean>;
  delete(id: string): Promise<boolean>;
  list(filter: ServerFilter, first: number, after?: Cursor): Promise<{ items: RdpServer[]; hasNextPage: boolean }>;
  /**
   * Every server the filter matches, in list order (createdAt, then id), in one read: for views
   * that hold the whole fleet (the fleetEvents snapshot), where pages would each scan again.
   */
  listAll(filter: ServerFilter): Promise<RdpServer[]>;
  count(filter: ServerFilter): Promise<number>;
  countByStatus(): Promise<Partial<Record<ServerStatus, number>>>;
}
