import { createRemoteJWKSet, decodeProtectedHeader, type JWTPayload, type JWTVerifyOptions, jwtVerify } from 'jose';
import type { TokenVerifier } from '../../domain/auth/token-verifier.js';
import { ROLES, type Role, type Viewer } from '../../domain/auth/viewer.js';
import { UnauthenticatedError } from '../../domain/shared/errors.js';

export interface JwtVerifierOptions {
  secret?: Uint8Array | undefined;
  jwksUrl?: string | undefined;
  issuer?: string | undefined;
  audience?: string | undefined;
  /** Seconds of clock skew accepted on exp/nbf. @default 30 */
  clockToleranceSeconds?: number;
}

const HMAC_ALGS = ['HS256'];
const JWKS_ALGS = ['RS256', 'ES256'];

function toViewer(payload: JWTPayload): Viewer {
  const userId = typeof payload.sub === 'string' && payload.sub ? payload.sub : payload.user_id;
  if (typeof userId !== 'string' || userId.length === 0 || userId.length > 255) {
    throw new UnauthenticatedError('token has no subject (sub or user_id)');
  }
  const rawRoles = Array.isArray(payload.roles) ? payload.roles : [];
  const roles = rawRoles.filter((r): r is Role => typeof r === 'string' && (ROLES as readonly string[]).includes(r));
  const permissions = Array.isArray(payload.permissions)
    ? payload.permissions.filter((p): p is string => typeof p === 'string')
    : [];
  return {
    userId,
    username: typeof payload.username === 'string' ? payload.username : userId,
    email: typeof payload.email === 'string' ? payload.email : undefined,
    roles: roles.length > 0 ? roles : ['user'],
    permissions,
  };
}

/**
 * jose with every default tightened: an explicit algorithm allow-list per key type, `exp`
 * required, bounded clock tolerance, issuer and audience when configured.
 */
export function createJwtTokenVerifier(options: JwtVerifierOptions): TokenVerifier {
  const jwks = options.jwksUrl ? createRemoteJWKSet(new URL(options.jwksUrl)) : undefined;
  const base: JWTVerifyOptions = {
    requiredClaims: ['exp'],
    clockTolerance: Math.min(options.clockToleranceSeconds ?? 30, 30),
    ...(options.issuer ? { issuer: options.issuer } : {}),
    ...(options.audience ? { audience: options.audience } : {}),
  };
  return {
    async verify(token) {
      let alg: string | undefined;
      try {
        alg = decodeProtectedHeader(token).alg;
      } catch {
        throw new UnauthenticatedError('malformed token');
      }
      try {
        let payload: JWTPayload;
        if (alg && HMAC_ALGS.includes(alg) && options.secret) {
          ({ payload } = await jwtVerify(token, options.secret, { ...base, algorithms: HMAC_ALGS }));
        } else if (alg && JWKS_ALGS.includes(alg) && jwks) {
          ({ payload } = await jwtVerify(token, jwks, { ...base, algorithms: JWKS_ALGS }));
        } else {
          throw new UnauthenticatedError(`token algorithm ${alg ?? 'none'} is not accepted`);
        }
        return { ...toViewer(payload), expiresAt: new Date((payload.exp as number) * 1000) };
      } catch (err) {
        if (err instanceof UnauthenticatedError) throw err;
        const code = typeof err === 'object' && err && 'code' in err ? String(err.code) : '';
        throw new UnauthenticatedError(code === 'ERR_JWT_EXPIRED' ? 'token expired' : 'invalid token');
      }
    },
  };
}
