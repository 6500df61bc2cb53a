import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryAlertStore } from '../../src/adapters/memory/memory-alert-store.js';
import { MemoryClaimStore } from '../../src/adapters/memory/memory-claim-store.js';
import type { Viewer } from '../../src/domain/auth/viewer.js';
import { alertClaimKey, measure, parseAlertClaimKey, severityOf } from '../../src/domain/resources/alert.js';
import { AlertService, type SubjectInfo } from '../../src/domain/resources/alert-service.js';
import type { ResourceFigures, ResourceSample } from '../../src/domain/resources/resource-sample.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../../src/domain/shared/errors.js';
import { FakeClock, figures, RecordingPublisher } from '../support/resource-fixtures.js';

const T0 = Date.parse('2026-11-26T12:00:00.000Z');
const SERVER = '11111111-1111-4111-8111-111111111111';
const alice: Viewer = { userId: 'alice', username: 'alice', roles: ['user'], permissions: [] };
const bob: Viewer = { userId: 'bob', username: 'bob', roles: ['user'], permissions: [] };
const olga: Viewer = { userId: 'olga', username: 'olga', roles: ['operator'], permissions: [] };

function setup() {
  const clock = new FakeClock(T0);
  const store = new MemoryAlertStore();
  const claims = new MemoryClaimStore(clock);
  const events = new RecordingPublisher();
  let n = 0;
  const make = () =>
    new AlertService({
      store,
      claims,
      events,
      clock,
      host: 'localhost',
      newId: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    });
  return { clock, store, claims, events, service: make(), make };
}

const info = new Map<string, SubjectInfo>([
  [SERVER, { kind: 'SERVER', name: 'desk', visibleTo: ['alice'] }],
  ['host:localhost', { kind: 'HOST', name: 'localhost', visibleTo: [] }],
]);

const sample = (f: Partial<ResourceFigures>, subjectId = SERVER, at = '2026-11-26T12:00:00.000Z'): ResourceSample => ({
  subjectKind: subjectId.startsWith('host:') ? 'HOST' : 'SERVER',
  subjectId,
  at,
  ...figures({ memoryPercent: 10, ...f }),
});

describe('alert rules (docs/DOMAIN.md)', () => {
  it('HIGH above the threshold, CRITICAL at 95 % or for disk; network is the busier direction in Mbps', () => {
    expect(severityOf('CPU', 80.5)).toBe('HIGH');
    expect(severityOf('CPU', 95)).toBe('CRITICAL');
    expect(severityOf('DISK', 91)).toBe('CRITICAL');
    expect(severityOf('NETWORK', 5000)).toBe('HIGH');
    expect(measure('NETWORK', figures({ networkInKbps: 2_000_000, networkOutKbps: 10 }))).toBe(2000);
    expect(measure('NETWORK', figures())).toBeNull();
    expect(parseAlertClaimKey(alertClaimKey('host:a:b', 'CPU'))).toEqual({ subjectId: 'host:a:b', resource: 'CPU' });
    expect(parseAlertClaimKey('slot:servers:1')).toBeNull();
  });
});

describe('AlertService.evaluate', () => {
  let h: ReturnType<typeof setup>;
  beforeEach(() => {
    h = setup();
  });

  it('a value strictly above the threshold raises one alert, however many rounds stay above', async () => {
    expect(await h.service.evaluate([sample({ cpuPercent: 80 })], info)).toEqual({ raised: 0, resolved: 0 });
    expect(await h.service.evaluate([sample({ cpuPercent: 85 })], info)).toEqual({ raised: 1, resolved: 0 });
    expect(await h.service.evaluate([sample({ cpuPercent: 99 })], info)).toEqual({ raised: 0, resolved: 0 });
    const page = await h.service.list(olga, {}, { first: 10 });
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({
      severity: 'HIGH',
      resource: 'CPU',
      subjectKind: 'SERVER',
      subjectId: SERVER,
      subjectName: 'desk',
      threshold: 80,
      value: 85,
      resolvedAt: null,
      message: 'CPU of server desk is 85%, above the threshold of 80%',
    });
    expect(h.events.of('alert:changed').map((e) => e.kind)).toEqual(['RAISED']);
    expect(await h.claims.list('alert:')).toHaveLength(1);
  });

  it('resolves itself when the value falls back to the threshold, and a later crossing raises a new one', async () => {
    await h.service.evaluate([sample({ cpuPercent: 90 })], info);
    h.clock.advance(1000);
    expect(await h.service.evaluate([sample({ cpuPercent: 80 })], info)).toEqual({ raised: 0, resolved: 1 });
    expect(await h.claims.list('alert:')).toEqual([]);
    h.clock.advance(1000);
    await h.service.evaluate([sample({ cpuPercent: 97 })], info);
    const all = await h.service.list(olga, {}, { first: 10 });
    expect(all.items.map((a) => [a.severity, a.resolvedAt !== null, a.resolvedBy])).toEqual([
      ['CRITICAL', false, null],
      ['HIGH', true, null],
    ]);
    expect(h.events.of('alert:changed').map((e) => e.kind)).toEqual(['RAISED', 'RESOLVED', 'RAISED']);
  });

  it('one resource per alert: CPU and memory of one subject, and the host, are separate', async () => {
    await h.service.evaluate(
      [sample({ cpuPercent: 90, memoryPercent: 85 }), sample({ diskPercent: 93 }, 'host:localhost')],
      info,
    );
    const open = await h.service.list(olga, { resolved: false }, { first: 10 });
    expect(open.items.map((a) => `${a.subjectKind}:${a.resource}:${a.severity}`).sort()).toEqual([
      'HOST:DISK:CRITICAL',
      'SERVER:CPU:HIGH',
      'SERVER:MEMORY:HIGH',
    ]);
  });

  it('exactly one alert when two replicas evaluate the same round at once (the claim decides)', async () => {
    const other = h.make();
    const results = await Promise.all([
      h.service.evaluate([sample({ cpuPercent: 90 })], info),
      other.evaluate([sample({ cpuPercent: 90 })], info),
      h.service.evaluate([sample({ cpuPercent: 91 })], info),
    ]);
    expect(results.reduce((n, r) => n + r.raised, 0)).toBe(1);
    expect((await h.service.list(olga, {}, { first: 10 })).totalCount).toBe(1);
  });

  it('a subject no longer sampled (server stopped, session ended) has its alerts resolved', async () => {
    await h.service.evaluate([sample({ cpuPercent: 90 }), sample({ cpuPercent: 90 }, 'host:localhost')], info);
    expect(await h.service.evaluate([sample({ cpuPercent: 90 }, 'host:localhost')], info)).toEqual({ raised: 0, resolved: 1 });
    const open = await h.service.list(olga, { resolved: false }, { first: 10 });
    expect(open.items.map((a) => a.subjectId)).toEqual(['host:localhost']);
  });

  it("a null figure leaves that resource's alert as it is", async () => {
    await h.service.evaluate([sample({ cpuPercent: 90 })], info);
    expect(await h.service.evaluate([sample({ cpuPercent: null })], info)).toEqual({ raised: 0, resolved: 0 });
    expect((await h.service.list(olga, { resolved: false }, { first: 10 })).totalCount).toBe(1);
  });
});

