import { z } from 'zod';
import type { ResourceLimits } from '../resources/resource-limits.js';
import type { FieldProblem } from '../shared/errors.js';
import { check, parseOrThrow, stripNulls } from '../shared/validation.js';
import {
  COLOR_DEPTHS,
  DEFAULT_CONFIGURATION,
  DEFAULT_RESOURCES,
  DESKTOPS,
  type ServerConfiguration,
  type ServerResources,
} from './server.js';

const name = z
  .string()
  .transform((s) => s.trim())
  .pipe(
    z
      .string()
      .min(1, { message: 'must not be blank' })
      .max(255, { message: 'must be at most 255 characters' })
      .refine((s) => !/[\p{Cc}]/u.test(s), { message: 'must not contain control characters' }),
  );

const description = z.string().max(1000, { message: 'must be at most 1000 characters' });

const resolution = z.string().refine(
  (s) => {
    const m = /^(\d{3,4})x(\d{3,4})$/.exec(s);
    if (!m) return false;
    const w = Number(m[1]);
    const h = Number(m[2]);
    return w >= 200 && w <= 8192 && h >= 200 && h <= 8192;
  },
  { message: 'must be WxH with each side from 200 to 8192, e.g. 1920x1080' },
);

const multipleOf256 = (min: number, max: number) =>
  z
    .number()
    .int({ message: 'must be a whole number' })
    .min(min, { message: `must be at least ${min}` })
    .max(max, { message: `must be at most ${max}` })
    .refine((n) => n % 256 === 0, { message: 'must be a multiple of 256' });

const configurationPatch = z
  .object({
    desktop: z.enum(DESKTOPS, { message: `must be one of ${DESKTOPS.join(', ')}` }),
    resolution,
    colorDepth: z.number().refine((n): n is (typeof COLOR_DEPTHS)[number] => (COLOR_DEPTHS as readonly number[]).includes(n), {
      message: 'must be 16, 24 or 32',
    }),
    audio: z.boolean(),
    clipboard: z.boolean(),
    driveRedirection: z.boolean(),
    printerRedirection: z.boolean(),
    maxSessions: z.number().int({ message: 'must be a whole number' }).min(1, { message: 'must be at least 1' }).max(1000, {
      message: 'must be at most 1000',
    }),
  })
  .partial()
  .strict();

const resourcesPatch = z
  .object({
    cpuLimit: z.number().min(0.1, { message: 'must be at least 0.1' }).max(8, { message: 'must be at most 8.0' }),
    memoryLimitMb: multipleOf256(512, 16384),
    diskLimitMb: multipleOf256(1024, 102400),
    bandwidthMbps: z
      .number()
      .int({ message: 'must be a whole number' })
      .min(100, { message: 'must be at least 100' })
      .max(10000, {
        message: 'must be at most 10000',
      }),
  })
  .partial()
  .strict();

const createSchema = z
  .object({
    name,
    description: description.optional(),
    ownerId: z.string().min(1).max(255).optional(),
    hostId: z.string().optional(),
    configuration: configurationPatch.optional(),
    resources: resourcesPatch.optional(),
  })
  .strict();

const updateSchema = z
  .object({
    name: name.optional(),
    description: description.optional(),
    configuration: configurationPatch.optional(),
    resources: resourcesPatch.optional(),
  })
  .strict();

export type CreateServerInput = z.input<typeof createSchema>;
export type UpdateServerInput = z.input<typeof updateSchema>;

/** Resources must also sit within the per-server limits in force. */
function limitProblems(resources: ServerResources, limits: ResourceLimits): FieldProblem[] {
  const p = limits.perServer;
  const out: FieldProblem[] = [];
  const over = (field: keyof ServerResources, max: number, unit: string) => {
    if (resources[field] > max) {
      out.push({
        field: `resources.${field}`,
        message: `exceeds the per-server limit of ${max} ${unit} (perServer.${limitField[field]}, changed by updateResourceLimits)`,
      });
    }
  };
  over('memoryLimitMb', p.maxMemoryMb, 'MB');
  over('diskLimitMb', p.maxDiskMb, 'MB');
  over('bandwidthMbps', p.maxBandwidthMbps, 'Mbps');
  return out;
}

const limitField: Record<keyof ServerResources, string> = {
  cpuLimit: 'maxCpu',
  memoryLimitMb: 'maxMemoryMb',
  diskLimitMb: 'maxDiskMb',
  bandwidthMbps: 'maxBandwidthMbps',
};

/** The resources the input asks for over `base`, when that part of it is valid. */
function requestedResources(input: unknown, base: ServerResources): ServerResources | null {
  const part = check(resourcesPatch.optional(), (stripNulls(input) as { resources?: unknown } | undefined)?.resources);
  return part.ok ? { ...base, ...part.data } : null;
}

export interface ValidCreateServer {
  name: string;
  description: string;
  ownerId?: string | undefined;
  /** The host asked for; placement checks it. */
  hostId?: string | undefined;
  configuration: ServerConfiguration;
  resources: ServerResources;
}

export function validateCreateServer(input: unknown, limits: ResourceLimits): ValidCreateServer {
  const v = parseOrThrow(createSchema, input, () => {
    const resources = requestedResources(input, DEFAULT_RESOURCES);
    return resources ? limitProblems(resources, limits) : [];
  });
  const resources = { ...DEFAULT_RESOURCES, ...v.resources };
  return {
    name: v.name,
    description: v.description ?? '',
    ownerId: v.ownerId,
    hostId: v.hostId,
    configuration: { ...DEFAULT_CONFIGURATION, ...v.configuration } as ServerConfiguration,
    resources,
  };
}

export interface ValidUpdateServer {
  name?: string | undefined;
  description?: string | undefined;
  configuration?: Partial<ServerConfiguration> | undefined;
  resources?: Partial<ServerResources> | undefined;
}

/** With `within`, resources the update asks for must also fit the per-server limits in force. */
export function validateUpdateServer(
  input: unknown,
  within?: { current: ServerResources; limits: ResourceLimits },
): ValidUpdateServer {
  return parseOrThrow(updateSchema, input, () => {
    if (!within || (stripNulls(input) as { resources?: unknown } | undefined)?.resources === undefined) return [];
    const resources = requestedResources(input, within.current);
    return resources ? limitProblems(resources, within.limits) : [];
  }) as ValidUpdateServer;
}
