import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { BSON, type Db, type Document } from 'mongodb';
import {
  BACKUP_FORMAT,
  BACKUP_FORMAT_VERSION,
  BackupError,
  type BackupHeader,
  type CollectionSpec,
  collectionFile,
  encodeDocument,
  encodeRecord,
  MANIFEST_FILE,
  type Manifest,
} from './backup-format.js';

/** Where a backup goes: a directory (one file per collection) or one stream (a file or stdout). */
export type BackupTarget = { kind: 'directory'; path: string } | { kind: 'stream'; stream: Writable };

/** Writes lines to a stream, waiting for it to drain so a large collection never piles up in memory. */
export async function writeLine(stream: Writable, line: string): Promise<void> {
  if (!stream.write(`${line}\n`)) await once(stream, 'drain');
}

async function finish(stream: Writable): Promise<void> {
  const done = once(stream, 'finish');
  stream.end();
  await done;
}

/** Every user collection (no views, no `system.*`), sorted by name, with options and indexes. */
export async function describeCollections(db: Db): Promise<CollectionSpec[]> {
  const infos = await db.listCollections({}, { nameOnly: false }).toArray();
  const names = infos
    .filter((c) => !c.name.startsWith('system.') && (c.type === undefined || c.type === 'collection'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const specs: CollectionSpec[] = [];
  for (const info of names) {
    const indexes = (await db.collection(info.name).listIndexes().toArray())
      .filter((i) => i.name !== '_id_')
      .map(({ v: _v, ns: _ns, ...rest }) => rest as Document);
    specs.push({ name: info.name, options: (info as { options?: Document }).options ?? {}, indexes });
  }
  return specs;
}

/**
 * Exports every collection of `db`, documents in `_id` order. Not a point-in-time snapshot across
 * collections (there are no multi-document transactions on FerretDB): stop writers for one.
 */
export async function exportDatabase(db: Db, target: BackupTarget, now: () => Date = () => new Date()): Promise<Manifest> {
  const header: BackupHeader = {
    format: BACKUP_FORMAT,
    version: BACKUP_FORMAT_VERSION,
    database: db.databaseName,
    createdAt: now().toISOString(),
  };
  const specs = await describeCollections(db);
  const manifest: Manifest = { ...header, collections: [] };

  if (target.kind === 'stream') {
    const out = target.stream;
    await writeLine(out, encodeRecord({ kind: 'header', header }));
    for (const spec of specs) {
      await writeLine(out, encodeRecord({ kind: 'collection', collection: spec }));
      let documents = 0;
      for await (const doc of db.collection(spec.name).find({}, { sort: { _id: 1 }, promoteValues: false })) {
        await writeLine(out, encodeRecord({ kind: 'document', document: doc }));
        documents += 1;
      }
      manifest.collections.push({ ...spec, documents, file: '' });
    }
    const counts = Object.fromEntries(manifest.collections.map((c) => [c.name, c.documents]));
    await writeLine(out, encodeRecord({ kind: 'end', counts }));
    return manifest;
  }

  await prepareDirectory(target.path);
  for (const spec of specs) {
    const file = collectionFile(spec.name);
    const out = createWriteStream(join(target.path, file), { flags: 'wx', mode: 0o600 });
    let documents = 0;
    for await (const doc of db.collection(spec.name).find({}, { sort: { _id: 1 }, promoteValues: false })) {
      await writeLine(out, encodeDocument(doc));
      documents += 1;
    }
    await finish(out);
    manifest.collections.push({ ...spec, documents, file });
  }
  // The manifest goes last and appears atomically: a directory without one is an interrupted backup.
  await writeManifest(target.path, manifest);
  return manifest;
}

async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  const tmp = join(dir, `.${MANIFEST_FILE}.tmp`);
  const out = createWriteStream(tmp, { mode: 0o600 });
  out.end(`${BSON.EJSON.stringify(manifest, undefined, 2, { relaxed: true })}\n`);
  await once(out, 'finish');
  await rename(tmp, join(dir, MANIFEST_FILE));
}

/** A backup directory is created, or must be empty: an existing backup is never overwritten. */
async function prepareDirectory(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  const entries = await readdir(path);
  if (entries.length > 0) {
    throw new BackupError(`${path} is not empty; give a new directory (an existing backup is never overwritten)`);
  }
}