describe('AlertService.resolve, list, prune', () => {
  let h: ReturnType<typeof setup>;
  beforeEach(() => {
    h = setup();
  });

  it('an operator resolves; no new alert while the value stays above; the next crossing after it fell raises one', async () => {
    await h.service.evaluate([sample({ cpuPercent: 90 })], info);
    const [open] = (await h.service.list(olga, {}, { first: 1 })).items;
    if (!open) throw new Error('no alert');
    await expect(h.service.resolve(alice, open.id)).rejects.toBeInstanceOf(ForbiddenError);
    const resolved = await h.service.resolve(olga, open.id);
    expect(resolved).toMatchObject({ resolvedBy: 'olga', version: 2 });
    expect(resolved.resolvedAt).not.toBeNull();
    await expect(h.service.resolve(olga, open.id)).rejects.toBeInstanceOf(ConflictError);
    await expect(h.service.resolve(olga, 'nope')).rejects.toBeInstanceOf(NotFoundError);

    expect(await h.service.evaluate([sample({ cpuPercent: 95 })], info)).toEqual({ raised: 0, resolved: 0 });
    expect(await h.service.evaluate([sample({ cpuPercent: 50 })], info)).toEqual({ raised: 0, resolved: 0 });
    expect(await h.claims.list('alert:')).toEqual([]);
    expect(await h.service.evaluate([sample({ cpuPercent: 95 })], info)).toEqual({ raised: 1, resolved: 0 });
    expect(h.events.of('alert:changed').map((e) => e.kind)).toEqual(['RAISED', 'RESOLVED', 'RAISED']);
  });

  it('users see the alerts of their own subjects only; host alerts are for operators', async () => {
    await h.service.evaluate([sample({ cpuPercent: 90 }), sample({ cpuPercent: 90 }, 'host:localhost')], info);
    expect((await h.service.list(alice, {}, { first: 10 })).items.map((a) => a.subjectId)).toEqual([SERVER]);
    expect((await h.service.list(bob, {}, { first: 10 })).totalCount).toBe(0);
    expect((await h.service.list(olga, {}, { first: 10 })).totalCount).toBe(2);
    const hostAlert = (await h.service.list(olga, { subjectId: 'host:localhost' }, { first: 10 })).items[0];
    if (!hostAlert) throw new Error('no host alert');
    await expect(h.service.get(alice, hostAlert.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('pages newest first with a cursor, filters by severity and state', async () => {
    for (let i = 0; i < 5; i++) {
      h.clock.advance(1000);
      await h.service.evaluate([sample({ cpuPercent: i % 2 ? 96 : 90 })], info);
      h.clock.advance(1000);
      await h.service.evaluate([sample({ cpuPercent: 10 })], info);
    }
    const first = await h.service.list(olga, {}, { first: 2 });
    expect(first).toMatchObject({ totalCount: 5, hasNextPage: true });
    const last = first.items.at(-1);
    if (!last) throw new Error('empty page');
    const { encodeCursor } = await import('../../src/domain/shared/page.js');
    const second = await h.service.list(olga, {}, { first: 10, after: encodeCursor(last) });
    expect(second.items).toHaveLength(3);
    expect([...first.items, ...second.items].map((a) => a.createdAt)).toEqual(
      [...first.items, ...second.items]
        .map((a) => a.createdAt)
        .sort()
        .reverse(),
    );
    expect((await h.service.list(olga, { severity: 'CRITICAL' }, { first: 10 })).totalCount).toBe(2);
    expect((await h.service.list(olga, { resolved: false }, { first: 10 })).totalCount).toBe(0);
  });

  it('prune drops resolved alerts past retention and frees claims whose alert was never written', async () => {
    await h.service.evaluate([sample({ cpuPercent: 90 })], info);
    await h.service.evaluate([sample({ cpuPercent: 10 })], info);
    await h.claims.tryClaim(alertClaimKey('ghost', 'CPU'), 'never-written');
    h.clock.advance(31 * 86_400_000);
    expect(await h.service.prune()).toEqual({ deleted: 1, freedClaims: 1 });
    expect(await h.claims.list('alert:')).toEqual([]);
  });
});
