import type { Collection, Db } from 'mongodb';
import { type ResourcePoint, type ResourceSample, type SubjectKind, summarize } from '../../domain/resources/resource-sample.js';
import { type ResourceSampleStore, SUMMARY_BINS, type SummaryBin } from '../../domain/resources/resource-sample-store.js';
import { ensureIndexes, isDuplicateKeyError } from './mongo-database.js';
import { type PackedEntries, packFigures, parseEntries, serializeEntries, unpackFigures } from './sample-packing.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Buckets read one `_id` each; wider ranges (none of the windows) use one query. */
const MAX_ID_READS = 200;

/** The field of a day document holding the summaries of a bin width. */
const FIELD: Record<SummaryBin, 'p' | 'q'> = { 60: 'p', 600: 'q' };

/**
 * A bucket of one subject. Hour buckets hold raw samples in `p`; day buckets hold per-minute
 * summaries in `p` and per-10-minute summaries in `q` (entries `count:figures`).
 */
interface BucketDoc {
  _id: string;
  subjectId: string;
  subjectKind: SubjectKind;
  start: Date;
  end: Date;
  /** How many entries `p` holds. */
  n: number;
  /** Packed entries (sample-packing.ts). */
  p: string;
  q?: string;
}

interface LatestDoc {
  _id: string;
  subjectKind: SubjectKind;
  at: Date;
  p: string;
}

type Fields = { p: PackedEntries; q: PackedEntries };

const bucketId = (subjectId: string, start: number) => `${subjectId}|${new Date(start).toISOString()}`;

/** Starts of the buckets of `spanMs` that overlap [from, to). */
function bucketStarts(from: Date, to: Date, spanMs: number): number[] {
  const out: number[] = [];
  for (let t = Math.floor(from.getTime() / spanMs) * spanMs; t < to.getTime(); t += spanMs) out.push(t);
  return out;
}

/** Runs `fn` over the items, at most `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(workers);
}

/**
 * Samples in time buckets: `resource_buckets` holds one document per subject per hour with the
 * raw samples, `resource_summaries` one per subject per day with per-minute and per-10-minute
 * averages (a week is 8 of those), `resource_latest` the newest sample of each subject. Every
 * read is by `_id`: FerretDB 1.24 filters anything else by scanning the collection. Writes merge
 * by sample time, so a round written twice replaces itself. Pruned by a job (no TTL index).
 */
export class MongoSampleStore implements ResourceSampleStore {
  private readonly buckets: Collection<BucketDoc>;
  private readonly summaryCol: Collection<BucketDoc>;
  private readonly latestCol: Collection<LatestDoc>;

  constructor(db: Db) {
    this.buckets = db.collection<BucketDoc>('resource_buckets');
    this.summaryCol = db.collection<BucketDoc>('resource_summaries');
    this.latestCol = db.collection<LatestDoc>('resource_latest');
  }

  async ensureIndexes(): Promise<void> {
    for (const col of [this.buckets, this.summaryCol]) {
      await ensureIndexes(col, [
        { key: { subjectId: 1, start: 1 }, name: 'by_subject' },
        { key: { end: 1 }, name: 'by_end' },
      ]);
    }
    await ensureIndexes(this.latestCol, [{ key: { at: 1 }, name: 'by_at' }]);
  }

  /**
   * Any samples (a collection round, or history to backfill): each hour bucket they touch is
   * written once, then the summary bins they touch are computed again from that bucket (bins of
   * 1 and 10 minutes lie inside an hour), then the latest record moves forward (never back).
   */
  async append(samples: readonly ResourceSample[]): Promise<void> {
    const hours = new Map<string, { first: ResourceSample; start: number; items: ResourceSample[] }>();
    for (const s of samples) {
      const start = Math.floor(Date.parse(s.at) / HOUR_MS) * HOUR_MS;
      const key = bucketId(s.subjectId, start);
      const group = hours.get(key);
      if (group) group.items.push(s);
      else hours.set(key, { first: s, start, items: [s] });
    }
    const days = new Map<string, { first: ResourceSample; start: number; summaries: Fields }>();
    await eachLimited([...hours.values()], 16, async ({ first, start, items }) => {
      const { p: raw } = await this.merge(this.buckets, first, start, HOUR_MS, (f) => {
        for (const s of items) f.p.set(Math.round((Date.parse(s.at) - start) / 1000), packFigures(s));
      });
      const rawSamples = [...raw.entries()].map(([offset, rest]) => ({
        at: new Date(start + offset * 1000).toISOString(),
        ...unpackFigures(rest),
      }));
      const day = Math.floor(start / DAY_MS) * DAY_MS;
      const dayKey = bucketId(first.subjectId, day);
      let forDay = days.get(dayKey);
      if (!forDay) {
        forDay = { first, start: day, summaries: { p: new Map(), q: new Map() } };
        days.set(dayKey, forDay);
      }
      for (const bin of SUMMARY_BINS) {
        const ms = bin * 1000;
        // Every raw sample of a touched bin counts, so a summary is right however often a round is written.
        const touched = new Set(items.map((s) => Math.floor(Date.parse(s.at) / ms) * ms));
        const inBins = rawSamples.filter((s) => touched.has(Math.floor(Date.parse(s.at) / ms) * ms));
        for (const point of summarize(inBins, bin)) {
          forDay.summaries[FIELD[bin]].set(
            Math.round((Date.parse(point.at) - day) / 1000),
            `${point.sampleCount}:${packFigures(point)}`,
          );
        }
      }
    });
    await eachLimited([...days.values()], 16, async ({ first, start, summaries }) => {
      await this.merge(this.summaryCol, first, start, DAY_MS, (stored) => {
        for (const field of ['p', 'q'] as const) for (const [offset, entry] of summaries[field]) stored[field].set(offset, entry);
      });
    });
    const newest = new Map<string, ResourceSample>();
    for (const s of samples) {
      const known = newest.get(s.subjectId);
      if (!known || s.at > known.at) newest.set(s.subjectId, s);
    }
    await eachLimited([...newest.values()], 16, async (s) => {
      try {
        // Matches only an older record (or none, then inserts): latest never moves back.
        await this.latestCol.replaceOne(
          { _id: s.subjectId, at: { $lte: new Date(s.at) } },
          { subjectKind: s.subjectKind, at: new Date(s.at), p: packFigures(s) },
          { upsert: true },
        );
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
      }
    });
  }

