import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResourceSample } from '../../src/domain/resources/resource-sample.js';
import { collect, type GqlResponse, startTestApp, type TestApp } from '../support/app-harness.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { FakeSessionAccounts } from '../support/fake-session-accounts.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';
import { figures } from '../support/resource-fixtures.js';

type Errors = NonNullable<GqlResponse['body']['errors']>;
type WsItem = { data?: unknown; errors?: readonly { message: string; extensions?: Record<string, unknown> }[] };

const CREATE_SERVER = `mutation($input: CreateServerInput!) { createServer(input: $input) {
  __typename ... on CreateServerSuccess { server { id } } ... on LimitExceededError { limit max setting } ... on Error { code message } } }`;
const COUNT = '{ servers { totalCount } }';
const UPDATE_XRDP = 'mutation($input: UpdateXrdpConfigInput!) { updateXrdpConfig(input: $input) { __typename } }';
const XRDP_VERSION = '{ xrdpConfigHistory(last: 1) { version } }';
const UPDATE_LIMITS = `mutation($input: UpdateResourceLimitsInput!) { updateResourceLimits(input: $input) {
  __typename ... on UpdateResourceLimitsSuccess { limits { version } } } }`;
const START = 'mutation($id: ID!) { startServer(id: $id) { __typename } }';
const CREATE_SESSION = `mutation($input: CreateSessionInput!) { createSession(input: $input) {
  __typename ... on CreateSessionSuccess { session { id } } ... on Error { code message } } }`;
const AUDIT = `query($filter: AuditEventFilter) { auditEvents(filter: $filter, first: 100) {
  edges { node { action result actor { userId } target { type id } } } } }`;

/** The `{field, message}` list of a BAD_USER_INPUT error, sorted by field. */
const fieldsOf = (errors: readonly { extensions?: Record<string, unknown> }[] | undefined) =>
  ((errors?.[0]?.extensions?.fields ?? []) as { field: string; message: string }[]).map((p) => p.field).sort();

const backends: [string, () => Record<string, string>, boolean][] = [
  ['memory', () => ({}), true],
  [
    'mongo (FerretDB)',
    () => ({ MONGODB_URI: uniqueMongoUri(services.mongoUri ?? '', 'errors_e2e') }),
    need('actionable errors on mongo', ['mongo']),
  ],
];

