import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/domain/resources/alert.js';
import type { AlertStore } from '../../src/domain/resources/alert-store.js';
import { defaultResourceLimits } from '../../src/domain/resources/resource-limits.js';
import type { ResourceLimitsStore } from '../../src/domain/resources/resource-limits-store.js';
import type { ResourceSample } from '../../src/domain/resources/resource-sample.js';
import type { ResourceSampleStore } from '../../src/domain/resources/resource-sample-store.js';
import { encodeCursor } from '../../src/domain/shared/page.js';
import { figures } from '../support/resource-fixtures.js';

type Make<S> = () => Promise<{ store: S; cleanup: () => Promise<void> }>;

const T0 = Date.parse('2026-11-26T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

const sample = (subjectId: string, at: number, cpu: number | null, extra: Partial<ResourceSample> = {}): ResourceSample => ({
  subjectKind: 'SERVER',
  subjectId,
  at: iso(at),
  ...figures({ cpuPercent: cpu, memoryPercent: 12.5, memoryUsedMb: 3000.25, memoryTotalMb: 24000, networkInKbps: 0 }),
  ...extra,
});

async function using<S>(make: Make<S>, run: (store: S) => Promise<void>): Promise<void> {
  const { store, cleanup } = await make();
  try {
    await run(store);
  } finally {
    await cleanup();
  }
}

export function sampleStoreContract(name: string, make: Make<ResourceSampleStore>): void {
  describe(`${name} (ResourceSampleStore contract)`, () => {
    it('keeps every figure (nulls included) and reads a range oldest first, across buckets', () =>
      using(make, async (store) => {
        // 10:59:30 to 11:01:00 crosses an hour bucket and a minute summary.
        for (const t of [3570_000, 3600_000, 3630_000, 3660_000]) await store.append([sample('s1', T0 + t, t / 100_000)]);
        await store.append([sample('s2', T0 + 3600_000, 99, { subjectKind: 'SESSION', diskPercent: null })]);
        const got = await store.samples('s1', new Date(T0 + 3570_000), new Date(T0 + 3660_000));
        expect(got.map((s) => [s.at, s.cpuPercent])).toEqual([
          [iso(T0 + 3570_000), 35.7],
          [iso(T0 + 3600_000), 36],
          [iso(T0 + 3630_000), 36.3],
        ]);
        expect(got[0]).toEqual(sample('s1', T0 + 3570_000, 35.7));
        const [s2] = await store.samples('s2', new Date(T0), new Date(T0 + 7200_000));
        expect(s2).toEqual(sample('s2', T0 + 3600_000, 99, { subjectKind: 'SESSION' }));
      }));

    it('one sample per subject and time: writing a round again replaces it (never a duplicate)', () =>
      using(make, async (store) => {
        await store.append([sample('s1', T0, 10), sample('s2', T0, 20)]);
        await Promise.all([store.append([sample('s1', T0, 11)]), store.append([sample('s1', T0, 11)])]);
        await store.append([sample('s1', T0, 12)]);
        const got = await store.samples('s1', new Date(T0 - 1000), new Date(T0 + 1000));
        expect(got.map((s) => s.cpuPercent)).toEqual([12]);
        const summaries = await store.summaries('s1', new Date(T0), new Date(T0 + 60_000), 60);
        expect(summaries).toEqual([expect.objectContaining({ at: iso(T0), sampleCount: 1, cpuPercent: 12 })]);
      }));

    it('per-minute summaries: averages of the samples of each minute with their counts', () =>
      using(make, async (store) => {
        for (let i = 0; i < 6; i++)
          await store.append([sample('s1', T0 + i * 20_000, i * 10, { networkInKbps: i % 2 ? null : 8 })]);
        const got = await store.summaries('s1', new Date(T0), new Date(T0 + 120_000), 60);
        expect(got).toEqual([
          expect.objectContaining({ at: iso(T0), sampleCount: 3, cpuPercent: 10, networkInKbps: 8, diskPercent: null }),
          expect.objectContaining({ at: iso(T0 + 60_000), sampleCount: 3, cpuPercent: 40, networkInKbps: 8 }),
        ]);
        expect(await store.summaries('s1', new Date(T0 + 60_000), new Date(T0 + 120_000), 60)).toHaveLength(1);
        expect(await store.summaries('s1', new Date(T0), new Date(T0 + 600_000), 600)).toEqual([
          expect.objectContaining({ at: iso(T0), sampleCount: 6, cpuPercent: 25, networkInKbps: 8 }),
        ]);
      }));

    it('latest: the newest sample of each subject, null where none, in the order asked', () =>
      using(make, async (store) => {
        await store.append([sample('s1', T0, 1), sample('s2', T0, 2)]);
        await store.append([sample('s1', T0 + 30_000, 3)]);
        const got = await store.latest(['s2', 'nope', 's1']);
        expect(got.map((s) => s && [s.subjectId, s.at, s.cpuPercent])).toEqual([
          ['s2', iso(T0), 2],
          null,
          ['s1', iso(T0 + 30_000), 3],
        ]);
        expect(got[2]).toEqual(sample('s1', T0 + 30_000, 3));
      }));

    it('history in bulk and out of order: every hour and minute is kept, latest never moves back', () =>
      using(make, async (store) => {
        const bulk = Array.from({ length: 240 }, (_, i) => sample('s1', T0 + i * 30_000, i % 10));
        await store.append(bulk);
        await store.append([sample('s1', T0 - 30_000, 99)]);
        expect(await store.samples('s1', new Date(T0 - 60_000), new Date(T0 + 7200_000))).toHaveLength(241);
        const minutes = await store.summaries('s1', new Date(T0), new Date(T0 + 7200_000), 60);
        expect(minutes).toHaveLength(120);
        expect(minutes.every((m) => m.sampleCount === 2)).toBe(true);
        const tens = await store.summaries('s1', new Date(T0 - 600_000), new Date(T0 + 7200_000), 600);
        expect(tens.map((m) => m.sampleCount)).toEqual([1, ...Array(12).fill(20)]);
        expect((await store.latest(['s1']))[0]?.at).toBe(iso(T0 + 239 * 30_000));
      }));

    it('prune: nothing older than the cutoff stays, newer samples and summaries do', () =>
      using(make, async (store) => {
        for (let d = 0; d < 9; d++) await store.append([sample('s1', T0 + d * 86_400_000 + 1800_000, d)]);
        await store.append([sample('old', T0, 1)]);
        const cutoff = new Date(T0 + 2 * 86_400_000 + 3600_000);
        expect(await store.prune(cutoff)).toBeGreaterThan(0);
        const left = await store.samples('s1', new Date(0), new Date(T0 + 10 * 86_400_000));
        expect(left.map((s) => s.cpuPercent)).toEqual([3, 4, 5, 6, 7, 8]);
        expect(await store.samples('old', new Date(0), new Date(T0 + 10 * 86_400_000))).toEqual([]);
        expect(await store.summaries('s1', new Date(0), cutoff, 60)).toEqual([]);
        expect(await store.summaries('s1', new Date(0), cutoff, 600)).toEqual([]);
        expect(await store.summaries('s1', cutoff, new Date(T0 + 10 * 86_400_000), 600)).toHaveLength(6);
        expect(await store.latest(['old'])).toEqual([null]);
      }));
  });
}

const alert = (id: string, createdAt: number, over: Partial<Alert> = {}): Alert => ({
  id,
  severity: 'HIGH',
  resource: 'CPU',
  subjectKind: 'SERVER',
  subjectId: 's1',
  subjectName: 'desk',
  host: 'localhost',
  threshold: 80,
  value: 91.5,
  message: 'CPU of server desk is 91.5%, above the threshold of 80%',
  createdAt: iso(createdAt),
  resolvedAt: null,
  resolvedBy: null,
  visibleTo: ['alice'],
  version: 1,
  ...over,
});

export function alertStoreContract(name: string, make: Make<AlertStore>): void {
  describe(`${name} (AlertStore contract)`, () => {
    it('inserts, reads back exactly, and resolves once by compare-and-set', () =>
      using(make, async (store) => {
        const a = alert('a1', T0);
        await store.insert(a);
        expect(await store.findById('a1')).toEqual(a);
        expect(await store.findById('none')).toBeNull();
        const resolved = { ...a, resolvedAt: iso(T0 + 1000), resolvedBy: 'olga', version: 2 };
        const outcomes = await Promise.all([
          store.compareAndSet(resolved, 1),
          store.compareAndSet({ ...resolved, resolvedBy: null }, 1),
        ]);
        expect(outcomes.filter(Boolean)).toHaveLength(1);
        expect((await store.findById('a1'))?.version).toBe(2);
        expect(await store.compareAndSet({ ...resolved, version: 3 }, 1)).toBe(false);
      }));

    it('lists newest first with a cursor; filters by severity, state, subject and who may see it', () =>
      using(make, async (store) => {
        for (let i = 0; i < 5; i++) {
          await store.insert(
            alert(`a${i}`, T0 + i * 1000, {
              severity: i % 2 ? 'CRITICAL' : 'HIGH',
              subjectId: i < 3 ? 's1' : 'host:h',
              visibleTo: i < 3 ? ['alice', 'bob'] : [],
              resolvedAt: i === 0 ? iso(T0 + 10_000) : null,
            }),
          );
        }
        const first = await store.list({}, 2);
        expect(first.items.map((a) => a.id)).toEqual(['a4', 'a3']);
        expect(first.hasNextPage).toBe(true);
        const last = first.items[1];
        if (!last) throw new Error('short page');
        const rest = await store.list({}, 10, { createdAt: last.createdAt, id: last.id });
        expect(rest.items.map((a) => a.id)).toEqual(['a2', 'a1', 'a0']);
        expect(encodeCursor(last)).toBeTypeOf('string');
        expect(await store.count({ severity: 'CRITICAL' })).toBe(2);
        expect(await store.count({ resolved: true })).toBe(1);
        expect(await store.count({ resolved: false })).toBe(4);
        expect(await store.count({ subjectId: 'host:h' })).toBe(2);
        expect((await store.list({ visibleTo: 'bob' }, 10)).items.map((a) => a.id)).toEqual(['a2', 'a1', 'a0']);
        expect(await store.count({ visibleTo: 'carol' })).toBe(0);
      }));

    it('deletes resolved alerts resolved before a time, never open ones', () =>
      using(make, async (store) => {
        await store.insert(alert('old', T0, { resolvedAt: iso(T0 + 1000), version: 2 }));
        await store.insert(alert('new', T0, { resolvedAt: iso(T0 + 100_000), version: 2 }));
        await store.insert(alert('open', T0));
        expect(await store.deleteResolvedBefore(iso(T0 + 50_000))).toBe(1);
        expect((await store.list({}, 10)).items.map((a) => a.id).sort()).toEqual(['new', 'open']);
      }));
  });
}

export function limitsStoreContract(name: string, make: Make<ResourceLimitsStore>): void {
  describe(`${name} (ResourceLimitsStore contract)`, () => {
    it('stores versions; the newest wins; a version already stored is refused (one of concurrent writers wins)', () =>
      using(make, async (store) => {
        expect(await store.latest()).toBeNull();
        const limits = defaultResourceLimits();
        const v1 = { version: 1, limits, updatedBy: 'root', updatedAt: iso(T0) };
        expect(await store.insert(v1)).toBe(true);
        expect(await store.latest()).toEqual(v1);
        const changed = { ...limits, global: { ...limits.global, maxTotalCpu: 70 } };
        const outcomes = await Promise.all(
          ['a', 'b', 'c'].map((by) => store.insert({ version: 2, limits: changed, updatedBy: by, updatedAt: iso(T0 + 1) })),
        );
        expect(outcomes.filter(Boolean)).toHaveLength(1);
        expect((await store.latest())?.limits.global.maxTotalCpu).toBe(70);
        expect((await store.latest())?.version).toBe(2);
      }));
  });
}
