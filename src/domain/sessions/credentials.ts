import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

/** A random password for an RDP login: 20 characters, no characters a keyboard layout mangles. */
export function newPassword(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  const bytes = randomBytes(20);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

/** A Linux account name for an EPHEMERAL session, e.g. `rdp-3f9a1c2b`. */
export function newAccountName(): string {
  return `rdp-${randomBytes(4).toString('hex')}`;
}

const sha256 = (salt: Buffer, password: string) => createHash('sha256').update(salt).update(password, 'utf8').digest();

/**
 * Salted SHA-256 of a password from newPassword. A slow hash (scrypt) protects passwords people
 * choose; these are 20 random characters from 57 (about 117 bits), out of reach of any guessing,
 * so a slow hash buys nothing and cost 42 ms of CPU per admission (bench P3). Hashes stored
 * before the switch (`scrypt$...`) still verify.
 */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  return `sha256$${salt.toString('base64')}$${sha256(salt, password).toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, salt, hash] = stored.split('$');
  if (!salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  let actual: Buffer;
  if (scheme === 'sha256') actual = sha256(Buffer.from(salt, 'base64'), password);
  else if (scheme === 'scrypt') actual = await scryptAsync(password, Buffer.from(salt, 'base64'), expected.length);
  else return false;
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export const LINUX_USERNAME = /^[a-z_][a-z0-9_-]{0,31}$/;
