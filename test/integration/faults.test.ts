import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { collect, type GqlResponse, startTestApp, type TestApp } from '../support/app-harness.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { FakeSessionAccounts } from '../support/fake-session-accounts.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';

const CREATE = `mutation($name: String!) { createServer(input: { name: $name }) {
  __typename ... on CreateServerSuccess { server { id name } } } }`;
const RENAME = `mutation($id: ID!, $name: String!) { updateServer(id: $id, input: { name: $name }) {
  __typename ... on UpdateServerSuccess { server { name } } } }`;
// The id goes in the document, not in variables: this is about faults, not argument passing.
const events = (id: string) => `subscription { serverEvents(serverId: "${id}") { kind server { name } } }`;

type ServerEvents = { serverEvents: { kind: string; server: { name: string } } };

const hostPort = (url: string) => {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
};

/** Runs `fn` and returns its result with how long it took. */
async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = Date.now();
  const value = await fn();
  return { value, ms: Date.now() - t0 };
}

/** Polls until `check` passes or `ms` elapse; returns the time it took (throws the last failure). */
async function within(ms: number, check: () => Promise<void>): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    try {
      await check();
      return Date.now() - t0;
    } catch (err) {
      if (Date.now() - t0 > ms) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

const readiness = async (t: TestApp) => {
  const res = await fetch(`${t.url}/health/ready`);
  return {
    status: res.status,
    body: (await res.json()) as { status: string; failing?: string[]; degraded?: string[]; checks: Record<string, string> },
  };
};

/** rdp_dependency_up from /metrics, by dependency. */
const dependencyUp = async (t: TestApp): Promise<Record<string, number>> => {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  return Object.fromEntries(
    [...text.matchAll(/^rdp_dependency_up\{dependency="(\w+)"\} (\d+)$/gm)].map((m) => [m[1], Number(m[2])]),
  );
};

/**
 * How soon live views are whole again after Redis returns: ioredis retries a lost connection at
 * most 2 s apart (docs/OPERATIONS.md: "within about 2 s"), then resubscribes and each view reads
 * its snapshot; 3 s more for those reads on a loaded CI machine. A view that never resyncs fails.
 */
const REDIS_RETURN_MS = 2000 + 3000;

/** Redis down only degrades a replica: it serves on, and a shared outage must not pull every replica. */
const DEGRADED = {
  status: 200,
  body: { status: 'degraded', ready: true, degraded: ['redis'], checks: { mongodb: 'ok', redis: 'unavailable' } },
};

describe.skipIf(!need('Redis fault tests', ['mongo', 'redis']))('Redis goes down and comes back', () => {
  let proxy: FaultProxy;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    proxy = await startFaultProxy(hostPort(services.redisUrl ?? ''));
    const env = { MONGODB_URI: uniqueMongoUri(services.mongoUri ?? '', 'redisfault'), REDIS_URL: `redis://${proxy.address}` };
    const runtime = new FakeServerRuntime();
    a = await startTestApp(env, { runtime, sessionAccounts: new FakeSessionAccounts() });
    b = await startTestApp(env, { runtime, sessionAccounts: new FakeSessionAccounts() });
  });
  afterAll(async () => {
    await proxy.resume().catch(() => undefined);
    await a.app.container.mongo?.db.dropDatabase();
    await a.stop();
    await b.stop();
    await proxy.close();
  });

  it("a server's session view that missed a termination shows it TERMINATED in the resync snapshot", async () => {
    const bob = await a.token('bob');
    const created = await a.gql<{ createServer: { server: { id: string } } }>(CREATE, { name: 'sessions' }, bob);
    const serverId = created.body.data?.createServer.server.id ?? '';
    await a.gql('mutation($id: ID!) { startServer(id: $id) { __typename } }', { id: serverId }, bob);
    const admitted = await a.gql<{ createSession: { session: { id: string } } }>(
      'mutation($id: ID!) { createSession(input: { serverId: $id, credentialMode: EPHEMERAL }) { ... on CreateSessionSuccess { session { id } } } }',
      { id: serverId },
      bob,
    );
    const sessionId = admitted.body.data?.createSession.session.id ?? '';
    const view = collect<{ sessionEvents: { kind: string; session: { id: string; status: string } } }>(
      b.ws(bob),
      `subscription { sessionEvents(serverId: "${serverId}") { kind session { id status } } }`,
    );
    await view.until(() => view.items.length >= 1);
    expect(view.items[0]?.data?.sessionEvents).toEqual({ kind: 'SNAPSHOT', session: { id: sessionId, status: 'ACTIVE' } });

    await proxy.pause('refuse');
    const ended = await a.gql<{ terminateSession: { __typename: string } }>(
      'mutation($id: ID!) { terminateSession(id: $id, force: true) { __typename } }',
      { id: sessionId },
      bob,
    );
    expect(ended.body.data?.terminateSession.__typename).toBe('TerminateSessionSuccess');
    await proxy.resume();
    await view.until(() => view.items.length >= 2, REDIS_RETURN_MS);
    expect(view.items[1]?.data?.sessionEvents).toEqual({ kind: 'SNAPSHOT', session: { id: sessionId, status: 'TERMINATED' } });
  }, 60_000);

  it('mutations keep working while Redis is down; live views are whole again (snapshot) within 2 s of its return', async () => {
    const alice = await a.token('alice');
    const created = await a.gql<{ createServer: { server: { id: string } } }>(CREATE, { name: 'before' }, alice);
    const id = created.body.data?.createServer.server.id ?? '';
    const sub = collect<ServerEvents>(b.ws(alice), events(id));
    await sub.until(() => sub.items.length >= 1);

    // The same write with Redis up, just before: what it costs on this machine right now.
    const baseline = await timed(() => a.gql(RENAME, { id, name: 'baseline' }, alice));
    await sub.until(() => sub.items.some((i) => i.data?.serverEvents.server.name === 'baseline'), 10_000);
    await proxy.pause('refuse');
    // Nothing waits for Redis: publishing drops the event, the rate limiter falls back. Waiting
    // for Redis would add at least the publisher's 1 s command timeout to what the write costs.
    const during = await timed(() =>
      a.gql<{ updateServer: { server: { name: string } } }>(RENAME, { id, name: 'during' }, alice),
    );
    expect(during.value.body.data?.updateServer.server.name).toBe('during');
    expect(during.ms, `baseline ${baseline.ms} ms`).toBeLessThan(baseline.ms + 1000);
    const another = await a.gql<{ createServer: { __typename: string } }>(CREATE, { name: 'made while down' }, alice);
    expect(another.body.data?.createServer.__typename).toBe('CreateServerSuccess');
    expect(await readiness(a)).toMatchObject(DEGRADED);
    expect(await dependencyUp(a)).toEqual({ mongodb: 1, redis: 0 });
    expect((await fetch(`${a.url}/health/live`)).status).toBe(200);
    // The subscriber missed the rename (pub/sub delivers at most once).
    expect(sub.items.map((i) => i.data?.serverEvents.server.name)).toEqual(['before', 'baseline']);

    await proxy.resume();
    const resynced = await within(REDIS_RETURN_MS, async () => {
      expect(sub.items.at(-1)?.data?.serverEvents).toEqual({ kind: 'SNAPSHOT', server: { name: 'during' } });
    });
    // A client that subscribes again gets the snapshot too.
    const again = collect<ServerEvents>(b.ws(alice), events(id));
    await again.until(() => again.items.length >= 1, 10_000);
    expect(again.items[0]?.data?.serverEvents).toEqual({ kind: 'SNAPSHOT', server: { name: 'during' } });

    // Events published after the recovery reach the subscriber on the other replica again.
    const after = await within(10_000, async () => {
      const r = await a.gql(RENAME, { id, name: `after-${Date.now()}` }, alice);
      expect(r.body.errors).toBeUndefined();
      const last = await new Promise<string | undefined>((resolve) =>
        setTimeout(() => resolve(sub.items.at(-1)?.data?.serverEvents.kind), 200),
      );
      expect(last).toBe('UPDATED');
    });
    await within(10_000, async () =>
      expect(await readiness(a)).toMatchObject({
        status: 200,
        body: { status: 'ready', ready: true, checks: { mongodb: 'ok', redis: 'ok' } },
      }),
    );
    expect(await dependencyUp(a)).toEqual({ mongodb: 1, redis: 1 });
    console.info(
      `redis fault: write during outage ${during.ms} ms, resync snapshot ${resynced} ms after return, live again after ${after} ms`,
    );
  }, 60_000);
});

