import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RdpServer, ServerDrain } from '../../src/domain/servers/server.js';
import type { ServerFilter, ServerStore } from '../../src/domain/servers/server-store.js';
import type { Cursor } from '../../src/domain/shared/page.js';

export interface ServerStoreFixture {
  store: ServerStore;
  cleanup(): Promise<void>;
}

const T1 = '2025-03-01T10:00:00.001Z';
const T2 = '2025-03-01T10:00:00.002Z';
const T3 = '2025-03-01T10:00:01.000Z';

/** A fully populated server; every field differs from the defaults somewhere so a dropped field shows. */
const DRAIN: ServerDrain = {
  id: 'drain-1',
  origin: 'HOST',
  deadline: '2025-03-01T11:00:00.500Z',
  stopServer: true,
  startedAt: '2025-03-01T10:00:00.001Z',
  startedBy: 'adam',
  noticeStep: 300,
  actionStartedAt: '2025-03-01T11:00:01.000Z',
  completedAt: null,
};

export function aServer(overrides: Partial<RdpServer> & { id: string }): RdpServer {
  return {
    name: `server ${overrides.id}`,
    description: 'a test server',
    owner: 'alice',
    createdBy: 'alice',
    status: 'STOPPED',
    statusMessage: null,
    statusBeforeMaintenance: null,
    hostId: 'host-a',
    host: 'rdp.example.test',
    port: 33890,
    poolId: null,
    configuration: {
      desktop: 'kde',
      resolution: '2560x1440',
      colorDepth: 32,
      audio: false,
      clipboard: true,
      driveRedirection: true,
      printerRedirection: false,
      maxSessions: 7,
    },
    resources: { cpuLimit: 0.5, memoryLimitMb: 1536, diskLimitMb: 10240, bandwidthMbps: 250 },
    createdAt: T1,
    updatedAt: T1,
    lastStartedAt: null,
    lastStoppedAt: null,
    drain: null,
    version: 1,
    ...overrides,
  };
}

const cursorOf = (s: RdpServer): Cursor => ({ createdAt: s.createdAt, id: s.id });
const ids = (servers: readonly RdpServer[]): string[] => servers.map((s) => s.id);

/** Follows cursors until hasNextPage is false; returns each page's ids and hasNextPage. */
async function walk(store: ServerStore, filter: ServerFilter, first: number): Promise<{ pages: string[][]; hasNext: boolean[] }> {
  const pages: string[][] = [];
  const hasNext: boolean[] = [];
  let after: Cursor | undefined;
  for (let guard = 0; guard < 50; guard++) {
    const page = await store.list(filter, first, after);
    pages.push(ids(page.items));
    hasNext.push(page.hasNextPage);
    const last = page.items.at(-1);
    if (!page.hasNextPage || !last) break;
    after = cursorOf(last);
  }
  return { pages, hasNext };
}

