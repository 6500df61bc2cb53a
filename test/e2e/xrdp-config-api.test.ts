import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sesmanIniDocument } from '../../src/domain/xrdp/ini-render.js';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';
import { readXrdpIni } from '../support/xrdp-ini-reader.js';

const CONFIG_FIELDS = `config {
  global { port useTls certificatePath keyPath logLevel maxConnections }
  security { authentication sessionTimeout idleTimeout encryptionLevel }
  performance { compression bitmapCache glyphCache maxBitmapCacheSize }
}`;
const READ = `{ xrdpConfig { version updatedBy updatedAt ${CONFIG_FIELDS} } }`;
const HISTORY = '{ xrdpConfigHistory(last: 50) { version updatedBy } }';
const UPDATE = `mutation($input: UpdateXrdpConfigInput!) { updateXrdpConfig(input: $input) {
  __typename
  ... on UpdateXrdpConfigSuccess { config { version updatedBy updatedAt ${CONFIG_FIELDS} } }
  ... on Error { code message }
} }`;

interface ApiConfig {
  global: {
    port: number;
    useTls: boolean;
    certificatePath: string | null;
    keyPath: string | null;
    logLevel: string;
    maxConnections: number;
  };
  security: { authentication: string; sessionTimeout: number; idleTimeout: number; encryptionLevel: string };
  performance: { compression: boolean; bitmapCache: boolean; glyphCache: boolean; maxBitmapCacheSize: number };
}
interface ApiVersion {
  version: number;
  updatedBy: string;
  updatedAt: string;
  config: ApiConfig;
}
type ReadResult = { xrdpConfig: ApiVersion };
type UpdateResult = { updateXrdpConfig: { __typename: string; code?: string; message?: string; config?: ApiVersion } };

/** The injection payloads of the issue, plus the control and bidi characters. */
const PAYLOADS: [string, string][] = [
  ['a bare CR', '/etc/xrdp/cert.pem\rsecurity_layer=rdp'],
  ['LF and a [Globals] section', 'a\n[Globals]\nport=1'],
  ['a # comment', 'pa#ss'],
  ['a section header', 'x[Xorg]y'],
  ['an environment reference', '$JWT_SECRET'],
  ['a 3,000-byte value', `/${'a'.repeat(2999)}`],
  ['U+202E', '/etc/xrdp/\u202Emep.key'],
  ['NUL', '/etc/xrdp/cert.pem\u0000.evil'],
];

const backends: [string, () => Record<string, string>, boolean][] = [
  ['memory', () => ({}), true],
  [
    'mongo (FerretDB)',
    () => ({ MONGODB_URI: uniqueMongoUri(services.mongoUri ?? '', 'xrdpcfg_api') }),
    need('xrdp config API on mongo', ['mongo']),
  ],
];

