import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestApp, type TestApp } from '../support/app-harness.js';

/** rdp_graphql_operations_total rows as `type field result` -> value. */
async function operationCounts(t: TestApp): Promise<Record<string, number>> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  const rows: Record<string, number> = {};
  for (const m of text.matchAll(/^rdp_graphql_operations_total\{([^}]*)\} (\S+)$/gm)) {
    const labels = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    rows[`${labels.type} ${labels.field} ${labels.result}`] = Number(m[2]);
  }
  return rows;
}

async function post(t: TestApp, token: string, body: Record<string, unknown>) {
  const res = await fetch(`${t.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return (await res.json()) as { data?: unknown; errors?: unknown[] };
}

describe('per-operation metrics: labelled by root field from the schema, never by the client’s names', () => {
  let t: TestApp;
  beforeAll(async () => {
    // A tight server limit, so one operation is refused by the rate limiter.
    t = await startTestApp({ RATE_LIMIT_SERVERS_PER_MIN: '3', RATE_LIMIT_BURST_FACTOR: '1' });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('counts each executed operation once per root field with its result, and times queries and mutations', async () => {
    const admin = await t.token('ada', ['admin']);
    const user = await t.token('uma', ['user']);
    const created = await post(t, admin, {
      operationName: 'Create_Server_From_Console_v2',
      query:
        'mutation Create_Server_From_Console_v2 { a: createServer(input: { name: "m1" }) { __typename } b: createServer(input: { name: "m2" }) { __typename } }',
    });
    expect(created.errors).toBeUndefined();
    // Two operations in one document: only the chosen one counts.
    await post(t, admin, {
      operationName: 'Pick',
      query: 'query Pick { servers(first: 1) { totalCount } } query NotPicked { auditEvents(first: 1) { totalCount } }',
    });
    // A fragment at the root is followed to its fields.
    await post(t, admin, { query: 'query { ...F } fragment F on Query { __typename }' });
    // A user may not read the xrdp configuration: the response carries an error.
    const forbidden = await post(t, user, { query: 'query WhoKnows { xrdpConfig { version } }' });
    expect(forbidden.errors?.length).toBeGreaterThan(0);
    // The rate limit (3 server operations, both createServer calls counted) refuses this one.
    const limited = await post(t, admin, { query: '{ servers(first: 1) { totalCount } }' });
    expect(limited.errors?.length).toBeGreaterThan(0);

    const counts = await operationCounts(t);
    expect(counts).toEqual({
      'mutation createServer ok': 1,
      'query servers ok': 1,
      'query servers error': 1,
      'query __typename ok': 1,
      'query xrdpConfig error': 1,
    });
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(text).toMatch(/^rdp_graphql_operation_duration_seconds_count\{type="mutation",field="createServer"\} 1$/m);
    expect(text).not.toMatch(/Create_Server_From_Console_v2|NotPicked|WhoKnows|auditEvents/);
  });
});

describe('per-operation metrics over WebSocket', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('counts a subscription once when it starts, not per event', async () => {
    const admin = await t.token('ada', ['admin']);
    const created = await t.gql<{ createServer: { server: { id: string } } }>(
      'mutation { createServer(input: { name: "watched" }) { ... on CreateServerSuccess { server { id } } } }',
      {},
      admin,
    );
    const id = created.body.data?.createServer.server.id;
    const client = t.ws(admin);
    const events: unknown[] = [];
    const done = new Promise<void>((resolve, reject) => {
      client.subscribe(
        { query: 'subscription Watch($id: ID!) { serverEvents(serverId: $id) { kind } }', variables: { id } },
        { next: (v) => events.push(v), error: reject, complete: resolve },
      );
    });
    await vi.waitFor(() => expect(events.length).toBeGreaterThan(0), { timeout: 5000 });
    await t.gql('mutation($id: ID!) { updateServer(id: $id, input: { description: "x" }) { __typename } }', { id }, admin);
    await vi.waitFor(() => expect(events.length).toBeGreaterThan(1), { timeout: 5000 });
    await client.dispose();
    await done.catch(() => undefined);
    const counts = await operationCounts(t);
    expect(counts['subscription serverEvents ok']).toBe(1);
    expect(Object.keys(counts).filter((k) => k.startsWith('subscription'))).toEqual(['subscription serverEvents ok']);
  });
});
