import { readFileSync } from 'node:fs';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { signToken } from '../../src/adapters/auth/token-signer.js';
import { type App, type BuildAppOptions, buildApp } from '../../src/app/build-app.js';
import { createLogger } from '../../src/app/logger.js';
import { loadConfig } from '../../src/config/config.js';
import type { Role } from '../../src/domain/auth/viewer.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Tests that are not about rate limits must not meet them. */
export const GENEROUS_RATE_LIMITS = {
  RATE_LIMIT_SERVERS_PER_MIN: '1000000',
  RATE_LIMIT_SESSIONS_PER_MIN: '1000000',
  RATE_LIMIT_XRDP_PER_MIN: '1000000',
  RATE_LIMIT_RESOURCES_PER_MIN: '1000000',
};

/** Nor, unless they are about it, the refusal of starts and sessions on a busy host (CI machines are). */
export const NO_HOST_LOAD_REFUSAL = { REFUSE_ON_HOST_OVERLOAD: 'false' };

export const TEST_SECRET = 'test-secret-that-is-at-least-32-bytes-long!!';

export interface GqlResponse<T = Record<string, unknown>> {
  status: number;
  body: { data?: T | null; errors?: { message: string; extensions?: Record<string, unknown>; path?: unknown[] }[] };
}

export interface TestApp {
  app: App;
  url: string;
  wsUrl: string;
  token(sub: string, roles?: Role[], expiresInSeconds?: number): Promise<string>;
  gql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GqlResponse<T>>;
  ws(token?: string): Client;
  stop(): Promise<void>;
}

/** Starts the whole service on a free loopback port with the given environment. */
export async function startTestApp(env: Record<string, string> = {}, options: BuildAppOptions = {}): Promise<TestApp> {
  const config = loadConfig(
    { NODE_ENV: 'test', JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'silent', ...GENEROUS_RATE_LIMITS, ...NO_HOST_LOAD_REFUSAL, ...env },
    { version: pkg.version },
  );
  const app = await buildApp(config, { logger: createLogger({ level: 'silent' }), ...options });
  const port = await app.start(0, '127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  const clients: Client[] = [];
  const secret = new TextEncoder().encode(TEST_SECRET);
  return {
    app,
    url,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
    token: (sub, roles = ['user'], expiresInSeconds = 600) => signToken(secret, { sub, roles }, { expiresInSeconds }),
    async gql(query, variables, token) {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, body: (await res.json()) as GqlResponse['body'] } as never;
    },
    ws(token) {
      const client = createClient({
        url: `ws://127.0.0.1:${port}/graphql`,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: true,
        connectionParams: token ? { authorization: `Bearer ${token}` } : {},
      });
      clients.push(client);
      return client;
    },
    async stop() {
      await Promise.all(clients.map((c) => c.dispose()));
      await app.stop();
    },
  };
}

/** Collects a subscription's messages; `next(n)` waits until n have arrived (bounded). */
export function collect<T>(client: Client, query: string, variables: Record<string, unknown> = {}) {
  const items: { data?: T | null; errors?: readonly { message: string; extensions?: Record<string, unknown> }[] }[] = [];
  let ended = false;
  let failure: unknown;
  const waiters: (() => void)[] = [];
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  const dispose = client.subscribe<T>(
    { query, variables },
    {
      next: (v) => {
        items.push(v as never);
        wake();
      },
      error: (e) => {
        failure = e;
        ended = true;
        wake();
      },
      complete: () => {
        ended = true;
        wake();
      },
    },
  );
  return {
    items,
    get ended() {
      return ended;
    },
    get failure() {
      return failure;
    },
    dispose,
    async until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        const left = deadline - Date.now();
        if (left <= 0)
          throw new Error(`timed out; got ${JSON.stringify(items)} ended=${ended} failure=${describeFailure(failure)}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    },
  };
}

/** A subscription's failure for a message: graphql-ws hands GraphQL errors (an array) or a CloseEvent. */
function describeFailure(failure: unknown): string {
  if (failure === undefined || failure instanceof Error) return String(failure);
  const close = failure as { code?: unknown; reason?: unknown };
  if (typeof close.code === 'number') return `close ${close.code} ${String(close.reason ?? '')}`;
  try {
    return JSON.stringify(failure);
  } catch {
    return String(failure);
  }
}
