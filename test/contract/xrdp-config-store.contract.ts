import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { XrdpConfig, XrdpConfigVersion } from '../../src/domain/xrdp/xrdp-config.js';
import type { XrdpConfigStore } from '../../src/domain/xrdp/xrdp-config-store.js';

export interface XrdpConfigStoreFixture {
  store: XrdpConfigStore;
  cleanup(): Promise<void>;
}

/** Every field differs from DEFAULT_XRDP_CONFIG, so a dropped or defaulted field shows. */
const CONFIG: XrdpConfig = {
  global: {
    port: 3390,
    useTls: false,
    certificatePath: '/srv/tls/cert.pem',
    keyPath: '/srv/tls/key.pem',
    logLevel: 'WARN',
    maxConnections: 7,
  },
  security: { authentication: 'both', sessionTimeout: 7200, idleTimeout: 600, encryptionLevel: 'medium' },
  performance: { compression: false, bitmapCache: false, glyphCache: true, maxBitmapCacheSize: 1_000_001 },
};

export function aVersion(version: number, overrides: Partial<XrdpConfigVersion> = {}): XrdpConfigVersion {
  return {
    version,
    config: structuredClone(CONFIG),
    updatedBy: `admin-${version}`,
    updatedAt: new Date(Date.UTC(2025, 2, 1, 10, 0, 0, version % 1000)).toISOString(),
    ...overrides,
  };
}

const numbers = (vs: readonly XrdpConfigVersion[]) => vs.map((v) => v.version);

/** The shared contract every XrdpConfigStore adapter must pass. */
export function xrdpConfigStoreContract(name: string, makeStore: () => Promise<XrdpConfigStoreFixture>): void {
  describe(`XrdpConfigStore contract: ${name}`, () => {
    let store: XrdpConfigStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
    });

    afterEach(async () => {
      await cleanup();
    });

    it('has no latest version and an empty history when nothing was written', async () => {
      expect(await store.latest()).toBeNull();
      expect(await store.list(10)).toEqual([]);
    });

    it('round-trips a version with every config field, its author and a millisecond timestamp', async () => {
      const v1 = aVersion(1, { updatedAt: '2024-12-31T23:59:59.999Z' });
      expect(await store.insert(v1)).toBe(true);
      expect(await store.latest()).toStrictEqual(v1);
      expect(await store.list(1)).toStrictEqual([v1]);
    });

    it('refuses a second insert of the same version number and keeps the first', async () => {
      const first = aVersion(1, { updatedBy: 'first' });
      expect(await store.insert(first)).toBe(true);
      expect(await store.insert(aVersion(1, { updatedBy: 'second' }))).toBe(false);
      expect(await store.latest()).toStrictEqual(first);
      expect(await store.list(10)).toHaveLength(1);
    });

    it('answers the highest number as latest and lists newest first, whatever the insert order', async () => {
      for (const n of [3, 1, 12, 2]) expect(await store.insert(aVersion(n))).toBe(true);
      expect((await store.latest())?.version).toBe(12);
      expect(numbers(await store.list(10))).toEqual([12, 3, 2, 1]);
    });

    it('lists at most `limit` versions, and none for 0', async () => {
      for (let n = 1; n <= 30; n++) expect(await store.insert(aVersion(n))).toBe(true);
      expect(numbers(await store.list(5))).toEqual([30, 29, 28, 27, 26]);
      expect(await store.list(25)).toHaveLength(25);
      expect(await store.list(0)).toEqual([]);
      expect(await store.list(100)).toHaveLength(30);
    });

    it('keeps no reference to inserted or returned objects', async () => {
      const v1 = aVersion(1);
      await store.insert(v1);
      v1.config.global.port = 1;
      v1.updatedBy = 'mutated';
      const read = await store.latest();
      expect(read?.config.global.port).toBe(3390);
      expect(read?.updatedBy).toBe('admin-1');
      if (read) read.config.security.encryptionLevel = 'low';
      expect((await store.latest())?.config.security.encryptionLevel).toBe('medium');
    });

    it('lets exactly one of 20 concurrent inserts of the same version win, and stores the winner', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.insert(aVersion(1, { updatedBy: `writer-${i}` }))),
      );
      const winners = results.flatMap((ok, i) => (ok ? [i] : []));
      expect(winners).toHaveLength(1);
      expect((await store.latest())?.updatedBy).toBe(`writer-${winners[0]}`);
    });

    it('gives 10 concurrent read-then-insert writers contiguous, distinct versions, none lost', async () => {
      const writes = 3;
      await Promise.all(
        Array.from({ length: 10 }, async (_, w) => {
          for (let k = 0; k < writes; k++) {
            for (;;) {
              const next = ((await store.latest())?.version ?? 0) + 1;
              if (await store.insert(aVersion(next, { updatedBy: `w${w}-${k}` }))) break;
            }
          }
        }),
      );
      const all = await store.list(100);
      expect(numbers(all)).toEqual(Array.from({ length: 30 }, (_, i) => 30 - i));
      expect(new Set(all.map((v) => v.updatedBy)).size).toBe(30);
    });
  });
}
