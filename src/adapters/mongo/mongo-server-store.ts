import type { Collection, Db, Document, Filter } from 'mongodb';
import type { RdpServer, ServerDrain, ServerStatus } from '../../domain/servers/server.js';
import type { ServerFilter, ServerStore } from '../../domain/servers/server-store.js';
import type { Cursor } from '../../domain/shared/page.js';
import { GroupedReads } from './group-commit.js';
import { countByStatus, keysetPage } from './keyset-page.js';
import { ensureIndexes } from './mongo-database.js';
import { VersionedWrites } from './versioned-writes.js';

const DATE_FIELDS = ['createdAt', 'updatedAt', 'lastStartedAt', 'lastStoppedAt'] as const;

/** The drain's times as dates, like the document's own. */
type DrainDoc = Omit<ServerDrain, 'deadline' | 'startedAt' | 'actionStartedAt' | 'completedAt'> & {
  deadline: Date;
  startedAt: Date;
  actionStartedAt: Date | null;
  completedAt: Date | null;
};

type ServerDoc = Omit<RdpServer, 'id' | 'hostId' | 'poolId' | 'drain' | (typeof DATE_FIELDS)[number]> & {
  _id: string;
  /** Absent on records written before drains existed. */
  drain?: DrainDoc | null;
  /** Absent on records written before hosts existed. */
  hostId?: string;
  /** Absent on records written before pools existed. */
  poolId?: string | null;
  createdAt: Date;
  updatedAt: Date;
  lastStartedAt: Date | null;
  lastStoppedAt: Date | null;
};

const toDate = (s: string | null): Date | null => (s === null ? null : new Date(s));
const toIso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

function drainToDoc(d: ServerDrain | null): DrainDoc | null {
  if (!d) return null;
  return {
    ...d,
    deadline: new Date(d.deadline),
    startedAt: new Date(d.startedAt),
    actionStartedAt: toDate(d.actionStartedAt),
    completedAt: toDate(d.completedAt),
  };
}

function drainFromDoc(d: DrainDoc | null | undefined): ServerDrain | null {
  if (!d) return null;
  return {
    id: d.id,
    origin: d.origin,
    deadline: d.deadline.toISOString(),
    stopServer: d.stopServer,
    startedAt: d.startedAt.toISOString(),
    startedBy: d.startedBy,
    noticeStep: d.noticeStep,
    actionStartedAt: toIso(d.actionStartedAt),
    completedAt: toIso(d.completedAt),
  };
}

function toDoc(s: RdpServer): ServerDoc {
  const { id, createdAt, updatedAt, lastStartedAt, lastStoppedAt, drain, ...rest } = s;
  return {
    _id: id,
    ...rest,
    drain: drainToDoc(drain),
    createdAt: new Date(createdAt),
    updatedAt: new Date(updatedAt),
    lastStartedAt: toDate(lastStartedAt),
    lastStoppedAt: toDate(lastStoppedAt),
  };
}

function fromDoc(d: ServerDoc, legacyHostId: string): RdpServer {
  return {
    id: d._id,
    name: d.name,
    description: d.description,
    owner: d.owner,
    createdBy: d.createdBy,
    status: d.status,
    statusMessage: d.statusMessage ?? null,
    statusBeforeMaintenance: d.statusBeforeMaintenance ?? null,
    hostId: d.hostId ?? legacyHostId,
    host: d.host,
    port: d.port,
    poolId: d.poolId ?? null,
    configuration: d.configuration,
    resources: d.resources,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
    lastStartedAt: toIso(d.lastStartedAt),
    lastStoppedAt: toIso(d.lastStoppedAt),
    drain: drainFromDoc(d.drain),
    version: d.version,
  };
}

function toFilter(f: ServerFilter, legacyHostId: string): Filter<ServerDoc> {
  const and: Filter<ServerDoc>[] = [];
  if (f.status !== undefined) and.push({ status: f.status });
  if (f.ownerId !== undefined) and.push({ owner: f.ownerId });
  if (f.hostId !== undefined) {
    and.push(f.hostId === legacyHostId ? { $or: [{ hostId: f.hostId }, { hostId: { $exists: false } }] } : { hostId: f.hostId });
  }
  if (f.poolId !== undefined) and.push({ poolId: f.poolId });
  if (f.visibleTo !== undefined) {
    const or: Filter<ServerDoc>[] = [{ owner: f.visibleTo }, { createdBy: f.visibleTo }];
    if (f.visibleVia?.serverIds.length) or.push({ _id: { $in: [...f.visibleVia.serverIds] } });
    if (f.visibleVia?.poolIds.length) or.push({ poolId: { $in: [...f.visibleVia.poolIds] } });
    and.push({ $or: or });
  }
  // Records from before drains have no drain field: they do not drain.
  if (f.draining !== undefined) and.push({ 'drain.id': { $exists: f.draining } } as Filter<ServerDoc>);
  return and.length === 0 ? {} : and.length === 1 ? (and[0] as Filter<ServerDoc>) : { $and: and };
}

