import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { errors } from 'oidc-provider';
import type { Role } from '../../src/domain/auth/viewer.js';
import { freePort } from './net.js';

/** The test client, scope and resource (the console's OIDC_CLIENT_ID, OIDC_SCOPES, JWT_AUDIENCE). */
export const TEST_OIDC = {
  clientId: 'rdp-console',
  /** The API's resource indicator: the audience of the JWT access tokens the provider issues. */
  resource: 'https://rdp-services.test/api',
  /** The scope that names the API; the console asks for it. */
  apiScope: 'rdp:api',
} as const;

/** A free loopback port and the issuer a provider started on it will have (http: loopback only). */
export async function reserveOidcIssuer(): Promise<{ port: number; issuer: string }> {
  const port = await freePort();
  return { port, issuer: `http://127.0.0.1:${port}` };
}

/**
 * panva's oidc-provider on a loopback port: one public client (PKCE, no secret) that may return
 * to `redirectUri`, and after an RP-initiated logout (its end_session_endpoint, with the
 * confirmation page the provider shows by default) to `postLogoutRedirectUri`; its development login page (any login name, any password; the login name is
 * the subject), consent, and RS256 JWT access tokens for TEST_OIDC.resource that carry the
 * `roles` claim the API reads. Roles come from `roles` by login name; any other name is a user.
 */
export async function startOidcProvider(options: {
  port: number;
  redirectUri: string;
  postLogoutRedirectUri: string;
  roles: Record<string, Role[]>;
}): Promise<{ issuer: string; stop(): Promise<void> }> {
  const issuer = `http://127.0.0.1:${options.port}`;
  const { clientId, resource, apiScope } = TEST_OIDC;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        token_endpoint_auth_method: 'none',
        application_type: 'web',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: [options.redirectUri],
        post_logout_redirect_uris: [options.postLogoutRedirectUri],
      },
    ],
    jwks: { keys: [jwk] },
    cookies: { keys: ['oidc-test-cookie-key-0123456789'] },
    scopes: ['openid', 'profile', apiScope],
    findAccount: (_ctx: unknown, id: string) => ({
      accountId: id,
      claims: () => ({ sub: id, preferred_username: id }),
    }),
    features: {
      devInteractions: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, indicator: string) => {
          if (indicator !== resource) throw new errors.InvalidTarget();
          return {
            scope: apiScope,
            audience: resource,
            accessTokenFormat: 'jwt',
            accessTokenTTL: 3600,
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    extraTokenClaims: (_ctx: unknown, token: { accountId?: string }) =>
      token.accountId ? { roles: options.roles[token.accountId] ?? ['user'], username: token.accountId } : undefined,
    pkce: { required: () => true },
    // The console's origin only (the default does the same, with a notice on every call).
    clientBasedCORS: (_ctx: unknown, origin: string) => origin === new URL(options.redirectUri).origin,
    ttl: { AccessToken: 3600, IdToken: 3600, Interaction: 600, Session: 3600, Grant: 3600 },
  });
  const server: Server = createServer(provider.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', resolve);
  });
  return {
    issuer,
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
