import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  jwtVerify,
} from 'jose';
import type { TokenVerifier } from '../../domain/auth/token-verifier.js';
import { ROLES, type Role, type Viewer } from '../../domain/auth/viewer.js';
import { UnauthenticatedError } from '../../domain/shared/errors.js';
import type { OidcDiscovery } from './oidc-discovery.js';

export interface JwtVerifierOptions {
  secret?: Uint8Array | undefined;
  jwksUrl?: string | undefined;
  /** Where the keys are found when jwksUrl is not given: the OpenID provider's jwks_uri. */
  discovery?: OidcDiscovery | undefined;
  issuer?: string | undefined;
  audience?: string | undefined;
  /** Seconds of clock skew accepted on exp/nbf. @default 30 */
  clockToleranceSeconds?: number;
  /** The claim listing the caller's groups: an array of strings, or one string. @default 'groups' */
  groupsClaim?: string | undefined;
  /** Verified tokens remembered (each until its exp, at most CACHE_TTL_MS); 0 turns it off. @default 10000 */
  cacheSize?: number;
}

/**
 * How long a verified token is taken without checking its signature again. A client sends the
 * same token with every request, and the HMAC or RSA check through WebCrypto is the largest
 * fixed cost of a small request; never past the token's exp, and short enough that a key
 * removed from the JWKS stops counting within a minute.
 */
const CACHE_TTL_MS = 60_000;

type VerifiedViewer = Viewer & { expiresAt: Date };

const HMAC_ALGS = ['HS256'];
const JWKS_ALGS = ['RS256', 'ES256'];

/** At most this many groups are taken from a token, each at most 255 characters. */
const MAX_GROUPS = 200;

function groupsOf(payload: JWTPayload, claim: string): string[] {
  const raw = payload[claim];
  const list = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw : [];
  return [...new Set(list.filter((g): g is string => typeof g === 'string' && g.length > 0 && g.length <= 255))].slice(
    0,
    MAX_GROUPS,
  );
}

function toViewer(payload: JWTPayload, groupsClaim: string): Viewer {
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
    groups: groupsOf(payload, groupsClaim),
  };
}

/** The provider's key set, from the jwks_uri its discovery document names (looked up on first use). */
function discoveredKeys(discovery: OidcDiscovery): JWTVerifyGetKey {
  let keys: JWTVerifyGetKey | undefined;
  return async (header, token) => {
    keys ??= createRemoteJWKSet(new URL((await discovery.metadata()).jwks_uri));
    return keys(header, token);
  };
}

/**
 * jose with every default tightened: an explicit algorithm allow-list per key type, `exp`
 * required, bounded clock tolerance, issuer and audience when configured.
 */
export function createJwtTokenVerifier(options: JwtVerifierOptions): TokenVerifier {
  const jwks = options.jwksUrl
    ? createRemoteJWKSet(new URL(options.jwksUrl))
    : options.discovery
      ? discoveredKeys(options.discovery)
      : undefined;
  const base: JWTVerifyOptions = {
    requiredClaims: ['exp'],
    clockTolerance: Math.min(options.clockToleranceSeconds ?? 30, 30),
    ...(options.issuer ? { issuer: options.issuer } : {}),
    ...(options.audience ? { audience: options.audience } : {}),
  };
  const verifyUncached = async (token: string): Promise<VerifiedViewer> => {
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
      return { ...toViewer(payload, options.groupsClaim ?? 'groups'), expiresAt: new Date((payload.exp as number) * 1000) };
    } catch (err) {
      if (err instanceof UnauthenticatedError) throw err;
      const code = typeof err === 'object' && err && 'code' in err ? String(err.code) : '';
      throw new UnauthenticatedError(code === 'ERR_JWT_EXPIRED' ? 'token expired' : 'invalid token');
    }
  };
  const cacheSize = options.cacheSize ?? 10_000;
  const verified = new Map<string, { viewer: VerifiedViewer; until: number }>();
  const remember = (token: string, viewer: VerifiedViewer) => {
    const until = Math.min(viewer.expiresAt.getTime(), Date.now() + CACHE_TTL_MS);
    if (cacheSize <= 0 || until <= Date.now()) return;
    verified.set(token, { viewer, until });
    // Map keeps insertion order: the first key is the oldest entry.
    if (verified.size > cacheSize) verified.delete(verified.keys().next().value ?? '');
  };
  return {
    async verify(token) {
      const hit = verified.get(token);
      if (hit) {
        // A copy: callers add per-request fields (the address) to the viewer they get.
        if (Date.now() < hit.until) return { ...hit.viewer };
        verified.delete(token);
      }
      const viewer = await verifyUncached(token);
      remember(token, viewer);
      return { ...viewer };
    },
  };
}
