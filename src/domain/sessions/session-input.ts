import { isIP } from 'node:net';
import { z } from 'zod';
import { parseOrThrow } from '../shared/validation.js';
import { type ClientInfo, CREDENTIAL_MODES, type CredentialMode } from './session.js';

const resolution = z.string().refine(
  (s) => {
    const m = /^(\d{3,4})x(\d{3,4})$/.exec(s);
    return !!m && [m[1], m[2]].every((n) => Number(n) >= 200 && Number(n) <= 8192);
  },
  { message: 'must be WxH with each side from 200 to 8192' },
);

const noControl = (max: number) =>
  z
    .string()
    .max(max, { message: `must be at most ${max} characters` })
    .refine((s) => !/[\p{Cc}\p{Cf}]/u.test(s), { message: 'must not contain control characters' });

const createSchema = z
  .object({
    serverId: z.string().min(1).max(128),
    credentialMode: z.enum(CREDENTIAL_MODES).optional(),
    clientInfo: z
      .object({
        clientName: noControl(255),
        clientVersion: noControl(50),
        clientIp: z.string().refine((s) => isIP(s) !== 0, { message: 'must be an IPv4 or IPv6 address' }),
        resolution,
        colorDepth: z.number().refine((n) => n === 16 || n === 24 || n === 32, { message: 'must be 16, 24 or 32' }),
      })
      .partial()
      .strict()
      .optional(),
  })
  .strict();

export interface ValidCreateSession {
  serverId: string;
  credentialMode?: CredentialMode | undefined;
  clientInfo: ClientInfo;
}

export function validateCreateSession(input: unknown): ValidCreateSession {
  const v = parseOrThrow(createSchema, input);
  return {
    serverId: v.serverId,
    credentialMode: v.credentialMode,
    clientInfo: {
      clientName: v.clientInfo?.clientName ?? null,
      clientVersion: v.clientInfo?.clientVersion ?? null,
      clientIp: v.clientInfo?.clientIp ?? null,
      resolution: v.clientInfo?.resolution ?? null,
      colorDepth: v.clientInfo?.colorDepth ?? null,
    },
  };
}
