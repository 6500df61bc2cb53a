import { z } from 'zod';
import { CREDENTIAL_MODES } from '../sessions/session.js';
import { parseOrThrow } from '../shared/validation.js';
import { ASSIGNMENT_TARGETS, PLACEMENT_POLICIES, PRINCIPAL_TYPES } from './pool.js';

const name = z
  .string()
  .transform((s) => s.trim())
  .pipe(z.string().min(1, { message: 'must not be blank' }).max(255, { message: 'must be at most 255 characters' }));
const description = z.string().max(1000, { message: 'must be at most 1000 characters' });
const maxSessions = z
  .number()
  .int()
  .min(1, { message: 'must be at least 1' })
  .max(100_000, { message: 'must be at most 100000' });

const createSchema = z
  .object({
    name,
    description: description.optional(),
    placementPolicy: z.enum(PLACEMENT_POLICIES).optional(),
    maxSessions: maxSessions.optional(),
    defaultCredentialMode: z.enum(CREDENTIAL_MODES).optional(),
  })
  .strict();

/** An update names what changes; clearMaxSessions / clearDefaultCredentialMode set those back to none. */
const updateSchema = z
  .object({
    name: name.optional(),
    description: description.optional(),
    placementPolicy: z.enum(PLACEMENT_POLICIES).optional(),
    maxSessions: maxSessions.optional(),
    clearMaxSessions: z.boolean().optional(),
    defaultCredentialMode: z.enum(CREDENTIAL_MODES).optional(),
    clearDefaultCredentialMode: z.boolean().optional(),
  })
  .strict();

const assignSchema = z
  .object({
    principalType: z.enum(PRINCIPAL_TYPES),
    principal: z.string().min(1).max(255),
    targetType: z.enum(ASSIGNMENT_TARGETS),
    targetId: z.string().min(1).max(128),
  })
  .strict();

export const validateCreatePool = (input: unknown) => parseOrThrow(createSchema, input);

export function validateUpdatePool(input: unknown) {
  const v = parseOrThrow(updateSchema, input, () => {
    const raw = (input ?? {}) as Record<string, unknown>;
    const problems = [];
    if (raw.clearMaxSessions === true && raw.maxSessions != null) {
      problems.push({ field: 'clearMaxSessions', message: 'cannot be given with maxSessions' });
    }
    if (raw.clearDefaultCredentialMode === true && raw.defaultCredentialMode != null) {
      problems.push({ field: 'clearDefaultCredentialMode', message: 'cannot be given with defaultCredentialMode' });
    }
    return problems;
  });
  return v;
}

export const validateAssign = (input: unknown) => parseOrThrow(assignSchema, input);