for (const [backend, env, enabled] of backends) {
  describe.skipIf(!enabled)(`errors a person can act on, ${backend}`, () => {
    let t: TestApp;
    let alice: string;
    let olga: string;
    let root: string;

    beforeAll(async () => {
      t = await startTestApp(
        { ...env(), XRDP_BINARY: '/nonexistent/xrdp', MAX_CONCURRENT_SERVERS: '2', METRICS_INTERVAL: '86400' },
        { runtime: new FakeServerRuntime(), sessionAccounts: new FakeSessionAccounts(), sweepIntervalMs: 3_600_000 },
      );
      // Alerts below are raised by hand; a collector round would settle them (their subjects are not sampled).
      await t.app.container.resources.collector.stop();
      alice = await t.token('alice');
      olga = await t.token('olga', ['operator']);
      root = await t.token('root', ['admin']);
    });
    afterAll(async () => {
      await t.app.container.mongo?.db.dropDatabase();
      await t.stop();
    });

    const serverCount = async () =>
      (await t.gql<{ servers: { totalCount: number } }>(COUNT, {}, root)).body.data?.servers.totalCount ?? -1;

    /** Events of an action, waiting for the ones written after the response (refusals). */
    async function audit(action: string, n = 1) {
      const deadline = Date.now() + 5000;
      for (;;) {
        const r = await t.gql<{ auditEvents: { edges: { node: { result: string; actor: { userId: string } } }[] } }>(
          AUDIT,
          { filter: { action } },
          root,
        );
        const found = r.body.data?.auditEvents.edges.map((e) => e.node) ?? [];
        if (found.length >= n || Date.now() > deadline) return found;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }

    it('createServer lists every problem of its input at once, field by field, and creates nothing', async () => {
      const before = await serverCount();
      const r = await t.gql(
        CREATE_SERVER,
        {
          input: {
            name: '   ',
            description: 'x'.repeat(1001),
            configuration: { resolution: '10x10', colorDepth: 8 },
            resources: { memoryLimitMb: 1000, bandwidthMbps: 50 },
          },
        },
        alice,
      );
      const error = r.body.errors?.[0];
      expect(r.body.errors).toHaveLength(1);
      expect(error?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(fieldsOf(r.body.errors)).toEqual([
        'configuration.colorDepth',
        'configuration.resolution',
        'description',
        'name',
        'resources.bandwidthMbps',
        'resources.memoryLimitMb',
      ]);
      // Compatibility: `field` is the first of them, and the message names each.
      const fields = error?.extensions?.fields as { field: string; message: string }[];
      expect(error?.extensions?.field).toBe(fields[0]?.field);
      for (const p of fields) expect(error?.message).toContain(`${p.field}: ${p.message}`);
      expect(fields.find((p) => p.field === 'resources.memoryLimitMb')?.message).toBe('must be a multiple of 256');
      expect(await serverCount()).toBe(before);
    });

    it('a bad field and a resource above the per-server limit are reported together', async () => {
      // A server made before the limit is lowered, to update below.
      const made = await t.gql<{ createServer: { server?: { id: string } } }>(CREATE_SERVER, { input: { name: 'u' } }, alice);
      const id = made.body.data?.createServer.server?.id;
      expect(id, JSON.stringify(made.body)).toBeTruthy();
      await t.gql(UPDATE_LIMITS, { input: { perServer: { maxMemoryMb: 2048 } } }, root);
      const r = await t.gql(
        CREATE_SERVER,
        { input: { name: 'x', description: 'y'.repeat(1001), resources: { memoryLimitMb: 4096 } } },
        alice,
      );
      expect(fieldsOf(r.body.errors)).toEqual(['description', 'resources.memoryLimitMb']);
      const fields = r.body.errors?.[0]?.extensions?.fields as { field: string; message: string }[];
      expect(fields.find((p) => p.field === 'resources.memoryLimitMb')?.message).toMatch(
        /per-server limit of 2048 MB \(perServer\.maxMemoryMb, changed by updateResourceLimits\)/,
      );
      const u = await t.gql(
        'mutation($id: ID!, $input: UpdateServerInput!) { updateServer(id: $id, input: $input) { __typename } }',
        { id, input: { name: '', resources: { memoryLimitMb: 8192, cpuLimit: 9 } } },
        alice,
      );
      expect(fieldsOf(u.body.errors)).toEqual(['name', 'resources.cpuLimit']);
      const v = await t.gql(
        'mutation($id: ID!, $input: UpdateServerInput!) { updateServer(id: $id, input: $input) { __typename } }',
        { id, input: { name: '', resources: { memoryLimitMb: 8192 } } },
        alice,
      );
      expect(fieldsOf(v.body.errors)).toEqual(['name', 'resources.memoryLimitMb']);
      await t.gql('mutation($id: ID!) { deleteServer(id: $id, force: true) { __typename } }', { id }, alice);
      await t.gql(UPDATE_LIMITS, { input: { perServer: { maxMemoryMb: 16384 } } }, root);
    });

    it('updateXrdpConfig and updateResourceLimits list every problem, the cross-field rule included, and change nothing', async () => {
      const version = async () =>
        (await t.gql<{ xrdpConfigHistory: { version: number }[] }>(XRDP_VERSION, {}, root)).body.data?.xrdpConfigHistory[0]
          ?.version ?? 0;
      const v0 = await version();
      const x = await t.gql(
        UPDATE_XRDP,
        { input: { global: { maxConnections: 0 }, security: { sessionTimeout: 3600, idleTimeout: 4000 } } },
        root,
      );
      expect(x.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(fieldsOf(x.body.errors)).toEqual(['global.maxConnections', 'security.idleTimeout']);
      expect(await version()).toBe(v0);

      const l = await t.gql(
        UPDATE_LIMITS,
        { input: { global: { maxServers: 0, maxTotalCpu: 101 }, perUser: { maxSessions: 0 } } },
        root,
      );
      expect(fieldsOf(l.body.errors)).toEqual(['global.maxServers', 'global.maxTotalCpu', 'perUser.maxSessions']);
    });

    it('createSession lists every problem of its client info', async () => {
      const id = (await t.gql<{ createServer: { server: { id: string } } }>(CREATE_SERVER, { input: { name: 's' } }, alice)).body
        .data?.createServer.server.id;
      await t.gql(START, { id }, alice);
      const r = await t.gql(
        CREATE_SESSION,
        { input: { serverId: id, clientInfo: { clientIp: 'not-an-ip', resolution: '1x1', clientName: 'a\u0007b' } } },
        alice,
      );
      expect(fieldsOf(r.body.errors)).toEqual(['clientInfo.clientIp', 'clientInfo.clientName', 'clientInfo.resolution']);
      await t.gql('mutation($id: ID!) { deleteServer(id: $id, force: true) { __typename } }', { id }, alice);
    });

    it('the same list comes over WebSocket', async () => {
      const sub = collect<unknown>(t.ws(alice), CREATE_SERVER, { input: { name: '', configuration: { resolution: 'big' } } });
      await sub.until(() => sub.ended);
      const errors = (sub.items[0] as WsItem | undefined)?.errors;
      expect(errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(fieldsOf(errors)).toEqual(['configuration.resolution', 'name']);
    });

    it('FORBIDDEN names the role the operation needs, over HTTP and WebSocket', async () => {
      const admin = await t.gql(UPDATE_LIMITS, { input: { global: { maxServers: 3 } } }, olga);
      expect(admin.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', requiredRole: 'admin' });
      expect(admin.body.errors?.[0]?.message).toBe('updateResourceLimits requires the admin role');
      const operator = await t.gql('{ resourceLimits { version } }', {}, alice);
      expect(operator.body.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', requiredRole: 'operator' });
      expect(operator.body.errors?.[0]?.message).toBe('resourceLimits requires the operator or admin role');
      const sub = collect(t.ws(alice), 'mutation { controlXrdpService(action: START) { __typename } }');
      await sub.until(() => sub.ended);
      const errors = (sub.items[0] as WsItem | undefined)?.errors;
      expect(errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', requiredRole: 'admin' });
      expect(errors?.[0]?.message).toContain('requires the admin role');
    });

    it('a refusal by a cap names the cap, the mutation field and the variable that change it', async () => {
      const ids: string[] = [];
      let refused: Record<string, unknown> | undefined;
      for (let i = 0; i < 4 && !refused; i++) {
        const r = await t.gql<{ createServer: Record<string, unknown> }>(CREATE_SERVER, { input: { name: `cap ${i}` } }, alice);
        const result = r.body.data?.createServer;
        if (result?.__typename === 'CreateServerSuccess') ids.push((result.server as { id: string }).id);
        else refused = result;
      }
      expect(refused).toMatchObject({ __typename: 'LimitExceededError', code: 'LIMIT_EXCEEDED', limit: 'maxServers', max: 2 });
      expect(refused?.setting).toBe('raise global.maxServers with updateResourceLimits; MAX_CONCURRENT_SERVERS sets the default');
      expect(refused?.message).toBe(
        'the fleet already has the maximum of 2 servers; raise global.maxServers with updateResourceLimits; MAX_CONCURRENT_SERVERS sets the default',
      );
      for (const id of ids)
        await t.gql('mutation($id: ID!) { deleteServer(id: $id, force: true) { __typename } }', { id }, alice);
    });

    it('resolveAlert is audited with the operator and the alert', async () => {
      const alerts = t.app.container.resources.alerts;
      const at = new Date().toISOString();
      const sample: ResourceSample = { ...figures({ cpuPercent: 97 }), subjectKind: 'SERVER', subjectId: 'srv-audited', at };
      await alerts.evaluate([sample], new Map([['srv-audited', { kind: 'SERVER', name: 'audited', visibleTo: ['alice'] }]]));
      const open = await t.gql<{ alerts: { edges: { node: { id: string } }[] } }>(
        '{ alerts(filter: { subject: "srv-audited", resolved: false }) { edges { node { id } } } }',
        {},
        olga,
      );
      const id = open.body.data?.alerts.edges[0]?.node.id;
      expect(id).toBeTruthy();
      const r = await t.gql('mutation($id: ID!) { resolveAlert(id: $id) { __typename } }', { id }, olga);
      expect(r.body.data).toEqual({ resolveAlert: { __typename: 'ResolveAlertSuccess' } });
      const events = await audit('alert.resolve');
      expect(events).toEqual([
        { action: 'alert.resolve', result: 'SUCCESS', actor: { userId: 'olga' }, target: { type: 'alert', id } },
      ]);
      // A refusal of a user is recorded too (DENIED by the API layer), but never as a success.
      await t.gql('mutation($id: ID!) { resolveAlert(id: $id) { __typename } }', { id }, alice);
      const after = await audit('alert.resolve', 2);
      expect(after.map((e) => [e.result, e.actor.userId])).toEqual([
        ['DENIED', 'alice'],
        ['SUCCESS', 'olga'],
      ]);
    });

    it("an operator disconnecting and reconnecting someone's session is audited", async () => {
      const id = (await t.gql<{ createServer: { server: { id: string } } }>(CREATE_SERVER, { input: { name: 'op' } }, alice)).body
        .data?.createServer.server.id;
      await t.gql(START, { id }, alice);
      const s = await t.gql<{ createSession: { session: { id: string } } }>(
        CREATE_SESSION,
        { input: { serverId: id, credentialMode: 'EPHEMERAL' } },
        alice,
      );
      const sessionId = s.body.data?.createSession.session.id;
      expect(sessionId).toBeTruthy();
      const d = await t.gql('mutation($id: ID!) { disconnectSession(id: $id) { __typename } }', { id: sessionId }, olga);
      expect(d.body.data).toEqual({ disconnectSession: { __typename: 'DisconnectSessionSuccess' } });
      const c = await t.gql('mutation($id: ID!) { connectSession(id: $id) { __typename } }', { id: sessionId }, olga);
      expect(c.body.data).toEqual({ connectSession: { __typename: 'ConnectSessionSuccess' } });
      for (const action of ['session.disconnect', 'session.connect']) {
        expect(await audit(action)).toEqual([
          { action, result: 'SUCCESS', actor: { userId: 'olga' }, target: { type: 'session', id: sessionId } },
        ]);
      }
      await t.gql('mutation($id: ID!) { deleteServer(id: $id, force: true) { __typename } }', { id }, alice);
    });

    it('alertEvents sends every open alert in its snapshot, past the first 100', async () => {
      const alerts = t.app.container.resources.alerts;
      const at = new Date().toISOString();
      const n = 110;
      const samples: ResourceSample[] = Array.from({ length: n }, (_, i) => ({
        ...figures({ memoryPercent: 90 }),
        subjectKind: 'SERVER',
        subjectId: `srv-many-${i}`,
        at,
      }));
      const info = new Map(samples.map((s) => [s.subjectId, { kind: 'SERVER' as const, name: null, visibleTo: ['alice'] }]));
      expect(await alerts.evaluate(samples, info)).toMatchObject({ raised: n });
      const sub = collect<{ alertEvents: { kind: string; alert: { subjectId: string } } }>(
        t.ws(olga),
        'subscription { alertEvents { kind alert { subjectId } } }',
      );
      const snapshot = () => sub.items.filter((i) => i.data?.alertEvents.kind === 'SNAPSHOT');
      await sub.until(() => snapshot().length >= n);
      const ids = new Set(snapshot().map((i) => i.data?.alertEvents.alert.subjectId));
      for (const s of samples) expect(ids.has(s.subjectId)).toBe(true);
      // alice sees hers too, all of them.
      const mine = collect<{ alertEvents: { kind: string } }>(t.ws(alice), 'subscription { alertEvents { kind } }');
      await mine.until(() => mine.items.length >= n);
      sub.dispose();
      mine.dispose();
    });
  });
}

describe('RATE_LIMITED says when to come back', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_SERVERS_PER_MIN: '1', RATE_LIMIT_BURST_FACTOR: '1' });
    token = await t.token('alice');
  });
  afterAll(() => t.stop());

  const post = () =>
    fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json',
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({ query: '{ servers { totalCount } }' }),
    });

  it('over HTTP: 429, Retry-After in seconds, and the same figure in extensions.retryAfter', async () => {
    const first = await post();
    expect(first.status).toBe(200);
    await first.json();
    const res = await post();
    expect(res.status).toBe(429);
    expect(res.headers.get('content-type')).toContain('application/graphql-response+json');
    const retryAfter = res.headers.get('retry-after');
    expect(retryAfter).toMatch(/^[1-9]\d*$/);
    const body = (await res.json()) as { errors: Errors };
    expect(body.errors[0]?.extensions).toEqual({ code: 'RATE_LIMITED', retryAfter: Number(retryAfter), group: 'servers' });
  });

  it('over WebSocket: the error carries retryAfter (seconds) and no HTTP hints', async () => {
    const sub = collect(t.ws(token), '{ servers { totalCount } }');
    await sub.until(() => sub.ended);
    const error = (sub.items[0] as WsItem | undefined)?.errors?.[0];
    expect(error?.extensions).toEqual({ code: 'RATE_LIMITED', retryAfter: expect.any(Number) as number, group: 'servers' });
    expect(error?.extensions?.retryAfter).toBeGreaterThanOrEqual(1);
  });
});

