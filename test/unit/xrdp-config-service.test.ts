import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryXrdpConfigStore } from '../../src/adapters/memory/memory-xrdp-config-store.js';
import { fileCertificatePairChecker } from '../../src/adapters/xrdp/tls-certificate.js';
import type { Viewer } from '../../src/domain/auth/viewer.js';
import { ConflictError, ForbiddenError, ValidationError } from '../../src/domain/shared/errors.js';
import { UnsafeIniValueError } from '../../src/domain/xrdp/ini-value.js';
import { DEFAULT_XRDP_CONFIG, type XrdpConfig, type XrdpConfigVersion } from '../../src/domain/xrdp/xrdp-config.js';
import { XrdpConfigService } from '../../src/domain/xrdp/xrdp-config-service.js';
import type { XrdpConfigStore } from '../../src/domain/xrdp/xrdp-config-store.js';

const NOW = new Date('2025-06-01T12:00:00.123Z');
const SESMAN = { listenAddress: '127.0.0.1', logFile: '/var/log/xrdp/xrdp-sesman.log' };

const viewer = (userId: string, role: Viewer['roles'][number]): Viewer => ({
  userId,
  username: userId,
  roles: [role],
  permissions: [],
});
const admin = viewer('alice', 'admin');
const operator = viewer('olga', 'operator');
const user = viewer('ursula', 'user');

function make(store: XrdpConfigStore = new MemoryXrdpConfigStore()) {
  const changes: [XrdpConfig, number][] = [];
  const service = new XrdpConfigService({
    store,
    certificates: fileCertificatePairChecker,
    clock: { now: () => NOW },
    sesman: SESMAN,
    onChange: (config, version) => {
      changes.push([config, version]);
    },
  });
  return { service, store, changes };
}

