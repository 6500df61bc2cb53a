import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo } from '../../src/adapters/mongo/mongo-database.js';
import type { Viewer } from '../../src/domain/auth/viewer.js';
import type { SessionEvent } from '../../src/domain/sessions/session-events.js';
import type { Clock } from '../../src/domain/shared/clock.js';
import { collect, startTestApp, type TestApp } from '../support/app-harness.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { FakeSessionAccounts } from '../support/fake-session-accounts.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';

const CREATE_SESSION = `mutation($id: ID!) { createSession(input: { serverId: $id }) {
  __typename
  ... on CreateSessionSuccess { session { id } }
  ... on LimitExceededError { limit max }
  ... on Error { code message }
} }`;
const TERMINATE = `mutation($id: ID!) { terminateSession(id: $id, force: true) {
  __typename ... on TerminateSessionSuccess { session { status terminationReason } } ... on Error { code message } } }`;
const CLAIMS = 'claims';

interface Outcome {
  __typename: string;
  session?: { id: string };
  limit?: string;
  max?: number;
  code?: string;
  message?: string;
}

/** Real time plus an offset the test moves forward; shared by both instances, as NTP-synced hosts share time. */
class ShiftedClock implements Clock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

async function metricValue(t: TestApp, line: string): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  const row = text.split('\n').find((l) => l.startsWith(`${line} `));
  return row ? Number(row.split(' ')[1]) : 0;
}

/** Counts what an instance publishes on `session:changed` under each session's own id. */
function recordSessionEvents(t: TestApp): SessionEvent[] {
  const seen: SessionEvent[] = [];
  const events = t.app.container.events;
  const original = events.publish.bind(events);
  events.publish = (topic, id, payload) => {
    if (topic === 'session:changed' && !/^(server|owner):/.test(id)) seen.push(payload as SessionEvent);
    original(topic, id, payload);
  };
  return seen;
}

async function runningServer(t: TestApp, token: string, maxSessions: number): Promise<string> {
  const r = await t.gql<{ createServer: { server?: { id: string } } }>(
    'mutation($m: Int!) { createServer(input: { name: "race", configuration: { maxSessions: $m } }) { ... on CreateServerSuccess { server { id } } } }',
    { m: maxSessions },
    token,
  );
  const id = r.body.data?.createServer.server?.id;
  if (!id) throw new Error(`createServer failed: ${JSON.stringify(r.body)}`);
  const s = await t.gql<{ startServer: { __typename: string } }>(
    'mutation($id: ID!) { startServer(id: $id) { __typename } }',
    { id },
    token,
  );
  expect(s.body.data?.startServer.__typename).toBe('StartServerSuccess');
  return id;
}

const ready = need('session races on FerretDB and Redis', ['mongo', 'redis']);

/**
 * The admission race at the full size: 1,000 calls against a cap of 100, 5 rounds (about
 * 10 s a round on FerretDB here). scripts/nightly-races.sh runs 20 rounds; SESSION_RACE_CALLS,
 * SESSION_RACE_CAP and SESSION_RACE_ROUNDS change the size.
 */
const RACE = {
  calls: Number(process.env.SESSION_RACE_CALLS ?? 1000),
  cap: Number(process.env.SESSION_RACE_CAP ?? 100),
  rounds: Number(process.env.SESSION_RACE_ROUNDS ?? 5),
};
const root: Viewer = { userId: 'root', username: 'root', roles: ['admin'], permissions: [] };

