import { SignJWT } from 'jose';
import type { Role } from '../../domain/auth/viewer.js';

export interface TokenClaims {
  sub: string;
  username?: string;
  email?: string;
  roles: Role[];
  permissions?: string[];
  /** Other claims (e.g. groups), set as given. */
  extra?: Record<string, unknown>;
}

/** Signs an HS256 token; used by `npm run token` and by tests. */
export async function signToken(
  secret: Uint8Array,
  claims: TokenClaims,
  options: { expiresInSeconds?: number; issuer?: string; audience?: string } = {},
): Promise<string> {
  let jwt = new SignJWT({
    ...claims.extra,
    username: claims.username ?? claims.sub,
    roles: claims.roles,
    permissions: claims.permissions ?? [],
    ...(claims.email ? { email: claims.email } : {}),
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (options.expiresInSeconds ?? 3600));
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(secret);
}
