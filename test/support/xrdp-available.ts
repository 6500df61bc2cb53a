import { existsSync } from 'node:fs';

/**
 * Whether real xrdp can run here. Missing xrdp skips the suite with the reason printed, unless
 * REQUIRE_REAL_SERVICES=1 (CI), where it is a failure.
 */
export function needXrdp(suite: string): boolean {
  const missing = ['/usr/sbin/xrdp', '/usr/bin/openssl'].filter((f) => !existsSync(f));
  if (missing.length === 0 && process.getuid?.() === 0) return true;
  const reason = `${suite}: skipped, ${missing.length ? `missing ${missing.join(', ')}` : 'needs root'} (run scripts/test-services.sh start as root)`;
  if (process.env.REQUIRE_REAL_SERVICES === '1') throw new Error(`REQUIRE_REAL_SERVICES=1 but ${reason}`);
  console.warn(`SKIPPED ${reason}`);
  return false;
}
