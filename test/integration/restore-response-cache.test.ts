import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENERATIONS_KEY } from '../../src/app/cache-generations.js';
import { startTestApp, TEST_SECRET, type TestApp } from '../support/app-harness.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { FakeSessionAccounts } from '../support/fake-session-accounts.js';
import { freePort } from '../support/net.js';
import { type PrivateRedis, startPrivateRedis } from '../support/private-redis.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';

const root = new URL('../../', import.meta.url);
const SERVERS = '{ servers(first: 100) { totalCount edges { node { name } } } }';
const CREATE = `mutation($name: String!) { createServer(input: { name: $name }) {
  ... on CreateServerSuccess { server { id } } ... on Error { code message } } }`;

interface Run {
  code: number | null;
  stderr: string;
}

/** `npm run <script> -- args` as an operator types it, in an environment of exactly `env` (and PATH). */
function npmRun(script: 'backup' | 'restore', args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', script, '--', ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

/**
 * `npm run restore` into the database of a running API with RESPONSE_CACHE=on: the restore writes
 * past the stores (which move the cache generations on every write), so it moves every generation
 * itself, in the replicas' Redis, once it has changed the database.
 */
describe.skipIf(!need('restore and the response cache (FerretDB and Redis)', ['mongo']))(
  'npm run restore with the response cache on',
  { timeout: 180_000 },
  () => {
    let redis: PrivateRedis;
    let app: TestApp;
    let admin: string;
    let client: MongoClient;
    const mongoUri = uniqueMongoUri(services.mongoUri ?? '', 'restore_rcache');
    const work = mkdtempSync(join(tmpdir(), 'rdp-restore-cache-'));
    const backup = join(work, 'backup');
    const cli = (redisUrl?: string) => ({
      MONGODB_URI: mongoUri,
      NODE_ENV: 'test',
      JWT_SECRET: TEST_SECRET,
      DATA_DIR: join(work, 'data'),
      ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    });

    type Servers = { servers: { totalCount: number; edges: { node: { name: string } }[] } };
    const read = async () => {
      const r = await app.gql<Servers>(SERVERS, {}, admin);
      if (!r.body.data) throw new Error(JSON.stringify(r.body));
      return r.body.data.servers.edges.map((e) => e.node.name).sort();
    };
    const hits = async () =>
      (await app.app.container.metrics.responseCacheTotal.get()).values.find((v) => v.labels.result === 'hit')?.value ?? 0;
    const create = async (name: string) => {
      const r = await app.gql<{ createServer: { server?: { id: string } } }>(CREATE, { name }, admin);
      if (!r.body.data?.createServer.server) throw new Error(JSON.stringify(r.body));
    };
    /** Reads until an answer is served from the cache: what a replica would keep serving. */
    const cached = async () => {
      const first = await read();
      const before = await hits();
      expect(await read()).toEqual(first);
      expect(await hits()).toBe(before + 1);
      return first;
    };

    beforeAll(async () => {
      redis = await startPrivateRedis();
      app = await startTestApp(
        {
          MONGODB_URI: mongoUri,
          REDIS_URL: redis.url,
          XRDP_BINARY: '/nonexistent/xrdp',
          RESPONSE_CACHE: 'on',
          HEALTH_CHECK_INTERVAL: '86400',
          METRICS_INTERVAL: '86400',
        },
        {
          runtime: new FakeServerRuntime(),
          sessionAccounts: new FakeSessionAccounts(),
          sweepIntervalMs: 3_600_000,
          reconcileIntervalMs: 3_600_000,
          drainIntervalMs: 3_600_000,
        },
      );
      admin = await app.token('root', ['admin']);
      client = await MongoClient.connect(services.mongoUri as string);
      await create('in-the-backup');
      const made = await npmRun('backup', [backup], cli());
      expect(made.code, made.stderr).toBe(0);
      // The first read of a fresh Redis sets the epoch and bypasses the cache.
      await read();
    }, 120_000);

    afterAll(async () => {
      await app?.app.container.mongo?.db.dropDatabase();
      await app?.stop();
      await client?.close();
      await redis?.stop();
      rmSync(work, { recursive: true, force: true });
    });

    it('the next read after a restore answers the restored data, without a restart', async () => {
      await create('after-the-backup');
      expect(await cached()).toEqual(['after-the-backup', 'in-the-backup']);
      const restored = await npmRun('restore', [backup, '--force'], cli(redis.url));
      expect(restored.code, restored.stderr).toBe(0);
      expect(restored.stderr).toContain(
        `response cache: moved the generations of servers, sessions, pools, assignments in redis://127.0.0.1:${redis.port}`,
      );
      expect(await read()).toEqual(['in-the-backup']);
      // And the cache works on: the restored answer is cached in its turn.
      expect(await cached()).toEqual(['in-the-backup']);
    });

    it('a Redis the restore cannot reach: restored, exit status 3, and what to do (the replica still serves its cached answer)', async () => {
      await create('again-after');
      expect(await cached()).toEqual(['again-after', 'in-the-backup']);
      const closed = `redis://127.0.0.1:${await freePort()}`;
      const run = await npmRun('restore', [backup, '--force', '--redis', closed], cli(redis.url));
      expect(run.code, run.stderr).toBe(3);
      expect(run.stderr).toMatch(/^restored /m);
      expect(run.stderr).toContain(`response cache: could not move the generations in ${closed}`);
      expect(run.stderr).toContain('restart them');
      // What the message warns of: the database was restored, the cached answer is still served.
      expect(await client.db(new URL(mongoUri).pathname.slice(1)).collection('servers').countDocuments()).toBe(1);
      const before = await hits();
      expect(await read()).toEqual(['again-after', 'in-the-backup']);
      expect(await hits()).toBe(before + 1);
      // Moved by hand as the message says, the next read is the restored data.
      for (const kind of ['servers', 'sessions', 'pools', 'assignments']) await redis.admin.hincrby(GENERATIONS_KEY, kind, 1);
      expect(await read()).toEqual(['in-the-backup']);
    });

    it('without REDIS_URL the restore says that no generation moved; bad --redis and refused restores change nothing', async () => {
      const bare = await npmRun('restore', [backup, '--force'], cli());
      expect(bare.code, bare.stderr).toBe(0);
      expect(bare.stderr).toContain('response cache: REDIS_URL is not set here, so no cache generation was moved');

      const generations = await redis.admin.hgetall(GENERATIONS_KEY);
      await create('not-restored-over');
      const afterCreate = await redis.admin.hgetall(GENERATIONS_KEY);
      const bad = await npmRun('restore', [backup, '--force', '--redis', 'http://127.0.0.1:6379'], cli(redis.url));
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--redis: expected a redis:// or rediss:// URL, got http:');
      const refused = await npmRun('restore', [backup], cli(redis.url));
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('is not empty');
      expect(await redis.admin.hgetall(GENERATIONS_KEY)).toEqual(afterCreate);
      expect(afterCreate).not.toEqual(generations);
      expect(await client.db(new URL(mongoUri).pathname.slice(1)).collection('servers').countDocuments()).toBe(2);
      const backupOnly = await npmRun('backup', [join(work, 'other'), '--redis', redis.url], cli());
      expect(backupOnly.code).toBe(2);
      expect(backupOnly.stderr).toContain('--redis applies to restore only');
    });
  },
);
