import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/domain/audit/audit-event.js';
import type { AuditLog } from '../../src/domain/audit/audit-log.js';
import { encodeCursor } from '../../src/domain/shared/page.js';

export interface AuditLogFixture {
  store: AuditLog;
  cleanup(): Promise<void>;
}

const BASE = Date.UTC(2025, 5, 1, 12, 0, 0);

export function anEvent(n: number, overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    time: new Date(BASE + n * 1000).toISOString(),
    actor: { userId: `user-${n % 3}`, name: `User ${n % 3}`, ip: '127.0.0.1' },
    action: n % 2 ? 'server.create' : 'session.create',
    target: { type: n % 2 ? 'server' : 'session', id: `target-${n % 4}`, name: null },
    result: n % 5 === 0 ? 'DENIED' : 'SUCCESS',
    details: { n, nested: { list: [1, 'two', true, null] } },
    ...overrides,
  };
}

const ids = (events: readonly AuditEvent[]) => events.map((e) => e.id);

/** The shared contract every AuditLog adapter must pass. */
export function auditLogContract(name: string, makeStore: () => Promise<AuditLogFixture>): void {
  describe(`AuditLog contract: ${name}`, () => {
    let store: AuditLog;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
    });
    afterEach(async () => {
      await cleanup();
    });

    it('round-trips an event with every field, a null target and millisecond time', async () => {
      const full = anEvent(1, { time: '2025-06-01T12:00:00.123Z' });
      const bare = anEvent(2, { target: null, actor: { userId: null, name: null, ip: null }, details: {} });
      await store.append(full);
      await store.append(bare);
      const { items } = await store.list({}, 10);
      expect(items).toStrictEqual([bare, full]);
    });

    it('a burst of 1,200 concurrent appends: each resolves once its event is stored, none is lost', async () => {
      const events = Array.from({ length: 1200 }, (_, i) => anEvent(i));
      const stored: number[] = [];
      await Promise.all(
        events.map(async (e, i) => {
          await store.append(e);
          // Resolved means readable: this event is there now, whichever batch it went in.
          if (i % 97 === 0) {
            const window = { since: e.time, until: new Date(Date.parse(e.time) + 1).toISOString() };
            expect((await store.list(window, 5)).items.map((x) => x.id)).toEqual([e.id]);
          }
          stored.push(i);
        }),
      );
      expect(stored).toHaveLength(1200);
      expect(await store.count({})).toBe(1200);
    });

    it('lists newest first and pages with a cursor without gaps or repeats, ties broken by id', async () => {
      const events = Array.from({ length: 7 }, (_, i) => anEvent(i));
      // Two events at the same instant: the id decides.
      events.push(anEvent(100, { time: events[3]?.time ?? '' }));
      for (const e of events) await store.append(e);
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const cursor = after ? JSON.parse(Buffer.from(after, 'base64url').toString()) : undefined;
        const page = await store.list({}, 3, cursor ? { createdAt: cursor[0], id: cursor[1] } : undefined);
        seen.push(...ids(page.items));
        const last = page.items.at(-1);
        if (!page.hasNextPage || !last) break;
        after = encodeCursor({ createdAt: last.time, id: last.id });
      }
      const expected = [...events]
        .sort((a, b) => (a.time === b.time ? (a.id < b.id ? 1 : -1) : a.time < b.time ? 1 : -1))
        .map((e) => e.id);
      expect(seen).toEqual(expected);
    });

    it('filters by action, actor, target, result and a half-open time window, and counts alike', async () => {
      const events = Array.from({ length: 20 }, (_, i) => anEvent(i));
      for (const e of events) await store.append(e);
      const check = async (filter: Parameters<AuditLog['list']>[0], predicate: (e: AuditEvent) => boolean) => {
        const want = events
          .filter(predicate)
          .map((e) => e.id)
          .reverse();
        expect(ids((await store.list(filter, 100)).items)).toEqual(want);
        expect(await store.count(filter)).toBe(want.length);
      };
      await check({ action: 'server.create' }, (e) => e.action === 'server.create');
      await check({ actorId: 'user-1' }, (e) => e.actor.userId === 'user-1');
      await check({ targetId: 'target-2' }, (e) => e.target?.id === 'target-2');
      await check({ result: 'DENIED' }, (e) => e.result === 'DENIED');
      const since = anEvent(5).time;
      const until = anEvent(9).time;
      await check({ since, until }, (e) => e.time >= since && e.time < until);
      await check(
        { action: 'session.create', result: 'DENIED', since },
        (e) => e.action === 'session.create' && e.result === 'DENIED' && e.time >= since,
      );
    });

    it('deleteBefore removes exactly the older events and says how many', async () => {
      for (let i = 0; i < 10; i++) await store.append(anEvent(i));
      expect(await store.deleteBefore(anEvent(4).time)).toBe(4);
      expect(await store.count({})).toBe(6);
      expect((await store.list({}, 100)).items.at(-1)?.id).toBe(anEvent(4).id);
      expect(await store.deleteBefore(anEvent(0).time)).toBe(0);
    });
  });
}
