import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { BSON, type Db, type Document, type IndexDescription } from 'mongodb';
import {
  BackupError,
  type BackupHeader,
  type BackupRecord,
  type CollectionSpec,
  checkHeader,
  decodeDocument,
  decodeRecord,
  MANIFEST_FILE,
  type Manifest,
} from './backup-format.js';
import { ensureIndexes } from './mongo-database.js';

/** Where a backup comes from: a backup directory, or one stream (a `.jsonl` file or stdin). */
export type BackupSource = { kind: 'directory'; path: string } | { kind: 'stream'; open: () => Readable; rereadable: boolean };

export interface RestoreOptions {
  /** Replace the collections of the backup in a database that has documents. @default false */
  force?: boolean;
  /** Documents per insertMany. @default 1000 */
  batchSize?: number;
  /** Called once, right before the first change to the database (a refused restore changes nothing). */
  beforeFirstWrite?: () => void;
}

export interface RestoreResult {
  header: BackupHeader;
  counts: Record<string, number>;
  /** Collection options the target refused (FerretDB has no validators); created without them. */
  warnings: string[];
}

async function* lines(input: Readable): AsyncGenerator<{ line: string; n: number }> {
  let n = 0;
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    n += 1;
    if (line.trim() !== '') yield { line, n };
  }
}

/** The records of a stream backup, checked for order: header first, documents inside a collection, end last. */
async function* records(input: Readable): AsyncGenerator<BackupRecord> {
  let state: 'start' | 'body' | 'ended' = 'start';
  let current: string | undefined;
  for await (const { line, n } of lines(input)) {
    const record = decodeRecord(line, `line ${n}`);
    if (state === 'start' && record.kind !== 'header') throw new BackupError('the backup does not start with a header line');
    if (state === 'ended') throw new BackupError(`line ${n}: data after the end record`);
    if (record.kind === 'header' && state !== 'start') throw new BackupError(`line ${n}: a second header`);
    if (record.kind === 'document' && current === undefined) throw new BackupError(`line ${n}: a document outside a collection`);
    if (record.kind === 'collection') current = record.collection.name;
    state = record.kind === 'end' ? 'ended' : 'body';
    yield record;
  }
  if (state !== 'ended') {
    throw new BackupError('the backup has no end record: it is truncated (an interrupted backup or copy)');
  }
}

/** Reads a whole stream backup without touching a database: header, order, end record and counts. */
async function verifyStream(input: Readable): Promise<void> {
  const counts = new Map<string, number>();
  let current = '';
  for await (const record of records(input)) {
    if (record.kind === 'collection') {
      current = record.collection.name;
      counts.set(current, 0);
    } else if (record.kind === 'document') {
      counts.set(current, (counts.get(current) ?? 0) + 1);
    } else if (record.kind === 'end') {
      checkCounts(Object.fromEntries(counts), record.counts);
    }
  }
}

function checkCounts(actual: Record<string, number>, expected: Record<string, number>): void {
  for (const name of new Set([...Object.keys(actual), ...Object.keys(expected)])) {
    if ((actual[name] ?? 0) !== (expected[name] ?? 0)) {
      throw new BackupError(
        `collection ${name}: the backup lists ${expected[name] ?? 0} documents but holds ${actual[name] ?? 0}`,
      );
    }
  }
}

/** User collections (not `system.*`) of `db` that hold at least one document. */
export async function collectionsWithDocuments(db: Db): Promise<string[]> {
  const names = (await db.listCollections({}, { nameOnly: true }).toArray())
    .map((c) => c.name)
    .filter((n) => !n.startsWith('system.'));
  const found: string[] = [];
  for (const name of names.sort()) {
    if ((await db.collection(name).countDocuments({}, { limit: 1 })) > 0) found.push(name);
  }
  return found;
}

/** Creates (or with force, recreates) one collection of the backup; returns a warning or null. */
async function prepareCollection(db: Db, spec: CollectionSpec, force: boolean): Promise<string | null> {
  const exists = (await db.listCollections({ name: spec.name }, { nameOnly: true }).toArray()).length > 0;
  if (exists && force) await db.collection(spec.name).drop();
  else if (exists) return null;
  if (Object.keys(spec.options).length === 0) {
    await db.createCollection(spec.name);
    return null;
  }
  try {
    await db.createCollection(spec.name, spec.options);
    return null;
  } catch (err) {
    await db.createCollection(spec.name);
    const reason = err instanceof Error ? err.message : String(err);
    return `collection ${spec.name}: created without its options ${JSON.stringify(Object.keys(spec.options))} (${reason})`;
  }
}

class CollectionWriter {
  private batch: Document[] = [];
  count = 0;

  constructor(
    private readonly db: Db,
    readonly spec: CollectionSpec,
    private readonly batchSize: number,
  ) {}

  async add(doc: Document): Promise<void> {
    this.batch.push(doc);
    this.count += 1;
    if (this.batch.length >= this.batchSize) await this.flush();
  }

