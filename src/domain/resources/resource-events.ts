import type { ResourceSample } from './resource-sample.js';

/**
 * Published on `resource:sample` keyed by subject id, once per sample, already in the shape the
 * `resourceUsage` subscription sends: every subscriber of the subject gets this same object, so
 * one execution of it serves them all (src/app/subscription-fanout.ts).
 */
export interface ResourceSampleEvent {
  kind: 'SAMPLE';
  sample: ResourceSample;
}