describe.skipIf(!need('MongoDB fault tests', ['mongo']))('MongoDB goes down and comes back', () => {
  let proxy: FaultProxy;
  let t: TestApp;
  let alice: string;

  beforeAll(async () => {
    proxy = await startFaultProxy(hostPort(services.mongoUri ?? ''));
    const uri = new URL(uniqueMongoUri(services.mongoUri ?? '', 'mongofault'));
    uri.host = proxy.address;
    t = await startTestApp({ MONGODB_URI: uri.toString() });
    alice = await t.token('alice');
  });
  afterEach(async () => {
    await proxy.resume();
    await within(10_000, async () => expect((await readiness(t)).status).toBe(200));
  });
  afterAll(async () => {
    await t.app.container.mongo?.db.dropDatabase();
    await t.stop();
    await proxy.close();
  });

  const expectUnavailable = (r: GqlResponse) => {
    expect(r.body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
    const text = JSON.stringify(r.body);
    expect(text).not.toMatch(/127\.0\.0\.1|:\d{4,5}\b|Mongo|ECONNREFUSED|stack/);
  };

  for (const mode of ['refuse', 'blackhole'] as const) {
    it(`${mode}: requests get a masked SERVICE_UNAVAILABLE within 5 s, /health/ready 503, /health/live 200, then it recovers by itself`, async () => {
      const made = await t.gql<{ createServer: { server: { id: string } } }>(CREATE, { name: `up-${mode}` }, alice);
      const id = made.body.data?.createServer.server.id;
      expect(id).toBeDefined();

      // One request already on its way when the database goes.
      const inflight = timed(() => t.gql(`{ servers { totalCount } }`, {}, alice));
      await proxy.pause(mode);
      const [first, read, write] = await Promise.all([
        inflight,
        timed(() => t.gql('query($id: ID!) { server(id: $id) { name } }', { id }, alice)),
        timed(() => t.gql(CREATE, { name: 'while down' }, alice)),
      ]);
      // The in-flight read may have finished before the cut; if not, it fails like the others.
      if (first.value.body.errors) expectUnavailable(first.value);
      expectUnavailable(read.value);
      expectUnavailable(write.value);
      const latencies = { inflight: first.ms, read: read.ms, write: write.ms };
      for (const ms of Object.values(latencies)) expect(ms, JSON.stringify(latencies)).toBeLessThan(5000);

      await within(3000, async () => {
        const ready = await readiness(t);
        expect(ready.status).toBe(503);
        expect(ready.body.failing).toEqual(['mongodb']);
      });
      // /metrics keeps answering (without the store-backed gauges), so the gauge is seen.
      expect(await dependencyUp(t)).toEqual({ mongodb: 0 });
      expect((await fetch(`${t.url}/health/live`)).status).toBe(200);

      await proxy.resume();
      const recovered = await within(10_000, async () => {
        const r = await t.gql<{ server: { name: string } }>('query($id: ID!) { server(id: $id) { name } }', { id }, alice);
        expect(r.body.data?.server?.name).toBe(`up-${mode}`);
      });
      await within(5000, async () => expect((await readiness(t)).status).toBe(200));
      console.info(
        `mongo fault (${mode}): in-flight ${first.ms} ms, read ${read.ms} ms, write ${write.ms} ms; recovered ${recovered} ms after return`,
      );
    }, 40_000);
  }
});

describe.skipIf(!need('MongoDB start-up fault test', ['mongo']))('start-up without MongoDB', () => {
  let proxy: FaultProxy;
  let t: TestApp | undefined;

  beforeAll(async () => {
    proxy = await startFaultProxy(hostPort(services.mongoUri ?? ''));
  });
  afterAll(async () => {
    await t?.app.container.mongo?.db.dropDatabase();
    await t?.stop();
    await proxy.close();
  });

  it('serves with readiness false, answers SERVICE_UNAVAILABLE, and becomes ready when the database appears', async () => {
    await proxy.pause('refuse');
    const uri = new URL(uniqueMongoUri(services.mongoUri ?? '', 'mongostart'));
    uri.host = proxy.address;
    const started = await timed(() => startTestApp({ MONGODB_URI: uri.toString() }, { databaseWaitMs: 500 }));
    t = started.value;
    const app = t;
    expect(started.ms).toBeLessThan(5000);
    expect((await readiness(app)).status).toBe(503);
    expect((await fetch(`${app.url}/health/live`)).status).toBe(200);
    const alice = await app.token('alice');
    const r = await app.gql('{ servers { totalCount } }', {}, alice);
    expect(r.body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');

    await proxy.resume();
    const ready = await within(10_000, async () => expect((await readiness(app)).status).toBe(200));
    const made = await app.gql<{ createServer: { __typename: string } }>(CREATE, { name: 'late' }, alice);
    expect(made.body.data?.createServer.__typename).toBe('CreateServerSuccess');
    const indexes = (await app.app.container.mongo?.db.collection('servers').indexes())?.map((i) => i.name);
    expect(indexes).toContain('created_order');
    console.info(`mongo start-up: serving after ${started.ms} ms, ready ${ready} ms after the database appeared`);
  }, 30_000);
});

describe.skipIf(!need('Redis start-up fault test', ['mongo', 'redis']))('start-up without Redis', () => {
  let proxy: FaultProxy;
  let a: TestApp | undefined;
  let b: TestApp | undefined;
  let direct: Redis;

  beforeAll(async () => {
    proxy = await startFaultProxy(hostPort(services.redisUrl ?? ''));
    direct = new Redis(services.redisUrl ?? '', { lazyConnect: true });
  });
  afterAll(async () => {
    await proxy.resume().catch(() => undefined);
    await a?.app.container.mongo?.db.dropDatabase();
    await a?.stop();
    await b?.stop();
    await proxy.close();
    direct.disconnect();
  });

  it('starts at once, serves, and joins Redis when it appears: events flow, live views resync, rate limits shared', async () => {
    await proxy.pause('refuse');
    const env = { MONGODB_URI: uniqueMongoUri(services.mongoUri ?? '', 'redisstart'), REDIS_URL: `redis://${proxy.address}` };
    const runtime = new FakeServerRuntime();
    const started = await timed(() => startTestApp(env, { runtime, sessionAccounts: new FakeSessionAccounts() }));
    a = started.value;
    const first = a;
    // Refused, Redis is given up on at once: waiting for it would not end before the proxy
    // resumes (below). The bound leaves a loaded machine the rest of a start (FerretDB indexes).
    expect(started.ms).toBeLessThan(15_000);
    b = await startTestApp(env, { runtime, sessionAccounts: new FakeSessionAccounts() });
    const second = b;

    const alice = await first.token('alice');
    const created = await first.gql<{ createServer: { server: { id: string } } }>(CREATE, { name: 'before' }, alice);
    const id = created.body.data?.createServer.server.id ?? '';
    expect(id).not.toBe('');
    expect(await readiness(first)).toMatchObject(DEGRADED);
    expect((await fetch(`${first.url}/health/live`)).status).toBe(200);
    // The rate limiter answers from this replica's buckets meanwhile.
    const ruleKey = `redis-start-${process.pid}-${Date.now()}`;
    const rule = { ratePerMinute: 60, burst: 5 };
    expect((await first.app.container.rateLimiter.consume(ruleKey, 1, rule)).allowed).toBe(true);
    expect(await direct.exists(`rl:${ruleKey}`)).toBe(0);

    const sub = collect<ServerEvents>(first.ws(alice), events(id));
    await sub.until(() => sub.items.length >= 1);
    expect(sub.items[0]?.data?.serverEvents).toEqual({ kind: 'SNAPSHOT', server: { name: 'before' } });
    // Made on the other replica while neither has Redis: the event is lost, the snapshot will show it.
    const during = await second.gql<{ updateServer: { server: { name: string } } }>(RENAME, { id, name: 'during' }, alice);
    expect(during.body.data?.updateServer.server.name).toBe('during');

    await proxy.resume();
    const resumedAt = Date.now();
    const resynced = await within(5000, async () => {
      expect(sub.items.at(-1)?.data?.serverEvents).toEqual({ kind: 'SNAPSHOT', server: { name: 'during' } });
    });
    // An event published by the other replica reaches this replica's subscriber.
    await within(5000, async () => {
      const name = `after-${Date.now()}`;
      const r = await second.gql(RENAME, { id, name }, alice);
      expect(r.body.errors).toBeUndefined();
      await sub.until(() => sub.items.some((i) => i.data?.serverEvents.server.name === name), 300);
      expect(sub.items.at(-1)?.data?.serverEvents).toEqual({ kind: 'UPDATED', server: { name } });
    });
    const eventsAfter = Date.now() - resumedAt;
    expect(eventsAfter).toBeLessThan(5000);
    await within(5000, async () => expect((await readiness(first)).body.status).toBe('ready'));
    // Rate limits go through Redis again: the bucket is the shared one.
    const shared = `${ruleKey}-shared`;
    await first.app.container.rateLimiter.consume(shared, 1, rule);
    expect(await direct.exists(`rl:${shared}`)).toBe(1);
    await direct.del(`rl:${shared}`);
    console.info(
      `redis start-up: serving after ${started.ms} ms without Redis; after it appeared, resync snapshot in ${resynced} ms, ` +
        `events from the other replica in ${eventsAfter} ms`,
    );
  }, 40_000);
});