  /** Inserts what is left, then the indexes (after the data: faster, and FerretDB wants one per command). */
  async finish(): Promise<void> {
    await this.flush();
    await ensureIndexes(this.db.collection(this.spec.name), this.spec.indexes as IndexDescription[]);
  }

  private async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const docs = this.batch;
    this.batch = [];
    await this.db.collection(this.spec.name).insertMany(docs, { ordered: true });
  }
}

async function refuseOccupied(db: Db, force: boolean): Promise<void> {
  const occupied = await collectionsWithDocuments(db);
  if (occupied.length > 0 && !force) {
    throw new BackupError(
      `database ${db.databaseName} is not empty (documents in: ${occupied.join(', ')}); ` +
        'restore into an empty database, or pass --force to drop and replace the collections in the backup',
    );
  }
}

/** Creates collections, inserts in batches, then indexes; collects counts and warnings. */
class Restorer {
  readonly counts: Record<string, number> = {};
  readonly warnings: string[] = [];
  private writer: CollectionWriter | undefined;
  private wrote = false;

  constructor(
    private readonly db: Db,
    private readonly force: boolean,
    private readonly batchSize: number,
    private readonly beforeFirstWrite?: () => void,
  ) {}

  async begin(spec: CollectionSpec): Promise<void> {
    await this.end();
    if (!this.wrote) {
      this.wrote = true;
      this.beforeFirstWrite?.();
    }
    const warning = await prepareCollection(this.db, spec, this.force);
    if (warning) this.warnings.push(warning);
    this.writer = new CollectionWriter(this.db, spec, this.batchSize);
  }

  async add(doc: Document): Promise<void> {
    if (!this.writer) throw new BackupError('a document outside a collection');
    await this.writer.add(doc);
  }

  async end(): Promise<void> {
    if (!this.writer) return;
    await this.writer.finish();
    this.counts[this.writer.spec.name] = this.writer.count;
    this.writer = undefined;
  }
}

/**
 * Restores a backup into `db` (the target URI's database, whatever the backup's was). Refuses a
 * database that has documents unless `force`, which drops each collection of the backup first.
 * A backup directory or file is checked whole before anything is written; stdin cannot be read
 * twice, so a truncated stdin stream is reported after the collections before the cut.
 */
export async function importDatabase(db: Db, source: BackupSource, options: RestoreOptions = {}): Promise<RestoreResult> {
  const restorer = new Restorer(db, options.force ?? false, options.batchSize ?? 1000, options.beforeFirstWrite);

  if (source.kind === 'directory') {
    const manifest = await readManifest(source.path);
    await refuseOccupied(db, options.force ?? false);
    for (const entry of manifest.collections) {
      await restorer.begin(entry);
      for await (const { line, n } of lines(createReadStream(join(source.path, entry.file)))) {
        let doc: Document;
        try {
          doc = decodeDocument(line);
        } catch (err) {
          throw new BackupError(
            `${entry.file} line ${n}: not valid Extended JSON (${err instanceof Error ? err.message : String(err)})`,
          );
        }
        await restorer.add(doc);
      }
    }
    await restorer.end();
    checkCounts(restorer.counts, Object.fromEntries(manifest.collections.map((c) => [c.name, c.documents])));
    return { header: manifest, counts: restorer.counts, warnings: restorer.warnings };
  }

  if (source.rereadable) await verifyStream(source.open());
  await refuseOccupied(db, options.force ?? false);
  let header: BackupHeader | undefined;
  for await (const record of records(source.open())) {
    if (record.kind === 'header') header = record.header;
    else if (record.kind === 'collection') await restorer.begin(record.collection);
    else if (record.kind === 'document') await restorer.add(record.document);
    else {
      await restorer.end();
      checkCounts(restorer.counts, record.counts);
    }
  }
  if (!header) throw new BackupError('the backup has no header');
  return { header, counts: restorer.counts, warnings: restorer.warnings };
}

async function readManifest(dir: string): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
  } catch {
    throw new BackupError(`${dir} has no ${MANIFEST_FILE}: not a backup directory, or an interrupted backup`);
  }
  let raw: Record<string, unknown>;
  try {
    raw = BSON.EJSON.parse(text, { relaxed: true }) as Record<string, unknown>;
  } catch (err) {
    throw new BackupError(`${join(dir, MANIFEST_FILE)}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const header = checkHeader(raw);
  if (!Array.isArray(raw.collections)) throw new BackupError(`${MANIFEST_FILE} lists no collections`);
  const collections = (raw.collections as Record<string, unknown>[]).map((c) => {
    const file = String(c.file ?? '');
    if (!/^[^/\\]+\.jsonl$/.test(file) || file.startsWith('.')) throw new BackupError(`${MANIFEST_FILE}: bad file name ${file}`);
    return {
      name: String(c.name),
      options: (c.options ?? {}) as Document,
      indexes: (c.indexes ?? []) as Document[],
      documents: Number(c.documents),
      file,
    };
  });
  return { ...header, collections };
}
