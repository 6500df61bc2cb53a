import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/domain/audit/audit-event.js';
import { collect, type GqlResponse, startTestApp, type TestApp } from '../support/app-harness.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { FakeSessionAccounts } from '../support/fake-session-accounts.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';

const CREATE_SERVER = `mutation($name: String!) { createServer(input: { name: $name }) {
  __typename ... on CreateServerSuccess { server { id } } ... on LimitExceededError { limit max } ... on Error { code } } }`;
const START = 'mutation($id: ID!) { startServer(id: $id) { __typename } }';
const STOP = 'mutation($id: ID!) { stopServer(id: $id, force: true) { __typename } }';
const DELETE = 'mutation($id: ID!) { deleteServer(id: $id, force: true) { __typename ... on Error { code } } }';
const CREATE_SESSION = `mutation($id: ID!) { createSession(input: { serverId: $id, credentialMode: EPHEMERAL }) {
  __typename ... on CreateSessionSuccess { session { id username } connection { password } } ... on Error { code } } }`;
const TERMINATE = 'mutation($id: ID!) { terminateSession(id: $id, force: true) { __typename } }';
const AUDIT = `query($filter: AuditEventFilter, $first: Int, $after: String) {
  auditEvents(filter: $filter, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id time action result actor { userId name ip } target { type id name } details { key value } } }
  } }`;

interface AuditNode {
  id: string;
  time: string;
  action: string;
  result: string;
  actor: { userId: string | null; name: string | null; ip: string | null };
  target: { type: string; id: string | null; name: string | null } | null;
  details: { key: string; value: string }[];
}
type AuditPage = {
  auditEvents: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: { node: AuditNode }[];
  };
};

const detail = (e: AuditNode | undefined, key: string) => e?.details.find((d) => d.key === key)?.value;

const backends: [string, () => Record<string, string>, boolean][] = [
  ['memory', () => ({}), true],
  [
    'mongo (FerretDB)',
    () => ({ MONGODB_URI: uniqueMongoUri(services.mongoUri ?? '', 'audit_e2e') }),
    need('audit API on mongo', ['mongo']),
  ],
];