  async samples(subjectId: string, from: Date, to: Date): Promise<ResourceSample[]> {
    const docs = await this.read(this.buckets, subjectId, from, to, HOUR_MS, 'p');
    const out: ResourceSample[] = [];
    for (const d of docs) {
      for (const [offset, rest] of parseEntries(d.p)) {
        const t = d.start.getTime() + offset * 1000;
        if (t < from.getTime() || t >= to.getTime()) continue;
        out.push({ subjectKind: d.subjectKind, subjectId, at: new Date(t).toISOString(), ...unpackFigures(rest) });
      }
    }
    return out;
  }

  async summaries(subjectId: string, from: Date, to: Date, binSeconds: SummaryBin = 60): Promise<ResourcePoint[]> {
    const field = FIELD[binSeconds];
    const docs = await this.read(this.summaryCol, subjectId, from, to, DAY_MS, field);
    const out: ResourcePoint[] = [];
    for (const d of docs) {
      for (const [offset, rest] of parseEntries(d[field])) {
        const t = d.start.getTime() + offset * 1000;
        if (t < from.getTime() || t >= to.getTime()) continue;
        const colon = rest.indexOf(':');
        out.push({
          at: new Date(t).toISOString(),
          sampleCount: Number(rest.slice(0, colon)) || 1,
          ...unpackFigures(rest.slice(colon + 1)),
        });
      }
    }
    return out;
  }

  async latest(subjectIds: readonly string[]): Promise<(ResourceSample | null)[]> {
    // One findOne per id: FerretDB answers `_id` equality from its primary key, an $in by scanning.
    return Promise.all(
      subjectIds.map(async (id) => {
        const d = await this.latestCol.findOne({ _id: id });
        return d ? { subjectKind: d.subjectKind, subjectId: id, at: d.at.toISOString(), ...unpackFigures(d.p) } : null;
      }),
    );
  }

  async prune(before: Date): Promise<number> {
    let removed = 0;
    for (const col of [this.buckets, this.summaryCol]) {
      removed += (await col.deleteMany({ end: { $lte: before } })).deletedCount;
      // Buckets that straddle the cutoff lose their old entries, so nothing older stays stored.
      for (const d of await col.find({ start: { $lt: before } }).toArray()) {
        const set: Partial<Pick<BucketDoc, 'p' | 'q' | 'n'>> = {};
        for (const field of ['p', 'q'] as const) {
          const text = d[field];
          if (text === undefined) continue;
          const entries = parseEntries(text);
          for (const offset of [...entries.keys()]) {
            if (d.start.getTime() + offset * 1000 < before.getTime()) entries.delete(offset);
          }
          set[field] = serializeEntries(entries);
          if (field === 'p') set.n = entries.size;
        }
        await col.updateOne({ _id: d._id }, { $set: set });
      }
    }
    removed += (await this.latestCol.deleteMany({ at: { $lt: before } })).deletedCount;
    return removed;
  }

  private async read(col: Collection<BucketDoc>, subjectId: string, from: Date, to: Date, spanMs: number, field: 'p' | 'q') {
    // Only the field asked for travels (a day bucket holds both widths of summary).
    const projection = { subjectKind: 1, start: 1, [field]: 1 };
    const first = Math.floor(from.getTime() / spanMs) * spanMs;
    if ((to.getTime() - first) / spanMs > MAX_ID_READS) {
      // A range wider than any window: one query (a scan on FerretDB) instead of an id per bucket.
      return col
        .find({ subjectId, start: { $gt: new Date(first - spanMs), $lt: to } }, { projection })
        .sort({ start: 1 })
        .toArray();
    }
    const docs = await Promise.all(
      bucketStarts(from, to, spanMs).map((start) => col.findOne({ _id: bucketId(subjectId, start) }, { projection })),
    );
    return docs.filter((d): d is BucketDoc => d !== null);
  }

  /** Read, change and write one bucket; returns its entries as written. */
  private async merge(
    col: Collection<BucketDoc>,
    s: ResourceSample,
    start: number,
    spanMs: number,
    change: (fields: Fields) => void,
  ): Promise<Fields> {
    const _id = bucketId(s.subjectId, start);
    for (let attempt = 0; ; attempt++) {
      const doc = await col.findOne({ _id });
      const fields: Fields = { p: parseEntries(doc?.p), q: parseEntries(doc?.q) };
      change(fields);
      const next: BucketDoc = {
        _id,
        subjectId: s.subjectId,
        subjectKind: s.subjectKind,
        start: new Date(start),
        end: new Date(start + spanMs),
        n: fields.p.size,
        p: serializeEntries(fields.p),
        ...(fields.q.size > 0 ? { q: serializeEntries(fields.q) } : {}),
      };
      if (doc) {
        await col.replaceOne({ _id }, next);
        return fields;
      }
      try {
        await col.insertOne(next);
        return fields;
      } catch (err) {
        // Another writer made the bucket first: merge into theirs.
        if (!isDuplicateKeyError(err) || attempt >= 2) throw err;
      }
    }
  }
}
