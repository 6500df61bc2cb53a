import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { BackupError } from '../adapters/mongo/backup-format.js';
import { exportDatabase } from '../adapters/mongo/mongo-backup.js';
import { connectMongo } from '../adapters/mongo/mongo-database.js';
import { type BackupSource, importDatabase } from '../adapters/mongo/mongo-restore.js';
import { ConfigError } from '../config/config.js';
import { loadProcessConfig } from '../config/process-config.js';
import { CACHED_KINDS, GENERATIONS_KEY, moveAllGenerations } from './cache-generations.js';

const USAGE = `Usage:
  npm run backup -- <target> [--uri URI]
  npm run restore -- <source> [--uri URI] [--force] [--redis URL]
  (in a container image: node dist/src/app/backup-cli.js backup|restore ...)

Exports or imports every collection of the database as JSON lines (canonical Extended JSON, so
types round-trip) through the driver: works on MongoDB and on FerretDB, which has no mongodump.

  <target>  a new or empty directory (manifest.json + one <collection>.jsonl each),
            a file whose name ends in .jsonl, or - for stdout
  <source>  a backup directory, a .jsonl backup file, or - for stdin
  --uri     MongoDB URI with the database name (default: MONGODB_URI)
  --force   restore into a database that already has documents: each collection in the
            backup is dropped and replaced (other collections are left alone)
  --redis   the API replicas' Redis (default: REDIS_URL): once a restore has changed the
            database, it moves every response cache generation there, so replicas running with
            RESPONSE_CACHE=on answer from the restored data without a restart

Exit status: 0 done, 1 failed (the message says why), 2 bad usage or configuration,
3 restored, but the response cache generations could not be moved (the message says what to do).`;

function fail(message: string, code: 1 | 2): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

const OPTIONS = {
  uri: { type: 'string' },
  force: { type: 'boolean', default: false },
  redis: { type: 'string' },
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
  if (values.redis !== undefined && command === 'backup') fail('--redis applies to restore only', 2);
  const redis = command === 'restore' ? redisUrl(values.redis) : undefined;
  return { command, path, uri: values.uri, force: values.force ?? false, redis };
}

/** The replicas' Redis for a restore: --redis, else REDIS_URL; undefined when neither is set. */
function redisUrl(explicit: string | undefined): URL | undefined {
  const given = explicit ?? processConfig('--redis').redis?.url;
  if (given === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    return fail('--redis: not a URL (expected redis://host:port or rediss://host:port)', 2);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    return fail(`--redis: expected a redis:// or rediss:// URL, got ${url.protocol}`, 2);
  }
  return url;
}

/** Where a Redis URL points, without its credentials, for messages. */
const redisWhere = (url: URL): string => `${url.protocol}//${url.host}${url.pathname.length > 1 ? url.pathname : ''}`;

/**
 * After a restore changed the database: moves every response cache generation in the replicas'
 * Redis (the restore wrote past the stores, which move them on every write). Returns false when
 * Redis did not take it; says what happened either way.
 */
async function moveCacheGenerations(url: URL | undefined): Promise<boolean> {
  const kinds = CACHED_KINDS.join(', ');
  if (!url) {
    process.stderr.write(
      'response cache: REDIS_URL is not set here, so no cache generation was moved. API replicas running with ' +
        'RESPONSE_CACHE=on (which needs REDIS_URL) may answer from what they cached before the restore for up ' +
        'to 60 s: give their Redis with --redis (or REDIS_URL) next time, or restart them now.\n',
    );
    return true;
  }
  const redis = new Redis(url.href, {
    lazyConnect: true,
    connectTimeout: 5000,
    commandTimeout: 5000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await moveAllGenerations(redis);
    process.stderr.write(
      `response cache: moved the generations of ${kinds} in ${redisWhere(url)}; replicas answer from the restored data\n`,
    );
    return true;
  } catch (err) {
    process.stderr.write(
      `response cache: could not move the generations in ${redisWhere(url)} ` +
        `(${err instanceof Error ? err.message : String(err)}). API replicas running with RESPONSE_CACHE=on may ` +
        'answer from what they cached before the restore for up to 60 s: restart them, or run ' +
        `redis-cli HINCRBY ${GENERATIONS_KEY} <kind> 1 for each of ${kinds}.\n`,
    );
    return false;
  } finally {
    redis.disconnect();
  }
}

let loaded: ReturnType<typeof loadProcessConfig> | undefined;
/** This process's configuration (MONGODB_URI, REDIS_URL), for what the command line leaves out. */
function processConfig(instead: string): ReturnType<typeof loadProcessConfig> {
  try {
    loaded ??= loadProcessConfig();
    return loaded;
  } catch (err) {
    if (err instanceof ConfigError) fail(`${err.message}\n(or pass ${instead})`, 2);
    throw err;
  }
}

function mongoUri(explicit: string | undefined): string {
  if (explicit) return explicit;
  const config = processConfig('--uri');
  if (config.mongo) return config.mongo.uri;
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
    let changed = false;
    let result: Awaited<ReturnType<typeof importDatabase>>;
    try {
      result = await importDatabase(mongo.db, source, {
        force: args.force,
        beforeFirstWrite: () => {
          changed = true;
        },
      });
    } catch (err) {
      // A restore that failed half way changed the database all the same.
      if (changed) await moveCacheGenerations(args.redis);
      throw err;
    }
    for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
    process.stderr.write(
      `restored ${result.header.database} (backup of ${result.header.createdAt}) into ${mongo.db.databaseName} ` +
        `in ${Date.now() - started} ms: ${summary(result.counts)}\n`,
    );
    if (changed && !(await moveCacheGenerations(args.redis))) process.exitCode = 3;
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
