import { z } from 'zod';
import { HOST_ID_PATTERN } from '../cluster/host-protocol.js';
import { ValidationError } from '../shared/errors.js';
import { parseOrThrow } from '../shared/validation.js';
import type { HostCapacity, PortRange } from './host.js';

const hostId = z.string().regex(HOST_ID_PATTERN, {
  message: 'must be 1-63 lowercase letters, digits or hyphens, starting with a letter or digit',
});

const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1, { message: 'must not be blank' })
    .max(max, { message: `must be at most ${max} characters` })
    .refine((s) => !/[\p{Cc}]/u.test(s), { message: 'must not contain control characters' });

const port = z.number().int({ message: 'must be a whole number' }).min(1024, { message: 'must be at least 1024' }).max(65535, {
  message: 'must be at most 65535',
});

const helloSchema = z
  .object({
    id: hostId,
    name: text(255),
    labels: z
      .record(
        z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/, { message: 'label keys are 1-63 of A-Z a-z 0-9 . _ / -' }),
        z.string().max(255, { message: 'label values are at most 255 characters' }),
      )
      .refine((l) => Object.keys(l).length <= 32, { message: 'at most 32 labels' })
      .default({}),
    agentVersion: text(64),
    rdpAddress: text(255).refine((s) => !/\s/.test(s), { message: 'must not contain spaces' }),
    portRange: z
      .object({ from: port, to: port })
      .strict()
      .refine((r) => r.from <= r.to, { message: 'from must not be above to' }),
    capacity: z
      .object({
        maxServers: z.number().int({ message: 'must be a whole number' }).min(0).max(100_000),
        cpuCount: z.number().int({ message: 'must be a whole number' }).min(1).max(100_000),
        memoryMb: z.number().int({ message: 'must be a whole number' }).min(1),
      })
      .strict(),
  })
  .strict();

/** What an agent says about its host when it starts. */
export interface HostHello {
  id: string;
  name: string;
  labels: Record<string, string>;
  agentVersion: string;
  rdpAddress: string;
  portRange: PortRange;
  capacity: HostCapacity;
}

export function validateHello(input: unknown): HostHello {
  return parseOrThrow(helloSchema, input);
}

export function validateHostId(input: unknown, field = 'hostId'): string {
  const r = hostId.safeParse(input);
  if (!r.success) throw new ValidationError(field, r.error.issues[0]?.message ?? 'is not a host id');
  return r.data;
}

const percent = z.number().min(0, { message: 'must be at least 0' }).max(100, { message: 'must be at most 100' });

const heartbeatSchema = z
  .object({
    at: z.string().refine((s) => !Number.isNaN(Date.parse(s)), { message: 'must be an ISO-8601 time' }),
    usage: z.object({ cpuPercent: percent, memoryPercent: percent }).strict().nullable().default(null),
  })
  .strict();

export interface HeartbeatInput {
  at: string;
  usage: { cpuPercent: number; memoryPercent: number } | null;
}

/** A reading with a figure missing (the agent's first probe round) counts as no reading. */
function withoutPartialUsage(input: unknown): unknown {
  if (typeof input !== 'object' || input === null) return input;
  const usage = (input as { usage?: unknown }).usage;
  if (typeof usage !== 'object' || usage === null) return input;
  const { cpuPercent, memoryPercent } = usage as { cpuPercent?: unknown; memoryPercent?: unknown };
  return cpuPercent === null || memoryPercent === null ? { ...input, usage: null } : input;
}

export function validateHeartbeat(input: unknown): HeartbeatInput {
  const valid = parseOrThrow(heartbeatSchema, withoutPartialUsage(input));
  return { at: new Date(valid.at).toISOString(), usage: valid.usage };
}