/** The shared contract every ServerStore adapter must pass. */
export function serverStoreContract(name: string, makeStore: () => Promise<ServerStoreFixture>): void {
  describe(`ServerStore contract: ${name}`, () => {
    let store: ServerStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
    });

    afterEach(async () => {
      await cleanup();
    });

    describe('insert and findById', () => {
      it('round-trips a new server with null dates, nested configuration and fractional cpu unchanged', async () => {
        const server = aServer({ id: 'srv-roundtrip-1' });
        await store.insert(server);
        expect(await store.findById('srv-roundtrip-1')).toStrictEqual(server);
      });

      it('round-trips every date with milliseconds, a status message and the status before maintenance', async () => {
        const server = aServer({
          id: 'srv-roundtrip-2',
          status: 'MAINTENANCE',
          statusMessage: 'xrdp exited with code 1',
          statusBeforeMaintenance: 'ERROR',
          port: 33999,
          createdAt: '2024-12-31T23:59:59.999Z',
          updatedAt: '2025-01-02T03:04:05.678Z',
          lastStartedAt: '2025-01-01T00:00:00.001Z',
          lastStoppedAt: '2025-01-01T12:30:45.120Z',
          version: 42,
        });
        await store.insert(server);
        expect(await store.findById('srv-roundtrip-2')).toStrictEqual(server);
      });

      it('returns null for an id that was never inserted', async () => {
        await store.insert(aServer({ id: 'srv-present' }));
        expect(await store.findById('srv-absent')).toBeNull();
      });

      it('rejects a second insert with the same id and keeps the first', async () => {
        const first = aServer({ id: 'srv-dup', name: 'first' });
        await store.insert(first);
        await expect(store.insert(aServer({ id: 'srv-dup', name: 'second' }))).rejects.toThrow();
        expect(await store.findById('srv-dup')).toStrictEqual(first);
      });

      it('keeps no reference to the inserted or returned object', async () => {
        const server = aServer({ id: 'srv-copy' });
        await store.insert(server);
        server.name = 'mutated after insert';
        server.configuration.desktop = 'gnome';
        const read = await store.findById('srv-copy');
        expect(read?.name).toBe('server srv-copy');
        expect(read?.configuration.desktop).toBe('kde');
        if (read) read.resources.cpuLimit = 8;
        expect((await store.findById('srv-copy'))?.resources.cpuLimit).toBe(0.5);
      });
    });

    describe('findByIds', () => {
      it('returns the servers that exist and skips missing ids', async () => {
        const a = aServer({ id: 'srv-a' });
        const b = aServer({ id: 'srv-b', owner: 'bob' });
        await store.insert(a);
        await store.insert(b);
        await store.insert(aServer({ id: 'srv-c' }));
        const found = await store.findByIds(['srv-b', 'srv-missing', 'srv-a']);
        expect([...found].sort((x, y) => (x.id < y.id ? -1 : 1))).toStrictEqual([a, b]);
      });

      it('returns an empty array for no ids and for only missing ids', async () => {
        await store.insert(aServer({ id: 'srv-a' }));
        expect(await store.findByIds([])).toEqual([]);
        expect(await store.findByIds(['nope-1', 'nope-2'])).toEqual([]);
      });
    });

    describe('compareAndSet', () => {
      it('writes the next server when the stored version matches and stores every changed field', async () => {
        const v1 = aServer({ id: 'srv-cas' });
        await store.insert(v1);
        const v2: RdpServer = {
          ...v1,
          name: 'renamed',
          status: 'RUNNING',
          configuration: { ...v1.configuration, resolution: '1024x768', colorDepth: 16 },
          resources: { ...v1.resources, cpuLimit: 1.25 },
          updatedAt: '2025-03-01T10:05:00.123Z',
          lastStartedAt: '2025-03-01T10:05:00.100Z',
          version: 2,
        };
        expect(await store.compareAndSet(v2, 1)).toBe(true);
        expect(await store.findById('srv-cas')).toStrictEqual(v2);
      });

      it('can set a date back to null', async () => {
        const v1 = aServer({ id: 'srv-cas-null', lastStoppedAt: '2025-03-01T09:00:00.000Z', statusMessage: 'old' });
        await store.insert(v1);
        const v2: RdpServer = { ...v1, lastStoppedAt: null, statusMessage: null, version: 2 };
        expect(await store.compareAndSet(v2, 1)).toBe(true);
        expect(await store.findById('srv-cas-null')).toStrictEqual(v2);
      });

      it('refuses a stale expected version and leaves the stored server unchanged', async () => {
        const v1 = aServer({ id: 'srv-stale' });
        await store.insert(v1);
        const v2 = { ...v1, name: 'second', version: 2 };
        expect(await store.compareAndSet(v2, 1)).toBe(true);
        expect(await store.compareAndSet({ ...v1, name: 'stale writer', version: 2 }, 1)).toBe(false);
        expect(await store.findById('srv-stale')).toStrictEqual(v2);
      });

      it('refuses a version ahead of the stored one, and later in-order writes still succeed', async () => {
        const v1 = aServer({ id: 'srv-ahead' });
        await store.insert(v1);
        expect(await store.compareAndSet({ ...v1, name: 'from the future', version: 4 }, 3)).toBe(false);
        expect(await store.compareAndSet({ ...v1, name: 'v2', version: 2 }, 1)).toBe(true);
        expect(await store.compareAndSet({ ...v1, name: 'v3', version: 3 }, 2)).toBe(true);
        expect(await store.compareAndSet({ ...v1, name: 'v4', version: 4 }, 3)).toBe(true);
        expect(await store.findById('srv-ahead')).toMatchObject({ name: 'v4', version: 4 });
      });

      it('refuses an unknown id and does not create it', async () => {
        const ghost = aServer({ id: 'srv-ghost', version: 2 });
        expect(await store.compareAndSet(ghost, 1)).toBe(false);
        expect(await store.findById('srv-ghost')).toBeNull();
        expect(await store.count({})).toBe(0);
      });

      it('lets exactly one of 20 concurrent writers with the same expected version win, round after round', async () => {
        const v1 = aServer({ id: 'srv-race' });
        await store.insert(v1);
        for (let version = 1; version <= 3; version++) {
          const results = await Promise.all(
            Array.from({ length: 20 }, (_, i) =>
              store.compareAndSet({ ...v1, name: `round ${version} writer ${i}`, version: version + 1 }, version),
            ),
          );
          const winners = results.flatMap((ok, i) => (ok ? [i] : []));
          expect(winners, `round ${version}`).toHaveLength(1);
          const stored = await store.findById('srv-race');
          expect(stored?.version).toBe(version + 1);
          expect(stored?.name).toBe(`round ${version} writer ${winners[0]}`);
        }
      });

      it('accepts writes to a server deleted and inserted again with the same id from version 1', async () => {
        const v1 = aServer({ id: 'srv-reborn' });
        await store.insert(v1);
        expect(await store.compareAndSet({ ...v1, version: 2 }, 1)).toBe(true);
        expect(await store.delete('srv-reborn')).toBe(true);
        await store.insert(v1);
        expect(await store.compareAndSet({ ...v1, name: 'second life', version: 2 }, 1)).toBe(true);
        expect(await store.findById('srv-reborn')).toMatchObject({ name: 'second life', version: 2 });
      });
    });

    describe('delete', () => {
      it('returns true for a stored server, then false, and leaves the others', async () => {
        await store.insert(aServer({ id: 'srv-del' }));
        await store.insert(aServer({ id: 'srv-keep' }));
        expect(await store.delete('srv-del')).toBe(true);
        expect(await store.findById('srv-del')).toBeNull();
        expect(await store.delete('srv-del')).toBe(false);
        expect(ids(await store.findByIds(['srv-keep', 'srv-del']))).toEqual(['srv-keep']);
      });

      it('returns false for an id that never existed', async () => {
        expect(await store.delete('srv-never')).toBe(false);
      });
    });

    describe('list', () => {
      it('orders by createdAt then id, with millisecond createdAt and ties broken by id', async () => {
        const order: [string, string][] = [
          ['srv-b', T1],
          ['srv-c', T1],
          ['srv-a', T2],
          ['srv-d', T2],
          ['srv-e', T2],
          ['srv-0', T3],
        ];
        for (const i of [3, 0, 5, 2, 1, 4]) {
          const [id, createdAt] = order[i] ?? ['', ''];
          await store.insert(aServer({ id, createdAt, updatedAt: createdAt }));
        }
        const page = await store.list({}, 100);
        expect(ids(page.items)).toEqual(order.map(([id]) => id));
        expect(page.hasNextPage).toBe(false);
        // listAll: the same order in one read, whatever the number.
        expect(ids(await store.listAll({}))).toEqual(order.map(([id]) => id));
      });

      it('listAll returns more servers than a page holds, in list order, as copies', async () => {
        const want: string[] = [];
        for (let i = 0; i < 130; i++) {
          const id = `srv-${String(i).padStart(3, '0')}`;
          want.push(id);
          await store.insert(aServer({ id, createdAt: T1, updatedAt: T1 }));
        }
        const all = await store.listAll({});
        expect(ids(all)).toEqual(want);
        const first = all[0];
        if (first) first.name = 'changed by the caller';
        expect((await store.findById('srv-000'))?.name).not.toBe('changed by the caller');
      });

      it('listAll of an empty store is empty', async () => {
        expect(await store.listAll({})).toEqual([]);
        expect(await store.listAll({ visibleTo: 'alice' })).toEqual([]);
      });

      describe('with eleven servers in three createdAt groups', () => {
        // Tie groups of 4, 4 and 3: pages of 3 split each group across a page boundary.
        const expected = [
          'srv-01',
          'srv-04',
          'srv-07',
          'srv-10',
          'srv-02',
          'srv-05',
          'srv-08',
          'srv-11',
          'srv-03',
          'srv-06',
          'srv-09',
        ];
        const createdAtOf = (i: number): string => [T1, T2, T3][(i - 1) % 3] ?? T1;

        beforeEach(async () => {
          for (let i = 11; i >= 1; i--) {
            const id = `srv-${String(i).padStart(2, '0')}`;
            await store.insert(aServer({ id, createdAt: createdAtOf(i), updatedAt: createdAtOf(i) }));
          }
        });

        it('pages through everything with cursors, no duplicates or gaps, hasNextPage true until the last page', async () => {
          const { pages, hasNext } = await walk(store, {}, 3);
          expect(pages).toEqual([expected.slice(0, 3), expected.slice(3, 6), expected.slice(6, 9), expected.slice(9)]);
          expect(hasNext).toEqual([true, true, true, false]);
        });

        it('reports no next page when the page is exactly full and nothing follows', async () => {
          const all = await store.list({}, 11);
          expect(ids(all.items)).toEqual(expected);
          expect(all.hasNextPage).toBe(false);
          const almost = await store.list({}, 10);
          expect(ids(almost.items)).toEqual(expected.slice(0, 10));
          expect(almost.hasNextPage).toBe(true);
          const rest = await walk(store, {}, 4);
          expect(rest.pages).toEqual([expected.slice(0, 4), expected.slice(4, 8), expected.slice(8)]);
          expect(rest.hasNext).toEqual([true, true, false]);
        });

        it('returns no items for first: 0, with hasNextPage telling whether any exist', async () => {
          const page = await store.list({}, 0);
          expect(page.items).toEqual([]);
          expect(page.hasNextPage).toBe(true);
          const past = await store.list({}, 0, { createdAt: T3, id: 'srv-09' });
          expect(past).toEqual({ items: [], hasNextPage: false });
        });

        it('continues after a cursor whose server no longer exists', async () => {
          expect(await store.delete('srv-07')).toBe(true);
          const page = await store.list({}, 2, { createdAt: T1, id: 'srv-07' });
          expect(ids(page.items)).toEqual(['srv-10', 'srv-02']);
          expect(page.hasNextPage).toBe(true);
        });

        it('returns nothing after the last server', async () => {
          const page = await store.list({}, 5, { createdAt: T3, id: 'srv-09' });
          expect(page).toEqual({ items: [], hasNextPage: false });
        });
      });

      it('returns an empty page from an empty store', async () => {
        expect(await store.list({}, 10)).toEqual({ items: [], hasNextPage: false });
        expect(await store.list({}, 0)).toEqual({ items: [], hasNextPage: false });
      });
    });

    it('round-trips a drain with its times, and writes it away again (null) by compare-and-set', async () => {
      const server = aServer({ id: 'srv-drain', drain: DRAIN });
      await store.insert(server);
      expect(await store.findById('srv-drain')).toStrictEqual(server);
      const done = { ...server, drain: { ...DRAIN, completedAt: '2025-03-01T11:00:02.250Z' }, version: 2 };
      expect(await store.compareAndSet(done, 1)).toBe(true);
      expect(await store.findById('srv-drain')).toStrictEqual(done);
      expect(await store.compareAndSet({ ...done, drain: null, version: 3 }, 2)).toBe(true);
      expect((await store.findById('srv-drain'))?.drain).toBeNull();
    });

    describe('filters, count and countByStatus', () => {
      beforeEach(async () => {
        await store.insert(aServer({ id: 'srv-1', owner: 'alice', createdBy: 'alice', status: 'STOPPED', createdAt: T1 }));
        await store.insert(
          aServer({ id: 'srv-2', owner: 'bob', createdBy: 'alice', status: 'RUNNING', createdAt: T1, hostId: 'host-b' }),
        );
        await store.insert(aServer({ id: 'srv-3', owner: 'alice', createdBy: 'olga', status: 'RUNNING', createdAt: T2 }));
        await store.insert(
          aServer({ id: 'srv-4', owner: 'bob', createdBy: 'bob', status: 'STOPPED', createdAt: T2, poolId: 'pool-1' }),
        );
        await store.insert(
          aServer({
            id: 'srv-5',
            owner: 'carol',
            createdBy: 'carol',
            status: 'ERROR',
            createdAt: T3,
            poolId: 'pool-2',
            drain: DRAIN,
          }),
        );
      });

      const cases: [string, ServerFilter, string[]][] = [
        ['no filter', {}, ['srv-1', 'srv-2', 'srv-3', 'srv-4', 'srv-5']],
        ['status RUNNING', { status: 'RUNNING' }, ['srv-2', 'srv-3']],
        ['status MAINTENANCE (none)', { status: 'MAINTENANCE' }, []],
        ['ownerId alice', { ownerId: 'alice' }, ['srv-1', 'srv-3']],
        ['visibleTo alice (owner or creator)', { visibleTo: 'alice' }, ['srv-1', 'srv-2', 'srv-3']],
        ['visibleTo olga (creator only)', { visibleTo: 'olga' }, ['srv-3']],
        ['visibleTo bob', { visibleTo: 'bob' }, ['srv-2', 'srv-4']],
        ['visibleTo nobody', { visibleTo: 'mallory' }, []],
        ['visibleTo alice and status STOPPED', { visibleTo: 'alice', status: 'STOPPED' }, ['srv-1']],
        ['visibleTo alice and ownerId bob', { visibleTo: 'alice', ownerId: 'bob' }, ['srv-2']],
        ['all three', { visibleTo: 'alice', ownerId: 'alice', status: 'RUNNING' }, ['srv-3']],
        ['hostId host-b', { hostId: 'host-b' }, ['srv-2']],
        ['hostId host-a', { hostId: 'host-a' }, ['srv-1', 'srv-3', 'srv-4', 'srv-5']],
        ['hostId of no server', { hostId: 'host-z' }, []],
        ['hostId host-a and visibleTo alice', { hostId: 'host-a', visibleTo: 'alice' }, ['srv-1', 'srv-3']],
        ['draining', { draining: true }, ['srv-5']],
        ['not draining', { draining: false }, ['srv-1', 'srv-2', 'srv-3', 'srv-4']],
        ['draining on host-b (none)', { draining: true, hostId: 'host-b' }, []],
        ['poolId pool-1', { poolId: 'pool-1' }, ['srv-4']],
        ['poolId of no server', { poolId: 'pool-z' }, []],
        [
          'visibleTo alice via a server grant and a pool grant',
          { visibleTo: 'alice', visibleVia: { serverIds: ['srv-4'], poolIds: ['pool-2'] } },
          ['srv-1', 'srv-2', 'srv-3', 'srv-4', 'srv-5'],
        ],
        [
          'visibleTo mallory via a pool grant only',
          { visibleTo: 'mallory', visibleVia: { serverIds: [], poolIds: ['pool-1'] } },
          ['srv-4'],
        ],
        ['visibleTo mallory with empty grants', { visibleTo: 'mallory', visibleVia: { serverIds: [], poolIds: [] } }, []],
        [
          'poolId pool-2 and visibleTo mallory via server grant of another pool',
          { poolId: 'pool-2', visibleTo: 'mallory', visibleVia: { serverIds: ['srv-4'], poolIds: [] } },
          [],
        ],
      ];

      for (const [label, filter, want] of cases) {
        it(`list, listAll and count with ${label} return ${want.length} server(s)`, async () => {
          const page = await store.list(filter, 100);
          expect(ids(page.items)).toEqual(want);
          expect(page.hasNextPage).toBe(false);
          expect(await store.count(filter)).toBe(want.length);
          expect(ids(await store.listAll(filter))).toEqual(want);
        });
      }

      it('pages a filtered list with cursors', async () => {
        const { pages, hasNext } = await walk(store, { visibleTo: 'alice' }, 2);
        expect(pages).toEqual([['srv-1', 'srv-2'], ['srv-3']]);
        expect(hasNext).toEqual([true, false]);
      });

      it('counts by status with only the statuses present', async () => {
        expect(await store.countByStatus()).toEqual({ STOPPED: 2, RUNNING: 2, ERROR: 1 });
      });

      it('counts reflect deletes and status changes', async () => {
        const s5 = await store.findById('srv-5');
        expect(s5).not.toBeNull();
        if (s5) expect(await store.compareAndSet({ ...s5, status: 'RUNNING', version: 2 }, 1)).toBe(true);
        expect(await store.delete('srv-1')).toBe(true);
        expect(await store.countByStatus()).toEqual({ STOPPED: 1, RUNNING: 3 });
        expect(await store.count({ status: 'RUNNING' })).toBe(3);
        expect(await store.count({})).toBe(4);
      });
    });

    it('counts by status as an empty record for an empty store', async () => {
      expect(await store.countByStatus()).toEqual({});
      expect(await store.count({})).toBe(0);
    });
  });
}
