import { ApiError } from './api';

/** What /console/config.json says about signing in (src/app/console-routes.ts, ConsoleSignIn). */
export type SignInConfig = { signIn: 'oidc'; oidc: OidcSettings } | { signIn: 'development' } | { signIn: 'none' };

export interface OidcSettings {
  issuer: string;
  clientId: string;
  scopes: string;
  /** The API's audience, asked for as an RFC 8707 resource indicator. */
  resource?: string;
}

/**
 * Where a sign-out ends: the identity provider sends the browser back here after ending its own
 * session (the post_logout_redirect_uri to register with the client).
 */
export const SIGNED_OUT_PATH = '/console/signed-out';

let loaded: Promise<SignInConfig> | undefined;

export function signInConfig(): Promise<SignInConfig> {
  loaded ??= fetch('/console/config.json', { headers: { accept: 'application/json' } })
    .then((r) => {
      if (!r.ok) throw new Error(String(r.status));
      return r.json() as Promise<SignInConfig>;
    })
    .catch((err: unknown) => {
      loaded = undefined;
      throw err instanceof ApiError ? err : new ApiError('NETWORK');
    });
  return loaded;
}
