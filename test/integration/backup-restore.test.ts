import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BSON, type Db, type Document, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportDatabase } from '../../src/adapters/mongo/mongo-backup.js';
import { type BackupSource, importDatabase } from '../../src/adapters/mongo/mongo-restore.js';
import { startTestApp, TEST_SECRET } from '../support/app-harness.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { FakeSessionAccounts } from '../support/fake-session-accounts.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';
import { seedThroughApi } from '../support/seed-through-api.js';

const root = new URL('../../', import.meta.url);
const enabled = need('npm run backup / restore round trip', ['mongo']);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run <script> -- args` as an operator types it; MONGODB_URI comes from the environment. */
function npmRun(script: 'backup' | 'restore', args: string[], env: Record<string, string>, input?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', script, '--', ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

async function collectionNames(db: Db): Promise<string[]> {
  return (await db.listCollections({}, { nameOnly: true }).toArray())
    .map((c) => c.name)
    .filter((n) => !n.startsWith('system.'))
    .sort();
}

/** Every document of every collection, in _id order, with BSON types kept (promoteValues: false). */
async function snapshot(db: Db, promoteValues: boolean): Promise<Record<string, Document[]>> {
  const out: Record<string, Document[]> = {};
  for (const name of await collectionNames(db)) {
    out[name] = await db
      .collection(name)
      .find({}, { sort: { _id: 1 }, promoteValues })
      .toArray();
  }
  return out;
}

async function indexes(db: Db): Promise<Record<string, Document[]>> {
  const out: Record<string, Document[]> = {};
  for (const name of await collectionNames(db)) {
    out[name] = (await db.collection(name).listIndexes().toArray())
      .map((i) => ({ name: i.name, key: i.key, unique: i.unique ?? false }))
      .sort((a, b) => String(a.name).localeCompare(String(b.name)));
  }
  return out;
}

describe.skipIf(!enabled)('npm run backup / npm run restore on FerretDB', () => {
  const base = services.mongoUri ?? '';
  const sourceUri = uniqueMongoUri(base, 'bksrc');
  const targets: string[] = [];
  const work = mkdtempSync(join(tmpdir(), 'rdp-backup-test-'));
  const env = (uri: string) => ({ MONGODB_URI: uri, NODE_ENV: 'test', JWT_SECRET: TEST_SECRET, DATA_DIR: join(work, 'data') });
  let client: MongoClient;
  let source: Db;
  let expected: Record<string, Document[]>;

  const targetDb = (tag: string): { uri: string; db: Db } => {
    const uri = uniqueMongoUri(base, tag);
    targets.push(uri);
    return { uri, db: client.db(new URL(uri).pathname.slice(1)) };
  };

  /** The target holds exactly the source's collections, documents (deep-equal and type-equal) and indexes. */
  async function expectSameAsSource(db: Db): Promise<void> {
    expect(await collectionNames(db)).toEqual(await collectionNames(source));
    expect(await snapshot(db, true)).toEqual(expected);
    const canonical = (s: Record<string, Document[]>) =>
      Object.fromEntries(Object.entries(s).map(([k, docs]) => [k, docs.map((d) => BSON.EJSON.stringify(d, { relaxed: false }))]));
    expect(canonical(await snapshot(db, false))).toEqual(canonical(await snapshot(source, false)));
    expect(await indexes(db)).toEqual(await indexes(source));
  }

  beforeAll(async () => {
    const t = await startTestApp(
      { MONGODB_URI: sourceUri, XRDP_BINARY: '/nonexistent/xrdp', DATA_DIR: join(work, 'app-data') },
      {
        runtime: new FakeServerRuntime(),
        sessionAccounts: new FakeSessionAccounts(),
        sweepIntervalMs: 3_600_000,
        reconcileIntervalMs: 3_600_000,
      },
    );
    try {
      await seedThroughApi(t);
    } finally {
      await t.stop();
    }
    client = await MongoClient.connect(base);
    source = client.db(new URL(sourceUri).pathname.slice(1));
    expected = await snapshot(source, true);
  }, 60_000);

  afterAll(async () => {
    if (client) {
      for (const uri of [sourceUri, ...targets]) await client.db(new URL(uri).pathname.slice(1)).dropDatabase();
      await client.close();
    }
    rmSync(work, { recursive: true, force: true });
  });

  it('the seed holds every collection the adapters write, with documents in each', () => {
    for (const name of [
      'servers',
      'server_revisions',
      'sessions',
      'session_revisions',
      'claims',
      'xrdp_config_versions',
      'hosts',
    ]) {
      expect(Object.keys(expected), name).toContain(name);
    }
    for (const name of ['servers', 'sessions', 'claims', 'xrdp_config_versions', 'hosts']) {
      expect(expected[name]?.length, name).toBeGreaterThan(0);
    }
  });

  it('npm run backup to a directory, then npm run restore into an empty database of another name: identical documents and indexes', async () => {
    const dir = join(work, 'dir-backup');
    const backup = await npmRun('backup', [dir], env(sourceUri));
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stderr).toMatch(/servers 3/);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { collections: { name: string }[] };
    expect(manifest.collections.map((c) => c.name)).toEqual(await collectionNames(source));

    const { uri, db } = targetDb('bkdir');
    const restore = await npmRun('restore', [dir], env(uri));
    expect(restore.code, restore.stderr).toBe(0);
    await expectSameAsSource(db);

    const again = await npmRun('restore', [dir], env(uri));
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/is not empty .*pass --force/);
  }, 60_000);

  it('the single-stream form goes through stdout and stdin (the container path)', async () => {
    const piped = await npmRun('backup', ['-'], env(sourceUri));
    expect(piped.code, piped.stderr).toBe(0);
    const lines = piped.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\{"header":\{"format":"rdp-services-cluster-backup"/);
    expect(lines.at(-1)).toMatch(/^\{"end":/);

    const { uri, db } = targetDb('bkstdin');
    const restored = await npmRun('restore', ['-'], env(uri), piped.stdout);
    expect(restored.code, restored.stderr).toBe(0);
    await expectSameAsSource(db);
  }, 60_000);

  it('a .jsonl file round-trips; a non-empty target is refused unless forced; an existing backup is never overwritten', async () => {
    const file = join(work, 'backup.jsonl');
    const out = createWriteStream(file);
    await exportDatabase(source, { kind: 'stream', stream: out });
    out.end();
    await once(out, 'finish');
    const fromFile: BackupSource = { kind: 'stream', open: () => createReadStream(file), rereadable: true };

    const { db } = targetDb('bkfile');
    await importDatabase(db, fromFile);
    await expectSameAsSource(db);

    await expect(importDatabase(db, fromFile)).rejects.toThrow(/is not empty \(documents in: .*servers.*\).*--force/);
    await db.collection('servers').insertOne({ _id: 'stray' as never });
    await importDatabase(db, fromFile, { force: true });
    await expectSameAsSource(db);

    const dir = join(work, 'occupied');
    mkdirSync(dir);
    writeFileSync(join(dir, 'keep.txt'), 'x');
    await expect(exportDatabase(source, { kind: 'directory', path: dir })).rejects.toThrow(/not empty/);
  }, 60_000);

  it('a truncated backup file is refused before anything is written', async () => {
    const full = join(work, 'full.jsonl');
    const out = createWriteStream(full);
    await exportDatabase(source, { kind: 'stream', stream: out });
    out.end();
    await once(out, 'finish');
    const cut = join(work, 'cut.jsonl');
    writeFileSync(cut, `${readFileSync(full, 'utf8').trimEnd().split('\n').slice(0, -2).join('\n')}\n`);

    const { db } = targetDb('bkcut');
    await expect(importDatabase(db, { kind: 'stream', open: () => createReadStream(cut), rereadable: true })).rejects.toThrow(
      /truncated/,
    );
    expect(await collectionNames(db)).toEqual([]);
  }, 60_000);
});
