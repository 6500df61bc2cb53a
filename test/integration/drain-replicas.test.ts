import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, startTestApp, type TestApp } from '../support/app-harness.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { FakeSessionAccounts } from '../support/fake-session-accounts.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';

const CREATE_SERVER = `mutation($name: String!) { createServer(input: { name: $name, configuration: { maxSessions: 50 } }) {
  ... on CreateServerSuccess { server { id } } ... on Error { code message } } }`;
const START_SERVER = `mutation($id: ID!) { startServer(id: $id) { __typename ... on Error { code message } } }`;
const CREATE_SESSION = `mutation($serverId: ID!) { createSession(input: { serverId: $serverId }) {
  __typename ... on CreateSessionSuccess { session { id } } ... on Error { code message } } }`;
const DRAIN = `mutation($id: ID!, $deadline: DateTime!) { drainServer(serverId: $id, deadline: $deadline, stopServer: true) {
  __typename ... on Error { code message } } }`;
const AUDIT = `query($id: String!) { auditEvents(first: 100, filter: { action: "server.drained", targetId: $id }) {
  edges { node { result details { key value } } } } }`;

// The per-user cap (perUser.maxSessions) is 10.
const SESSIONS = 10;
const ROUNDS = 3;

/**
 * Two API replicas on one FerretDB and one Redis run the drain job for the same deadline at the
 * same moment: the deadline action (end the sessions DRAINED, stop the server) runs once.
 */
describe.skipIf(!need('drain on two replicas (FerretDB and Redis)', ['mongo', 'redis']))(
  'drain deadline on two replicas over FerretDB and Redis',
  { timeout: 180_000 },
  () => {
    let a: TestApp;
    let b: TestApp;
    let offsetMs = 0;
    const clock = { now: () => new Date(Date.now() + offsetMs) };
    // One machine's instances, seen by both replicas (local mode, shared fake).
    const runtime = new FakeServerRuntime();
    const accounts = new FakeSessionAccounts();

    beforeAll(async () => {
      const env = {
        MONGODB_URI: uniqueMongoUri(services.mongoUri ?? '', 'drainrep'),
        REDIS_URL: services.redisUrl ?? '',
        XRDP_BINARY: '/nonexistent/xrdp',
      };
      const options = {
        runtime,
        sessionAccounts: accounts,
        clock,
        sweepIntervalMs: 3_600_000,
        reconcileIntervalMs: 3_600_000,
        drainIntervalMs: 3_600_000,
      };
      a = await startTestApp(env, options);
      b = await startTestApp(env, options);
    });
    afterAll(async () => {
      await a.app.container.mongo?.db.dropDatabase();
      await a.stop();
      await b.stop();
    });

    it(`both replicas reach the deadline together: each session ends once, one DRAINED event, one stop (${ROUNDS} rounds)`, async () => {
      const alice = await a.token('alice');
      const olga = await a.token('olga', ['operator']);
      const drainedMetric = async (t: TestApp) => {
        const text = await (await fetch(`${t.url}/metrics`)).text();
        const row = text.split('\n').find((l) => l.startsWith('rdp_sessions_terminated_total{reason="DRAINED"} '));
        return row ? Number(row.split(' ')[1]) : 0;
      };
      for (let round = 0; round < ROUNDS; round++) {
        const created = await a.gql<{ createServer: { server?: { id: string } } }>(CREATE_SERVER, { name: `d${round}` }, alice);
        const serverId = created.body.data?.createServer.server?.id as string;
        expect(serverId).toBeTruthy();
        expect((await b.gql(START_SERVER, { id: serverId }, alice)).body.data).toEqual({
          startServer: { __typename: 'StartServerSuccess' },
        });
        const admitted = await Promise.all(
          Array.from({ length: SESSIONS }, (_, i) =>
            (i % 2 ? a : b).gql<{ createSession: { session?: { id: string } } }>(CREATE_SESSION, { serverId }, alice),
          ),
        );
        const ids = admitted.map((r) => r.body.data?.createSession.session?.id);
        expect(ids.every((id) => typeof id === 'string')).toBe(true);

        // Watched from each replica: events published by either reach both through Redis.
        const serverWatch = collect<{ serverEvents: { kind: string } }>(
          b.ws(alice),
          'subscription($id: ID!) { serverEvents(serverId: $id) { kind } }',
          { id: serverId },
        );
        const sessionWatch = collect<{
          sessionEvents: { kind: string; session: { id: string; terminationReason: string | null } };
        }>(a.ws(alice), 'subscription($id: ID!) { sessionEvents(serverId: $id) { kind session { id terminationReason } } }', {
          id: serverId,
        });
        await serverWatch.until(() => serverWatch.items.length >= 1);
        await sessionWatch.until(() => sessionWatch.items.length >= SESSIONS);

        const deadline = new Date(Date.now() + 60_000).toISOString();
        expect((await a.gql(DRAIN, { id: serverId, deadline }, olga)).body.data).toEqual({
          drainServer: { __typename: 'DrainServerSuccess' },
        });
        const stopsBefore = runtime.operations().filter((op) => op === `stop:${serverId}`).length;
        const metricBefore = (await drainedMetric(a)) + (await drainedMetric(b));

        offsetMs = 61_000;
        let results: Awaited<ReturnType<typeof a.app.container.drains.tick>>[];
        try {
          results = await Promise.all([a.app.container.drains.tick(), b.app.container.drains.tick()]);
        } finally {
          offsetMs = 0;
        }
        expect(results.flatMap((r) => r.failures)).toEqual([]);
        expect(results.flatMap((r) => r.drained)).toEqual([serverId]);

        await sessionWatch.until(
          () => sessionWatch.items.filter((i) => i.data?.sessionEvents.kind === 'TERMINATED').length >= SESSIONS,
        );
        await serverWatch.until(() => serverWatch.items.some((i) => i.data?.serverEvents.kind === 'DRAINED'));
        const terminated = sessionWatch.items.map((i) => i.data?.sessionEvents).filter((e) => e?.kind === 'TERMINATED');
        expect(terminated).toHaveLength(SESSIONS);
        expect(new Set(terminated.map((e) => e?.session.id))).toEqual(new Set(ids));
        expect(terminated.every((e) => e?.session.terminationReason === 'DRAINED')).toBe(true);
        expect(serverWatch.items.filter((i) => i.data?.serverEvents.kind === 'DRAINED')).toHaveLength(1);
        expect(runtime.operations().filter((op) => op === `stop:${serverId}`).length - stopsBefore).toBe(1);
        expect((await drainedMetric(a)) + (await drainedMetric(b)) - metricBefore).toBe(SESSIONS);
        const audit = await a.gql<{
          auditEvents: { edges: { node: { result: string; details: { key: string; value: unknown }[] } }[] };
        }>(AUDIT, { id: serverId }, olga);
        const ended = (d: { key: string; value: unknown }[]) => d.find((x) => x.key === 'sessionsEnded')?.value;
        expect(audit.body.data?.auditEvents.edges.map((e) => [e.node.result, ended(e.node.details)])).toEqual([
          ['SUCCESS', String(SESSIONS)],
        ]);
        serverWatch.dispose();
        sessionWatch.dispose();
      }
    });
  },
);
