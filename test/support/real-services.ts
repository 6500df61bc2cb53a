import { connect } from 'node:net';

/**
 * Where the real MongoDB-wire database (FerretDB in CI) and Redis are. Taken from MONGODB_URI and
 * REDIS_URL, else the default loopback ports when something answers there. When one is missing the
 * suites that need it are skipped with the reason printed, unless REQUIRE_REAL_SERVICES=1 (set by
 * .ci/run), which turns the skip into a failure.
 */
export interface RealServices {
  mongoUri?: string;
  redisUrl?: string;
}

const required = process.env.REQUIRE_REAL_SERVICES === '1';

function reachable(host: string, port: number, timeoutMs = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function locate(envValue: string | undefined, fallback: string, port: number): Promise<string | undefined> {
  if (envValue) return envValue;
  return (await reachable('127.0.0.1', port)) ? fallback : undefined;
}

export const services: RealServices = {
  mongoUri: await locate(process.env.MONGODB_URI, 'mongodb://127.0.0.1:27017/lucid_rdp_test', 27017),
  redisUrl: await locate(process.env.REDIS_URL, 'redis://127.0.0.1:6379', 6379),
};

/** Returns whether the suite can run; prints why not, or throws when real services are required. */
export function need(suite: string, what: ('mongo' | 'redis')[]): boolean {
  const missing = what.filter((w) => (w === 'mongo' ? !services.mongoUri : !services.redisUrl));
  if (missing.length === 0) return true;
  const reason = `${suite}: skipped, no ${missing.join(' and ')} (set ${missing
    .map((m) => (m === 'mongo' ? 'MONGODB_URI' : 'REDIS_URL'))
    .join(' and ')} or run scripts/test-services.sh start)`;
  if (required) throw new Error(`REQUIRE_REAL_SERVICES=1 but ${reason}`);
  console.warn(`SKIPPED ${reason}`);
  return false;
}

/** A database name of its own for each test file, so files run in parallel without sharing data. */
export function uniqueMongoUri(base: string, tag: string): string {
  const url = new URL(base);
  url.pathname = `/t_${tag}_${process.pid}_${Date.now().toString(36)}`;
  return url.toString();
}

/** Drops a test file's own database (from uniqueMongoUri) when the file is done. */
export async function dropDatabase(uri: string): Promise<void> {
  const { MongoClient } = await import('mongodb');
  const client = new MongoClient(uri);
  try {
    await client.db().dropDatabase();
  } finally {
    await client.close();
  }
}
