/** What a sample describes: the host, one RDP server (its xrdp tree and sessions) or one session. */
export const SUBJECT_KINDS = ['HOST', 'SERVER', 'SESSION'] as const;
export type SubjectKind = (typeof SUBJECT_KINDS)[number];

/**
 * The figures of one sample (docs/DOMAIN.md, "Resource samples"). Percentages are of the host's
 * capacity (all CPUs, all memory), so host, server and session figures add up and compare.
 * A figure is null where it cannot be measured (see docs in the host probe).
 */
export interface ResourceFigures {
  cpuPercent: number | null;
  memoryPercent: number | null;
  memoryUsedMb: number | null;
  memoryTotalMb: number | null;
  diskPercent: number | null;
  diskUsedMb: number | null;
  diskTotalMb: number | null;
  networkInKbps: number | null;
  networkOutKbps: number | null;
}

export const FIGURE_KEYS = [
  'cpuPercent',
  'memoryPercent',
  'memoryUsedMb',
  'memoryTotalMb',
  'diskPercent',
  'diskUsedMb',
  'diskTotalMb',
  'networkInKbps',
  'networkOutKbps',
] as const satisfies readonly (keyof ResourceFigures)[];

/** One measurement of one subject at one time (ISO-8601, aligned to the collection interval). */
export interface ResourceSample extends ResourceFigures {
  subjectKind: SubjectKind;
  subjectId: string;
  at: string;
}

/** A point of history: the average of `sampleCount` samples from `at` on. */
export interface ResourcePoint extends ResourceFigures {
  at: string;
  sampleCount: number;
}

export const USAGE_WINDOWS = ['H1', 'H6', 'H24', 'D7'] as const;
export type UsageWindow = (typeof USAGE_WINDOWS)[number];

export const WINDOW_SECONDS: Record<UsageWindow, number> = { H1: 3600, H6: 21_600, H24: 86_400, D7: 604_800 };

/** Most points a history answer holds. */
export const MAX_POINTS = 300;

/** Samples are kept this long (docs/DOMAIN.md). */
export const RETENTION_DAYS = 7;

export const emptyFigures = (): ResourceFigures => ({
  cpuPercent: null,
  memoryPercent: null,
  memoryUsedMb: null,
  memoryTotalMb: null,
  diskPercent: null,
  diskUsedMb: null,
  diskTotalMb: null,
  networkInKbps: null,
  networkOutKbps: null,
});

/** Two decimals: finer than anything /proc measures, and stable in storage and on the wire. */
export function round2(v: number | null): number | null {
  return v === null || !Number.isFinite(v) ? null : Math.round(v * 100) / 100;
}

/**
 * Averages figures weighted by how many samples each stands for; a null figure is left out of
 * its own average (and the result is null when every input is null).
 */
export function mergeFigures(items: readonly (ResourceFigures & { weight: number })[]): ResourceFigures {
  const out = emptyFigures();
  for (const key of FIGURE_KEYS) {
    let sum = 0;
    let weight = 0;
    for (const item of items) {
      const v = item[key];
      if (v === null) continue;
      sum += v * item.weight;
      weight += item.weight;
    }
    out[key] = weight === 0 ? null : round2(sum / weight);
  }
  return out;
}

/** Samples grouped into aligned bins of `binSeconds`: one point per bin that holds any. */
export function summarize(samples: readonly (ResourceFigures & { at: string })[], binSeconds: number): ResourcePoint[] {
  const binMs = binSeconds * 1000;
  const bins = new Map<number, (ResourceFigures & { at: string })[]>();
  for (const s of samples) {
    const start = Math.floor(Date.parse(s.at) / binMs) * binMs;
    const bin = bins.get(start);
    if (bin) bin.push(s);
    else bins.set(start, [s]);
  }
  return [...bins.entries()]
    .sort(([a], [b]) => a - b)
    .map(([start, items]) => ({
      at: new Date(start).toISOString(),
      sampleCount: items.length,
      ...mergeFigures(items.map((s) => ({ ...s, weight: 1 }))),
    }));
}

/**
 * At most `maxPoints` points over [from, to): the window is cut into `maxPoints` equal bins and
 * the points in each are averaged, weighted by their sample counts. Fewer points than that come
 * back as they are. Done in code: FerretDB has no $avg (docs/STACK.md).
 */
export function downsample(points: readonly ResourcePoint[], from: Date, to: Date, maxPoints = MAX_POINTS): ResourcePoint[] {
  const lo = from.getTime();
  const hi = to.getTime();
  const times = points.map((p) => Date.parse(p.at));
  const inWindow = points.filter((_, i) => (times[i] as number) >= lo && (times[i] as number) < hi);
  if (inWindow.length <= maxPoints) return inWindow.map((p) => ({ ...p }));
  // Sums per bin in flat arrays: a week of summaries is a thousand points or more.
  const keys = FIGURE_KEYS.length;
  const sums = new Float64Array(maxPoints * keys);
  const weights = new Float64Array(maxPoints * keys);
  const counts = new Float64Array(maxPoints);
  const firstAt: (string | undefined)[] = new Array(maxPoints);
  const span = hi - lo;
  points.forEach((p, i) => {
    const t = times[i] as number;
    if (t < lo || t >= hi) return;
    const bin = Math.min(maxPoints - 1, Math.floor(((t - lo) * maxPoints) / span));
    firstAt[bin] ??= p.at;
    counts[bin] = (counts[bin] ?? 0) + p.sampleCount;
    FIGURE_KEYS.forEach((key, k) => {
      const v = p[key];
      if (v === null) return;
      const at = bin * keys + k;
      sums[at] = (sums[at] ?? 0) + v * p.sampleCount;
      weights[at] = (weights[at] ?? 0) + p.sampleCount;
    });
  });
  const out: ResourcePoint[] = [];
  for (let bin = 0; bin < maxPoints; bin++) {
    const at = firstAt[bin];
    if (at === undefined) continue;
    const f = emptyFigures();
    FIGURE_KEYS.forEach((key, k) => {
      const w = weights[bin * keys + k] ?? 0;
      f[key] = w === 0 ? null : round2((sums[bin * keys + k] ?? 0) / w);
    });
    out.push({ at, sampleCount: counts[bin] ?? 0, ...f });
  }
  return out;
}

/** The start of the collection slot that holds `nowMs`: samples of one round share it. */
export function slotStart(nowMs: number, intervalSeconds: number): Date {
  const ms = intervalSeconds * 1000;
  return new Date(Math.floor(nowMs / ms) * ms);
}
