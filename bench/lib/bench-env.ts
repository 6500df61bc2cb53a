import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signToken } from '../../src/adapters/auth/token-signer.js';
import type { Role } from '../../src/domain/auth/viewer.js';

/** The HS256 secret every bench process shares (32+ bytes, as production requires). */
export const BENCH_SECRET = 'bench-secret-that-is-at-least-32-bytes-long!';

export const PACKAGE_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** A database of its own per run (dropped at the end) on the bench's database server. */
export function benchMongoUri(base: string, tag: string): string {
  const url = new URL(base);
  url.pathname = `/bench_${tag}_${process.pid}_${Date.now().toString(36)}`;
  return url.toString();
}

/**
 * The environment of the service under test: production mode (introspection off, field
 * suggestions blocked), rate limits on but out of reach of one load generator, no xrdp on this
 * host (the runtime is a fake), and a scratch data directory.
 */
export function serviceEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    JWT_SECRET: BENCH_SECRET,
    LOG_LEVEL: 'error',
    SERVICE_HOST: '127.0.0.1',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'rdp-bench-')),
    XRDP_BINARY: '/nonexistent/xrdp',
    XRDP_CONFIG_PATH: join(tmpdir(), 'rdp-bench-xrdp'),
    XRDP_LOG_PATH: join(tmpdir(), 'rdp-bench-xrdp-log'),
    RDP_PORT_RANGE: '40000-40999',
    MAX_CONCURRENT_SERVERS: '1000',
    MAX_CONCURRENT_SESSIONS: '1000',
    // The bench loads the host on purpose: host admission must not refuse sessions for it, and
    // no resource sampling runs beside the measured work (nor counts in P4's round trips).
    REFUSE_ON_HOST_OVERLOAD: 'false',
    METRICS_INTERVAL: '86400',
    RATE_LIMIT_SERVERS_PER_MIN: '1000000',
    RATE_LIMIT_SESSIONS_PER_MIN: '1000000',
    RATE_LIMIT_XRDP_PER_MIN: '1000000',
    RATE_LIMIT_RESOURCES_PER_MIN: '1000000',
    ...extra,
  };
}

export function benchToken(sub: string, roles: Role[] = ['operator'], expiresInSeconds = 3600): Promise<string> {
  return signToken(new TextEncoder().encode(BENCH_SECRET), { sub, roles }, { expiresInSeconds });
}
