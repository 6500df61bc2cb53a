import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { type Document, MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app-harness.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { FakeSessionAccounts } from '../support/fake-session-accounts.js';
import { checkJsonSchema } from '../support/json-schema-check.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';
import { seedThroughApi } from '../support/seed-through-api.js';

interface Declared {
  options: Document;
  indexes: { key: Document; name: string }[];
  via: 'createCollection' | 'collMod';
}

/** Runs scripts/mongo-init.js as mongosh would, against a recording stand-in for `db`. */
function runInitScript(existing: string[] = []): Map<string, Declared> {
  const declared = new Map<string, Declared>();
  const entry = (name: string) => declared.get(name) ?? { options: {}, indexes: [], via: 'createCollection' as const };
  const db = {
    getName: () => 'lucid_rdp',
    getCollectionNames: () => [...existing],
    createCollection(name: string, options: Document) {
      declared.set(name, { ...entry(name), options, via: 'createCollection' });
    },
    runCommand(command: Document) {
      const { collMod, ...options } = command;
      declared.set(String(collMod), { ...entry(String(collMod)), options, via: 'collMod' });
      return { ok: 1 };
    },
    getCollection: (name: string) => ({
      createIndex(key: Document, options: { name: string }) {
        const e = entry(name);
        declared.set(name, { ...e, indexes: [...e.indexes, { key, name: options.name }] });
      },
    }),
  };
  const source = readFileSync(new URL('../../scripts/mongo-init.js', import.meta.url), 'utf8');
  runInNewContext(source, { db, print: () => undefined });
  return declared;
}

const schemaOf = (d: Declared | undefined): Document => (d?.options.validator as Document | undefined)?.$jsonSchema ?? {};

describe('scripts/mongo-init.js', () => {
  const declared = runInitScript();

  it('creates every collection with a strict, erroring $jsonSchema validator', () => {
    expect([...declared.keys()].sort()).toEqual(
      [
        'alert_claims',
        'alert_revisions',
        'alerts',
        'assignments',
        'audit_events',
        'claims',
        'host_revisions',
        'hosts',
        'pool_revisions',
        'pools',
        'resource_buckets',
        'resource_latest',
        'resource_limits_versions',
        'resource_summaries',
        'server_revisions',
        'servers',
        'session_revisions',
        'sessions',
        'xrdp_config_versions',
      ].sort(),
    );
    for (const [name, d] of declared) {
      expect(d.via, name).toBe('createCollection');
      expect(d.options, name).toMatchObject({ validationLevel: 'strict', validationAction: 'error' });
      expect(schemaOf(d).bsonType, name).toBe('object');
    }
  });

  it('on a database that has the collections, changes their validators with collMod (idempotent)', () => {
    const again = runInitScript([...declared.keys()]);
    for (const [name, d] of again) {
      expect(d.via, name).toBe('collMod');
      expect(d.options, name).toEqual(declared.get(name)?.options);
    }
  });

  it('validators refuse what they should (the checker used below is not vacuous)', () => {
    const servers = schemaOf(declared.get('servers'));
    expect(checkJsonSchema(servers, { _id: 'x' })).toContainEqual('$.name: required');
    const claims = schemaOf(declared.get('claims'));
    expect(checkJsonSchema(claims, { _id: 'k', scope: 's', owner: 'o', claimedAt: '2024-01-01' })).toEqual([
      '$.claimedAt: string is not date',
    ]);
  });
});

const enabled = need('mongo-init.js against the adapters', ['mongo']);

describe.skipIf(!enabled)('scripts/mongo-init.js matches what the adapters write (FerretDB)', () => {
  const uri = uniqueMongoUri(services.mongoUri ?? '', 'mongoinit');
  const dataDir = mkdtempSync(join(tmpdir(), 'rdp-mongo-init-'));
  const declared = runInitScript();
  let client: MongoClient;
  let names: string[];

  beforeAll(async () => {
    const t = await startTestApp(
      { MONGODB_URI: uri, XRDP_BINARY: '/nonexistent/xrdp', DATA_DIR: dataDir },
      { runtime: new FakeServerRuntime(), sessionAccounts: new FakeSessionAccounts(), sweepIntervalMs: 3_600_000 },
    );
    try {
      await seedThroughApi(t);
    } finally {
      await t.stop();
    }
    client = await MongoClient.connect(uri);
    names = (await client.db().listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
  }, 60_000);

  afterAll(async () => {
    await client?.db().dropDatabase();
    await client?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('declares every collection the API creates (a new store adds its collection to mongo-init.js)', () => {
    expect([...declared.keys()]).toEqual(expect.arrayContaining(names));
  });

  it('declares the indexes each adapter creates at start, by name and key', async () => {
    for (const name of names) {
      const actual = (await client.db().collection(name).listIndexes().toArray())
        .filter((i) => i.name !== '_id_')
        .map((i) => ({ name: String(i.name), key: JSON.stringify(i.key) }))
        .sort((a, b) => a.name.localeCompare(b.name));
      const expected = (declared.get(name)?.indexes ?? [])
        .map((i) => ({ name: i.name, key: JSON.stringify(i.key) }))
        .sort((a, b) => a.name.localeCompare(b.name));
      expect(expected, name).toEqual(actual);
    }
  });

  it('accepts every document the adapters wrote, with their BSON types', async () => {
    let checked = 0;
    for (const name of names) {
      const schema = schemaOf(declared.get(name));
      for (const doc of await client.db().collection(name).find({}, { promoteValues: false }).toArray()) {
        expect(checkJsonSchema(schema, doc), `${name} ${String(doc._id)}`).toEqual([]);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });
});
