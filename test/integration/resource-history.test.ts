import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResourceSample } from '../../src/domain/resources/resource-sample.js';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';
import { figures } from '../support/resource-fixtures.js';

const DAY = 86_400_000;
const STEP = 30_000;
const USAGE = `query($id: ID!, $w: UsageWindow) { resourceUsage(subjectId: $id, window: $w) {
  from to latest { at } points { at sampleCount cpuPercent memoryPercent } } }`;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? Number.NaN;
}

/** A week and a day of 30-second samples (the production interval) for one subject. */
function history(subjectId: string, end: number, days: number): ResourceSample[] {
  const out: ResourceSample[] = [];
  const start = Math.floor((end - days * DAY) / STEP) * STEP;
  for (let t = start; t < end; t += STEP) {
    const hour = new Date(t).getUTCHours();
    out.push({
      subjectKind: 'SERVER',
      subjectId,
      at: new Date(t).toISOString(),
      ...figures({ cpuPercent: 20 + hour, memoryPercent: 40, memoryUsedMb: 1000, memoryTotalMb: 24000, networkInKbps: 100 }),
    });
  }
  return out;
}

describe.skipIf(!need('resource history on FerretDB', ['mongo']))('resource history on FerretDB: a week of samples', () => {
  let t: TestApp;
  let serverId: string;
  let operator: string;
  const timings: Record<string, number[]> = {};

  beforeAll(async () => {
    t = await startTestApp(
      { MONGODB_URI: uniqueMongoUri(services.mongoUri ?? '', 'history'), XRDP_BINARY: '/nonexistent/xrdp' },
      { runtime: new FakeServerRuntime() },
    );
    operator = await t.token('olga', ['operator']);
    const created = await t.gql<{ createServer: { server: { id: string } } }>(
      'mutation { createServer(input: { name: "a week old" }) { ... on CreateServerSuccess { server { id } } } }',
      {},
      operator,
    );
    serverId = created.body.data?.createServer.server.id ?? '';
    // The test runs the prune job itself.
    await t.app.container.resources.collector.stop();
    const store = t.app.container.resources.samples;
    const now = Date.now();
    const t0 = performance.now();
    // 8 days for the measured subject and 5 neighbours, so reads must find their buckets among others'.
    for (const id of [serverId, ...Array.from({ length: 5 }, (_, i) => `00000000-0000-4000-8000-00000000000${i}`)]) {
      const all = history(id, now, 8);
      for (let i = 0; i < all.length; i += 2880) await store.append(all.slice(i, i + 2880));
    }
    console.log(`resource history: seeded 6 subjects x 8 days of 30 s samples in ${Math.round(performance.now() - t0)} ms`);
  }, 600_000);

  afterAll(async () => {
    await t?.app.container.mongo?.db.dropDatabase();
    await t?.stop();
    for (const [what, ms] of Object.entries(timings)) {
      console.log(
        `resource history: ${what} ms ${JSON.stringify(ms.map((m) => Math.round(m * 10) / 10))} median ${median(ms).toFixed(1)}`,
      );
    }
  });

  it('resourceUsage(window: D7) answers at most 300 points covering the week; measured on FerretDB', async () => {
    const usage = t.app.container.resources.usage;
    const viewer = { userId: 'olga', username: 'olga', roles: ['operator' as const], permissions: [] };
    timings['D7 service'] = [];
    timings['D7 HTTP'] = [];
    let points = 0;
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      const r = await usage.usage(viewer, serverId, 'D7');
      timings['D7 service']?.push(performance.now() - t0);
      points = r.points.length;
      expect(points).toBeLessThanOrEqual(300);
      expect(points).toBeGreaterThan(280);
      expect(r.points.reduce((n, p) => n + p.sampleCount, 0)).toBeGreaterThan(20_000);
      expect(r.latest?.subjectId).toBe(serverId);
    }
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      const r = await t.gql<{ resourceUsage: { points: { at: string; cpuPercent: number }[] } }>(
        USAGE,
        { id: serverId, w: 'D7' },
        operator,
      );
      timings['D7 HTTP']?.push(performance.now() - t0);
      expect(r.body.data?.resourceUsage.points.length).toBe(points);
    }
    // The bound is 100 ms (medians of 44-57 ms measured here, service and HTTP). This
    // machine's FerretDB and CPUs are shared with other suites, so the assertion leaves room and
    // the measured times are printed.
    expect(median(timings['D7 service'] ?? [])).toBeLessThan(150);
    expect(median(timings['D7 HTTP'] ?? [])).toBeLessThan(150);
  }, 120_000);

  it('the other windows: H1 from raw samples, H6 and H24 from summaries, each at most 300 points', async () => {
    for (const w of ['H1', 'H6', 'H24'] as const) {
      timings[w] = [];
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        const r = await t.gql<{ resourceUsage: { points: { sampleCount: number }[] } }>(USAGE, { id: serverId, w }, operator);
        timings[w]?.push(performance.now() - t0);
        const pts = r.body.data?.resourceUsage.points ?? [];
        expect(pts.length).toBeLessThanOrEqual(300);
        expect(pts.length).toBeGreaterThanOrEqual(w === 'H1' ? 110 : 280);
      }
    }
  }, 120_000);

  it('the prune job removes every sample older than 7 days and keeps the rest', async () => {
    const db = t.app.container.mongo?.db;
    if (!db) throw new Error('no mongo');
    const cutoff = Date.now() - 7 * DAY;
    const store = t.app.container.resources.samples;
    const before = await store.samples(serverId, new Date(cutoff - DAY - 3600_000), new Date(cutoff));
    expect(before.length).toBeGreaterThan(2800);
    const t0 = performance.now();
    const removed = await t.app.container.resources.collector.prune();
    timings.prune = [performance.now() - t0];
    expect(removed).toBeGreaterThan(0);
    expect(await store.samples(serverId, new Date(cutoff - 2 * DAY), new Date(cutoff))).toEqual([]);
    const kept = await store.samples(serverId, new Date(cutoff), new Date());
    expect(kept.length).toBeGreaterThan(7 * 2880 - 10);
    // Nothing older is left in the documents either (straddling buckets are trimmed).
    for (const name of ['resource_buckets', 'resource_summaries']) {
      const docs = await db
        .collection<{ start: Date; p: string }>(name)
        .find({ start: { $lt: new Date(cutoff) } })
        .toArray();
      for (const d of docs) {
        for (const entry of d.p ? d.p.split(';') : []) {
          expect(d.start.getTime() + Number(entry.slice(0, entry.indexOf(':'))) * 1000).toBeGreaterThanOrEqual(cutoff);
        }
      }
    }
  }, 120_000);
});