/** Documents a round trip of listAll brings (a fleet of a few thousand in a handful of them). */
const LIST_ALL_BATCH = 1000;

export interface MongoServerStoreOptions {
  /** The host of records written before hosts existed (HOST_ID). @default 'local' */
  legacyHostId?: string;
}

/** Servers on the official driver; writes are compare-and-set through VersionedWrites. */
export class MongoServerStore implements ServerStore {
  private readonly col: Collection<ServerDoc>;
  private readonly writes: VersionedWrites<ServerDoc>;
  private readonly legacyHostId: string;

  constructor(db: Db, options: MongoServerStoreOptions = {}) {
    this.legacyHostId = options.legacyHostId ?? 'local';
    this.col = db.collection<ServerDoc>('servers');
    this.writes = new VersionedWrites(db, this.col, 'server_revisions');
  }

  async ensureIndexes(): Promise<void> {
    await ensureIndexes(this.col, [
      { key: { createdAt: 1, _id: 1 }, name: 'created_order' },
      { key: { owner: 1, createdAt: 1 }, name: 'by_owner' },
      { key: { createdBy: 1, createdAt: 1 }, name: 'by_creator' },
      { key: { status: 1 }, name: 'by_status' },
      { key: { hostId: 1, createdAt: 1 }, name: 'by_host' },
      { key: { poolId: 1, createdAt: 1 }, name: 'by_pool' },
    ]);
    await this.writes.ensureIndexes();
  }

  async insert(server: RdpServer): Promise<void> {
    await this.col.insertOne(toDoc(server));
  }

  async findById(id: string): Promise<RdpServer | null> {
    return this.byId.load(id);
  }

  /** Admissions read their server first: concurrent reads go to the database together. */
  private readonly byId = new GroupedReads<RdpServer>(async (ids) => {
    const docs = await this.col.find({ _id: { $in: ids } }, { batchSize: ids.length + 1 }).toArray();
    return new Map(docs.map((d) => [d._id, fromDoc(d, this.legacyHostId)]));
  });

  async findByIds(ids: readonly string[]): Promise<RdpServer[]> {
    if (ids.length === 0) return [];
    const docs = await this.col.find({ _id: { $in: [...ids] } }, { batchSize: ids.length + 1 }).toArray();
    return docs.map((d) => fromDoc(d, this.legacyHostId));
  }

  compareAndSet(next: RdpServer, expectedVersion: number): Promise<boolean> {
    return this.writes.compareAndSet(toDoc(next), expectedVersion);
  }

  async delete(id: string): Promise<boolean> {
    const r = await this.col.deleteOne({ _id: id });
    await this.writes.forget(id);
    return r.deletedCount === 1;
  }

  async list(filter: ServerFilter, first: number, after?: Cursor): Promise<{ items: RdpServer[]; hasNextPage: boolean }> {
    const { docs, hasNextPage } = await keysetPage(this.col, toFilter(filter, this.legacyHostId), first, after);
    return { items: docs.map((d) => fromDoc(d, this.legacyHostId)), hasNextPage };
  }

  async listAll(filter: ServerFilter): Promise<RdpServer[]> {
    const docs = await this.col
      .find(toFilter(filter, this.legacyHostId))
      .sort({ createdAt: 1, _id: 1 })
      .batchSize(LIST_ALL_BATCH)
      .toArray();
    return docs.map((d) => fromDoc(d, this.legacyHostId));
  }

  async count(filter: ServerFilter): Promise<number> {
    return this.col.countDocuments(toFilter(filter, this.legacyHostId));
  }

  countByStatus(): Promise<Partial<Record<ServerStatus, number>>> {
    return countByStatus<ServerStatus>(this.col as unknown as Collection<Document>);
  }
}
