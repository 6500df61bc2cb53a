import { BSON, type Document } from 'mongodb';

/**
 * The application-level backup format, readable without mongodump (FerretDB has none).
 *
 * Two layouts hold the same records:
 * - a directory: `manifest.json` (written last, so a backup without it is incomplete) and one
 *   `<collection>.jsonl` per collection, one document per line;
 * - one stream (a `.jsonl` file, or stdin/stdout as `-`): a `header` line, then per collection a
 *   `collection` line followed by its `document` lines, then an `end` line with the counts, so a
 *   truncated stream is detected.
 *
 * Documents are canonical Extended JSON (relaxed=false), so int32/int64/double, dates and
 * ObjectIds come back as the same BSON types; metadata lines are relaxed Extended JSON.
 */
export const BACKUP_FORMAT = 'rdp-services-cluster-backup';
export const BACKUP_FORMAT_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';

export interface BackupHeader {
  format: typeof BACKUP_FORMAT;
  version: number;
  /** The database the backup was taken from (a restore goes to the target URI's database). */
  database: string;
  createdAt: string;
}

export interface CollectionSpec {
  name: string;
  /** createCollection options (validator, capped, ...); `{}` on FerretDB. */
  options: Document;
  /** Index definitions other than `_id_`, as listIndexes returns them without `v` and `ns`. */
  indexes: Document[];
}

export interface ManifestCollection extends CollectionSpec {
  documents: number;
  /** File name of the collection's documents inside the backup directory. */
  file: string;
}

export interface Manifest extends BackupHeader {
  collections: ManifestCollection[];
}

export type BackupRecord =
  | { kind: 'header'; header: BackupHeader }
  | { kind: 'collection'; collection: CollectionSpec }
  | { kind: 'document'; document: Document }
  | { kind: 'end'; counts: Record<string, number> };

/** A backup that cannot be read or restored as it is; the message says what to do. */
export class BackupError extends Error {
  override name = 'BackupError';
}

const DOCUMENT_PREFIX = '{"document":';

export const encodeDocument = (doc: Document): string => BSON.EJSON.stringify(doc, { relaxed: false });

export const decodeDocument = (line: string): Document => BSON.EJSON.parse(line, { relaxed: false }) as Document;

export function encodeRecord(record: BackupRecord): string {
  switch (record.kind) {
    case 'document':
      return `${DOCUMENT_PREFIX}${encodeDocument(record.document)}}`;
    case 'header':
      return BSON.EJSON.stringify({ header: record.header }, { relaxed: true });
    case 'collection':
      return BSON.EJSON.stringify({ collection: record.collection }, { relaxed: true });
    case 'end':
      return BSON.EJSON.stringify({ end: { counts: record.counts } }, { relaxed: true });
  }
}

/** Parses one line of the stream layout; `where` (e.g. `line 12`) goes into error messages. */
export function decodeRecord(line: string, where: string): BackupRecord {
  try {
    if (line.startsWith(DOCUMENT_PREFIX)) {
      return { kind: 'document', document: (decodeDocument(line) as { document: Document }).document };
    }
    const meta = BSON.EJSON.parse(line, { relaxed: true }) as Record<string, unknown>;
    if (isObject(meta.header)) return { kind: 'header', header: checkHeader(meta.header) };
    if (isObject(meta.collection) && typeof meta.collection.name === 'string') {
      const c = meta.collection;
      return {
        kind: 'collection',
        collection: {
          name: String(c.name),
          options: isObject(c.options) ? c.options : {},
          indexes: Array.isArray(c.indexes) ? (c.indexes as Document[]) : [],
        },
      };
    }
    if (isObject(meta.end) && isObject(meta.end.counts)) {
      return { kind: 'end', counts: Object.fromEntries(Object.entries(meta.end.counts).map(([k, v]) => [k, Number(v)])) };
    }
  } catch (err) {
    if (err instanceof BackupError) throw err;
    throw new BackupError(`${where}: not valid Extended JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  throw new BackupError(`${where}: not a backup record`);
}

export function checkHeader(value: Record<string, unknown>): BackupHeader {
  if (value.format !== BACKUP_FORMAT) {
    throw new BackupError(`not a ${BACKUP_FORMAT} backup (format: ${JSON.stringify(value.format)})`);
  }
  if (value.version !== BACKUP_FORMAT_VERSION) {
    throw new BackupError(
      `backup format version ${String(value.version)} is not supported (this build reads ${BACKUP_FORMAT_VERSION})`,
    );
  }
  return {
    format: BACKUP_FORMAT,
    version: BACKUP_FORMAT_VERSION,
    database: String(value.database ?? ''),
    createdAt: String(value.createdAt ?? ''),
  };
}

/** A file name for a collection's documents that cannot leave the backup directory. */
export const collectionFile = (name: string): string => `${encodeURIComponent(name).replace(/^\./, '%2E')}.jsonl`;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
