import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { BackupError } from '../adapters/mongo/backup-format.js';
import { exportDatabase } from '../adapters/mongo/mongo-backup.js';
import { connectMongo } from '../adapters/mongo/mongo-database.js';
import { type BackupSource, importDatabase } from '../adapters/mongo/mongo-restore.js';
import { ConfigError } from '../config/config.js';
import { loadProcessConfig } from '../config/process-config.js';

const USAGE = `Usage:
  npm run backup -- <target> [--uri URI]
  npm run restore -- <source> [--uri URI] [--force]
  (in a container image: node dist/src/app/backup-cli.js backup|restore ...)

Exports or imports every collection of the database as JSON lines (canonical Extended JSON, so
types round-trip) through the driver: works on MongoDB and on FerretDB, which has no mongodump.

  <target>  a new or empty directory (manifest.json + one <collection>.jsonl each),
            a file whose name ends in .jsonl, or - for stdout
  <source>  a backup directory, a .jsonl backup file, or - for stdin
  --uri     MongoDB URI with the database name (default: MONGODB_URI)
  --force   restore into a database that already has documents: each collection in the
            backup is dropped and replaced (other collections are left alone)

Exit status: 0 done, 1 failed (the message says why), 2 bad usage or configuration.`;

function fail(message: string, code: 1 | 2): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

const OPTIONS = {
  uri: { type: 'string' },
  force: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

function parseCommandLine() {
  try {
    return parseArgs({ options: OPTIONS, allowPositionals: true });
  } catch (err) {
    return fail(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`, 2);
  }
}

function parse() {
  const { values, positionals } = parseCommandLine();
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const [command, path, ...extra] = positionals;
  if (command !== 'backup' && command !== 'restore')
    fail(`expected backup or restore, got ${command ?? 'nothing'}\n\n${USAGE}`, 2);
  if (!path)
    fail(`${command}: give a ${command === 'backup' ? 'target' : 'source'} (a directory, a .jsonl file or -)\n\n${USAGE}`, 2);
  if (extra.length > 0) fail(`unexpected arguments: ${extra.join(' ')}\n\n${USAGE}`, 2);
  if (values.force && command === 'backup') fail('--force applies to restore only', 2);
  return { command, path, uri: values.uri, force: values.force ?? false };
}

function mongoUri(explicit: string | undefined): string {
  if (explicit) return explicit;
  try {
    const config = loadProcessConfig();
    if (config.mongo) return config.mongo.uri;
  } catch (err) {
    if (err instanceof ConfigError) fail(`${err.message}\n(or pass --uri)`, 2);
    throw err;
  }
  return fail('MONGODB_URI is not set: the embedded in-memory store keeps nothing to back up. Set MONGODB_URI or pass --uri.', 2);
}

const summary = (counts: Record<string, number>): string =>
  Object.entries(counts)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ') || 'no collections';

async function kindOf(path: string): Promise<'directory' | 'file' | 'missing'> {
  try {
    return (await stat(path)).isDirectory() ? 'directory' : 'file';
  } catch {
    return 'missing';
  }
}

async function main(): Promise<void> {
  const args = parse();
  const mongo = await connectMongo({ uri: mongoUri(args.uri), maxPoolSize: 4, minPoolSize: 0 });
  const started = Date.now();
  try {
    if (args.command === 'backup') {
      let manifest: Awaited<ReturnType<typeof exportDatabase>>;
      if (args.path === '-') {
        manifest = await exportDatabase(mongo.db, { kind: 'stream', stream: process.stdout });
      } else if (args.path.endsWith('.jsonl')) {
        if ((await kindOf(args.path)) !== 'missing') throw new BackupError(`${args.path} already exists; give a new name`);
        // Written under another name and renamed when complete: a file by this name is always whole.
        const partial = `${args.path}.partial`;
        const out = createWriteStream(partial, { flags: 'wx', mode: 0o600 });
        await once(out, 'open');
        try {
          manifest = await exportDatabase(mongo.db, { kind: 'stream', stream: out });
          out.end();
          await once(out, 'finish');
        } catch (err) {
          out.destroy();
          await rm(partial, { force: true });
          throw err;
        }
        await rename(partial, args.path);
      } else {
        manifest = await exportDatabase(mongo.db, { kind: 'directory', path: args.path });
      }
      const counts = Object.fromEntries(manifest.collections.map((c) => [c.name, c.documents]));
      process.stderr.write(`backup of ${manifest.database} to ${args.path} in ${Date.now() - started} ms: ${summary(counts)}\n`);
      return;
    }

    let source: BackupSource;
    if (args.path === '-') source = { kind: 'stream', open: () => process.stdin, rereadable: false };
    else if ((await kindOf(args.path)) === 'directory') source = { kind: 'directory', path: args.path };
    else source = { kind: 'stream', open: () => createReadStream(args.path), rereadable: true };
    const result = await importDatabase(mongo.db, source, { force: args.force });
    for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
    process.stderr.write(
      `restored ${result.header.database} (backup of ${result.header.createdAt}) into ${mongo.db.databaseName} ` +
        `in ${Date.now() - started} ms: ${summary(result.counts)}\n`,
    );
  } finally {
    await mongo.close();
  }
}

main().catch((err: unknown) => {
  if (err instanceof BackupError) fail(`${err.message}`, 1);
  const code = (err as { code?: string }).code;
  if (code === 'EEXIST') fail(`${(err as { path?: string }).path ?? 'the target'} already exists; give a new name`, 1);
  if (code === 'ENOENT') fail(`${(err as { path?: string }).path ?? 'the file'} does not exist`, 1);
  fail(`failed: ${err instanceof Error ? err.message : String(err)}`, 1);
});
