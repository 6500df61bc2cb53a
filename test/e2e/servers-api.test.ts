import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerEvent } from '../../src/domain/servers/server-events.js';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';

const CREATE = `mutation($input: CreateServerInput!) { createServer(input: $input) {
  __typename
  ... on CreateServerSuccess { server { id name port status owner createdBy configuration { desktop resolution colorDepth maxSessions } resources { cpuLimit memoryLimitMb } } }
  ... on Error { code message }
} }`;
const DELETE = `mutation($id: ID!) { deleteServer(id: $id) { __typename ... on DeleteServerSuccess { server { id port } } } }`;

type CreateResult = {
  createServer: {
    __typename: string;
    code?: string;
    server?: { id: string; port: number; status: string; owner: string; name: string };
  };
};

async function metricValue(t: TestApp, line: string): Promise<number> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  const row = text.split('\n').find((l) => l.startsWith(`${line} `));
  return row ? Number(row.split(' ')[1]) : Number.NaN;
}

const backends: [string, () => Record<string, string>, boolean][] = [
  ['memory', () => ({}), true],
  [
    'mongo (FerretDB)',
    () => ({ MONGODB_URI: uniqueMongoUri(services.mongoUri ?? '', 'api') }),
    need('servers API on mongo', ['mongo']),
  ],
];

