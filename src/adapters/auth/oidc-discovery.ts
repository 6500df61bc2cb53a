import { UnauthenticatedError } from '../../domain/shared/errors.js';

/** The parts of an OpenID provider's metadata (OpenID Connect Discovery 1.0) this service uses. */
export interface OidcMetadata {
  issuer: string;
  jwks_uri: string;
  token_endpoint?: string;
  authorization_endpoint?: string;
}

export interface OidcDiscovery {
  /** The provider's metadata, fetched once; a failed fetch is tried again on the next call. */
  metadata(): Promise<OidcMetadata>;
}

const TIMEOUT_MS = 5000;

/**
 * `<issuer>/.well-known/openid-configuration`, checked as the spec says: its `issuer` is exactly
 * the configured one (so a document cannot speak for another provider), and it names its keys.
 */
export function createOidcDiscovery(issuer: string, fetchImpl: typeof fetch = fetch): OidcDiscovery {
  let found: OidcMetadata | undefined;
  let pending: Promise<OidcMetadata> | undefined;
  const load = async (): Promise<OidcMetadata> => {
    const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    let body: Partial<OidcMetadata>;
    try {
      const res = await fetchImpl(url, { signal: AbortSignal.timeout(TIMEOUT_MS), headers: { accept: 'application/json' } });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      body = (await res.json()) as Partial<OidcMetadata>;
    } catch (err) {
      throw new UnauthenticatedError(
        `cannot check the token: the identity provider's discovery document at ${url} did not load (${(err as Error).message})`,
      );
    }
    if (body.issuer !== issuer || typeof body.jwks_uri !== 'string') {
      throw new UnauthenticatedError(
        `cannot check the token: the identity provider's discovery document names issuer ${String(body.issuer)}, not ${issuer}, or no jwks_uri`,
      );
    }
    return body as OidcMetadata;
  };
  return {
    async metadata() {
      if (found) return found;
      pending ??= load().finally(() => {
        pending = undefined;
      });
      found = await pending;
      return found;
    },
  };
}
