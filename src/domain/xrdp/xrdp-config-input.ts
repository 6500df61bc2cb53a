import { z } from 'zod';
import { ValidationError } from '../shared/errors.js';
import { check, parseOrThrow, stripNulls } from '../shared/validation.js';
import { iniPathProblem } from './ini-value.js';
import { AUTHENTICATION_MODES, ENCRYPTION_LEVELS, LOG_LEVELS, NO_EFFECT_FIELDS, type XrdpConfig } from './xrdp-config.js';

const whole = (min: number, max: number) =>
  z
    .number({ message: 'must be a number' })
    .int({ message: 'must be a whole number' })
    .min(min, { message: `must be at least ${min}` })
    .max(max, { message: `must be at most ${max}` });

/**
 * A certificate or key path. Anything that ends up in an INI file goes through the path
 * allow-list (see ini-value.ts); the empty string goes back to per-instance generated certificates.
 */
const certificateFile = z.string({ message: 'must be a string' }).superRefine((s, ctx) => {
  if (s === '') return;
  const problem = iniPathProblem(s);
  if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
});

const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { message: `must be one of ${values.join(', ')}` });

const flag = z.boolean({ message: 'must be true or false' });

const updateSchema = z
  .object({
    global: z
      .object({
        port: whole(1024, 65535),
        useTls: flag,
        certificatePath: certificateFile,
        keyPath: certificateFile,
        logLevel: oneOf(LOG_LEVELS),
        maxConnections: whole(1, 1000),
      })
      .partial()
      .strict(),
    security: z
      .object({
        authentication: oneOf(AUTHENTICATION_MODES),
        sessionTimeout: whole(300, 86400),
        idleTimeout: whole(60, 7200),
        encryptionLevel: oneOf(ENCRYPTION_LEVELS),
      })
      .partial()
      .strict(),
    performance: z
      .object({
        compression: flag,
        bitmapCache: flag,
        glyphCache: flag,
        maxBitmapCacheSize: whole(1_000_000, 100_000_000),
      })
      .partial()
      .strict(),
  })
  .partial()
  .strict();

/** A partial update: any subset of the fields of each group. */
export type UpdateXrdpConfigInput = z.input<typeof updateSchema>;

/**
 * Validates an update and merges it over the current configuration. Throws one ValidationError
 * listing every problem by input path, e.g. `global.certificatePath` and `security.idleTimeout`.
 * A change to a field no xrdp key carries (NO_EFFECT_FIELDS) is refused; writing its current
 * value is not. Whether the certificate files exist and match is checked by the service, which
 * can read them.
 */
export function applyXrdpConfigUpdate(current: XrdpConfig, input: unknown): XrdpConfig {
  const patch = parseOrThrow(updateSchema, input, () => {
    // Checked on the security group whenever it parsed, so it is listed with the other problems.
    const part = check(updateSchema.shape.security, (stripNulls(input) as { security?: unknown } | undefined)?.security);
    if (!part.ok) return [];
    const { idleTimeout, sessionTimeout } = { ...current.security, ...part.data };
    return idleTimeout >= sessionTimeout
      ? [
          {
            field: 'security.idleTimeout',
            message: `must be less than sessionTimeout (idleTimeout ${idleTimeout}, sessionTimeout ${sessionTimeout})`,
          },
        ]
      : [];
  });
  const orNull = (path: string | undefined, was: string | null) => (path === undefined ? was : path === '' ? null : path);
  const next: XrdpConfig = {
    global: {
      ...current.global,
      ...patch.global,
      certificatePath: orNull(patch.global?.certificatePath, current.global.certificatePath),
      keyPath: orNull(patch.global?.keyPath, current.global.keyPath),
    },
    security: { ...current.security, ...patch.security },
    performance: { ...current.performance, ...patch.performance },
  };
  for (const [field, why] of Object.entries(NO_EFFECT_FIELDS)) {
    const [section, key] = field.split('.') as [keyof XrdpConfig, string];
    const before = (current[section] as Record<string, unknown>)[key];
    const after = (next[section] as Record<string, unknown>)[key];
    if (before !== after) {
      throw new ValidationError(field, `has no effect and cannot be changed: ${why} (deprecated, to be removed)`);
    }
  }
  return next;
}
