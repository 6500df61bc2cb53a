import { describe, expect, it } from 'vitest';
import { createJwtTokenVerifier } from '../../src/adapters/auth/jwt-token-verifier.js';
import { signToken } from '../../src/adapters/auth/token-signer.js';
import { loadConfig } from '../../src/config/config.js';

const secret = new TextEncoder().encode('a-test-secret-that-is-at-least-32-bytes');

describe('groups from the token (GROUPS_CLAIM)', () => {
  it('reads the default claim `groups`: strings kept once each, anything else dropped, none when absent', async () => {
    const verifier = createJwtTokenVerifier({ secret });
    const token = await signToken(secret, { sub: 'bob', roles: ['user'], extra: { groups: ['devs', 'devs', 7, '', 'ops'] } });
    expect((await verifier.verify(token)).groups).toEqual(['devs', 'ops']);
    const none = await signToken(secret, { sub: 'bob', roles: ['user'] });
    expect((await verifier.verify(none)).groups).toEqual([]);
  });

  it('reads a namespaced claim named by the setting, also as a single string, and ignores `groups` then', async () => {
    const claim = 'https://example.test/groups';
    const verifier = createJwtTokenVerifier({ secret, groupsClaim: claim });
    const one = await signToken(secret, { sub: 'bob', roles: ['user'], extra: { [claim]: 'sales', groups: ['devs'] } });
    expect((await verifier.verify(one)).groups).toEqual(['sales']);
  });

  it('GROUPS_CLAIM defaults to groups; a value that is no claim name is refused at start', () => {
    expect(loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32) }).auth.groupsClaim).toBe('groups');
    expect(loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32), GROUPS_CLAIM: 'cognito:groups' }).auth.groupsClaim).toBe(
      'cognito:groups',
    );
    expect(() => loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32), GROUPS_CLAIM: 'has space' })).toThrow(/GROUPS_CLAIM/);
  });
});