describe.skipIf(!ready)(
  'session admission and termination across two replicas on one FerretDB and Redis',
  { timeout: 90_000 },
  () => {
    let a: TestApp;
    let b: TestApp;
    let admin: string;
    let serverId: string;
    const accounts = new FakeSessionAccounts();
    const runtime = new FakeServerRuntime();
    let publishedA: SessionEvent[];
    let publishedB: SessionEvent[];

    beforeAll(async () => {
      const env = {
        MONGODB_URI: uniqueMongoUri(services.mongoUri ?? '', 'sessraces'),
        REDIS_URL: services.redisUrl ?? '',
        MAX_CONCURRENT_SESSIONS: String(RACE.cap),
        XRDP_BINARY: '/nonexistent/xrdp',
        // With 50 connections per replica FerretDB's SQLite backend starts answering SQLITE_BUSY
        // (InternalError) to writes under this load; 8 is faster and never did.
        MONGODB_MAX_POOL_SIZE: '8',
        MONGODB_MIN_POOL_SIZE: '0',
      };
      // One host: both replicas share the accounts and the runtime. Background jobs off; tests run them.
      const options = { sessionAccounts: accounts, runtime, sweepIntervalMs: 3_600_000, reconcileIntervalMs: 3_600_000 };
      a = await startTestApp(env, options);
      b = await startTestApp(env, options);
      publishedA = recordSessionEvents(a);
      publishedB = recordSessionEvents(b);
      admin = await a.token('root', ['admin']);
      serverId = await runningServer(a, admin, 1000);
    });
    afterAll(async () => {
      // Stop first: a stopped app has finished its requests, and FerretDB must not drop a database
      // that requests still use (its SQLite backend has crashed with SIGBUS on that).
      const uri = a.app.container.config.mongo?.uri ?? '';
      await a.stop();
      await b.stop();
      const mongo = await connectMongo({ uri, maxPoolSize: 1, minPoolSize: 0 });
      await mongo.db.dropDatabase();
      await mongo.close();
    });

    const sessionClaims = async () =>
      (await a.app.container.mongo?.db.collection(CLAIMS).countDocuments({ _id: { $regex: '^slot:sessions:' } } as never)) ?? -1;

    it(
      `${RACE.calls} concurrent createSession over both replicas against a global cap of ${RACE.cap}: exactly ${RACE.cap} admitted (${RACE.rounds} rounds)`,
      async () => {
        // Operators, so every caller may use the one server; one user per call, so only the global cap binds.
        const tokens = await Promise.all(Array.from({ length: RACE.calls }, (_, i) => a.token(`racer-${i}`, ['operator'])));
        const timings: number[] = [];
        for (let round = 0; round < RACE.rounds; round++) {
          const started = performance.now();
          const results = await Promise.all(
            tokens.map((token, i) => (i % 2 ? a : b).gql<{ createSession: Outcome }>(CREATE_SESSION, { id: serverId }, token)),
          );
          timings.push(Math.round(performance.now() - started));
          const transportErrors = results.filter((r) => r.status !== 200 || r.body.errors);
          expect(transportErrors.map((r) => r.body.errors)).toEqual([]);
          const outcomes = results.map((r) => r.body.data?.createSession);
          const admitted = outcomes.filter((o) => o?.__typename === 'CreateSessionSuccess');
          const refused = outcomes.filter((o) => o?.__typename === 'LimitExceededError');
          expect({ admitted: admitted.length, refused: refused.length }).toEqual({
            admitted: RACE.cap,
            refused: RACE.calls - RACE.cap,
          });
          for (const r of refused) expect(r).toMatchObject({ limit: 'maxSessions', max: RACE.cap, code: 'LIMIT_EXCEEDED' });
          const ids = admitted.map((o) => o?.session?.id ?? '');
          expect(new Set(ids).size).toBe(RACE.cap);
          expect(await a.app.container.sessions.countLive(serverId)).toBe(RACE.cap);
          expect(await sessionClaims()).toBe(3 * RACE.cap);

          const ended = await Promise.all(
            ids.map((id, i) => (i % 2 ? b : a).gql<{ terminateSession: { __typename: string } }>(TERMINATE, { id }, admin)),
          );
          expect(ended.filter((r) => r.body.data?.terminateSession.__typename === 'TerminateSessionSuccess')).toHaveLength(
            RACE.cap,
          );
          expect(await a.app.container.sessions.countLive(serverId)).toBe(0);
          expect(await sessionClaims()).toBe(0);
        }
        console.info(
          `${RACE.calls} createSession calls against a cap of ${RACE.cap}, wall time per round (ms): ${timings.join(', ')}`,
        );
      },
      60_000 + RACE.rounds * Math.max(60_000, RACE.calls * 60),
    );

    it('50 concurrent terminateSession(force) of one session over both replicas: one transition, one event, one count', async () => {
      const owner = await a.token('terminator-owner', ['operator']);
      const created = await a.gql<{ createSession: Outcome }>(CREATE_SESSION, { id: serverId }, owner);
      const id = created.body.data?.createSession.session?.id ?? '';
      expect(id).not.toBe('');
      const sub = collect<{ sessionEvents: { kind: string; session: { id: string } } }>(
        b.ws(admin),
        'subscription($id: ID!) { sessionEvents(serverId: $id) { kind session { id } } }',
        { id: serverId },
      );
      await sub.until(() => sub.items.some((i) => i.data?.sessionEvents.session.id === id));
      const metric = 'rdp_sessions_terminated_total{reason="USER"}';
      const before = (await metricValue(a, metric)) + (await metricValue(b, metric));
      const eventsBefore = publishedA.length + publishedB.length;

      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          (i % 2 ? a : b).gql<{ terminateSession: { __typename: string; session?: unknown; code?: string } }>(
            TERMINATE,
            { id },
            owner,
          ),
        ),
      );
      const outcomes = results.map((r) => r.body.data?.terminateSession);
      expect(outcomes.filter((o) => o?.__typename === 'TerminateSessionSuccess')).toEqual([
        { __typename: 'TerminateSessionSuccess', session: { status: 'TERMINATED', terminationReason: 'USER' } },
      ]);
      expect(outcomes.filter((o) => o?.__typename === 'ConflictError')).toHaveLength(49);

      expect((await metricValue(a, metric)) + (await metricValue(b, metric))).toBe(before + 1);
      const terminated = [...publishedA, ...publishedB].filter((e) => e.session.id === id && e.kind === 'TERMINATED');
      expect(terminated).toHaveLength(1);
      expect(publishedA.length + publishedB.length).toBe(eventsBefore + 1);

      // A marker from each replica: once both arrive, everything either published earlier has arrived too.
      const markers = [
        await a.gql<{ createSession: Outcome }>(CREATE_SESSION, { id: serverId }, owner),
        await b.gql<{ createSession: Outcome }>(CREATE_SESSION, { id: serverId }, owner),
      ].map((r) => r.body.data?.createSession.session?.id ?? '');
      await sub.until(() => markers.every((m) => sub.items.some((i) => i.data?.sessionEvents.session.id === m)), 10_000);
      const seen = sub.items.filter((i) => i.data?.sessionEvents.session.id === id).map((i) => i.data?.sessionEvents.kind);
      expect(seen.filter((k) => k === 'TERMINATED')).toHaveLength(1);
      sub.dispose();
      for (const m of markers) await a.gql(TERMINATE, { id: m }, owner);
      expect(await sessionClaims()).toBe(0);
    });

    it('a forced terminate whose write landed but was reported lost (pool cleared under it) still frees the slots', async () => {
      expect(await sessionClaims()).toBe(0);
      const owner = await a.token('lost-ack', ['operator']);
      const created = await a.gql<{ createSession: Outcome }>(CREATE_SESSION, { id: serverId }, owner);
      const id = created.body.data?.createSession.session?.id ?? '';
      expect(id).not.toBe('');
      expect(await sessionClaims()).toBe(3);
      // The store of replica A: its next terminating write lands, and the caller is told it did not.
      const store = a.app.container.sessionStore;
      const compareAndSet = store.compareAndSet.bind(store);
      let lost = 0;
      store.compareAndSet = async (next, expected) => {
        const ok = await compareAndSet(next, expected);
        if (ok && next.status === 'TERMINATED' && lost === 0) {
          lost++;
          return false;
        }
        return ok;
      };
      try {
        const ended = await a.gql<{ terminateSession: { __typename: string } }>(TERMINATE, { id }, owner);
        expect(lost).toBe(1);
        // It cannot tell its own write from another's: a CONFLICT (already terminated), but nothing held.
        expect(ended.body.data?.terminateSession.__typename).toBe('ConflictError');
      } finally {
        store.compareAndSet = compareAndSet;
      }
      expect(await a.app.container.sessions.get(root, id)).toMatchObject({ status: 'TERMINATED' });
      expect(await sessionClaims()).toBe(0);
    });

    it('a forced terminate that failed after its write landed leaves slots that a repeated terminate frees', async () => {
      expect(await sessionClaims()).toBe(0);
      const owner = await a.token('lost-write', ['operator']);
      const created = await a.gql<{ createSession: Outcome }>(CREATE_SESSION, { id: serverId }, owner);
      const id = created.body.data?.createSession.session?.id ?? '';
      expect(id).not.toBe('');
      const store = a.app.container.sessionStore;
      const compareAndSet = store.compareAndSet.bind(store);
      store.compareAndSet = async (next, expected) => {
        const ok = await compareAndSet(next, expected);
        if (ok && next.status === 'TERMINATED') throw new Error('connection closed after the write was sent');
        return ok;
      };
      try {
        const failed = await a.gql<{ terminateSession: { __typename: string } }>(TERMINATE, { id }, owner);
        expect(failed.body.data?.terminateSession?.__typename).not.toBe('TerminateSessionSuccess');
      } finally {
        store.compareAndSet = compareAndSet;
      }
      expect(await sessionClaims()).toBe(3);
      // The caller (the console, the bench's clean-up) terminates again: a CONFLICT, and nothing held.
      const again = await b.gql<{ terminateSession: { __typename: string } }>(TERMINATE, { id }, owner);
      expect(again.body.data?.terminateSession.__typename).toBe('ConflictError');
      expect(await sessionClaims()).toBe(0);
    });

    it('a replica that died between slot claim and session write: the slot counts against the cap until reconciled', async () => {
      expect(await sessionClaims()).toBe(0);
      const limitsA = a.app.container.limits;
      const limitsB = b.app.container.limits;
      const original = await limitsA.get();
      const capped = { ...original, global: { ...original.global, maxSessions: 3 } };
      limitsA.set(capped);
      limitsB.set(capped);
      const user = await a.token('orphan-test', ['operator']);
      const claims = a.app.container.mongo?.db.collection<{ _id: string; scope: string; owner: string; claimedAt: Date }>(CLAIMS);
      if (!claims) throw new Error('no mongo');
      try {
        const first = await a.gql<{ createSession: Outcome }>(CREATE_SESSION, { id: serverId }, user);
        const second = await b.gql<{ createSession: Outcome }>(CREATE_SESSION, { id: serverId }, user);
        const live = [first, second].map((r) => r.body.data?.createSession.session?.id ?? '');
        const taken = new Set((await claims.find({ scope: 'slot:sessions:global:' }).toArray()).map((c) => c._id));
        const free = [0, 1, 2].find((n) => !taken.has(`slot:sessions:global:${n}`));
        // Written as MongoClaimStore writes a claim, by a replica whose clock said two minutes ago.
        await claims.insertOne({
          _id: `slot:sessions:global:${free}`,
          scope: 'slot:sessions:global:',
          owner: '00000000-0000-4000-8000-0000000dead1',
          claimedAt: new Date(Date.now() - 120_000),
        });
        // A claim made just now by a replica still writing its session must survive.
        await claims.insertOne({
          _id: 'slot:sessions:global:999',
          scope: 'slot:sessions:global:',
          owner: '00000000-0000-4000-8000-0000000a11fe',
          claimedAt: new Date(),
        });

        const refused = await a.gql<{ createSession: Outcome }>(CREATE_SESSION, { id: serverId }, user);
        expect(refused.body.data?.createSession).toMatchObject({
          __typename: 'LimitExceededError',
          limit: 'maxSessions',
          max: 3,
        });
        expect(await b.app.container.sessions.reconcileClaims()).toBe(1);
        expect(await claims.countDocuments({ _id: `slot:sessions:global:${free}` })).toBe(0);
        expect(await claims.countDocuments({ _id: 'slot:sessions:global:999' })).toBe(1);
        await claims.deleteOne({ _id: 'slot:sessions:global:999' });

        const third = await b.gql<{ createSession: Outcome }>(CREATE_SESSION, { id: serverId }, user);
        expect(third.body.data?.createSession.__typename).toBe('CreateSessionSuccess');
        live.push(third.body.data?.createSession.session?.id ?? '');
        // Live sessions' slots are never reconciled away.
        expect(await a.app.container.sessions.reconcileClaims()).toBe(0);
        expect(await claims.countDocuments({ owner: { $in: live } })).toBe(9);
        for (const id of live) await a.gql(TERMINATE, { id }, user);
      } finally {
        limitsA.set(original);
        limitsB.set(original);
      }
      expect(await sessionClaims()).toBe(0);
    });
  },
);

