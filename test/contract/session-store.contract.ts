import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RdpSession, SessionStatus } from '../../src/domain/sessions/session.js';
import type { SessionFilter, SessionStore } from '../../src/domain/sessions/session-store.js';
import type { Cursor } from '../../src/domain/shared/page.js';

export interface SessionStoreFixture {
  store: SessionStore;
  cleanup(): Promise<void>;
}

const T1 = '2025-03-01T10:00:00.001Z';
const T2 = '2025-03-01T10:00:00.002Z';
const T3 = '2025-03-01T10:00:01.000Z';
const LIVE: SessionStatus[] = ['ACTIVE', 'DISCONNECTED'];

/** A fully populated new session; every field differs from a default somewhere so a dropped field shows. */
export function aSession(overrides: Partial<RdpSession> & { id: string }): RdpSession {
  return {
    serverId: 'srv-1',
    owner: 'alice',
    createdBy: 'alice',
    status: 'ACTIVE',
    terminationReason: null,
    clientInfo: {
      clientName: 'laptop',
      clientVersion: '3.5.1',
      clientIp: '2001:db8::7',
      resolution: '2560x1440',
      colorDepth: 32,
    },
    credentialMode: 'EPHEMERAL',
    username: 'rdp-0a1b2c3d',
    credentialHash: 'scrypt$c2FsdA==$aGFzaA==',
    credentialExpiresAt: '2025-03-01T11:00:00.001Z',
    credentialDeadline: null,
    display: null,
    slots: { global: 17, server: 3, user: 0 },
    hostId: 'host-a',
    lastHostEvent: 'host-a/1796325882409-3',
    createdAt: T1,
    connectedAt: null,
    lastActivityAt: T1,
    terminatedAt: null,
    idleDeadline: '2025-03-01T10:30:00.001Z',
    sessionDeadline: '2025-03-01T11:00:00.001Z',
    version: 1,
    ...overrides,
  };
}

const cursorOf = (s: RdpSession): Cursor => ({ createdAt: s.createdAt, id: s.id });
const ids = (sessions: readonly RdpSession[]): string[] => sessions.map((s) => s.id);

