import { describe, expect, it } from 'vitest';
import { MemorySampleStore } from '../../src/adapters/memory/memory-sample-store.js';
import {
  downsample,
  MAX_POINTS,
  type ResourcePoint,
  type ResourceSample,
  slotStart,
  summarize,
  WINDOW_SECONDS,
} from '../../src/domain/resources/resource-sample.js';
import { figures } from '../support/resource-fixtures.js';

const T0 = Date.parse('2026-11-26T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

function samples(subjectId: string, from: number, count: number, stepMs: number, cpu: (i: number) => number): ResourceSample[] {
  return Array.from({ length: count }, (_, i) => ({
    subjectKind: 'SERVER' as const,
    subjectId,
    at: iso(from + i * stepMs),
    ...figures({ cpuPercent: cpu(i), memoryPercent: 50, networkInKbps: i % 2 ? null : 100 }),
  }));
}

describe('summaries and downsampling (in code: FerretDB has no $avg)', () => {
  it('summarize: aligned bins, averages ignoring nulls, sample counts', () => {
    const points = summarize(
      samples('s', T0, 4, 30_000, (i) => i * 10),
      60,
    );
    expect(points).toEqual([
      expect.objectContaining({ at: iso(T0), sampleCount: 2, cpuPercent: 5, memoryPercent: 50, networkInKbps: 100 }),
      expect.objectContaining({ at: iso(T0 + 60_000), sampleCount: 2, cpuPercent: 25, networkInKbps: 100 }),
    ]);
    expect(points[0]?.diskPercent).toBeNull();
  });

  it('downsample: never more than 300 points over the window; fewer points come back unchanged', () => {
    const week = WINDOW_SECONDS.D7 * 1000;
    const minutes: ResourcePoint[] = summarize(
      samples('s', T0, 20_160, 30_000, (i) => i % 100),
      60,
    );
    expect(minutes).toHaveLength(10_080);
    const points = downsample(minutes, new Date(T0), new Date(T0 + week));
    expect(points.length).toBeLessThanOrEqual(MAX_POINTS);
    expect(points.length).toBeGreaterThan(290);
    expect(points.reduce((n, p) => n + p.sampleCount, 0)).toBe(20_160);
    // Weighted by sample counts: the mean survives.
    const mean = (ps: ResourcePoint[]) =>
      ps.reduce((s, p) => s + (p.cpuPercent ?? 0) * p.sampleCount, 0) / ps.reduce((n, p) => n + p.sampleCount, 0);
    expect(mean(points)).toBeCloseTo(mean(minutes), 0);
    const few = minutes.slice(0, 10);
    expect(downsample(few, new Date(T0), new Date(T0 + week))).toEqual(few);
    // Points outside the window are left out.
    expect(downsample(minutes, new Date(T0 + week - 600_000), new Date(T0 + week))).toHaveLength(10);
  });

  it('slots: every sample of a round carries the start of its interval', () => {
    expect(slotStart(T0 + 29_999, 30).toISOString()).toBe(iso(T0));
    expect(slotStart(T0 + 30_000, 30).toISOString()).toBe(iso(T0 + 30_000));
  });
});

describe('MemorySampleStore', () => {
  it('a sample written twice for the same subject and time is stored once (a lease changing hands)', async () => {
    const store = new MemorySampleStore();
    const round = samples('s', T0, 1, 1000, () => 10);
    await store.append(round);
    await store.append(samples('s', T0, 1, 1000, () => 12));
    const stored = await store.samples('s', new Date(T0 - 1), new Date(T0 + 1));
    expect(stored.map((s) => s.cpuPercent)).toEqual([12]);
  });

  it('prune removes what is older than the cutoff', async () => {
    const store = new MemorySampleStore();
    await store.append(samples('s', T0, 10, 86_400_000, () => 1));
    expect(await store.prune(new Date(T0 + 3 * 86_400_000))).toBe(3);
    expect((await store.samples('s', new Date(0), new Date(T0 + 20 * 86_400_000))).map((s) => s.at)[0]).toBe(
      iso(T0 + 3 * 86_400_000),
    );
  });
});
