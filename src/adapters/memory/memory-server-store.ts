import type { RdpServer, ServerStatus } from '../../domain/servers/server.js';
import type { ServerFilter, ServerStore } from '../../domain/servers/server-store.js';
import { type Cursor, compareByCursor } from '../../domain/shared/page.js';

function matches(s: RdpServer, f: ServerFilter): boolean {
  if (f.status !== undefined && s.status !== f.status) return false;
  if (f.ownerId !== undefined && s.owner !== f.ownerId) return false;
  if (f.hostId !== undefined && s.hostId !== f.hostId) return false;
  if (f.poolId !== undefined && s.poolId !== f.poolId) return false;
  if (f.visibleTo !== undefined && s.owner !== f.visibleTo && s.createdBy !== f.visibleTo) {
    const via = f.visibleVia;
    if (!via || !(via.serverIds.includes(s.id) || (s.poolId !== null && via.poolIds.includes(s.poolId)))) return false;
  }
  if (f.draining !== undefined && (s.drain !== null) !== f.draining) return false;
  return true;
}

/**
 * A copy that shares nothing with the original. Spelled out field by field rather than
 * structuredClone, which cost 50 times as much and dominated every list read; one fixed shape
 * keeps the copy and every later read monomorphic. The compiler flags a new field that is missing.
 */
function copyServer(s: RdpServer): RdpServer {
  return {
    id: s.id,
    name: s.name,
    description: s.description,
    owner: s.owner,
    createdBy: s.createdBy,
    status: s.status,
    statusMessage: s.statusMessage,
    statusBeforeMaintenance: s.statusBeforeMaintenance,
    hostId: s.hostId,
    host: s.host,
    port: s.port,
    poolId: s.poolId,
    configuration: { ...s.configuration },
    resources: { ...s.resources },
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    lastStartedAt: s.lastStartedAt,
    lastStoppedAt: s.lastStoppedAt,
    drain: s.drain ? { ...s.drain } : null,
    version: s.version,
  };
}

/** Servers in a Map; copies in and out so callers never share state with the store. */
export class MemoryServerStore implements ServerStore {
  private readonly servers = new Map<string, RdpServer>();

  async insert(server: RdpServer): Promise<void> {
    if (this.servers.has(server.id)) throw new Error(`duplicate server id ${server.id}`);
    this.servers.set(server.id, copyServer(server));
  }

  async findById(id: string): Promise<RdpServer | null> {
    const s = this.servers.get(id);
    return s ? copyServer(s) : null;
  }

  async findByIds(ids: readonly string[]): Promise<RdpServer[]> {
    return ids.flatMap((id) => {
      const s = this.servers.get(id);
      return s ? [copyServer(s)] : [];
    });
  }

  async compareAndSet(next: RdpServer, expectedVersion: number): Promise<boolean> {
    const current = this.servers.get(next.id);
    if (!current || current.version !== expectedVersion) return false;
    this.servers.set(next.id, copyServer(next));
    return true;
  }

  async delete(id: string): Promise<boolean> {
    return this.servers.delete(id);
  }

  async list(filter: ServerFilter, first: number, after?: Cursor): Promise<{ items: RdpServer[]; hasNextPage: boolean }> {
    const sorted = [...this.servers.values()].filter((s) => matches(s, filter)).sort(compareByCursor);
    const start = after ? sorted.filter((s) => compareByCursor(s, after) > 0) : sorted;
    return { items: start.slice(0, first).map((s) => copyServer(s)), hasNextPage: start.length > first };
  }

  async listAll(filter: ServerFilter): Promise<RdpServer[]> {
    return [...this.servers.values()]
      .filter((s) => matches(s, filter))
      .sort(compareByCursor)
      .map((s) => copyServer(s));
  }

  async count(filter: ServerFilter): Promise<number> {
    let n = 0;
    for (const s of this.servers.values()) if (matches(s, filter)) n++;
    return n;
  }

  async countByStatus(): Promise<Partial<Record<ServerStatus, number>>> {
    const out: Partial<Record<ServerStatus, number>> = {};
    for (const s of this.servers.values()) out[s.status] = (out[s.status] ?? 0) + 1;
    return out;
  }
}
