import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, startTestApp, TEST_SECRET, type TestApp } from '../support/app-harness.js';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

const CREATE = `mutation($name: String!) { createServer(input: { name: $name }) {
  __typename ... on CreateServerSuccess { server { id port owner } } } }`;
const GET = 'query($id: ID!) { server(id: $id) { id name } }';

describe('auth over HTTP and WebSocket', () => {
  let t: TestApp;
  let aliceServerId: string;

  beforeAll(async () => {
    t = await startTestApp();
    const r = await t.gql<{ createServer: { server: { id: string } } }>(CREATE, { name: 'alice-1' }, await t.token('alice'));
    aliceServerId = r.body.data?.createServer.server.id ?? '';
    expect(aliceServerId).toMatch(/^[0-9a-f-]{36}$/);
  });
  afterAll(() => t.stop());

  const badTokens: [string, () => Promise<string>][] = [
    ['malformed', async () => 'not-a-jwt'],
    ['expired', () => t.token('alice', ['admin'], -120)],
    ['alg none', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'alice', roles: ['admin'], exp: now() + 600 })}.`],
    [
      'without exp',
      () =>
        new SignJWT({ roles: ['admin'] })
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('alice')
          .sign(new TextEncoder().encode(TEST_SECRET)),
    ],
    [
      'signed with a wrong secret',
      () =>
        new SignJWT({ roles: ['admin'] })
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('alice')
          .setExpirationTime(now() + 600)
          .sign(new TextEncoder().encode('another-secret-that-is-also-32-bytes-long')),
    ],
  ];

  for (const [name, make] of badTokens) {
    it(`a ${name} token gets UNAUTHENTICATED and no data`, async () => {
      const r = await t.gql(GET, { id: aliceServerId }, await make());
      expect(r.body.data ?? null).toBeNull();
      expect(r.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    });
  }

  it('a missing token gets UNAUTHENTICATED and no data', async () => {
    const r = await t.gql(GET, { id: aliceServerId });
    expect(r.body.data?.server ?? null).toBeNull();
    expect(r.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('a non-bearer Authorization header gets UNAUTHENTICATED', async () => {
    const res = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Basic YWxpY2U6eA==' },
      body: JSON.stringify({ query: '{ viewer { userId } }' }),
    });
    const body = (await res.json()) as { data?: unknown; errors: { extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe('UNAUTHENTICATED');
    expect(body.data ?? null).toBeNull();
  });

  it("a user cannot read another user's server: it answers as a missing one", async () => {
    const bob = await t.token('bob');
    const mine = await t.gql(GET, { id: aliceServerId }, bob);
    const missing = await t.gql(GET, { id: '00000000-0000-4000-8000-000000000000' }, bob);
    expect(mine.body).toEqual(missing.body);
    expect(mine.body.data).toEqual({ server: null });
    const list = await t.gql<{ servers: { totalCount: number } }>('{ servers { totalCount } }', {}, bob);
    expect(list.body.data?.servers.totalCount).toBe(0);
  });

  it("a user cannot change another user's server: NotFoundError, and nothing changes", async () => {
    const bob = await t.token('bob');
    for (const m of [
      `mutation($id: ID!) { updateServer(id: $id, input: { name: "pwned" }) { __typename ... on NotFoundError { code } } }`,
      'mutation($id: ID!) { startServer(id: $id) { __typename ... on NotFoundError { code } } }',
      'mutation($id: ID!) { stopServer(id: $id) { __typename ... on NotFoundError { code } } }',
      'mutation($id: ID!) { deleteServer(id: $id) { __typename ... on NotFoundError { code } } }',
    ]) {
      const r = await t.gql<Record<string, { __typename: string; code: string }>>(m, { id: aliceServerId }, bob);
      expect(Object.values(r.body.data ?? {})[0]).toEqual({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
    }
    const after = await t.gql<{ server: { name: string } }>(GET, { id: aliceServerId }, await t.token('alice'));
    expect(after.body.data?.server.name).toBe('alice-1');
  });

  it("a user cannot subscribe to another user's server; an operator can", async () => {
    const query = 'subscription($id: ID!) { serverEvents(serverId: $id) { kind server { id } } }';
    const bob = collect(t.ws(await t.token('bob')), query, { id: aliceServerId });
    await bob.until(() => bob.ended);
    expect(bob.items.length).toBe(1);
    expect(bob.items[0]?.data ?? null).toBeNull();
    expect(bob.items[0]?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    const op = collect<{ serverEvents: { kind: string; server: { id: string } } }>(
      t.ws(await t.token('olga', ['operator'])),
      query,
      { id: aliceServerId },
    );
    await op.until(() => op.items.length >= 1);
    expect(op.items[0]?.data?.serverEvents).toEqual({ kind: 'SNAPSHOT', server: { id: aliceServerId } });
    op.dispose();
  });

  it("an operator can read and change any user's server", async () => {
    const op = await t.token('olga', ['operator']);
    const r = await t.gql<{ server: { id: string } }>(GET, { id: aliceServerId }, op);
    expect(r.body.data?.server.id).toBe(aliceServerId);
    const u = await t.gql<{ updateServer: { __typename: string } }>(
      'mutation($id: ID!) { updateServer(id: $id, input: { description: "checked" }) { __typename } }',
      { id: aliceServerId },
      op,
    );
    expect(u.body.data?.updateServer.__typename).toBe('UpdateServerSuccess');
  });

  it('setServerMaintenance is refused for an operator with FORBIDDEN', async () => {
    const r = await t.gql(
      'mutation($id: ID!) { setServerMaintenance(id: $id, enabled: true) { __typename } }',
      { id: aliceServerId },
      await t.token('olga', ['operator']),
    );
    expect(r.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('a WebSocket connection_init with an invalid token is refused', async () => {
    const client = t.ws('garbage.token.here');
    const sub = collect(client, '{ viewer { userId } }');
    await sub.until(() => sub.ended);
    expect(sub.items).toEqual([]);
    expect((sub.failure as { code?: number }).code).toBe(4403);
  });

  it('a WebSocket query with a valid token sees the viewer', async () => {
    const sub = collect<{ viewer: { userId: string; roles: string[] } }>(
      t.ws(await t.token('carol', ['operator'])),
      '{ viewer { userId roles } }',
    );
    await sub.until(() => sub.ended);
    expect(sub.items[0]?.data?.viewer).toEqual({ userId: 'carol', roles: ['operator'] });
  });
});
