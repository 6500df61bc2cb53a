import { existsSync, readdirSync, readFileSync } from 'node:fs';

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

/** The live xrdp listeners whose command line names `dir` (the host's sesman left out). */
export function xrdpListenersUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const state = readFileSync(`/proc/${entry}/status`, 'utf8');
      if (cmd.includes(dir) && cmd.includes('xrdp') && !cmd.includes('xrdp-sesman') && !/State:\s+Z/.test(state)) {
        pids.push(Number(entry));
      }
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** A line as xrdp writes it to its log (`[YYYYMMDD-HH:MM:SS] [LEVEL] message`, local time). */
export function xrdpLogLine(
  level: 'CORE' | 'ERROR' | 'WARN' | 'INFO' | 'DEBUG' | 'TRACE',
  message: string,
  at = new Date(),
): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${at.getFullYear()}${p(at.getMonth() + 1)}${p(at.getDate())}-${p(at.getHours())}:${p(at.getMinutes())}:${p(at.getSeconds())}`;
  return `[${stamp}] [${level.padEnd(5)}] ${message}`;
}
