import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJwtTokenVerifier } from '../../src/adapters/auth/jwt-token-verifier.js';
import { createOidcDiscovery } from '../../src/adapters/auth/oidc-discovery.js';

// A provider's two documents on loopback (discovery and keys), served by node:http; the tokens
// are signed with jose as a provider would.
describe('tokens of an OpenID provider, with the keys its discovery document names', () => {
  let server: Server;
  let issuer = '';
  let privateKey: CryptoKey;
  let discoveryIssuer = '';
  let failDiscovery = false;
  const hits: string[] = [];

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === '/realm/.well-known/openid-configuration' && !failDiscovery) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ issuer: discoveryIssuer, jwks_uri: `${issuer}/keys`, token_endpoint: `${issuer}/token` }));
      } else if (req.url === '/realm/keys') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ keys: [jwk] }));
      } else {
        res.writeHead(503);
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/realm`;
    discoveryIssuer = issuer;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  const token = (claims: Record<string, unknown>, iss = issuer, aud = 'https://rdp.test/api') =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'at+jwt' })
      .setIssuer(iss)
      .setAudience(aud)
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);

  it('takes an access token with the roles claim, after a failed discovery is tried again', async () => {
    const verifier = createJwtTokenVerifier({
      discovery: createOidcDiscovery(issuer),
      issuer,
      audience: 'https://rdp.test/api',
      cacheSize: 0,
    });
    failDiscovery = true;
    await expect(verifier.verify(await token({ roles: ['operator'] }))).rejects.toThrow(/identity provider/);
    failDiscovery = false;
    const viewer = await verifier.verify(await token({ roles: ['operator'] }));
    expect(viewer).toMatchObject({ userId: 'alice', roles: ['operator'] });
    hits.length = 0;
    await verifier.verify(await token({ roles: ['user'], jti: 'another' }));
    // Discovery is read once; the key set is jose's (cached).
    expect(hits.filter((h) => h.includes('openid-configuration'))).toEqual([]);
  });

  it('refuses another issuer, another audience, and a discovery document that speaks for someone else', async () => {
    const verifier = createJwtTokenVerifier({
      discovery: createOidcDiscovery(issuer),
      issuer,
      audience: 'https://rdp.test/api',
      cacheSize: 0,
    });
    await expect(verifier.verify(await token({}, 'https://evil.test'))).rejects.toThrow('invalid token');
    await expect(verifier.verify(await token({}, issuer, 'https://other.test'))).rejects.toThrow('invalid token');

    discoveryIssuer = 'https://evil.test';
    try {
      const fooled = createJwtTokenVerifier({ discovery: createOidcDiscovery(issuer), issuer, cacheSize: 0 });
      await expect(fooled.verify(await token({}))).rejects.toThrow(/names issuer https:\/\/evil\.test/);
    } finally {
      discoveryIssuer = issuer;
    }
  });
});