describe.skipIf(!ready)(
  'session timeouts enforced exactly once, also after the creating replica is gone',
  { timeout: 90_000 },
  () => {
    let a: TestApp;
    let b: TestApp;
    const clock = new ShiftedClock();
    const accounts = new FakeSessionAccounts();
    const runtime = new FakeServerRuntime();
    let publishedA: SessionEvent[];
    let publishedB: SessionEvent[];

    beforeAll(async () => {
      const env = {
        MONGODB_URI: uniqueMongoUri(services.mongoUri ?? '', 'sesstimeouts'),
        REDIS_URL: services.redisUrl ?? '',
        XRDP_BINARY: '/nonexistent/xrdp',
        SESSION_TIMEOUT: '3600',
        IDLE_TIMEOUT: '1800',
        // Past the maximum duration's sweep below, so that one ends them all (SESSION_TIMEOUT).
        DISCONNECTED_SESSION_TIMEOUT: '3000',
      };
      const options = { sessionAccounts: accounts, runtime, clock, sweepIntervalMs: 3_600_000, reconcileIntervalMs: 3_600_000 };
      a = await startTestApp(env, options);
      b = await startTestApp(env, options);
      publishedA = recordSessionEvents(a);
      publishedB = recordSessionEvents(b);
    });
    afterAll(async () => {
      const uri = b.app.container.config.mongo?.uri ?? '';
      // A is stopped by the test already, unless it failed first.
      await a.stop().catch(() => undefined);
      await b.stop();
      const mongo = await connectMongo({ uri, maxPoolSize: 1, minPoolSize: 0 });
      await mongo.db.dropDatabase();
      await mongo.close();
    });

    it('idle -> DISCONNECTED once with both sweeping; after A stops, B alone ends each session once with SESSION_TIMEOUT', async () => {
      const owner = await a.token('timeouts', ['operator']);
      const serverId = await runningServer(a, owner, 20);
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        const r = await a.gql<{ createSession: Outcome }>(CREATE_SESSION, { id: serverId }, owner);
        ids.push(r.body.data?.createSession.session?.id ?? '');
      }
      const [d1, d2, d3] = ids;
      for (const id of [d1, d2, d3])
        await a.gql('mutation($id: ID!) { disconnectSession(id: $id) { __typename } }', { id }, owner);
      const sub = collect<{ sessionEvents: { kind: string; session: { id: string; terminationReason: string | null } } }>(
        b.ws(owner),
        'subscription($id: ID!) { sessionEvents(serverId: $id) { kind session { id terminationReason } } }',
        { id: serverId },
      );
      await sub.until(() => sub.items.length >= 6, 30_000);
      const kindsFor = (kind: string) =>
        [...publishedA, ...publishedB].filter((e) => e.kind === kind && ids.includes(e.session.id));

      // Past the idle deadline: the three ACTIVE ones are disconnected once, however many sweep.
      clock.advance(1800_000 + 1000);
      const idle = await Promise.all([a, b, a, b].map((t) => t.app.container.sessions.sweep()));
      expect(idle.reduce((n, r) => n + r.disconnected, 0)).toBe(3);
      expect(idle.reduce((n, r) => n + r.terminated, 0)).toBe(0);
      expect(kindsFor('DISCONNECTED')).toHaveLength(6);

      // The creator goes away; B alone is left to enforce the maximum duration.
      await a.stop();
      const metric = 'rdp_sessions_terminated_total{reason="SESSION_TIMEOUT"}';
      const before = await metricValue(b, metric);
      clock.advance(1800_000);
      const ended = await Promise.all([1, 2, 3].map(() => b.app.container.sessions.sweep()));
      expect(ended.reduce((n, r) => n + r.terminated, 0)).toBe(6);
      expect(await b.app.container.sessions.sweep()).toEqual({ terminated: 0, disconnected: 0, credentialsLocked: 0 });
      expect(await metricValue(b, metric)).toBe(before + 6);
      const terminated = kindsFor('TERMINATED');
      expect(terminated.map((e) => e.session.id).sort()).toEqual([...ids].sort());
      for (const e of terminated) expect(e.session.terminationReason).toBe('SESSION_TIMEOUT');
      for (const id of ids) {
        expect(await b.app.container.sessions.get(root, id)).toMatchObject({
          status: 'TERMINATED',
          terminationReason: 'SESSION_TIMEOUT',
        });
      }
      await sub.until(() => sub.items.filter((i) => i.data?.sessionEvents.kind === 'TERMINATED').length >= 6, 10_000);
      const seenTerminated = sub.items.filter((i) => i.data?.sessionEvents.kind === 'TERMINATED');
      expect(seenTerminated.map((i) => i.data?.sessionEvents.session.id).sort()).toEqual([...ids].sort());
      expect(accounts.existing.size).toBe(0);
      const claims = await b.app.container.mongo?.db
        .collection(CLAIMS)
        .countDocuments({ _id: { $regex: '^slot:sessions:' } } as never);
      expect(claims).toBe(0);
      sub.dispose();
    });
  },
);
