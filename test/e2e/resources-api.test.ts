import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RoundReport } from '../../src/domain/resources/resource-collector.js';
import { collect, startTestApp, type TestApp } from '../support/app-harness.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { FakeSessionAccounts } from '../support/fake-session-accounts.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';
import { FakeProbe, figures } from '../support/resource-fixtures.js';

const CREATE = `mutation($name: String!) { createServer(input: { name: $name }) {
  ... on CreateServerSuccess { server { id } } ... on Error { code message } } }`;
const START = `mutation($id: ID!) { startServer(id: $id) {
  __typename ... on StartServerSuccess { server { status } } ... on LimitExceededError { code message limit max } } }`;
const STOP = 'mutation($id: ID!) { stopServer(id: $id, force: true) { __typename } }';
const DELETE = 'mutation($id: ID!) { deleteServer(id: $id, force: true) { __typename } }';
const CREATE_SESSION = `mutation($id: ID!) { createSession(input: { serverId: $id, credentialMode: HOST_ACCOUNT }) {
  __typename ... on CreateSessionSuccess { session { id } } ... on LimitExceededError { code message limit max } } }`;
const LIMITS =
  '{ resourceLimits { version updatedBy global { maxServers maxTotalCpu maxTotalMemory } perUser { maxSessions } } }';
const UPDATE_LIMITS = `mutation($input: UpdateResourceLimitsInput!) { updateResourceLimits(input: $input) {
  __typename ... on UpdateResourceLimitsSuccess { limits { version updatedBy global { maxServers maxTotalCpu } } } ... on Error { code message } } }`;
const USAGE = `query($id: ID!, $w: UsageWindow) { resourceUsage(subjectId: $id, window: $w) {
  subjectKind subjectId window from to latest { at cpuPercent memoryPercent networkInKbps } points { at sampleCount cpuPercent } } }`;
const ALERTS = `query($f: AlertFilter, $first: Int, $after: String) { alerts(filter: $f, first: $first, after: $after) {
  totalCount edges { cursor node { id severity resource subjectKind subjectId subjectName threshold value resolved resolvedBy message } }
  pageInfo { hasNextPage endCursor } } }`;
const RESOLVE = `mutation($id: ID!) { resolveAlert(id: $id) {
  __typename ... on ResolveAlertSuccess { alert { resolved resolvedBy } } ... on Error { code } } }`;

type Gql<T> = { [K: string]: T };

async function metrics(t: TestApp): Promise<Map<string, number>> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('rdp_') || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

const backends: [string, () => Record<string, string>, boolean][] = [
  ['memory', () => ({}), true],
  [
    'mongo (FerretDB)',
    () => ({ MONGODB_URI: uniqueMongoUri(services.mongoUri ?? '', 'resources_api') }),
    need('resources API on mongo', ['mongo']),
  ],
];

