import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/app/logger.js';
import { runInRequestScope } from '../../src/app/request-scope.js';
import { collect, startTestApp, TEST_SECRET, type TestApp } from '../support/app-harness.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { FakeSessionAccounts } from '../support/fake-session-accounts.js';

/** Every line the logger writes, as written. */
function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'trace', destination: stream }) };
}

type Line = Record<string, unknown> & { msg?: string; requestId?: string };

function serverIdOf(body: { data?: Record<string, unknown> }): string {
  const id = (body.data?.createServer as { server?: { id?: string } } | undefined)?.server?.id;
  if (!id) throw new Error(`createServer failed: ${JSON.stringify(body)}`);
  return id;
}

describe('logs', () => {
  const { lines, logger } = capture();
  const accounts = new FakeSessionAccounts();
  const responses: string[] = [];
  let t: TestApp;
  let admin: string;
  let alice: string;

  beforeAll(async () => {
    t = await startTestApp(
      { XRDP_BINARY: '/nonexistent/xrdp', LOG_LEVEL: 'trace' },
      { logger, runtime: new FakeServerRuntime(), sessionAccounts: accounts },
    );
    admin = await t.token('root', ['admin']);
    alice = await t.token('alice');
  });
  afterAll(() => t.stop());

  const parsed = (): Line[] => lines.map((l) => JSON.parse(l) as Line);

  async function post(query: string, token: string, headers: Record<string, string> = {}) {
    const res = await fetch(`${t.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
      body: JSON.stringify({ query }),
    });
    const text = await res.text();
    responses.push(text);
    return { requestId: res.headers.get('x-request-id'), body: JSON.parse(text) as { data?: Record<string, unknown> } };
  }

  it('a run with bearer tokens and an EPHEMERAL session logs neither the JWT nor the one-time password', async () => {
    const created = await post(
      'mutation { createServer(input: { name: "logged" }) { ... on CreateServerSuccess { server { id } } } }',
      alice,
    );
    const id = serverIdOf(created.body);
    await post(`mutation { startServer(id: "${id}") { __typename } }`, alice);
    const session = await post(
      `mutation { createSession(input: { serverId: "${id}", credentialMode: EPHEMERAL }) {
        ... on CreateSessionSuccess { session { id } connection { password } } } }`,
      alice,
    );
    const admission = session.body.data?.createSession as { session: { id: string }; connection: { password: string } };
    const password = admission.connection.password;
    expect(accounts.created.map((a) => a.password)).toEqual([password]);
    // Over WebSocket as well: the token travels in connection_init.
    const sub = collect(t.ws(alice), `subscription { sessionEvents(sessionId: "${admission.session.id}") { kind } }`);
    await sub.until(() => sub.items.length >= 1);
    await post(`mutation { terminateSession(id: "${admission.session.id}", force: true) { __typename } }`, alice);
    await sub.until(() => sub.ended);
    // Things that do log: an admin's service control, a failure that is masked, a bad token.
    await post('mutation { controlXrdpService(action: START) { __typename } }', admin);
    accounts.createFailure = new Error('useradd: cannot lock /etc/passwd; try again later');
    await post(`mutation { createSession(input: { serverId: "${id}", credentialMode: EPHEMERAL }) { __typename } }`, alice);
    accounts.createFailure = null;
    await post('{ viewer { userId } }', `${alice.slice(0, -4)}AAAA`);
    // And a logger call that names secrets outright is redacted.
    logger.info({ token: alice, password, authorization: `Bearer ${admin}`, nested: { password } }, `careless ${admin}`);

    const all = lines.join('\n');
    expect(lines.length).toBeGreaterThan(3);
    for (const jwt of [alice, admin]) {
      expect(all).not.toContain(jwt);
      expect(all).not.toContain(jwt.split('.')[2]);
    }
    expect(all).not.toContain(password);
    expect(all).not.toContain(TEST_SECRET);
    expect(all).not.toContain('sha256$');
    // Responses carry the password once (that is what createSession is for), never a token.
    for (const body of responses) {
      expect(body).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
      expect(body).not.toContain(TEST_SECRET);
    }
  });

  it('every line is JSON; lines written while serving carry that request id, masked errors included', async () => {
    const entries = parsed();
    const control = entries.find((l) => l.msg === 'xrdp service control');
    expect(control?.requestId).toMatch(/^[\w.:-]+$/);

    const { requestId } = await (async () => {
      accounts.createFailure = new Error('disk full');
      try {
        const again = await post(
          'mutation { createServer(input: { name: "again" }) { ... on CreateServerSuccess { server { id } } } }',
          alice,
        );
        const id = serverIdOf(again.body);
        await post(`mutation { startServer(id: "${id}") { __typename } }`, alice);
        return await post(
          `mutation { createSession(input: { serverId: "${id}", credentialMode: EPHEMERAL }) { __typename } }`,
          alice,
          { 'x-request-id': 'trace-me-42' },
        );
      } finally {
        accounts.createFailure = null;
      }
    })();
    expect(requestId).toBe('trace-me-42');
    const masked = parsed().filter((l) => l.msg === 'unexpected error in a GraphQL operation');
    expect(masked.length).toBe(2);
    expect(masked.at(-1)).toMatchObject({ requestId: 'trace-me-42', err: { message: 'disk full' } });
    // Logged once, by the plugin that knows the request, not again by the masking step.
    expect(masked.every((l) => typeof l.requestId === 'string')).toBe(true);
  });

  it('a masked error over WebSocket is logged with its operation request id', async () => {
    const before = parsed().length;
    const c = await post(
      'mutation { createServer(input: { name: "ws" }) { ... on CreateServerSuccess { server { id } } } }',
      alice,
    );
    const id = serverIdOf(c.body);
    await post(`mutation { startServer(id: "${id}") { __typename } }`, alice);
    accounts.createFailure = new Error('ws failure');
    const client = t.ws(alice);
    const result = await new Promise<{ errors?: { extensions?: { code?: string } }[] }>((resolve, reject) => {
      client.subscribe(
        { query: `mutation { createSession(input: { serverId: "${id}", credentialMode: EPHEMERAL }) { __typename } }` },
        { next: (v) => resolve(v as never), error: reject, complete: () => undefined },
      );
    });
    accounts.createFailure = null;
    expect(result.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    const line = parsed()
      .slice(before)
      .find((l) => l.msg === 'unexpected error in a GraphQL operation');
    expect(line?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(line?.err).toMatchObject({ message: 'ws failure' });
  });

  it('the request scope reaches every line written inside it, and a JWT anywhere in a line is masked', () => {
    const { lines: out, logger: l } = capture();
    runInRequestScope({ requestId: 'scoped-1' }, () => l.warn({ detail: 'x' }, 'inside'));
    l.warn('outside');
    l.error({ err: new Error(`bad header Bearer ${admin}`) }, 'oops');
    const [inside, outside, oops] = out.map((s) => JSON.parse(s) as Line);
    expect(inside?.requestId).toBe('scoped-1');
    expect(outside?.requestId).toBeUndefined();
    expect(JSON.stringify(oops)).not.toContain(admin.split('.')[1]);
    expect(JSON.stringify(oops)).toContain('[redacted-jwt]');
  });
});