for (const [backend, env, enabled] of backends) {
  describe.skipIf(!enabled)(`audit events on ${backend}`, () => {
    let t: TestApp;
    let alice: string;
    let bob: string;
    let olga: string;
    let root: string;
    const accounts = new FakeSessionAccounts();

    beforeAll(async () => {
      t = await startTestApp(
        { ...env(), XRDP_BINARY: '/nonexistent/xrdp', MAX_CONCURRENT_SERVERS: '3' },
        { runtime: new FakeServerRuntime(), sessionAccounts: accounts, sweepIntervalMs: 3_600_000 },
      );
      alice = await t.token('alice');
      bob = await t.token('bob');
      olga = await t.token('olga', ['operator']);
      root = await t.token('root', ['admin']);
    });
    afterAll(async () => {
      await t.app.container.mongo?.db.dropDatabase();
      await t.stop();
    });

    /** Every event matching the filter, newest first (all pages). */
    async function events(filter: Record<string, unknown> = {}): Promise<AuditNode[]> {
      const out: AuditNode[] = [];
      let after: string | null = null;
      do {
        const r: GqlResponse<AuditPage> = await t.gql<AuditPage>(AUDIT, { filter, first: 100, after }, olga);
        expect(r.body.errors).toBeUndefined();
        const page: AuditPage['auditEvents'] | undefined = r.body.data?.auditEvents;
        out.push(...(page?.edges.map((e) => e.node) ?? []));
        after = page?.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      } while (after);
      return out;
    }

    /** Refusals recorded by the API layer are written after the response: wait for them. */
    async function eventually(filter: Record<string, unknown>, n = 1): Promise<AuditNode[]> {
      const deadline = Date.now() + 5000;
      for (;;) {
        const found = await events(filter);
        if (found.length >= n || Date.now() > deadline) return found;
        await new Promise((r) => setTimeout(r, 50));
      }
    }

    it('server create, start, stop and delete are recorded with the actor, the address and the target', async () => {
      const c = await t.gql<{ createServer: { server: { id: string } } }>(CREATE_SERVER, { name: 'audited' }, alice);
      const id = c.body.data?.createServer.server.id ?? '';
      await t.gql(START, { id }, alice);
      await t.gql(STOP, { id }, alice);
      await t.gql(DELETE, { id }, alice);
      const trail = (await events({ targetId: id })).reverse();
      expect(trail.map((e) => [e.action, e.result])).toEqual([
        ['server.create', 'SUCCESS'],
        ['server.start', 'SUCCESS'],
        ['server.stop', 'SUCCESS'],
        ['server.delete', 'SUCCESS'],
      ]);
      for (const e of trail) {
        expect(e.actor).toEqual({ userId: 'alice', name: 'alice', ip: '127.0.0.1' });
        expect(e.target).toEqual({ type: 'server', id, name: 'audited' });
      }
      expect(detail(trail[0], 'port')).toMatch(/^\d+$/);
      expect(detail(trail[2], 'force')).toBe('true');
    });

    it("another user's server answers NOT_FOUND and the attempt is recorded as DENIED (NOT_OWNER)", async () => {
      const c = await t.gql<{ createServer: { server: { id: string } } }>(CREATE_SERVER, { name: 'alices' }, alice);
      const id = c.body.data?.createServer.server.id ?? '';
      const r = await t.gql<{ deleteServer: { __typename: string; code: string } }>(DELETE, { id }, bob);
      expect(r.body.data?.deleteServer).toEqual({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
      const [denied] = await events({ targetId: id, action: 'server.delete' });
      expect(denied).toMatchObject({ result: 'DENIED', actor: { userId: 'bob' }, target: { type: 'server', id } });
      expect(detail(denied, 'code')).toBe('NOT_OWNER');
      // A missing id is a plain FAILURE: nothing was hidden.
      const missing = '00000000-0000-4000-8000-000000000000';
      await t.gql(DELETE, { id: missing }, bob);
      const [failed] = await events({ targetId: missing });
      expect(failed?.result).toBe('FAILURE');
      expect(detail(failed, 'code')).toBe('NOT_FOUND');
      await t.gql(DELETE, { id }, alice);
    });

    it('a refused create over the server cap is DENIED with the limit', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await t.gql<{ createServer: { server: { id: string } } }>(CREATE_SERVER, { name: `cap-${i}` }, root);
        ids.push(r.body.data?.createServer.server.id ?? '');
      }
      const refused = await t.gql<{ createServer: { __typename: string } }>(CREATE_SERVER, { name: 'one too many' }, root);
      expect(refused.body.data?.createServer.__typename).toBe('LimitExceededError');
      const [denied] = await events({ actorId: 'root', action: 'server.create', result: 'DENIED' });
      expect(denied?.target).toEqual({ type: 'server', id: null, name: 'one too many' });
      expect(Object.fromEntries(denied?.details.map((d) => [d.key, d.value]) ?? [])).toEqual({
        code: 'LIMIT_EXCEEDED',
        limit: 'maxServers',
        max: '3',
      });
      for (const id of ids) await t.gql(DELETE, { id }, root);
    });

    it('session create and terminate are recorded without the one-time password or its hash', async () => {
      const c = await t.gql<{ createServer: { server: { id: string } } }>(CREATE_SERVER, { name: 'with-sessions' }, alice);
      const serverId = c.body.data?.createServer.server.id ?? '';
      await t.gql(START, { id: serverId }, alice);
      const s = await t.gql<{ createSession: { session: { id: string; username: string }; connection: { password: string } } }>(
        CREATE_SESSION,
        { id: serverId },
        alice,
      );
      const session = s.body.data?.createSession.session;
      const password = s.body.data?.createSession.connection.password ?? '';
      expect(password).toHaveLength(20);
      await t.gql(TERMINATE, { id: session?.id }, alice);
      const trail = (await events({ targetId: session?.id })).reverse();
      expect(trail.map((e) => [e.action, e.result])).toEqual([
        ['session.create', 'SUCCESS'],
        ['session.terminate', 'SUCCESS'],
      ]);
      expect(trail[0]?.target).toEqual({ type: 'session', id: session?.id, name: session?.username });
      expect(detail(trail[0], 'serverId')).toBe(serverId);
      expect(detail(trail[0], 'credentialMode')).toBe('EPHEMERAL');
      expect(detail(trail[1], 'reason')).toBe('USER');
      const all = JSON.stringify(await events());
      expect(all).not.toContain(password);
      expect(all).not.toContain('sha256$');
      if (t.app.container.mongo) {
        const raw = JSON.stringify(await t.app.container.mongo.db.collection('audit_events').find({}).toArray());
        expect(raw).not.toContain(password);
        expect(raw).not.toContain('sha256$');
        expect(raw).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
      }
      await t.gql(DELETE, { id: serverId }, alice);
    });

    it('an xrdp config change lists the fields it changed; a non-admin attempt is DENIED at the API', async () => {
      const update = 'mutation { updateXrdpConfig(input: { global: { maxConnections: 42 } }) { __typename } }';
      const ok = await t.gql<{ updateXrdpConfig: { __typename: string } }>(update, {}, root);
      expect(ok.body.data?.updateXrdpConfig.__typename).toBe('UpdateXrdpConfigSuccess');
      const [changed] = await events({ action: 'xrdp.config.update', result: 'SUCCESS' });
      expect(changed?.actor.userId).toBe('root');
      expect(JSON.parse(detail(changed, 'changes') ?? '[]')).toEqual([{ field: 'global.maxConnections', from: 100, to: 42 }]);

      const refused = await t.gql(update, {}, olga);
      expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const [denied] = await eventually({ action: 'xrdp.config.update', result: 'DENIED' });
      expect(denied).toMatchObject({
        actor: { userId: 'olga', ip: '127.0.0.1' },
        target: { type: 'api', id: 'updateXrdpConfig' },
      });
      expect(detail(denied, 'code')).toBe('FORBIDDEN');
    });

    it('xrdp service control is recorded, failures included', async () => {
      const r = await t.gql<{ controlXrdpService: { __typename: string } }>(
        'mutation { controlXrdpService(action: START) { __typename } }',
        {},
        root,
      );
      expect(r.body.data?.controlXrdpService.__typename).toBe('RuntimeUnavailableError');
      const [e] = await eventually({ action: 'xrdp.service.control' });
      expect(e).toMatchObject({ result: 'FAILURE', actor: { userId: 'root' }, target: { type: 'xrdp_service' } });
      expect(detail(e, 'command')).toBe('START');
    });

    it('unauthenticated calls to protected fields and bad tokens are DENIED; the token never reaches the audit', async () => {
      const anonymous = await t.gql('query Mine { servers { totalCount } }');
      expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      const [unauth] = await eventually({ action: 'api.servers', result: 'DENIED' });
      expect(unauth).toMatchObject({
        actor: { userId: null, ip: '127.0.0.1' },
        target: { type: 'api', id: 'servers', name: 'Mine' },
      });

      const expired = await t.token('mallory', ['admin'], -120);
      const bad = await t.gql('{ servers { totalCount } }', {}, expired);
      expect(bad.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      const [token] = await eventually({ action: 'auth.token' });
      expect(token).toMatchObject({ result: 'DENIED', actor: { userId: null, ip: '127.0.0.1' }, target: null });
      expect(detail(token, 'reason')).toBe('token expired');
      expect(JSON.stringify(await events())).not.toContain(expired.split('.')[1]);
    });

    it('over WebSocket, a refused subscription is recorded too', async () => {
      const sub = collect(t.ws(alice), 'subscription Peek { serverEvents(serverId: "x") { kind } }');
      const anon = collect(t.ws(), 'subscription Anon { serverEvents(serverId: "x") { kind } }');
      await anon.until(() => anon.ended);
      await sub.until(() => sub.ended);
      const [denied] = await eventually({ action: 'api.serverEvents', result: 'DENIED' });
      expect(denied).toMatchObject({ actor: { userId: null, ip: '127.0.0.1' }, target: { id: 'serverEvents', name: 'Anon' } });
      expect(detail(denied, 'code')).toBe('UNAUTHENTICATED');
    });

    it('over WebSocket, a connection refused for its token is recorded without the token', async () => {
      const expired = await t.token('trudy', ['admin'], -60);
      const refused = collect(t.ws(expired), 'subscription { serverEvents(serverId: "x") { kind } }');
      await refused.until(() => refused.ended);
      expect((refused.failure as { code?: number } | undefined)?.code).toBe(4403);
      const found = await eventually({ action: 'auth.token', result: 'DENIED' }, 2);
      const overWs = found.find((e) => detail(e, 'transport') === 'websocket');
      expect(overWs).toMatchObject({ actor: { userId: null, ip: '127.0.0.1' }, target: null });
      expect(detail(overWs, 'reason')).toBe('token expired');
      expect(detail(overWs, 'code')).toBe('UNAUTHENTICATED');
      expect(JSON.stringify(found)).not.toContain(expired.split('.')[1]);
    });

    it('only operators and admins read audit events; filters, time windows and pages work', async () => {
      const denied = await t.gql(AUDIT, {}, alice);
      expect(denied.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(denied.body.data?.auditEvents ?? null).toBeNull();

      // Successes only: refusals (like alice's just now) are written after their response.
      const all = await events({ result: 'SUCCESS' });
      expect(all.length).toBeGreaterThan(10);
      const times = all.map((e) => e.time);
      expect([...times].sort().reverse()).toEqual(times);
      const page = await t.gql<AuditPage>(AUDIT, { filter: { result: 'SUCCESS' }, first: 3 }, root);
      expect(page.body.data?.auditEvents.totalCount).toBe(all.length);
      expect(page.body.data?.auditEvents.edges.map((e) => e.node.id)).toEqual(all.slice(0, 3).map((e) => e.id));

      const middle = all[Math.floor(all.length / 2)]?.time ?? '';
      const since = await events({ result: 'SUCCESS', since: middle });
      expect(since.length).toBeGreaterThan(0);
      expect(since.every((e) => e.time >= middle)).toBe(true);
      const until = await events({ result: 'SUCCESS', until: middle });
      expect(until.every((e) => e.time < middle)).toBe(true);
      expect(since.length + until.length).toBe(all.length);
      const bobs = await events({ actorId: 'bob' });
      expect(bobs.length).toBeGreaterThan(0);
      expect(bobs.every((e) => e.actor.userId === 'bob')).toBe(true);
    });

    it('the prune job removes events older than a year', async () => {
      const log = t.app.container.audit;
      const old: AuditEvent = {
        id: '00000000-0000-4000-8000-0000000000aa',
        time: new Date(Date.now() - 366 * 86_400_000).toISOString(),
        actor: { userId: 'ghost', name: 'ghost', ip: null },
        action: 'server.create',
        target: null,
        result: 'SUCCESS',
        details: {},
      };
      // The store behind the service: the same one the container wired.
      const store = (log as unknown as { deps: { log: { append(e: AuditEvent): Promise<void> } } }).deps.log;
      await store.append(old);
      expect(await events({ actorId: 'ghost' })).toHaveLength(1);
      expect(await log.prune()).toBe(1);
      expect(await events({ actorId: 'ghost' })).toHaveLength(0);
    });
  });
}

describe('audit of rate limits and proxied addresses', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ TRUST_PROXY: 'true', RATE_LIMIT_SERVERS_PER_MIN: '2', RATE_LIMIT_BURST_FACTOR: '1' });
  });
  afterAll(() => t.stop());

  it('a RATE_LIMITED operation is DENIED with its group, from the address the trusted proxy added', async () => {
    const token = await t.token('speedy');
    const call = () =>
      fetch(`${t.url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${token}`,
          // The first entry is whatever the client claimed; the last is what our proxy saw.
          'x-forwarded-for': '10.9.9.9, 198.51.100.7',
        },
        body: JSON.stringify({ query: 'query Burst { servers { totalCount } }' }),
      }).then((r) => r.json() as Promise<{ errors?: { extensions: { code: string } }[] }>);
    const results = [await call(), await call(), await call()];
    expect(results.map((r) => r.errors?.[0]?.extensions.code ?? 'OK')).toEqual(['OK', 'OK', 'RATE_LIMITED']);
    const operator = await t.token('auditor', ['operator']);
    let denied: AuditNode | undefined;
    for (let i = 0; i < 100 && !denied; i++) {
      const r = await t.gql<AuditPage>(AUDIT, { filter: { result: 'DENIED', actorId: 'speedy' } }, operator);
      denied = r.body.data?.auditEvents.edges[0]?.node;
      if (!denied) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(denied).toMatchObject({
      action: 'api.servers',
      actor: { userId: 'speedy', ip: '198.51.100.7' },
      target: { type: 'api', id: 'servers', name: 'Burst' },
    });
    expect(detail(denied, 'code')).toBe('RATE_LIMITED');
    expect(detail(denied, 'group')).toBe('servers');
  });
});