describe('variable values GraphQL cannot coerce are BAD_USER_INPUT naming the variable and the path', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await startTestApp();
    token = await t.token('alice', ['admin']);
  });
  afterAll(() => t.stop());

  const LIST = 'query($status: ServerStatus, $first: Int) { servers(first: $first, filter: { status: $status }) { totalCount } }';
  const CREATE = 'mutation($server: CreateServerInput!) { createServer(input: $server) { __typename } }';
  const cases: [string, string, Record<string, unknown>, { variable: string; inputPath: string[]; field: string }, RegExp][] = [
    ['an unknown enum value', LIST, { status: 'NOPE' }, { variable: 'status', inputPath: [], field: '$status' }, /"NOPE"/],
    ['2^31 for an Int', LIST, { first: 2 ** 31 }, { variable: 'first', inputPath: [], field: '$first' }, /32-bit/],
    ['a string for an Int', LIST, { first: 'ten' }, { variable: 'first', inputPath: [], field: '$first' }, /non-integer/],
    [
      'a wrong type deep inside an input object',
      CREATE,
      { server: { name: 'x', configuration: { colorDepth: 'deep' } } },
      { variable: 'server', inputPath: ['configuration', 'colorDepth'], field: '$server.configuration.colorDepth' },
      /non-integer value: "deep"/,
    ],
    [
      'an unknown input field',
      CREATE,
      { server: { name: 'x', bogus: 1 } },
      { variable: 'server', inputPath: [], field: '$server' },
      /Field "bogus" is not defined by type "CreateServerInput"/,
    ],
    ['a required variable left out', CREATE, {}, { variable: 'server', inputPath: [], field: '$server' }, /was not provided/],
  ];

  for (const [name, query, variables, expected, message] of cases) {
    it(`${name}: over HTTP (400) and WebSocket alike, and nothing runs`, async () => {
      const before = await t.gql<{ servers: { totalCount: number } }>('{ servers { totalCount } }', {}, token);
      const r = await t.gql(query, variables, token);
      expect(r.status).toBe(400);
      expect(r.body.data ?? null).toBeNull();
      expect(r.body.errors).toHaveLength(1);
      expect(r.body.errors?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', ...expected });
      expect(r.body.errors?.[0]?.message).toMatch(message);
      expect(r.body.errors?.[0]?.message).toContain(`Variable "${expected.field}"`);
      const sub = collect(t.ws(token), query, variables);
      await sub.until(() => sub.ended);
      const ws = (sub.items[0] as WsItem | undefined)?.errors;
      expect(ws?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', ...expected });
      expect(ws?.[0]?.message).toBe(r.body.errors?.[0]?.message);
      const after = await t.gql<{ servers: { totalCount: number } }>('{ servers { totalCount } }', {}, token);
      expect(after.body.data?.servers.totalCount).toBe(before.body.data?.servers.totalCount);
    });
  }

  it('a subscription with a bad variable is refused the same way', async () => {
    const sub = collect(t.ws(token), 'subscription($s: AlertSeverity) { alertEvents(severity: $s) { kind } }', { s: 'LOUD' });
    await sub.until(() => sub.ended);
    const ws = (sub.items[0] as WsItem | undefined)?.errors;
    expect(ws?.[0]?.extensions).toEqual({ code: 'BAD_USER_INPUT', variable: 's', inputPath: [], field: '$s' });
  });
});