for (const [backend, env, enabled] of backends) {
  describe.skipIf(!enabled)(`servers API on ${backend}`, () => {
    let t: TestApp;
    let admin: string;
    const published: ServerEvent[] = [];

    beforeAll(async () => {
      t = await startTestApp({ ...env(), XRDP_BINARY: '/nonexistent/xrdp' });
      const events = t.app.container.events;
      const original = events.publish.bind(events);
      events.publish = (topic, id, payload) => {
        if (topic === 'server:changed') published.push(payload as ServerEvent);
        original(topic, id, payload);
      };
      admin = await t.token('alice', ['admin']);
    });
    afterAll(async () => {
      await t.app.container.mongo?.db.dropDatabase();
      await t.stop();
    });

    it('createServer hands out 33890, then 33891; deleting the first frees 33890 for the next create', async () => {
      const created0 = await metricValue(t, 'rdp_servers_created_total');
      const a = await t.gql<CreateResult>(CREATE, { input: { name: '  first  ' } }, admin);
      expect(a.body.data?.createServer.__typename).toBe('CreateServerSuccess');
      expect(a.body.data?.createServer.server).toMatchObject({ name: 'first', port: 33890, status: 'STOPPED', owner: 'alice' });
      const b = await t.gql<CreateResult>(CREATE, { input: { name: 'second' } }, admin);
      expect(b.body.data?.createServer.server?.port).toBe(33891);
      expect(await metricValue(t, 'rdp_servers_created_total')).toBe(created0 + 2);
      expect(await metricValue(t, 'rdp_servers_total{status="STOPPED"}')).toBe(2);

      const del = await t.gql<{ deleteServer: { __typename: string } }>(
        DELETE,
        { id: a.body.data?.createServer.server?.id },
        admin,
      );
      expect(del.body.data?.deleteServer.__typename).toBe('DeleteServerSuccess');
      expect(await metricValue(t, 'rdp_servers_deleted_total')).toBe(1);
      expect(published.at(-1)?.kind).toBe('DELETED');

      const c = await t.gql<CreateResult>(CREATE, { input: { name: 'third' } }, admin);
      expect(c.body.data?.createServer.server?.port).toBe(33890);
      expect(await metricValue(t, 'rdp_servers_total{status="STOPPED"}')).toBe(2);
    });

    const badInputs: [string, Record<string, unknown>, string][] = [
      ['a blank name', { name: '   ' }, 'name'],
      ['a 256-character name', { name: 'x'.repeat(256) }, 'name'],
      ['resolution abc', { name: 'ok', configuration: { resolution: 'abc' } }, 'configuration.resolution'],
      ['colorDepth 8', { name: 'ok', configuration: { colorDepth: 8 } }, 'configuration.colorDepth'],
      ['memoryLimitMb 1000', { name: 'ok', resources: { memoryLimitMb: 1000 } }, 'resources.memoryLimitMb'],
      ['cpuLimit 10', { name: 'ok', resources: { cpuLimit: 10 } }, 'resources.cpuLimit'],
    ];
    for (const [what, input, field] of badInputs) {
      it(`createServer with ${what} is BAD_USER_INPUT naming ${field}; nothing stored, no event`, async () => {
        const before = await t.gql<{ servers: { totalCount: number } }>('{ servers { totalCount } }', {}, admin);
        const eventsBefore = published.length;
        const r = await t.gql<CreateResult>(CREATE, { input }, admin);
        expect(r.body.data ?? null).toBeNull();
        expect(r.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
        expect(r.body.errors?.[0]?.message).toContain(field);
        const after = await t.gql<{ servers: { totalCount: number } }>('{ servers { totalCount } }', {}, admin);
        expect(after.body.data?.servers.totalCount).toBe(before.body.data?.servers.totalCount);
        expect(published.length).toBe(eventsBefore);
      });
    }

    it('startServer without xrdp installed answers RuntimeUnavailableError with the install hint and leaves STOPPED', async () => {
      const c = await t.gql<CreateResult>(CREATE, { input: { name: 'no-xrdp' } }, admin);
      const id = c.body.data?.createServer.server?.id;
      const eventsBefore = published.length;
      const r = await t.gql<{ startServer: { __typename: string; message: string } }>(
        'mutation($id: ID!) { startServer(id: $id) { __typename ... on Error { message } } }',
        { id },
        admin,
      );
      expect(r.body.data?.startServer).toEqual({
        __typename: 'RuntimeUnavailableError',
        message: 'xrdp is not installed on this host (install the xrdp package)',
      });
      const s = await t.gql<{ server: { status: string } }>('query($id: ID!) { server(id: $id) { status } }', { id }, admin);
      expect(s.body.data?.server.status).toBe('STOPPED');
      expect(published.length).toBe(eventsBefore);
    });

    it('stopServer on a stopped server is a ConflictError', async () => {
      const c = await t.gql<CreateResult>(CREATE, { input: { name: 'idle' } }, admin);
      const r = await t.gql<{ stopServer: { __typename: string; code: string } }>(
        'mutation($id: ID!) { stopServer(id: $id) { __typename ... on Error { code } } }',
        { id: c.body.data?.createServer.server?.id },
        admin,
      );
      expect(r.body.data?.stopServer).toEqual({ __typename: 'ConflictError', code: 'CONFLICT' });
    });

    it('servers pages forward with cursors, totalCount and a filter; first over 100 is BAD_USER_INPUT', async () => {
      const user = await t.token('pager');
      for (let i = 0; i < 5; i++) await t.gql(CREATE, { input: { name: `p${i}` } }, user);
      const q = `query($after: String) { servers(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { name } } } }`;
      const names: string[] = [];
      let after: string | null = null;
      for (let page = 0; page < 5; page++) {
        const r: {
          body: {
            data?: {
              servers: {
                totalCount: number;
                pageInfo: { hasNextPage: boolean; endCursor: string };
                edges: { node: { name: string } }[];
              };
            } | null;
          };
        } = await t.gql(q, { after }, user);
        const s = r.body.data?.servers;
        expect(s?.totalCount).toBe(5);
        names.push(...(s?.edges.map((e) => e.node.name) ?? []));
        if (!s?.pageInfo.hasNextPage) break;
        after = s.pageInfo.endCursor;
      }
      expect(names).toEqual(['p0', 'p1', 'p2', 'p3', 'p4']);
      const filtered = await t.gql<{ servers: { totalCount: number } }>(
        '{ servers(filter: { status: RUNNING }) { totalCount } }',
        {},
        user,
      );
      expect(filtered.body.data?.servers.totalCount).toBe(0);
      const tooMany = await t.gql('{ servers(first: 101) { totalCount } }', {}, user);
      expect(tooMany.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    });

    it('maxServers caps creation with a LimitExceededError', async () => {
      const limits = t.app.container.limits;
      const current = await limits.get();
      const total = (await t.gql<{ servers: { totalCount: number } }>('{ servers { totalCount } }', {}, admin)).body.data?.servers
        .totalCount;
      limits.set({ ...current, global: { ...current.global, maxServers: total ?? 0 } });
      try {
        const r = await t.gql<CreateResult>(CREATE, { input: { name: 'one-too-many' } }, admin);
        expect(r.body.data?.createServer).toMatchObject({ __typename: 'LimitExceededError', code: 'LIMIT_EXCEEDED' });
      } finally {
        limits.set(current);
      }
    });
  });
}
