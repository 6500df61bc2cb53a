import type { ResourcePoint, ResourceSample } from './resource-sample.js';

/**
 * Widths of the summaries long windows are drawn from: per minute (6 h, 24 h) and per 10
 * minutes (7 days: 1,008 of them instead of 10,080).
 */
export const SUMMARY_BINS = [60, 600] as const;
export type SummaryBin = (typeof SUMMARY_BINS)[number];

/**
 * Where samples are kept: in time buckets, one record per subject per bucket, never one per
 * sample. A sample is identified by (subject, at): writing it again replaces it, so two writers
 * of one collection round (a lease changing hands) never make a duplicate.
 */
export interface ResourceSampleStore {
  /** Stores samples: a collection round, or any history (backfill, tests). */
  append(samples: readonly ResourceSample[]): Promise<void>;
  /** Raw samples of a subject with from <= at < to, oldest first. */
  samples(subjectId: string, from: Date, to: Date): Promise<ResourceSample[]>;
  /** Summaries (averages per bin of `binSeconds`) of a subject with from <= at < to, oldest first. */
  summaries(subjectId: string, from: Date, to: Date, binSeconds: SummaryBin): Promise<ResourcePoint[]>;
  /** The newest sample of each subject, null where there is none; one read for many (DataLoader). */
  latest(subjectIds: readonly string[]): Promise<(ResourceSample | null)[]>;
  /** Removes every sample older than `before` (and latest records not renewed since); returns records removed. */
  prune(before: Date): Promise<number>;
}
