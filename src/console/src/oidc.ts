/** Loaded only by the sign-in and callback pages (a chunk of its own): oauth4webapi. */
import * as oauth from 'oauth4webapi';
import { ApiError } from './api';
import { type OidcSettings, SIGNED_OUT_PATH } from './sign-in-config';

/** Where the provider sends the browser back: one fixed URL, registered with the client. */
export const CALLBACK_PATH = '/console/callback';
const redirectUri = () => `${location.origin}${CALLBACK_PATH}`;

const PENDING_KEY = 'rdp-console-oidc-pending';

interface Pending {
  verifier: string;
  state: string;
  returnTo: string;
}

/** http is allowed only for a provider on loopback (the service refuses any other http issuer). */
const insecure = (settings: OidcSettings) => ({ [oauth.allowInsecureRequests]: settings.issuer.startsWith('http:') });

async function authorizationServer(settings: OidcSettings): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(settings.issuer);
  try {
    const response = await oauth.discoveryRequest(issuer, insecure(settings));
    return await oauth.processDiscoveryResponse(issuer, response);
  } catch {
    throw new ApiError('SIGN_IN_FAILED', `the identity provider at ${issuer.origin} did not answer`);
  }
}

/** Authorization code with PKCE (S256) and state; the browser leaves for the provider's login page. */
export async function startSignIn(settings: OidcSettings, returnTo: string): Promise<void> {
  const as = await authorizationServer(settings);
  if (!as.authorization_endpoint) throw new ApiError('SIGN_IN_FAILED', 'the identity provider names no authorization endpoint');
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const pending: Pending = { verifier, state, returnTo };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const url = new URL(as.authorization_endpoint);
  url.searchParams.set('client_id', settings.clientId);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('redirect_uri', redirectUri());
  url.searchParams.set('scope', settings.scopes);
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('state', state);
  if (settings.resource) url.searchParams.set('resource', settings.resource);
  location.assign(url.href);
}

/**
 * On the callback page: checks the state, exchanges the code (with the PKCE verifier) for tokens
 * and returns the access token, which is what the API takes, and the ID token (validated by
 * oauth4webapi), the id_token_hint of a later sign-out.
 */
export async function finishSignIn(
  settings: OidcSettings,
): Promise<{ token: string; idToken: string | undefined; returnTo: string }> {
  const raw = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  const pending = raw ? (JSON.parse(raw) as Pending) : null;
  if (!pending) throw new ApiError('SIGN_IN_FAILED', 'this tab did not start a sign-in, or it was already used');
  const as = await authorizationServer(settings);
  const client: oauth.Client = { client_id: settings.clientId };
  try {
    const params = oauth.validateAuthResponse(as, client, new URL(location.href), pending.state);
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      oauth.None(),
      params,
      redirectUri(),
      pending.verifier,
      { ...insecure(settings), ...(settings.resource ? { additionalParameters: { resource: settings.resource } } : {}) },
    );
    const result = await oauth.processAuthorizationCodeResponse(as, client, response);
    if (result.access_token.split('.').length !== 3) {
      throw new ApiError(
        'SIGN_IN_FAILED',
        'the identity provider issued an access token that is not a JWT; set JWT_AUDIENCE to a resource it issues JWTs for',
      );
    }
    return { token: result.access_token, idToken: result.id_token, returnTo: pending.returnTo };
  } catch (err) {
    if (err instanceof ApiError) throw err;
    if (err instanceof oauth.AuthorizationResponseError || err instanceof oauth.ResponseBodyError) {
      throw new ApiError('SIGN_IN_FAILED', err.error_description ?? err.error);
    }
    throw new ApiError('SIGN_IN_FAILED', err instanceof Error ? err.message : undefined);
  }
}

/**
 * OpenID Connect RP-Initiated Logout 1.0: the provider's end_session_endpoint (from its discovery
 * document) with the ID token as id_token_hint, the client id, and this console's signed-out page
 * as post_logout_redirect_uri. Null when the provider names no end_session_endpoint.
 */
export async function endSessionUrl(settings: OidcSettings, idToken: string | null): Promise<string | null> {
  const as = await authorizationServer(settings);
  if (!as.end_session_endpoint) return null;
  const url = new URL(as.end_session_endpoint);
  if (idToken) url.searchParams.set('id_token_hint', idToken);
  url.searchParams.set('client_id', settings.clientId);
  url.searchParams.set('post_logout_redirect_uri', `${location.origin}${SIGNED_OUT_PATH}`);
  return url.href;
}
