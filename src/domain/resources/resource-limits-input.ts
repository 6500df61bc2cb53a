import { z } from 'zod';
import { parseOrThrow } from '../shared/validation.js';
import type { ResourceLimits } from './resource-limits.js';

const whole = (min: number, max: number) =>
  z
    .number({ message: 'must be a number' })
    .int({ message: 'must be a whole number' })
    .min(min, { message: `must be at least ${min}` })
    .max(max, { message: `must be at most ${max}` });

const percent = whole(1, 100);

const updateSchema = z
  .object({
    global: z
      .object({
        maxServers: whole(1, 100_000),
        maxSessions: whole(1, 100_000),
        maxTotalCpu: percent,
        maxTotalMemory: percent,
        maxTotalDisk: percent,
      })
      .partial()
      .strict(),
    perServer: z
      .object({
        maxCpu: percent,
        // The bounds of a server's own resources (docs/DOMAIN.md, "RDP servers").
        maxMemoryMb: whole(512, 16_384),
        maxDiskMb: whole(1024, 102_400),
        maxBandwidthMbps: whole(100, 10_000),
      })
      .partial()
      .strict(),
    perSession: z
      .object({
        maxCpu: percent,
        maxMemoryMb: whole(256, 16_384),
        maxBandwidthMbps: whole(1, 10_000),
        maxDurationSeconds: whole(300, 86_400),
      })
      .partial()
      .strict(),
    perUser: z
      .object({ maxSessions: whole(1, 100_000) })
      .partial()
      .strict(),
  })
  .partial()
  .strict();

/** A partial update: any subset of the fields of each group. */
export type ResourceLimitsUpdate = z.infer<typeof updateSchema>;

/** Validates a partial update and applies it; throws one ValidationError listing every bad field. */
export function applyLimitsUpdate(current: ResourceLimits, input: unknown): ResourceLimits {
  const patch = parseOrThrow(updateSchema, input);
  return {
    global: { ...current.global, ...patch.global },
    perServer: { ...current.perServer, ...patch.perServer },
    perSession: { ...current.perSession, ...patch.perSession },
    perUser: { ...current.perUser, ...patch.perUser },
  };
}

/** Fields whose value differs, as `group.field` with both values (for the audit). */
export function changedLimits(before: ResourceLimits, after: ResourceLimits): { field: string; from: number; to: number }[] {
  const out: { field: string; from: number; to: number }[] = [];
  for (const group of ['global', 'perServer', 'perSession', 'perUser'] as const) {
    const a = before[group] as unknown as Record<string, number>;
    const b = after[group] as unknown as Record<string, number>;
    for (const key of Object.keys(b)) {
      if (a[key] !== b[key]) out.push({ field: `${group}.${key}`, from: a[key] ?? 0, to: b[key] ?? 0 });
    }
  }
  return out;
}
