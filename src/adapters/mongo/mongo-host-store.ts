import type { Collection, Db } from 'mongodb';
import type { Host } from '../../domain/hosts/host.js';
import type { HostStore } from '../../domain/hosts/host-store.js';
import { GroupedReads } from './group-commit.js';
import { isDuplicateKeyError, retryIfCleared } from './mongo-database.js';
import { VersionedWrites } from './versioned-writes.js';

/**
 * Labels are stored as a list of pairs: their keys may hold `.` and `/`, which MongoDB field
 * names (and FerretDB's) do not take everywhere.
 */
type HostDoc = Omit<Host, 'id' | 'labels' | 'lastHeartbeatAt' | 'usage' | 'createdAt' | 'updatedAt' | 'drainDeadline'> & {
  _id: string;
  drainDeadline?: { deadline: Date; stopServers: boolean; by: string } | null;
  labels: { key: string; value: string }[];
  lastHeartbeatAt: Date | null;
  usage: { cpuPercent: number; memoryPercent: number; at: Date } | null;
  createdAt: Date;
  updatedAt: Date;
};

function toDoc(h: Host): HostDoc {
  return {
    _id: h.id,
    name: h.name,
    labels: Object.entries(h.labels).map(([key, value]) => ({ key, value })),
    connected: h.connected,
    draining: h.draining,
    drainDeadline: h.drainDeadline
      ? { deadline: new Date(h.drainDeadline.deadline), stopServers: h.drainDeadline.stopServers, by: h.drainDeadline.by }
      : null,
    lastHeartbeatAt: h.lastHeartbeatAt === null ? null : new Date(h.lastHeartbeatAt),
    agentVersion: h.agentVersion,
    rdpAddress: h.rdpAddress,
    portRange: { from: h.portRange.from, to: h.portRange.to },
    capacity: { maxServers: h.capacity.maxServers, cpuCount: h.capacity.cpuCount, memoryMb: h.capacity.memoryMb },
    usage: h.usage ? { cpuPercent: h.usage.cpuPercent, memoryPercent: h.usage.memoryPercent, at: new Date(h.usage.at) } : null,
    createdAt: new Date(h.createdAt),
    updatedAt: new Date(h.updatedAt),
    version: h.version,
  };
}

function fromDoc(d: HostDoc): Host {
  return {
    id: d._id,
    name: d.name,
    labels: Object.fromEntries(d.labels.map((l) => [l.key, l.value])),
    connected: d.connected,
    draining: d.draining,
    drainDeadline: d.drainDeadline
      ? { deadline: d.drainDeadline.deadline.toISOString(), stopServers: d.drainDeadline.stopServers, by: d.drainDeadline.by }
      : null,
    lastHeartbeatAt: d.lastHeartbeatAt ? d.lastHeartbeatAt.toISOString() : null,
    agentVersion: d.agentVersion,
    rdpAddress: d.rdpAddress,
    portRange: { from: d.portRange.from, to: d.portRange.to },
    capacity: { maxServers: d.capacity.maxServers, cpuCount: d.capacity.cpuCount, memoryMb: d.capacity.memoryMb },
    usage: d.usage
      ? { cpuPercent: d.usage.cpuPercent, memoryPercent: d.usage.memoryPercent, at: d.usage.at.toISOString() }
      : null,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
    version: d.version,
  };
}

/** Hosts on the official driver; writes are compare-and-set through VersionedWrites. */
export class MongoHostStore implements HostStore {
  private readonly col: Collection<HostDoc>;
  private readonly writes: VersionedWrites<HostDoc>;

  constructor(db: Db) {
    this.col = db.collection<HostDoc>('hosts');
    this.writes = new VersionedWrites(db, this.col, 'host_revisions');
  }

  /** The host's `_id` is its only key: a fleet's hosts are read whole. */
  async ensureIndexes(): Promise<void> {
    await this.writes.ensureIndexes();
  }

  async insert(host: Host): Promise<boolean> {
    try {
      await retryIfCleared(() => this.col.insertOne(toDoc(host)));
      return true;
    } catch (err) {
      if (isDuplicateKeyError(err)) return false;
      throw err;
    }
  }

  /** Session admissions read their server's host: concurrent reads go to the database together. */
  findById(id: string): Promise<Host | null> {
    return this.byId.load(id);
  }

  private readonly byId = new GroupedReads<Host>(async (ids) => {
    const docs = await this.col.find({ _id: { $in: ids } }, { batchSize: ids.length + 1 }).toArray();
    return new Map(docs.map((d) => [d._id, fromDoc(d)]));
  });

  async findByIds(ids: readonly string[]): Promise<Host[]> {
    if (ids.length === 0) return [];
    const docs = await this.col.find({ _id: { $in: [...ids] } }, { batchSize: ids.length + 1 }).toArray();
    return docs.map(fromDoc);
  }

  async list(): Promise<Host[]> {
    return (await this.col.find({}).sort({ _id: 1 }).toArray()).map(fromDoc);
  }

  compareAndSet(next: Host, expectedVersion: number): Promise<boolean> {
    return this.writes.compareAndSet(toDoc(next), expectedVersion);
  }
}