async function walk(
  store: SessionStore,
  filter: SessionFilter,
  first: number,
): Promise<{ pages: string[][]; hasNext: boolean[] }> {
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

/** The shared contract every SessionStore adapter must pass. */
export function sessionStoreContract(name: string, makeStore: () => Promise<SessionStoreFixture>): void {
  describe(`SessionStore contract: ${name}`, () => {
    let store: SessionStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
    });

    afterEach(async () => {
      await cleanup();
    });

    describe('insert and findById', () => {
      it('round-trips a new session with null dates, nested clientInfo and slots unchanged', async () => {
        const s = aSession({ id: 's-new' });
        await store.insert(s);
        expect(await store.findById('s-new')).toStrictEqual(s);
      });

      it('round-trips a terminated session with every date set, a display and a reason', async () => {
        const s = aSession({
          id: 's-ended',
          status: 'TERMINATED',
          terminationReason: 'SESSION_TIMEOUT',
          display: 11,
          connectedAt: T2,
          lastActivityAt: T3,
          terminatedAt: '2025-03-01T11:00:00.999Z',
          idleDeadline: null,
          credentialDeadline: '2025-03-01T11:00:00.001Z',
          version: 7,
        });
        await store.insert(s);
        expect(await store.findById('s-ended')).toStrictEqual(s);
      });

      it('round-trips a HOST_ACCOUNT session with no hash and an all-null clientInfo', async () => {
        const s = aSession({
          id: 's-host',
          credentialMode: 'HOST_ACCOUNT',
          username: 'alice',
          credentialHash: null,
          clientInfo: { clientName: null, clientVersion: null, clientIp: null, resolution: null, colorDepth: null },
          slots: { global: 0, server: 0, user: 9 },
        });
        await store.insert(s);
        expect(await store.findById('s-host')).toStrictEqual(s);
      });

      it('returns null for an id that was never inserted', async () => {
        expect(await store.findById('nope')).toBeNull();
      });

      it('rejects a second insert with the same id and keeps the first', async () => {
        await store.insert(aSession({ id: 'dup', owner: 'alice' }));
        await expect(store.insert(aSession({ id: 'dup', owner: 'bob' }))).rejects.toThrow();
        expect((await store.findById('dup'))?.owner).toBe('alice');
      });

      it('settles each of 60 concurrent inserts on its own: a duplicate id fails alone, the rest are stored', async () => {
        await store.insert(aSession({ id: 'taken', owner: 'alice' }));
        const batch = Array.from({ length: 60 }, (_, i) => aSession({ id: i === 30 ? 'taken' : `burst-${i}`, owner: 'bob' }));
        const outcomes = await Promise.allSettled(batch.map((s) => store.insert(s)));
        expect(outcomes.map((o) => o.status)).toEqual(batch.map((_, i) => (i === 30 ? 'rejected' : 'fulfilled')));
        expect((await store.findById('taken'))?.owner).toBe('alice');
        expect(await store.findByIds(batch.map((s) => s.id))).toHaveLength(60);
      });

      it('keeps no reference to the inserted or returned object', async () => {
        const s = aSession({ id: 'ref' });
        await store.insert(s);
        s.clientInfo.clientName = 'mutated';
        s.slots.global = 99;
        const read = await store.findById('ref');
        expect(read?.clientInfo.clientName).toBe('laptop');
        expect(read?.slots.global).toBe(17);
        if (read) read.clientInfo.clientIp = '10.0.0.1';
        expect((await store.findById('ref'))?.clientInfo.clientIp).toBe('2001:db8::7');
      });
    });

    describe('findByIds', () => {
      it('returns the sessions that exist and skips missing ids', async () => {
        await store.insert(aSession({ id: 'a' }));
        await store.insert(aSession({ id: 'b' }));
        const found = await store.findByIds(['b', 'missing', 'a']);
        expect(ids(found).sort()).toEqual(['a', 'b']);
        expect(found.find((s) => s.id === 'a')).toStrictEqual(aSession({ id: 'a' }));
      });

      it('returns an empty array for no ids and for only missing ids', async () => {
        await store.insert(aSession({ id: 'a' }));
        expect(await store.findByIds([])).toEqual([]);
        expect(await store.findByIds(['x', 'y'])).toEqual([]);
      });
    });

    describe('compareAndSet', () => {
      it('writes the next session when the stored version matches, every changed field included', async () => {
        const s = aSession({ id: 'cas' });
        await store.insert(s);
        const next: RdpSession = {
          ...s,
          status: 'TERMINATED',
          terminationReason: 'ADMIN',
          display: 12,
          connectedAt: T2,
          terminatedAt: T3,
          idleDeadline: null,
          version: 2,
        };
        expect(await store.compareAndSet(next, 1)).toBe(true);
        expect(await store.findById('cas')).toStrictEqual(next);
      });

      it('refuses a stale expected version and leaves the stored session unchanged', async () => {
        const s = aSession({ id: 'stale' });
        await store.insert(s);
        expect(await store.compareAndSet({ ...s, status: 'DISCONNECTED', version: 2 }, 1)).toBe(true);
        expect(await store.compareAndSet({ ...s, status: 'TERMINATED', version: 2 }, 1)).toBe(false);
        expect(await store.findById('stale')).toStrictEqual({ ...s, status: 'DISCONNECTED', version: 2 });
      });

      it('refuses an unknown id and does not create it', async () => {
        expect(await store.compareAndSet(aSession({ id: 'ghost', version: 2 }), 1)).toBe(false);
        expect(await store.findById('ghost')).toBeNull();
      });

      it('lets exactly one of 20 concurrent writers with the same expected version win, round after round', async () => {
        const s = aSession({ id: 'race' });
        await store.insert(s);
        let current = s;
        for (let round = 0; round < 3; round++) {
          const candidates = Array.from({ length: 20 }, (_, i) => ({
            ...current,
            lastActivityAt: new Date(Date.parse(T1) + round * 1000 + i).toISOString(),
            version: current.version + 1,
          }));
          const results = await Promise.all(candidates.map((c) => store.compareAndSet(c, current.version)));
          const winners = candidates.filter((_, i) => results[i]);
          expect(winners).toHaveLength(1);
          const stored = await store.findById('race');
          expect(stored).toStrictEqual(winners[0]);
          current = stored ?? current;
        }
        expect(current.version).toBe(4);
      });
    });

    describe('list, count and countByStatus', () => {
      // Three servers, three users; createdAt ties broken by id.
      const seed: RdpSession[] = [
        aSession({ id: 's01', serverId: 'srv-1', owner: 'alice', createdBy: 'alice', createdAt: T1 }),
        aSession({ id: 's02', serverId: 'srv-1', owner: 'bob', createdBy: 'bob', createdAt: T1, status: 'DISCONNECTED' }),
        aSession({ id: 's03', serverId: 'srv-2', owner: 'alice', createdBy: 'olga', createdAt: T2 }),
        aSession({
          id: 's04',
          serverId: 'srv-2',
          owner: 'bob',
          createdBy: 'bob',
          createdAt: T2,
          status: 'TERMINATED',
          terminationReason: 'USER',
        }),
        aSession({ id: 's05', serverId: 'srv-3', owner: 'carol', createdBy: 'alice', createdAt: T2 }),
        aSession({
          id: 's06',
          serverId: 'srv-1',
          owner: 'alice',
          createdBy: 'alice',
          createdAt: T3,
          status: 'TERMINATED',
          terminationReason: 'ADMIN',
        }),
        aSession({ id: 's07', serverId: 'srv-3', owner: 'carol', createdBy: 'carol', createdAt: T3, status: 'DISCONNECTED' }),
      ];

      beforeEach(async () => {
        // Inserted out of order: the order comes from (createdAt, id), not insertion.
        for (const s of [...seed].reverse()) await store.insert(s);
      });

      it('orders by createdAt then id', async () => {
        const page = await store.list({}, 100);
        expect(ids(page.items)).toEqual(['s01', 's02', 's03', 's04', 's05', 's06', 's07']);
        expect(page.hasNextPage).toBe(false);
        expect(page.items[0]).toStrictEqual(seed[0]);
      });

      const cases: [string, SessionFilter, string[]][] = [
        ['no filter', {}, ['s01', 's02', 's03', 's04', 's05', 's06', 's07']],
        ['serverId', { serverId: 'srv-1' }, ['s01', 's02', 's06']],
        ['userId (the owner only)', { userId: 'alice' }, ['s01', 's03', 's06']],
        ['status', { status: 'DISCONNECTED' }, ['s02', 's07']],
        ['statuses', { statuses: LIVE }, ['s01', 's02', 's03', 's05', 's07']],
        ['visibleTo (owner or creator)', { visibleTo: 'alice' }, ['s01', 's03', 's05', 's06']],
        ['serverId and statuses', { serverId: 'srv-1', statuses: LIVE }, ['s01', 's02']],
        ['userId and visibleTo', { userId: 'carol', visibleTo: 'alice' }, ['s05']],
        ['status and statuses that disagree', { status: 'TERMINATED', statuses: LIVE }, []],
        ['an unknown server', { serverId: 'srv-9' }, []],
      ];
      for (const [label, filter, want] of cases) {
        it(`list and count with ${label} return ${want.length} session(s)`, async () => {
          expect(ids((await store.list(filter, 100)).items)).toEqual(want);
          expect(await store.count(filter)).toBe(want.length);
        });
      }

      it('pages through everything with cursors, no duplicates or gaps, hasNextPage true until the last page', async () => {
        const { pages, hasNext } = await walk(store, {}, 3);
        expect(pages).toEqual([['s01', 's02', 's03'], ['s04', 's05', 's06'], ['s07']]);
        expect(hasNext).toEqual([true, true, false]);
      });

      it('pages a filtered list with cursors, across a createdAt tie', async () => {
        const { pages, hasNext } = await walk(store, { visibleTo: 'alice' }, 2);
        expect(pages).toEqual([
          ['s01', 's03'],
          ['s05', 's06'],
        ]);
        expect(hasNext).toEqual([true, false]);
      });

      it('continues after a cursor in the middle of a createdAt tie', async () => {
        const page = await store.list({}, 2, { createdAt: T2, id: 's03' });
        expect(ids(page.items)).toEqual(['s04', 's05']);
        expect(page.hasNextPage).toBe(true);
      });

      it('returns no items for first: 0, with hasNextPage telling whether any exist', async () => {
        expect(await store.list({}, 0)).toEqual({ items: [], hasNextPage: true });
        expect(await store.list({ serverId: 'srv-9' }, 0)).toEqual({ items: [], hasNextPage: false });
      });

      it('counts by status with only the statuses present, and follows a status change', async () => {
        expect(await store.countByStatus()).toEqual({ ACTIVE: 3, DISCONNECTED: 2, TERMINATED: 2 });
        const s01 = seed[0] as RdpSession;
        expect(await store.compareAndSet({ ...s01, status: 'TERMINATED', terminationReason: 'USER', version: 2 }, 1)).toBe(true);
        expect(await store.countByStatus()).toEqual({ ACTIVE: 2, DISCONNECTED: 2, TERMINATED: 3 });
      });

      it('findByServerIds returns the sessions of the servers in the statuses, oldest first', async () => {
        expect(ids(await store.findByServerIds(['srv-3', 'srv-1'], LIVE))).toEqual(['s01', 's02', 's05', 's07']);
        expect(ids(await store.findByServerIds(['srv-2'], ['TERMINATED']))).toEqual(['s04']);
        expect(ids(await store.findByServerIds(['srv-2', 'srv-9'], ['ACTIVE', 'DISCONNECTED', 'TERMINATED']))).toEqual([
          's03',
          's04',
        ]);
        expect(await store.findByServerIds([], LIVE)).toEqual([]);
        expect(await store.findByServerIds(['srv-1'], [])).toEqual([]);
      });
    });

    it('counts by status as an empty record for an empty store', async () => {
      expect(await store.countByStatus()).toEqual({});
      expect(await store.count({})).toBe(0);
      expect(await store.list({}, 10)).toEqual({ items: [], hasNextPage: false });
    });

    describe('findDue', () => {
      const NOW = '2025-03-01T12:00:00.000Z';
      const past = '2025-03-01T11:59:59.999Z';
      const future = '2025-03-01T12:00:00.001Z';

      beforeEach(async () => {
        const sessions: RdpSession[] = [
          aSession({ id: 'not-due', idleDeadline: future, sessionDeadline: future }),
          aSession({ id: 'idle-past', idleDeadline: past, sessionDeadline: future }),
          aSession({ id: 'idle-now', idleDeadline: NOW, sessionDeadline: future }),
          aSession({ id: 'max-past', idleDeadline: future, sessionDeadline: past }),
          aSession({ id: 'max-now', idleDeadline: null, sessionDeadline: NOW, status: 'DISCONNECTED' }),
          aSession({ id: 'disc-not-due', idleDeadline: null, sessionDeadline: future, status: 'DISCONNECTED' }),
          aSession({ id: 'credential-past', idleDeadline: future, sessionDeadline: future, credentialDeadline: past }),
          aSession({ id: 'credential-future', idleDeadline: future, sessionDeadline: future, credentialDeadline: future }),
          aSession({
            id: 'ended-past',
            idleDeadline: past,
            sessionDeadline: past,
            status: 'TERMINATED',
            terminationReason: 'USER',
            terminatedAt: past,
          }),
        ];
        for (const s of sessions) await store.insert(s);
      });

      it('returns live sessions whose idle, session or credential deadline is at or before now, and no others', async () => {
        expect(ids(await store.findDue(NOW, 100)).sort()).toEqual([
          'credential-past',
          'idle-now',
          'idle-past',
          'max-now',
          'max-past',
        ]);
      });

      it('returns whole sessions', async () => {
        const [s] = await store.findDue(NOW, 100).then((all) => all.filter((x) => x.id === 'max-now'));
        expect(s).toStrictEqual(aSession({ id: 'max-now', idleDeadline: null, sessionDeadline: NOW, status: 'DISCONNECTED' }));
      });

      it('respects the limit', async () => {
        const two = await store.findDue(NOW, 2);
        expect(two).toHaveLength(2);
        for (const s of two) expect(['credential-past', 'idle-now', 'idle-past', 'max-now', 'max-past']).toContain(s.id);
        expect(await store.findDue(NOW, 1)).toHaveLength(1);
      });

      it('returns nothing before any deadline', async () => {
        expect(await store.findDue('2025-03-01T10:00:00.000Z', 100)).toEqual([]);
      });
    });

    describe('findLiveByAccount', () => {
      it('finds the live session of an account on a server, not a terminated one nor one on another server', async () => {
        const ended = aSession({
          id: 'old',
          username: 'rdp-11111111',
          status: 'TERMINATED',
          terminationReason: 'USER',
          createdAt: T1,
        });
        const live = aSession({ id: 'live', username: 'rdp-11111111', status: 'DISCONNECTED', createdAt: T2 });
        const elsewhere = aSession({ id: 'other', serverId: 'srv-2', username: 'rdp-22222222' });
        for (const s of [ended, live, elsewhere]) await store.insert(s);
        expect(await store.findLiveByAccount('srv-1', 'rdp-11111111')).toStrictEqual(live);
        expect(await store.findLiveByAccount('srv-2', 'rdp-11111111')).toBeNull();
        expect(await store.findLiveByAccount('srv-1', 'rdp-22222222')).toBeNull();
        expect(await store.findLiveByAccount('srv-1', 'nobody')).toBeNull();
      });

      it('finds nothing once the only session of the account is terminated', async () => {
        const s = aSession({ id: 'only', username: 'rdp-33333333' });
        await store.insert(s);
        expect((await store.findLiveByAccount('srv-1', 'rdp-33333333'))?.id).toBe('only');
        expect(await store.compareAndSet({ ...s, status: 'TERMINATED', terminationReason: 'USER', version: 2 }, 1)).toBe(true);
        expect(await store.findLiveByAccount('srv-1', 'rdp-33333333')).toBeNull();
      });
    });
  });
}