for (const [backend, env, enabled] of backends) {
  describe.skipIf(!enabled)(`resources API on ${backend}`, () => {
    let t: TestApp;
    let admin: string;
    let operator: string;
    let alice: string;
    let bob: string;
    const probe = new FakeProbe();
    const rounds: RoundReport[] = [];

    /** Resolves after a round that started after the call has been stored (every second here). */
    async function nextRound(timeoutMs = 8000): Promise<RoundReport> {
      const since = Date.now();
      const deadline = since + timeoutMs;
      while (Date.now() < deadline) {
        const stored = rounds.find((r) => r.leader && r.samples > 0 && Date.parse(r.at) >= since);
        if (stored) return stored;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`no collection round within ${timeoutMs} ms`);
    }

    async function runningServer(name: string, token: string): Promise<string> {
      const created = await t.gql<Gql<{ server: { id: string } }>>(CREATE, { name }, token);
      const id = created.body.data?.createServer?.server.id ?? '';
      const started = await t.gql<Gql<{ __typename: string }>>(START, { id }, token);
      expect(started.body.data?.startServer?.__typename).toBe('StartServerSuccess');
      return id;
    }

    beforeAll(async () => {
      t = await startTestApp(
        { ...env(), XRDP_BINARY: '/nonexistent/xrdp', METRICS_INTERVAL: '1', REFUSE_ON_HOST_OVERLOAD: 'true' },
        { runtime: new FakeServerRuntime(), hostProbe: probe, sessionAccounts: new FakeSessionAccounts() },
      );
      // The collector's rounds, as they finish (the test waits on them, never on sleeps).
      t.app.container.resources.collector.onRound((r) => rounds.push(r));
      admin = await t.token('root', ['admin']);
      operator = await t.token('olga', ['operator']);
      alice = await t.token('alice');
      bob = await t.token('bob');
    });
    afterAll(async () => {
      await t.app.container.mongo?.db.dropDatabase();
      await t.stop();
    });

    it('resourceLimits: operators read version 0 (the environment); admins change it, audited; others are refused', async () => {
      const read = await t.gql<Gql<{ version: number; updatedBy: string }>>(LIMITS, {}, operator);
      expect(read.body.data?.resourceLimits).toMatchObject({
        version: 0,
        updatedBy: 'system',
        global: { maxServers: 50, maxTotalCpu: 80, maxTotalMemory: 80 },
      });
      expect((await t.gql(LIMITS, {}, alice)).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const byOperator = await t.gql(UPDATE_LIMITS, { input: { global: { maxServers: 3 } } }, operator);
      expect(byOperator.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

      const changed = await t.gql<Gql<unknown>>(
        UPDATE_LIMITS,
        { input: { global: { maxServers: 40 }, expectedVersion: 0 } },
        admin,
      );
      expect(changed.body.data?.updateResourceLimits).toEqual({
        __typename: 'UpdateResourceLimitsSuccess',
        limits: { version: 1, updatedBy: 'root', global: { maxServers: 40, maxTotalCpu: 80 } },
      });
      const stale = await t.gql<Gql<unknown>>(
        UPDATE_LIMITS,
        { input: { global: { maxServers: 41 }, expectedVersion: 0 } },
        admin,
      );
      expect(stale.body.data?.updateResourceLimits).toMatchObject({ __typename: 'ConflictError', code: 'CONFLICT' });
      const bad = await t.gql(UPDATE_LIMITS, { input: { global: { maxTotalCpu: 150 } } }, admin);
      expect(bad.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'global.maxTotalCpu' });

      const audit = await t.app.container.audit.list(
        { userId: 'root', username: 'root', roles: ['admin'], permissions: [] },
        {
          action: 'limits.update',
        },
        { first: 10 },
      );
      // The operator's attempt (DENIED, by the API layer), the stale and the bad change, the change.
      expect(audit.items.map((e) => e.result).sort()).toEqual(['DENIED', 'FAILURE', 'FAILURE', 'SUCCESS']);
      expect(audit.items.find((e) => e.result === 'SUCCESS')?.details).toMatchObject({
        version: 1,
        changes: [{ field: 'global.maxServers', from: 50, to: 40 }],
      });
    });

    it('the stored limits are obeyed at admission: maxServers lowered below the count refuses a create', async () => {
      const count = (await t.gql<Gql<{ totalCount: number }>>('{ servers { totalCount } }', {}, admin)).body.data?.servers
        ?.totalCount;
      await t.gql(UPDATE_LIMITS, { input: { global: { maxServers: (count ?? 0) + 1 } } }, admin);
      const one = await t.gql<Gql<{ server?: { id: string } }>>(CREATE, { name: 'last one' }, admin);
      expect(one.body.data?.createServer?.server?.id).toBeTruthy();
      const refused = await t.gql<Gql<{ code: string }>>(CREATE, { name: 'one too many' }, admin);
      expect(refused.body.data?.createServer).toMatchObject({ code: 'LIMIT_EXCEEDED' });
      await t.gql(DELETE, { id: one.body.data?.createServer?.server?.id }, admin);
      await t.gql(UPDATE_LIMITS, { input: { global: { maxServers: 50 } } }, admin);
    });

    it('a host above maxTotalCpu refuses starts and sessions with a clear error, and admits again once it falls', async () => {
      const running = await runningServer('busy host', alice);
      const stopped = (await t.gql<Gql<{ server: { id: string } }>>(CREATE, { name: 'waits' }, alice)).body.data?.createServer
        ?.server.id;
      probe.host = figures({ cpuPercent: 96.2, memoryPercent: 40 });
      await nextRound();
      const start = await t.gql<Gql<unknown>>(START, { id: stopped }, alice);
      expect(start.body.data?.startServer).toEqual({
        __typename: 'LimitExceededError',
        code: 'LIMIT_EXCEEDED',
        limit: 'maxTotalCpu',
        max: 80,
        message:
          'host localhost is at 96% CPU, above the 80% limit (maxTotalCpu): new server starts are refused until it falls; ' +
          'raise global.maxTotalCpu with updateResourceLimits (MAX_CPU_USAGE sets the default), or set REFUSE_ON_HOST_OVERLOAD=false to admit regardless',
      });
      const session = await t.gql<Gql<unknown>>(CREATE_SESSION, { id: running }, alice);
      expect(session.body.data?.createSession).toMatchObject({ __typename: 'LimitExceededError', limit: 'maxTotalCpu' });
      // Limit refusals are audited as DENIED with the limit.
      const denied = await t.app.container.audit.list(
        { userId: 'root', username: 'root', roles: ['admin'], permissions: [] },
        { result: 'DENIED', actorId: 'alice' },
        { first: 20 },
      );
      expect(
        denied.items
          .filter((e) => e.details.limit !== undefined)
          .map((e) => [e.action, e.details.limit])
          .sort(),
      ).toEqual([
        ['server.start', 'maxTotalCpu'],
        ['session.create', 'maxTotalCpu'],
      ]);
      // An admin may raise the limit; the gate follows the document.
      await t.gql(UPDATE_LIMITS, { input: { global: { maxTotalCpu: 99 } } }, admin);
      const admitted = await t.gql<Gql<{ __typename: string }>>(CREATE_SESSION, { id: running }, alice);
      expect(admitted.body.data?.createSession?.__typename).toBe('CreateSessionSuccess');
      await t.gql(UPDATE_LIMITS, { input: { global: { maxTotalCpu: 80 } } }, admin);
      probe.host = figures({ cpuPercent: 12, memoryPercent: 40 });
      await nextRound();
      expect((await t.gql<Gql<{ __typename: string }>>(START, { id: stopped }, alice)).body.data?.startServer?.__typename).toBe(
        'StartServerSuccess',
      );
      for (const id of [running, stopped]) await t.gql(DELETE, { id }, alice);
    });

    it('resourceUsage: owners see their server, others get null; the host is for operators; server.usage is batched', async () => {
      const mine = await runningServer('mine', alice);
      probe.servers.set(mine, figures({ cpuPercent: 33.3, memoryPercent: 2.5, memoryUsedMb: 600, networkInKbps: 120 }));
      await nextRound();
      const usage = await t.gql<Gql<{ latest: { cpuPercent: number }; points: unknown[] }>>(USAGE, { id: mine, w: 'H1' }, alice);
      expect(usage.body.data?.resourceUsage).toMatchObject({
        subjectKind: 'SERVER',
        subjectId: mine,
        window: 'H1',
        latest: { cpuPercent: 33.3, memoryPercent: 2.5, networkInKbps: 120 },
      });
      expect(usage.body.data?.resourceUsage?.points.length).toBeGreaterThan(0);
      expect(usage.body.data?.resourceUsage?.points.length).toBeLessThanOrEqual(300);
      for (const w of ['H6', 'H24', 'D7']) {
        const r = await t.gql<Gql<{ points: { sampleCount: number }[] }>>(USAGE, { id: mine, w }, alice);
        expect(r.body.data?.resourceUsage?.points.length).toBeGreaterThan(0);
      }
      expect((await t.gql(USAGE, { id: mine }, bob)).body.data?.resourceUsage).toBeNull();
      expect((await t.gql(USAGE, { id: 'host' }, alice)).body.data?.resourceUsage).toBeNull();
      const host = await t.gql<Gql<{ subjectId: string }>>(USAGE, { id: 'host' }, operator);
      expect(host.body.data?.resourceUsage?.subjectId).toBe('host:localhost');
      const list = await t.gql<{ servers: { edges: { node: { id: string; usage: { cpuPercent: number } | null } }[] } }>(
        '{ servers(first: 100) { edges { node { id usage { cpuPercent memoryUsedMb subjectKind } } } } }',
        {},
        operator,
      );
      const row = list.body.data?.servers.edges.find((e) => e.node.id === mine);
      expect(row?.node.usage).toEqual({ cpuPercent: 33.3, memoryUsedMb: 600, subjectKind: 'SERVER' });
      await t.gql(DELETE, { id: mine }, alice);
    });

    it('session.usage: the figures of a session xrdp reported a display for', async () => {
      const server = await runningServer('with a session', alice);
      const created = await t.gql<Gql<{ __typename: string; session: { id: string } }>>(CREATE_SESSION, { id: server }, alice);
      expect(created.body.data?.createSession?.__typename).toBe('CreateSessionSuccess');
      const sessionId = created.body.data?.createSession?.session.id ?? '';
      probe.sessions.set(sessionId, figures({ cpuPercent: 4.5, memoryPercent: 0.5, memoryUsedMb: 120 }));
      const reported = await t.app.container.sessions.applyXrdpEvent({
        serverId: server,
        kind: 'LOGIN_SUCCEEDED',
        user: 'alice',
        display: 12,
        clientAddress: '127.0.0.1:50000',
        at: new Date().toISOString(),
      });
      expect(reported?.display).toBe(12);
      const query = () =>
        t.gql<{ session: { usage: unknown } }>(
          'query($id: ID!) { session(id: $id) { usage { subjectKind cpuPercent memoryUsedMb networkInKbps } } }',
          { id: sessionId },
          alice,
        );
      let got = await query();
      // Measured from the first round that lists the session (it has a display now).
      for (let i = 0; i < 5 && !got.body.data?.session.usage; i++) {
        await nextRound();
        got = await query();
      }
      expect(got.body.data?.session.usage).toEqual({
        subjectKind: 'SESSION',
        cpuPercent: 4.5,
        memoryUsedMb: 120,
        networkInKbps: null,
      });
      await t.gql(DELETE, { id: server }, alice);
    });

    it('alerts: one alert and one alertEvents message per crossing; it resolves itself; users see their own', async () => {
      const server = await runningServer('hot', alice);
      const sub = collect<{ alertEvents: { kind: string; alert: { subjectId: string; resource: string; severity: string } } }>(
        t.ws(alice),
        'subscription { alertEvents { kind alert { subjectId resource severity resolved } } }',
      );
      const bobSub = collect<{ alertEvents: { kind: string } }>(t.ws(bob), 'subscription { alertEvents { kind } }');
      await nextRound();
      probe.servers.set(server, figures({ cpuPercent: 91, memoryPercent: 3 }));
      await nextRound();
      await nextRound();
      await nextRound();
      const mine = () => sub.items.filter((i) => i.data?.alertEvents.alert.subjectId === server);
      await sub.until(() => mine().length >= 1);
      const open = await t.gql<Gql<{ totalCount: number; edges: { node: { id: string } }[] }>>(
        ALERTS,
        { f: { subject: server, resolved: false } },
        alice,
      );
      expect(open.body.data?.alerts?.totalCount).toBe(1);
      expect(open.body.data?.alerts?.edges[0]?.node).toMatchObject({
        severity: 'HIGH',
        resource: 'CPU',
        subjectKind: 'SERVER',
        subjectName: 'hot',
        threshold: 80,
        value: 91,
        resolved: false,
        resolvedBy: null,
      });
      expect(mine().map((i) => i.data?.alertEvents.kind)).toEqual(['RAISED']);
      expect(
        (await t.gql<Gql<{ totalCount: number }>>(ALERTS, { f: { subject: server } }, bob)).body.data?.alerts?.totalCount,
      ).toBe(0);

      probe.servers.set(server, figures({ cpuPercent: 5, memoryPercent: 3 }));
      await nextRound();
      await sub.until(() => mine().length >= 2);
      expect(mine().map((i) => i.data?.alertEvents.kind)).toEqual(['RAISED', 'RESOLVED']);
      expect(bobSub.items.filter((i) => i.data?.alertEvents.kind !== 'SNAPSHOT')).toEqual([]);
      const all = await t.gql<Gql<{ totalCount: number }>>(ALERTS, { f: { subject: server } }, operator);
      expect(all.body.data?.alerts?.totalCount).toBe(1);
      sub.dispose();
      bobSub.dispose();
      await t.gql(DELETE, { id: server }, alice);
    });

    it('resolveAlert: operators only; a resolved alert is not raised again while the value stays high', async () => {
      const server = await runningServer('stays hot', alice);
      probe.servers.set(server, figures({ cpuPercent: 97, memoryPercent: 3 }));
      await nextRound();
      await nextRound();
      const open = await t.gql<Gql<{ edges: { node: { id: string; severity: string } }[] }>>(
        ALERTS,
        { f: { subject: server, resolved: false } },
        operator,
      );
      const alert = open.body.data?.alerts?.edges[0]?.node;
      expect(alert?.severity).toBe('CRITICAL');
      expect((await t.gql(RESOLVE, { id: alert?.id }, alice)).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const resolved = await t.gql<Gql<unknown>>(RESOLVE, { id: alert?.id }, operator);
      expect(resolved.body.data?.resolveAlert).toEqual({
        __typename: 'ResolveAlertSuccess',
        alert: { resolved: true, resolvedBy: 'olga' },
      });
      expect((await t.gql<Gql<unknown>>(RESOLVE, { id: alert?.id }, operator)).body.data?.resolveAlert).toMatchObject({
        __typename: 'ConflictError',
      });
      await nextRound();
      await nextRound();
      const again = await t.gql<Gql<{ totalCount: number }>>(ALERTS, { f: { subject: server } }, operator);
      expect(again.body.data?.alerts?.totalCount).toBe(1);
      // Paging: first 1, then the rest after its cursor.
      const page = await t.gql<Gql<{ pageInfo: { hasNextPage: boolean; endCursor: string } }>>(ALERTS, { first: 1 }, operator);
      const next = await t.gql<Gql<{ edges: unknown[] }>>(
        ALERTS,
        { first: 100, after: page.body.data?.alerts?.pageInfo.endCursor },
        operator,
      );
      const total = (await t.gql<Gql<{ totalCount: number }>>(ALERTS, {}, operator)).body.data?.alerts?.totalCount ?? 0;
      expect(next.body.data?.alerts?.edges.length).toBe(total - 1);
      await t.gql(DELETE, { id: server }, alice);
    });

    it('resourceUsage subscription: the latest sample first (SNAPSHOT), then each new sample; hidden subjects fail as missing', async () => {
      const server = await runningServer('streamed', alice);
      probe.servers.set(server, figures({ cpuPercent: 7, memoryPercent: 1 }));
      await nextRound();
      const sub = collect<{
        resourceUsage: { kind: string; sample: { subjectId: string; at: string; cpuPercent: number } | null };
      }>(t.ws(alice), 'subscription($id: ID!) { resourceUsage(subjectId: $id) { kind sample { subjectId at cpuPercent } } }', {
        id: server,
      });
      await sub.until(() => sub.items.length >= 3, 8000);
      const kinds = sub.items.map((i) => i.data?.resourceUsage.kind);
      expect(kinds[0]).toBe('SNAPSHOT');
      expect(kinds.slice(1).every((k) => k === 'SAMPLE')).toBe(true);
      const times = sub.items.map((i) => i.data?.resourceUsage.sample?.at ?? '');
      expect([...times].sort()).toEqual(times);
      expect(new Set(times).size).toBe(times.length);
      sub.dispose();
      const hidden = collect(t.ws(bob), 'subscription($id: ID!) { resourceUsage(subjectId: $id) { kind } }', { id: server });
      await hidden.until(() => hidden.ended || hidden.items.length > 0);
      expect(JSON.stringify(hidden.items[0] ?? hidden.failure)).toContain('NOT_FOUND');
      await t.gql(DELETE, { id: server }, alice);
    });

    it('fleetUsage: newest samples first (SNAPSHOT), then one message per round with the samples of every server the caller may see, and only those', async () => {
      const mine = [await runningServer('fleet-usage-a1', alice), await runningServer('fleet-usage-a2', alice)];
      const bobs = await runningServer('fleet-usage-b', bob);
      probe.servers.set(mine[0] ?? '', figures({ cpuPercent: 11, memoryPercent: 2 }));
      probe.servers.set(bobs, figures({ cpuPercent: 22, memoryPercent: 3 }));
      await nextRound();
      const document = 'subscription { fleetUsage { kind at samples { subjectKind subjectId at cpuPercent } } }';
      type Usage = {
        fleetUsage: { kind: string; at: string; samples: { subjectKind: string; subjectId: string; at: string }[] };
      };
      const alices = collect<Usage>(t.ws(alice), document);
      const operators = collect<Usage>(t.ws(operator), document);
      const rounds = (sub: typeof alices) =>
        sub.items.map((i) => i.data?.fleetUsage).filter((u) => u?.kind === 'ROUND') as Usage['fleetUsage'][];
      await alices.until(() => rounds(alices).length >= 3, 10_000);
      await operators.until(() => rounds(operators).length >= 3, 10_000);
      expect(alices.items[0]?.data?.fleetUsage.kind).toBe('SNAPSHOT');
      expect(alices.items[0]?.data?.fleetUsage.samples.map((x) => x.subjectId)).toEqual(expect.arrayContaining(mine));
      const visible = new Set(
        (
          (
            await t.gql<Gql<{ edges: { node: { id: string } }[] }>>(
              '{ servers(first: 100) { edges { node { id } } } }',
              {},
              alice,
            )
          ).body.data?.servers?.edges ?? []
        ).map((e) => e.node.id),
      );
      for (const u of alices.items.map((i) => i.data?.fleetUsage)) {
        const ids = u?.samples.map((x) => x.subjectId) ?? [];
        // Only alice's servers, never bob's; all of the round's in one message.
        expect(ids.every((id) => visible.has(id))).toBe(true);
        expect(ids).not.toContain(bobs);
        expect(ids).toEqual(expect.arrayContaining(mine));
        expect(new Set(ids).size).toBe(ids.length);
        expect(u?.samples.every((x) => x.subjectKind === 'SERVER')).toBe(true);
      }
      // One message per round: each round's time once, and every sample of it carries that time.
      const times = rounds(alices).map((r) => r.at);
      expect(new Set(times).size).toBe(times.length);
      for (const r of rounds(alices)) expect(r.samples.every((x) => x.at === r.at)).toBe(true);
      // The operator's rounds hold everyone's servers.
      for (const r of rounds(operators))
        expect(r.samples.map((x) => x.subjectId)).toEqual(expect.arrayContaining([...mine, bobs]));
      alices.dispose();
      operators.dispose();
      for (const id of [...mine, bobs]) await t.gql(DELETE, { id }, admin);
    });

    it('/metrics: the gauges carry the values the API shows, and a deleted server has no series', async () => {
      const server = await runningServer('scraped', alice);
      probe.servers.set(server, figures({ cpuPercent: 42.5, memoryPercent: 6.25, networkInKbps: 800, networkOutKbps: 1600 }));
      probe.host = figures({
        cpuPercent: 30,
        memoryPercent: 40,
        memoryUsedMb: 1000,
        diskPercent: 55,
        networkInKbps: 9,
        networkOutKbps: 3,
      });
      await nextRound();
      await nextRound();
      const api = await t.gql<{ server: { usage: Record<string, number> } }>(
        'query($id: ID!) { server(id: $id) { usage { cpuPercent memoryPercent networkInKbps networkOutKbps } } }',
        { id: server },
        alice,
      );
      const m = await metrics(t);
      const label = `{server_id="${server}"}`;
      expect({
        cpuPercent: m.get(`rdp_cpu_usage_percent${label}`),
        memoryPercent: m.get(`rdp_memory_usage_percent${label}`),
        networkInKbps: m.get(`rdp_network_in_kbps${label}`),
        networkOutKbps: m.get(`rdp_network_out_kbps${label}`),
      }).toEqual(api.body.data?.server.usage);
      expect(m.get('rdp_host_cpu_usage_percent{host="localhost"}')).toBe(30);
      expect(m.get('rdp_host_disk_usage_percent{host="localhost"}')).toBe(55);
      const running = m.get('rdp_servers_total{status="RUNNING"}');
      const count = await t.gql<Gql<{ totalCount: number }>>(
        '{ servers(filter: { status: RUNNING }) { totalCount } }',
        {},
        admin,
      );
      expect(running).toBe(count.body.data?.servers?.totalCount);

      await t.gql(STOP, { id: server }, alice);
      await t.gql(DELETE, { id: server }, alice);
      const after = await metrics(t);
      expect([...after.keys()].filter((k) => k.includes(server))).toEqual([]);
      // No session or user id ever labels a series.
      expect([...after.keys()].filter((k) => /session_id|user_id|owner/.test(k))).toEqual([]);
    });
  });
}

describe('resourceUsage subscribers of one subject share one execution per sample', () => {
  it('three WebSocket subscribers of the same subject and role share one stream and get the same samples', async () => {
    const probe = new FakeProbe();
    const t = await startTestApp(
      { XRDP_BINARY: '/nonexistent/xrdp', METRICS_INTERVAL: '1' },
      { runtime: new FakeServerRuntime(), hostProbe: probe },
    );
    try {
      const document = 'subscription { resourceUsage(subjectId: "host") { kind sample { at cpuPercent } } }';
      type Usage = { resourceUsage: { kind: string; sample: { at: string } | null } };
      const subs = await Promise.all(
        ['olga', 'oscar', 'otto'].map(async (user) => collect<Usage>(t.ws(await t.token(user, ['operator'])), document)),
      );
      const samples = (s: (typeof subs)[number]) =>
        s.items.filter((i) => i.data?.resourceUsage.kind === 'SAMPLE').map((i) => i.data?.resourceUsage.sample?.at);
      for (const s of subs) await s.until(() => samples(s).length >= 3, 20_000);
      // The first sample each saw may precede another's hand-over; from then on all see the same.
      const last = samples(subs[0] as (typeof subs)[number]).at(-1);
      for (const s of subs) expect(samples(s)).toContain(last);
      // One execution per sample: the three share one stream (the gauge counts shared streams).
      expect((await metrics(t)).get('rdp_subscription_streams_shared')).toBe(1);
      for (const s of subs) s.dispose();
      await vi.waitFor(async () => expect((await metrics(t)).get('rdp_subscription_streams_shared')).toBe(0), {
        timeout: 5000,
      });
    } finally {
      await t.stop();
    }
  });
});