describe('XrdpConfigService', () => {
  it('get answers version 0 with the defaults before any update, to operators and admins', async () => {
    const { service } = make();
    for (const v of [operator, admin]) {
      expect(await service.get(v)).toEqual({
        version: 0,
        config: DEFAULT_XRDP_CONFIG,
        updatedBy: 'system',
        updatedAt: '1970-01-01T00:00:00.000Z',
      });
    }
    expect(await service.current()).toEqual(DEFAULT_XRDP_CONFIG);
  });

  it('get and history refuse a plain user with ForbiddenError', async () => {
    const { service } = make();
    await expect(service.get(user)).rejects.toBeInstanceOf(ForbiddenError);
    await expect(service.history(user, 10)).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('update is for admins only; an operator or user gets ForbiddenError and nothing is stored', async () => {
    const { service, store, changes } = make();
    for (const v of [operator, user]) {
      await expect(service.update(v, { global: { maxConnections: 5 } })).rejects.toBeInstanceOf(ForbiddenError);
    }
    expect(await store.latest()).toBeNull();
    expect(changes).toEqual([]);
  });

  it('update stores version N+1 with updatedBy and the clock time, merged over the latest, then calls onChange', async () => {
    const { service, store, changes } = make();
    const v1 = await service.update(admin, { global: { maxConnections: 5 }, security: { encryptionLevel: 'low' } });
    expect(v1).toEqual({
      version: 1,
      updatedBy: 'alice',
      updatedAt: NOW.toISOString(),
      config: {
        ...DEFAULT_XRDP_CONFIG,
        global: { ...DEFAULT_XRDP_CONFIG.global, maxConnections: 5 },
        security: { ...DEFAULT_XRDP_CONFIG.security, encryptionLevel: 'low' },
      },
    });
    const v2 = await service.update(viewer('bob', 'admin'), { performance: { bitmapCache: false } });
    expect(v2.version).toBe(2);
    expect(v2.config.global.maxConnections).toBe(5);
    expect(v2.config.performance.bitmapCache).toBe(false);
    expect(await store.latest()).toEqual(v2);
    expect(changes.map(([, n]) => n)).toEqual([1, 2]);
    expect(changes[1]?.[0]).toEqual(v2.config);
    expect(await service.current()).toEqual(v2.config);
    expect((await service.history(operator, 10)).map((v) => v.version)).toEqual([2, 1]);
  });

  it('a bad update is a ValidationError naming the field; nothing stored, onChange not called', async () => {
    const { service, store, changes } = make();
    await expect(service.update(admin, { global: { certificatePath: 'pa#ss' } })).rejects.toMatchObject({
      field: 'global.certificatePath',
    });
    await expect(service.update(admin, { security: { idleTimeout: 3600 } })).rejects.toMatchObject({
      field: 'security.idleTimeout',
    });
    await expect(service.update(admin, { global: { nope: 1 } })).rejects.toBeInstanceOf(ValidationError);
    await expect(service.update(admin, { global: { port: 'x' } })).rejects.toMatchObject({ field: 'global.port' });
    expect(await store.latest()).toBeNull();
    expect(changes).toEqual([]);
  });

  it('treats GraphQL nulls as omitted fields', async () => {
    const { service } = make();
    const v1 = await service.update(admin, { global: { port: null, maxConnections: 9 }, security: null });
    expect(v1.config.global.port).toBe(3389);
    expect(v1.config.global.maxConnections).toBe(9);
  });

  it('a lost race for version N+1 is a ConflictError; onChange is not called', async () => {
    const inner = new MemoryXrdpConfigStore();
    const racing: XrdpConfigStore = {
      latest: () => inner.latest(),
      list: (n) => inner.list(n),
      async insert(v: XrdpConfigVersion) {
        await inner.insert({ ...v, updatedBy: 'someone-else' });
        return inner.insert(v);
      },
    };
    const { service, changes } = make(racing);
    await expect(service.update(admin, { global: { maxConnections: 5 } })).rejects.toBeInstanceOf(ConflictError);
    expect((await inner.latest())?.updatedBy).toBe('someone-else');
    expect(changes).toEqual([]);
  });

  it('history takes 1 to 100 versions', async () => {
    const { service } = make();
    for (const bad of [0, 101, 1.5]) await expect(service.history(operator, bad)).rejects.toBeInstanceOf(ValidationError);
    expect(await service.history(operator, 100)).toEqual([]);
  });

  it('refuses at construction host options that cannot be written into sesman.ini', () => {
    for (const sesman of [
      { listenAddress: '127.0.0.1\n[Globals]', logFile: '/var/log/x.log' },
      { listenAddress: '127.0.0.1', logFile: 'relative.log' },
      { listenAddress: '127.0.0.1', logFile: '/var/log/with space.log' },
    ]) {
      expect(
        () =>
          new XrdpConfigService({
            store: new MemoryXrdpConfigStore(),
            certificates: fileCertificatePairChecker,
            clock: { now: () => NOW },
            sesman,
          }),
      ).toThrow(UnsafeIniValueError);
    }
  });

  describe('certificatePath and keyPath (real files, openssl-made)', () => {
    let dir: string;
    const pair = (name: string) => {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '2',
          '-subj',
          `/CN=${name}`,
          '-keyout',
          join(dir, `${name}.key`),
          '-out',
          join(dir, `${name}.pem`),
        ],
        { stdio: 'ignore' },
      );
      return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
    };
    let a: { cert: string; key: string };
    let b: { cert: string; key: string };
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'xrdp-cert-'));
      a = pair('a');
      b = pair('b');
      writeFileSync(join(dir, 'notes.txt'), 'not a certificate\n');
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('a matching pair is stored; the empty string for both goes back to generated certificates (null)', async () => {
      const { service } = make();
      expect(DEFAULT_XRDP_CONFIG.global).toMatchObject({ certificatePath: null, keyPath: null });
      const v1 = await service.update(admin, { global: { certificatePath: a.cert, keyPath: a.key } });
      expect(v1.config.global).toMatchObject({ certificatePath: a.cert, keyPath: a.key });
      const v2 = await service.update(admin, { global: { certificatePath: '', keyPath: '' } });
      expect(v2.config.global).toMatchObject({ certificatePath: null, keyPath: null });
    });

    it('each unusable pair is a ValidationError naming the field, and nothing is stored', async () => {
      const { service, store, changes } = make();
      const cases: [Record<string, string>, string, RegExp][] = [
        [{ certificatePath: a.cert }, 'global.keyPath', /is required with certificatePath/],
        [{ keyPath: a.key }, 'global.certificatePath', /is required with keyPath/],
        [{ certificatePath: join(dir, 'missing.pem'), keyPath: a.key }, 'global.certificatePath', /cannot be read \(ENOENT\)/],
        [{ certificatePath: dir, keyPath: a.key }, 'global.certificatePath', /cannot be read \(EISDIR\)/],
        [{ certificatePath: join(dir, 'notes.txt'), keyPath: a.key }, 'global.certificatePath', /is not a PEM certificate/],
        [{ certificatePath: a.key, keyPath: a.key }, 'global.certificatePath', /is not a PEM certificate/],
        [{ certificatePath: a.cert, keyPath: join(dir, 'missing.key') }, 'global.keyPath', /cannot be read/],
        [{ certificatePath: a.cert, keyPath: a.cert }, 'global.keyPath', /is not a PEM private key/],
        [{ certificatePath: a.cert, keyPath: b.key }, 'global.keyPath', /is not the private key of the certificate/],
      ];
      for (const [global, field, message] of cases) {
        const err = await service.update(admin, { global }).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err, JSON.stringify(global)).toBeInstanceOf(ValidationError);
        expect((err as ValidationError).field, JSON.stringify(global)).toBe(field);
        expect((err as ValidationError).message, JSON.stringify(global)).toMatch(message);
      }
      expect(await store.latest()).toBeNull();
      expect(changes).toEqual([]);
    });
  });

  it('fields no xrdp key carries: a change is refused saying it has no effect; their current value is accepted', async () => {
    const { service, store } = make();
    const changes: [Record<string, Record<string, unknown>>, string][] = [
      [{ global: { port: 3390 } }, 'global.port'],
      [{ security: { authentication: 'both' } }, 'security.authentication'],
      [{ performance: { glyphCache: false } }, 'performance.glyphCache'],
      [{ performance: { maxBitmapCacheSize: 64_000_000 } }, 'performance.maxBitmapCacheSize'],
    ];
    for (const [input, field] of changes) {
      await expect(service.update(admin, input)).rejects.toMatchObject({
        code: 'BAD_USER_INPUT',
        field,
        message: expect.stringMatching(/has no effect/),
      });
    }
    expect(await store.latest()).toBeNull();
    const same = await service.update(admin, {
      global: { port: 3389, maxConnections: 7 },
      security: { authentication: 'password' },
      performance: { glyphCache: true, maxBitmapCacheSize: 32_000_000 },
    });
    expect(same.config.global.maxConnections).toBe(7);
    expect(same.config.global.port).toBe(DEFAULT_XRDP_CONFIG.global.port);
  });
});