for (const [backend, env, enabled] of backends) {
  describe.skipIf(!enabled)(`xrdp config API on ${backend}`, () => {
    let t: TestApp;
    let dataDir: string;
    let alice: string;
    let bob: string;
    let olga: string;
    let ursula: string;
    const sesmanIni = () => join(dataDir, 'xrdp', 'sesman.ini');

    const read = async (token: string) => (await t.gql<ReadResult>(READ, {}, token)).body;
    const update = async (input: Record<string, unknown>, token: string) =>
      (await t.gql<UpdateResult>(UPDATE, { input }, token)).body;
    const currentVersion = async () => (await read(olga)).data?.xrdpConfig.version;

    const tls = (name: string) => ({ cert: join(dataDir, 'tls', `${name}.pem`), key: join(dataDir, 'tls', `${name}.key`) });

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'xrdp-config-api-'));
      mkdirSync(join(dataDir, 'tls'));
      for (const name of ['a', 'b']) {
        const { cert, key } = tls(name);
        execFileSync(
          'openssl',
          ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', key, '-out', cert],
          {
            stdio: 'ignore',
          },
        );
      }
      t = await startTestApp({ ...env(), DATA_DIR: dataDir, XRDP_BINARY: '/nonexistent/xrdp' });
      alice = await t.token('alice', ['admin']);
      bob = await t.token('bob', ['admin']);
      olga = await t.token('olga', ['operator']);
      ursula = await t.token('ursula', ['user']);
    });
    afterAll(async () => {
      await t.app.container.mongo?.db.dropDatabase();
      await t.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('xrdpConfig: operators and admins read version 0, the defaults; a user is FORBIDDEN; no token is UNAUTHENTICATED', async () => {
      const byOperator = await read(olga);
      expect(byOperator.errors).toBeUndefined();
      expect(byOperator.data?.xrdpConfig).toEqual({
        version: 0,
        updatedBy: 'system',
        updatedAt: '1970-01-01T00:00:00.000Z',
        config: {
          global: {
            port: 3389,
            useTls: true,
            certificatePath: null,
            keyPath: null,
            logLevel: 'INFO',
            maxConnections: 100,
          },
          security: { authentication: 'PASSWORD', sessionTimeout: 3600, idleTimeout: 1800, encryptionLevel: 'HIGH' },
          performance: { compression: true, bitmapCache: true, glyphCache: true, maxBitmapCacheSize: 32000000 },
        },
      });
      expect((await read(alice)).data?.xrdpConfig.version).toBe(0);
      const byUser = await read(ursula);
      expect(byUser.data ?? null).toBeNull();
      expect(byUser.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const anonymous = await t.gql<ReadResult>(READ, {});
      expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      const history = await t.gql<{ xrdpConfigHistory: unknown[] }>(HISTORY, {}, ursula);
      expect(history.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    });

    it('updateXrdpConfig by admins makes version 1 then 2, each with updatedBy, merged over the one before', async () => {
      const started = Date.now();
      const first = await update(
        {
          global: { maxConnections: 25, logLevel: 'WARN', certificatePath: tls('a').cert, keyPath: tls('a').key },
          security: { encryptionLevel: 'MEDIUM' },
        },
        alice,
      );
      expect(first.errors).toBeUndefined();
      expect(first.data?.updateXrdpConfig.__typename).toBe('UpdateXrdpConfigSuccess');
      const v1 = first.data?.updateXrdpConfig.config;
      expect(v1).toMatchObject({
        version: 1,
        updatedBy: 'alice',
        config: {
          global: { maxConnections: 25, logLevel: 'WARN', certificatePath: tls('a').cert, keyPath: tls('a').key },
          security: { authentication: 'PASSWORD', encryptionLevel: 'MEDIUM', sessionTimeout: 3600 },
        },
      });
      expect(Date.parse(v1?.updatedAt ?? '')).toBeGreaterThanOrEqual(started - 1000);

      const second = await update(
        { security: { sessionTimeout: 7200, idleTimeout: 3600 }, performance: { bitmapCache: false } },
        bob,
      );
      const v2 = second.data?.updateXrdpConfig.config;
      expect(v2).toMatchObject({
        version: 2,
        updatedBy: 'bob',
        config: {
          global: { maxConnections: 25, logLevel: 'WARN', certificatePath: tls('a').cert },
          security: { sessionTimeout: 7200, idleTimeout: 3600 },
          performance: { bitmapCache: false, compression: true },
        },
      });
      expect((await read(olga)).data?.xrdpConfig).toEqual(v2);
      const history = await t.gql<{ xrdpConfigHistory: { version: number; updatedBy: string }[] }>(HISTORY, {}, olga);
      expect(history.body.data?.xrdpConfigHistory).toEqual([
        { version: 2, updatedBy: 'bob' },
        { version: 1, updatedBy: 'alice' },
      ]);
    });

    it('writes the rendered sesman.ini of the new version to DATA_DIR/xrdp, which xrdp reads back as meant', async () => {
      const r = await update({ global: { maxConnections: 40 }, security: { idleTimeout: 900 } }, alice);
      expect(r.data?.updateXrdpConfig.__typename).toBe('UpdateXrdpConfigSuccess');
      const config = await t.app.container.xrdpConfig.current();
      expect(config.global.maxConnections).toBe(40);
      const text = readFileSync(sesmanIni(), 'utf8');
      const parsed = readXrdpIni(text);
      const doc = sesmanIniDocument(config, { listenAddress: '127.0.0.1', logFile: '/var/log/xrdp/xrdp-sesman.log' });
      expect(parsed.sectionOrder).toEqual(doc.map((s) => s.name));
      const sessions = new Map(parsed.sections.get('Sessions'));
      expect(sessions.get('MaxSessions')).toBe('40');
      expect(sessions.get('IdleTimeLimit')).toBe('900');
      expect(sessions.get('DisconnectedTimeLimit')).toBe('7200');
      expect(new Map(parsed.sections.get('Logging')).get('LogLevel')).toBe('WARN');
    });

    it('updateXrdpConfig by an operator or a user is FORBIDDEN and makes no version', async () => {
      const before = await currentVersion();
      for (const token of [olga, ursula]) {
        const r = await update({ global: { maxConnections: 5 } }, token);
        expect(r.data?.updateXrdpConfig ?? null).toBeNull();
        expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      }
      expect(await currentVersion()).toBe(before);
    });

    for (const field of ['certificatePath', 'keyPath']) {
      it(`every injection payload in ${field} is BAD_USER_INPUT naming global.${field}; no version, sesman.ini byte for byte unchanged`, async () => {
        const before = await currentVersion();
        const fileBefore = readFileSync(sesmanIni());
        const filesBefore = readdirSync(join(dataDir, 'xrdp')).sort();
        for (const [label, payload] of PAYLOADS) {
          const r = await update({ global: { [field]: payload, maxConnections: 3 } }, alice);
          expect(r.data?.updateXrdpConfig ?? null, label).toBeNull();
          expect(r.errors?.[0]?.extensions, label).toMatchObject({ code: 'BAD_USER_INPUT', field: `global.${field}` });
          expect(r.errors?.[0]?.message, label).toContain(`global.${field}`);
        }
        expect(await currentVersion()).toBe(before);
        expect(readFileSync(sesmanIni()).equals(fileBefore)).toBe(true);
        expect(readdirSync(join(dataDir, 'xrdp')).sort()).toEqual(filesBefore);
        expect((await read(olga)).data?.xrdpConfig.config.global.maxConnections).toBe(40);
      });
    }

    it('idleTimeout >= sessionTimeout is BAD_USER_INPUT naming security.idleTimeout, also when only sessionTimeout changes', async () => {
      const before = await currentVersion();
      const cases: Record<string, unknown>[] = [
        { security: { sessionTimeout: 600, idleTimeout: 600 } },
        { security: { sessionTimeout: 600, idleTimeout: 601 } },
        { security: { sessionTimeout: 800 } }, // the current idleTimeout is 900
      ];
      for (const input of cases) {
        const r = await update(input, alice);
        expect(r.errors?.[0]?.extensions, JSON.stringify(input)).toMatchObject({
          code: 'BAD_USER_INPUT',
          field: 'security.idleTimeout',
        });
      }
      expect(await currentVersion()).toBe(before);
    });

    const outOfRange: [Record<string, unknown>, string][] = [
      [{ global: { port: 1023 } }, 'global.port'],
      [{ global: { port: 65536 } }, 'global.port'],
      [{ global: { maxConnections: 0 } }, 'global.maxConnections'],
      [{ global: { maxConnections: 1001 } }, 'global.maxConnections'],
      [{ global: { certificatePath: 'relative/cert.pem' } }, 'global.certificatePath'],
      [{ global: { keyPath: '/etc/../root/key.pem' } }, 'global.keyPath'],
      [{ security: { sessionTimeout: 299 } }, 'security.sessionTimeout'],
      [{ security: { sessionTimeout: 86401 } }, 'security.sessionTimeout'],
      [{ security: { idleTimeout: 59 } }, 'security.idleTimeout'],
      [{ security: { idleTimeout: 7201 } }, 'security.idleTimeout'],
      [{ performance: { maxBitmapCacheSize: 999_999 } }, 'performance.maxBitmapCacheSize'],
      [{ performance: { maxBitmapCacheSize: 100_000_001 } }, 'performance.maxBitmapCacheSize'],
    ];
    for (const [input, field] of outOfRange) {
      it(`${JSON.stringify(input)} is BAD_USER_INPUT naming ${field}`, async () => {
        const r = await update(input, alice);
        expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      });
    }

    it('a certificate pair xrdp cannot use is BAD_USER_INPUT naming the field; no version is made', async () => {
      const before = await currentVersion();
      const cases: [Record<string, string>, string, RegExp][] = [
        [{ certificatePath: join(dataDir, 'tls', 'none.pem') }, 'global.certificatePath', /cannot be read \(ENOENT\)/],
        [{ certificatePath: tls('b').key, keyPath: tls('b').key }, 'global.certificatePath', /is not a PEM certificate/],
        [{ keyPath: tls('a').cert }, 'global.keyPath', /is not a PEM private key/],
        [{ keyPath: tls('b').key }, 'global.keyPath', /is not the private key of the certificate/],
        [{ certificatePath: tls('b').cert, keyPath: '' }, 'global.keyPath', /is required with certificatePath/],
      ];
      for (const [global, field, message] of cases) {
        const r = await update({ global }, alice);
        expect(r.data?.updateXrdpConfig ?? null, JSON.stringify(global)).toBeNull();
        expect(r.errors?.[0]?.extensions, JSON.stringify(global)).toMatchObject({ code: 'BAD_USER_INPUT', field });
        expect(r.errors?.[0]?.message, JSON.stringify(global)).toMatch(message);
      }
      expect(await currentVersion()).toBe(before);
      const cleared = await update({ global: { certificatePath: '', keyPath: '' } }, alice);
      expect(cleared.data?.updateXrdpConfig.config?.config.global).toMatchObject({ certificatePath: null, keyPath: null });
    });

    it('fields with no xrdp key are deprecated in the schema, and a change to one is BAD_USER_INPUT saying it has no effect', async () => {
      const before = await currentVersion();
      const changes: [Record<string, unknown>, string][] = [
        [{ global: { port: 3390 } }, 'global.port'],
        [{ security: { authentication: 'BOTH' } }, 'security.authentication'],
        [{ performance: { glyphCache: false } }, 'performance.glyphCache'],
        [{ performance: { maxBitmapCacheSize: 64000000 } }, 'performance.maxBitmapCacheSize'],
      ];
      for (const [input, field] of changes) {
        const r = await update(input, alice);
        expect(r.errors?.[0]?.extensions, field).toMatchObject({ code: 'BAD_USER_INPUT', field });
        expect(r.errors?.[0]?.message, field).toMatch(/has no effect/);
      }
      expect(await currentVersion()).toBe(before);
      const types = await t.gql<{ [k: string]: { fields?: Field[]; inputFields?: Field[] } }>(
        `{
          g: __type(name: "XrdpGlobalConfig") { fields(includeDeprecated: true) { name isDeprecated deprecationReason } }
          s: __type(name: "XrdpSecurityConfig") { fields(includeDeprecated: true) { name isDeprecated deprecationReason } }
          p: __type(name: "XrdpPerformanceConfig") { fields(includeDeprecated: true) { name isDeprecated deprecationReason } }
          gi: __type(name: "XrdpGlobalConfigInput") { inputFields(includeDeprecated: true) { name isDeprecated deprecationReason } }
          si: __type(name: "XrdpSecurityConfigInput") { inputFields(includeDeprecated: true) { name isDeprecated deprecationReason } }
          pi: __type(name: "XrdpPerformanceConfigInput") { inputFields(includeDeprecated: true) { name isDeprecated deprecationReason } }
        }`,
        {},
        olga,
      );
      type Field = { name: string; isDeprecated: boolean; deprecationReason: string | null };
      const deprecated = Object.entries(types.body.data ?? {}).flatMap(([k, v]) =>
        (v.fields ?? v.inputFields ?? []).filter((f) => f.isDeprecated).map((f) => `${k}.${f.name}`),
      );
      expect(deprecated.sort()).toEqual(
        [
          'g.port',
          'gi.port',
          's.authentication',
          'si.authentication',
          'p.glyphCache',
          'pi.glyphCache',
          'p.maxBitmapCacheSize',
          'pi.maxBitmapCacheSize',
        ].sort(),
      );
      for (const v of Object.values(types.body.data ?? {})) {
        for (const f of v.fields ?? v.inputFields ?? []) if (f.isDeprecated) expect(f.deprecationReason).toMatch(/^No effect: /);
      }
    });

    it('10 concurrent updates (retried on ConflictError) make 10 distinct, contiguous versions; none lost or duplicated', async () => {
      const before = (await currentVersion()) ?? Number.NaN;
      const admins = await Promise.all(Array.from({ length: 10 }, (_, i) => t.token(`admin-${i}`, ['admin'])));
      const made = await Promise.all(
        admins.map(async (token, i) => {
          for (let attempt = 0; attempt < 50; attempt++) {
            const r = await update({ global: { maxConnections: 500 + i } }, token);
            const result = r.data?.updateXrdpConfig;
            if (result?.__typename === 'UpdateXrdpConfigSuccess' && result.config) return result.config;
            expect(result?.__typename, JSON.stringify(r)).toBe('ConflictError');
            expect(result?.code).toBe('CONFLICT');
          }
          throw new Error(`admin-${i} never got its update in`);
        }),
      );
      const versions = made.map((v) => v.version).sort((a, b) => a - b);
      expect(versions).toEqual(Array.from({ length: 10 }, (_, i) => before + 1 + i));
      made.forEach((v, i) => {
        expect(v.updatedBy).toBe(`admin-${i}`);
        expect(v.config.global.maxConnections).toBe(500 + i);
      });
      const history = await t.gql<{ xrdpConfigHistory: { version: number; updatedBy: string }[] }>(HISTORY, {}, olga);
      const stored = history.body.data?.xrdpConfigHistory ?? [];
      expect(stored.map((v) => v.version)).toEqual(Array.from({ length: before + 10 }, (_, i) => before + 10 - i));
      expect(new Set(stored.slice(0, 10).map((v) => v.updatedBy))).toEqual(new Set(admins.map((_, i) => `admin-${i}`)));
      const latest = made.find((v) => v.version === before + 10);
      expect((await read(olga)).data?.xrdpConfig.config.global.maxConnections).toBe(latest?.config.global.maxConnections);
    });
  });
}
