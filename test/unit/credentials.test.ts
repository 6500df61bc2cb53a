import { randomBytes, scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashPassword, newPassword, verifyPassword } from '../../src/domain/sessions/credentials.js';

describe('one-time credential hashes', () => {
  it('salts each hash, verifies the password and nothing else', async () => {
    const password = newPassword();
    const [a, b] = [await hashPassword(password), await hashPassword(password)];
    expect(a).not.toBe(b);
    expect(a).not.toContain(password);
    expect(await verifyPassword(password, a)).toBe(true);
    expect(await verifyPassword(password, b)).toBe(true);
    expect(await verifyPassword(`${password}x`, a)).toBe(false);
    expect(await verifyPassword(password.slice(1), a)).toBe(false);
  });

  it('still verifies hashes stored as scrypt before the switch, and refuses unknown or broken ones', async () => {
    const password = newPassword();
    const salt = randomBytes(16);
    const legacy = `scrypt$${salt.toString('base64')}$${scryptSync(password, salt, 32).toString('base64')}`;
    expect(await verifyPassword(password, legacy)).toBe(true);
    expect(await verifyPassword('wrong', legacy)).toBe(false);
    const [, s, h] = (await hashPassword(password)).split('$');
    expect(await verifyPassword(password, `md5$${s}$${h}`)).toBe(false);
    expect(await verifyPassword(password, `sha256$${s}$${h?.slice(0, 8)}`)).toBe(false);
    expect(await verifyPassword(password, 'sha256$')).toBe(false);
  });
});
