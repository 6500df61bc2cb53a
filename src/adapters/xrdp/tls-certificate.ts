import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { CertificatePairChecker, CertificatePairProblem } from '../../domain/xrdp/xrdp-config-service.js';

export type CertificatePairResult =
  | { ok: true; fingerprint256: string }
  | { ok: false; file: 'certificate' | 'key'; message: string };

async function readText(path: string): Promise<{ text: string } | { error: string }> {
  try {
    return { text: await readFile(path, 'utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { error: `cannot be read (${code ?? (err instanceof Error ? err.message : String(err))})` };
  }
}

/**
 * Reads a certificate and its private key as xrdp will (this process spawns xrdp, so it reads
 * with the same rights): both readable, PEM, the key unencrypted (xrdp has no passphrase) and
 * the one of the certificate. xrdp itself starts with any of these wrong and silently falls back
 * to classic RDP security, so this is the only place a mistake is caught early.
 */
export async function checkCertificatePair(certificatePath: string, keyPath: string): Promise<CertificatePairResult> {
  const certFile = await readText(certificatePath);
  if ('error' in certFile) return { ok: false, file: 'certificate', message: `${certificatePath} ${certFile.error}` };
  if (!certFile.text.includes('-----BEGIN CERTIFICATE-----')) {
    return { ok: false, file: 'certificate', message: `${certificatePath} is not a PEM certificate` };
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certFile.text);
  } catch {
    return { ok: false, file: 'certificate', message: `${certificatePath} is not a valid PEM certificate` };
  }
  const keyFile = await readText(keyPath);
  if ('error' in keyFile) return { ok: false, file: 'key', message: `${keyPath} ${keyFile.error}` };
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(keyFile.text)) {
    return { ok: false, file: 'key', message: `${keyPath} is not a PEM private key` };
  }
  if (keyFile.text.includes('ENCRYPTED')) {
    return { ok: false, file: 'key', message: `${keyPath} is encrypted; xrdp needs an unencrypted key` };
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyFile.text);
  } catch {
    return { ok: false, file: 'key', message: `${keyPath} is not a valid PEM private key` };
  }
  if (!cert.checkPrivateKey(key)) {
    return { ok: false, file: 'key', message: `${keyPath} is not the private key of the certificate ${certificatePath}` };
  }
  return { ok: true, fingerprint256: cert.fingerprint256 };
}

export const fileCertificatePairChecker: CertificatePairChecker = {
  async check(certificatePath, keyPath): Promise<CertificatePairProblem> {
    const r = await checkCertificatePair(certificatePath, keyPath);
    return r.ok ? null : { file: r.file, message: r.message };
  },
};
