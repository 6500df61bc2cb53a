import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Client, createClient } from 'graphql-ws';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { signToken } from '../../src/adapters/auth/token-signer.js';
import { TEST_SECRET } from '../support/app-harness.js';
import { freePort, waitFor } from '../support/net.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';

const USERS = 20;
const SUBSCRIPTIONS_PER_USER = 10;
const MUTATIONS = 50;

describe.skipIf(!need('graceful shutdown of the real process', ['mongo', 'redis']))('SIGTERM on the real process', () => {
  let child: ChildProcess;
  let url: string;
  let mongoUri: string;
  let dataDir: string;
  const output: string[] = [];
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    mongoUri = uniqueMongoUri(services.mongoUri ?? '', 'shutdown');
    dataDir = mkdtempSync(join(tmpdir(), 'rdp-shutdown-'));
    child = spawn(process.execPath, ['--import', 'tsx', 'src/app/main.ts'], {
      cwd: new URL('../..', import.meta.url).pathname,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        SERVICE_HOST: '127.0.0.1',
        SERVICE_PORT: String(port),
        MONGODB_URI: mongoUri,
        REDIS_URL: services.redisUrl ?? '',
        JWT_SECRET: TEST_SECRET,
        DATA_DIR: dataDir,
        XRDP_BINARY: '/nonexistent/xrdp',
        LOG_LEVEL: 'info',
        SHUTDOWN_DRAIN_SECONDS: '1',
        MAX_CONCURRENT_SERVERS: '500',
        RATE_LIMIT_SERVERS_PER_MIN: '1000000',
        RATE_LIMIT_SESSIONS_PER_MIN: '1000000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Whole lines only: a chunk can end in the middle of one.
    const lines = (prefix: string) => {
      let rest = '';
      return (d: Buffer) => {
        const parts = (rest + d.toString()).split('\n');
        rest = parts.pop() ?? '';
        output.push(...parts.filter(Boolean).map((l) => `${prefix}${l}`));
      };
    };
    child.stdout?.on('data', lines(''));
    child.stderr?.on('data', lines('stderr: '));
    exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })));
    await waitFor(async () => (await fetch(`${url}/health/ready`)).status === 200, 60_000, 'the process to become ready');
  }, 90_000);

  afterAll(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    const mongo = await MongoClient.connect(mongoUri);
    await mongo.db().dropDatabase();
    await mongo.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(`${MUTATIONS} in-flight createServer and ${USERS * SUBSCRIPTIONS_PER_USER} subscriptions: exit 0 within 25 s, no acknowledged write lost`, async () => {
    const secret = new TextEncoder().encode(TEST_SECRET);
    const tokens = await Promise.all(
      Array.from({ length: USERS }, (_, i) =>
        signToken(secret, { sub: `user-${i}`, roles: ['user'] }, { expiresInSeconds: 600 }),
      ),
    );
    const gql = async (token: string, query: string) => {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query }),
      });
      return (await res.json()) as { data?: { createServer?: { server?: { id: string } } } };
    };
    const create = (token: string, name: string) =>
      gql(token, `mutation { createServer(input: { name: "${name}" }) { ... on CreateServerSuccess { server { id } } } }`);

    // Subscriptions: each user follows their own server ten times over one connection.
    const closes: { code: number; reason: string }[] = [];
    const clients: Client[] = [];
    let snapshots = 0;
    const subscriptionErrors: unknown[] = [];
    for (let u = 0; u < USERS; u++) {
      const token = tokens[u] ?? '';
      const id = (await create(token, `watched-${u}`)).data?.createServer?.server?.id;
      expect(id).toBeDefined();
      const client = createClient({
        url: `${url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        connectionParams: { authorization: `Bearer ${token}` },
        on: { closed: (e) => closes.push({ code: (e as CloseEvent).code, reason: (e as CloseEvent).reason }) },
      });
      clients.push(client);
      for (let s = 0; s < SUBSCRIPTIONS_PER_USER; s++) {
        client.subscribe(
          { query: `subscription { serverEvents(serverId: "${id}") { kind } }` },
          {
            next: () => {
              snapshots++;
            },
            error: (e) => subscriptionErrors.push(e),
            complete: () => undefined,
          },
        );
      }
    }
    await waitFor(async () => snapshots >= USERS * SUBSCRIPTIONS_PER_USER, 30_000, 'every subscription to get its snapshot');

    // Readiness, polled until the port closes.
    const readiness: { at: number; status: number | 'refused' }[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const status = await fetch(`${url}/health/ready`)
          .then((r) => r.status)
          .catch(() => 'refused' as const);
        readiness.push({ at: Date.now(), status });
        if (status === 'refused') return;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();

    // The writes, then SIGTERM while they are in flight.
    let answeredBeforeSignal = 0;
    let signalled = false;
    const writes = Array.from({ length: MUTATIONS }, (_, i) =>
      create(tokens[i % USERS] ?? '', `inflight-${i}`).then(
        (r) => {
          if (!signalled) answeredBeforeSignal++;
          const id = r.data?.createServer?.server?.id ?? null;
          return { id, at: Date.now(), failure: id ? null : JSON.stringify(r).slice(0, 200) };
        },
        (err: unknown) => ({ id: null, at: Date.now(), failure: String((err as Error).cause ?? err) }),
      ),
    );
    await new Promise((r) => setTimeout(r, 5));
    const signalAt = Date.now();
    signalled = true;
    child.kill('SIGTERM');

    const exit = await Promise.race([
      exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no exit within 30 s')), 30_000)),
    ]);
    polling = false;
    await poller;
    const results = await Promise.all(writes);
    const acknowledged = results.filter((r): r is { id: string; at: number; failure: null } => r.id !== null);
    const failures = [...new Set(results.flatMap((r) => (r.failure ? [r.failure] : [])))];

    expect(exit.code).toBe(0);
    expect(exit.at - signalAt).toBeLessThan(25_000);

    // No acknowledged write lost.
    const mongo = await MongoClient.connect(mongoUri);
    try {
      const stored = await mongo
        .db()
        .collection('servers')
        .find({ _id: { $in: acknowledged.map((r) => r.id) } } as never)
        .project({ _id: 1 })
        .toArray();
      expect(stored.length).toBe(acknowledged.length);
    } finally {
      await mongo.close();
    }
    expect(acknowledged.length).toBeGreaterThan(0);

    // Every connection was closed with 1001 and the shutdown reason; no subscription got another error.
    expect(closes).toHaveLength(USERS);
    for (const c of closes) expect(c).toEqual({ code: 1001, reason: 'server shutting down' });
    expect(subscriptionErrors.every((e) => (e as CloseEvent).code === 1001)).toBe(true);
    await Promise.all(clients.map((c) => c.dispose()));

    // Readiness went 503 after the signal and before the port closed, and never came back.
    const after = readiness.filter((r) => r.at >= signalAt);
    const firstDown = after.findIndex((r) => r.status === 503);
    const refused = after.findIndex((r) => r.status === 'refused');
    expect(firstDown).toBeGreaterThanOrEqual(0);
    expect(refused).toBeGreaterThan(firstDown);
    expect(after.slice(firstDown, refused).every((r) => r.status === 503)).toBe(true);

    const logs = output.flatMap((l) => {
      try {
        return [JSON.parse(l) as { msg?: string; step?: string; ms?: number; timedOut?: unknown }];
      } catch {
        return [];
      }
    });
    // Pino writes asynchronously and the pipe may deliver the last lines out of order: compare sets.
    const steps = logs.filter((l) => l.msg === 'shutdown step');
    expect(steps.map((s) => s.step).sort()).toEqual(
      [
        'drain',
        'complete subscriptions',
        'finish in-flight requests',
        'dispose yoga',
        'finish background jobs',
        'stop xrdp and session accounts',
        'close xrdp watcher, Redis and MongoDB',
      ].sort(),
    );
    expect(steps.every((s) => s.timedOut === undefined)).toBe(true);
    expect(logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutdown finished', 'stopped']));
    const lastAck = Math.max(...acknowledged.map((r) => r.at));
    console.info(
      `shutdown: exit ${exit.code} after ${exit.at - signalAt} ms; ${acknowledged.length}/${MUTATIONS} writes acknowledged ` +
        `(${answeredBeforeSignal} before the signal, last ${lastAck - signalAt} ms after it); ` +
        `503 for ${(after[refused]?.at ?? 0) - (after[firstDown]?.at ?? 0)} ms before the port closed; ` +
        `steps ${steps.map((s) => `${s.step} ${s.ms} ms`).join(', ')}; unacknowledged: ${failures.join(' | ') || 'none'}`,
    );
  }, 120_000);
});
