import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { FakeServerRuntime } from '../support/fake-runtime.js';
import { FakeSessionAccounts } from '../support/fake-session-accounts.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';

const CREATE_SERVER = `mutation($input: CreateServerInput!) { createServer(input: $input) {
  __typename ... on CreateServerSuccess { server { id } } ... on Error { code message } } }`;
const START_SERVER = 'mutation($id: ID!) { startServer(id: $id) { __typename } }';
const UPDATE_SERVER = `mutation($id: ID!, $input: UpdateServerInput!) { updateServer(id: $id, input: $input) {
  __typename ... on Error { code message } } }`;
const CREATE_SESSION = `mutation($input: CreateSessionInput!) { createSession(input: $input) {
  __typename
  ... on CreateSessionSuccess { session { id username } connection { username password rdpFile expiresAt } }
  ... on Error { code message }
} }`;
const REISSUE = `mutation($id: ID!) { reissueCredentials(sessionId: $id) {
  __typename
  ... on ReissueCredentialsSuccess { session { id credentialExpiresAt } connection { username password rdpFile expiresAt } }
  ... on NotFoundError { entity id }
  ... on Error { code message }
} }`;
const TERMINATE = 'mutation($id: ID!) { terminateSession(id: $id, force: true) { __typename } }';
const SESSIONS = '{ sessions { totalCount } }';
const AUDIT = `query($filter: AuditEventFilter) { auditEvents(filter: $filter, first: 10) {
  edges { node { action result actor { userId } target { id } } } } }`;

interface Connection {
  username: string;
  password: string | null;
  rdpFile: string;
  expiresAt: string;
}
interface Result {
  __typename: string;
  code?: string;
  message?: string;
  entity?: string;
  session?: { id: string; username?: string; credentialExpiresAt?: string };
  connection?: Connection;
}

/**
 * A .rdp file as mstsc and FreeRDP read it: CRLF lines `name:type:value`, type i (integer) or s
 * (string); a malformed line throws.
 */
function parseRdpFile(text: string): Map<string, string | number> {
  expect(text.endsWith('\r\n')).toBe(true);
  const lines = text.slice(0, -2).split('\r\n');
  const out = new Map<string, string | number>();
  for (const line of lines) {
    expect(line).not.toMatch(/[\r\n]/);
    const m = /^([a-z][a-z0-9 ]*):([is]):(.*)$/.exec(line);
    if (!m) throw new Error(`not a .rdp line: ${JSON.stringify(line)}`);
    const [, name = '', type, value = ''] = m;
    if (type === 'i' && !/^-?\d+$/.test(value)) throw new Error(`not an integer: ${line}`);
    expect(out.has(name)).toBe(false);
    out.set(name, type === 'i' ? Number(value) : value);
  }
  return out;
}

const backends: [string, () => Record<string, string>, boolean][] = [
  ['memory', () => ({}), true],
  [
    'mongo (FerretDB)',
    () => ({ MONGODB_URI: uniqueMongoUri(services.mongoUri ?? '', 'credapi') }),
    need('session credentials API on mongo', ['mongo']),
  ],
];

for (const [backend, env, enabled] of backends) {
  describe.skipIf(!enabled)(`session credentials API on ${backend}`, { timeout: 90_000 }, () => {
    let t: TestApp;
    let alice: string;
    let bob: string;
    let olga: string;
    const accounts = new FakeSessionAccounts();
    let nowMs = Date.now();
    /** Runs the sweep `seconds` ahead, then puts the clock back (hosts would go OFFLINE otherwise). */
    async function sweepAhead(seconds: number): Promise<void> {
      nowMs += seconds * 1000;
      try {
        await t.app.container.sessions.sweep();
      } finally {
        nowMs -= seconds * 1000;
      }
    }

    beforeAll(async () => {
      t = await startTestApp(
        { ...env(), XRDP_BINARY: '/nonexistent/xrdp', SESSION_CREDENTIAL_TTL: '60' },
        {
          sessionAccounts: accounts,
          runtime: new FakeServerRuntime(),
          clock: { now: () => new Date(nowMs) },
          sweepIntervalMs: 3_600_000,
          reconcileIntervalMs: 3_600_000,
        },
      );
      alice = await t.token('alice');
      bob = await t.token('bob');
      olga = await t.token('olga', ['operator']);
    });
    afterAll(async () => {
      await t.app.container.mongo?.db.dropDatabase();
      await t.stop();
    });

    async function runningServer(token: string, configuration: Record<string, unknown> = {}): Promise<string> {
      const c = await t.gql<{ createServer: { server?: { id: string } } }>(
        CREATE_SERVER,
        { input: { name: `srv-${Math.random().toString(36).slice(2, 8)}`, configuration } },
        token,
      );
      const id = c.body.data?.createServer.server?.id;
      if (!id) throw new Error(`createServer failed: ${JSON.stringify(c.body)}`);
      expect((await t.gql(START_SERVER, { id }, token)).body.data).toEqual({ startServer: { __typename: 'StartServerSuccess' } });
      return id;
    }

    async function createSession(token: string, input: Record<string, unknown>) {
      return t.gql<{ createSession: Result }>(CREATE_SESSION, { input }, token);
    }

    async function admitted(token: string, serverId: string): Promise<Result> {
      const r = (await createSession(token, { serverId, credentialMode: 'EPHEMERAL' })).body.data?.createSession;
      if (!r?.session) throw new Error(`not admitted: ${JSON.stringify(r)}`);
      return r;
    }

    async function reissue(token: string, id: string): Promise<Result> {
      const r = await t.gql<{ reissueCredentials: Result }>(REISSUE, { id }, token);
      const out = r.body.data?.reissueCredentials;
      if (!out) throw new Error(`reissueCredentials failed: ${JSON.stringify(r.body)}`);
      return out;
    }

    async function sessionCount(): Promise<number> {
      return (await t.gql<{ sessions: { totalCount: number } }>(SESSIONS, {}, olga)).body.data?.sessions.totalCount ?? -1;
    }

    it("the .rdp file parses and carries the server's window size, depth and redirection channels", async () => {
      const serverId = await runningServer(alice, {
        resolution: '1280x800',
        colorDepth: 16,
        clipboard: true,
        audio: false,
        driveRedirection: false,
        printerRedirection: false,
      });
      const first = await admitted(alice, serverId);
      const rdp = parseRdpFile(first.connection?.rdpFile ?? '');
      expect(rdp.get('full address')).toMatch(/:\d+$/);
      expect(rdp.get('username')).toBe(first.session?.username);
      expect(rdp.get('screen mode id')).toBe(1);
      expect([rdp.get('desktopwidth'), rdp.get('desktopheight'), rdp.get('session bpp')]).toEqual([1280, 800, 16]);
      expect(rdp.get('redirectclipboard')).toBe(1);
      expect(rdp.get('audiomode')).toBe(2);
      expect([rdp.get('redirectdrives'), rdp.get('drivestoredirect'), rdp.get('redirectprinters')]).toEqual([0, '', 0]);
      expect(first.connection?.rdpFile).not.toContain(first.connection?.password ?? '<none>');

      // The server's configuration changes: the next file (a reissue of the same session) follows it.
      const update = await t.gql(
        UPDATE_SERVER,
        {
          id: serverId,
          input: { configuration: { clipboard: false, audio: true, driveRedirection: true, printerRedirection: true } },
        },
        alice,
      );
      expect(update.body.data).toEqual({ updateServer: { __typename: 'UpdateServerSuccess' } });
      const again = parseRdpFile((await reissue(alice, first.session?.id ?? '')).connection?.rdpFile ?? '');
      expect(again.get('redirectclipboard')).toBe(0);
      expect(again.get('audiomode')).toBe(0);
      expect([again.get('redirectdrives'), again.get('drivestoredirect'), again.get('redirectprinters')]).toEqual([1, '*', 1]);
    });

    it('reissueCredentials: a new password set on the account, the expiry lock lifted, audited; the owner and operators only', async () => {
      const serverId = await runningServer(alice);
      const first = await admitted(alice, serverId);
      const id = first.session?.id ?? '';
      const username = first.session?.username ?? '';

      // Past SESSION_CREDENTIAL_TTL the sweep locks the account's password.
      await sweepAhead(61);
      expect(accounts.locked).toContain(username);

      const r = await reissue(alice, id);
      expect(r.__typename).toBe('ReissueCredentialsSuccess');
      const password = r.connection?.password ?? '';
      expect(password).toMatch(/^[A-Za-z0-9]{20}$/);
      expect(password).not.toBe(first.connection?.password);
      expect(r.connection?.username).toBe(username);
      expect(accounts.passwordsSet.at(-1)).toEqual({ username, password });
      const expiresAt = new Date(nowMs + 60_000).toISOString();
      expect(r.connection?.expiresAt).toBe(expiresAt);
      expect(r.session?.credentialExpiresAt).toBe(expiresAt);

      // The new password is not locked by the next sweep, only once its own TTL has passed.
      const locks = accounts.locked.filter((u) => u === username).length;
      await sweepAhead(30);
      expect(accounts.locked.filter((u) => u === username).length).toBe(locks);
      await sweepAhead(61);
      expect(accounts.locked.filter((u) => u === username).length).toBe(locks + 1);

      const audit = await t.gql<{
        auditEvents: { edges: { node: { action: string; result: string; actor: { userId: string } } }[] };
      }>(AUDIT, { filter: { action: 'session.reissue', targetId: id } }, olga);
      expect(audit.body.data?.auditEvents.edges.map((e) => [e.node.result, e.node.actor.userId])).toEqual([['SUCCESS', 'alice']]);
      expect(JSON.stringify(audit.body)).not.toContain(password);

      // An operator may; another user is told what a missing session tells.
      expect((await reissue(olga, id)).__typename).toBe('ReissueCredentialsSuccess');
      const set = accounts.passwordsSet.length;
      const hidden = await reissue(bob, id);
      const missing = await reissue(bob, '00000000-0000-4000-8000-000000000000');
      expect(hidden.__typename).toBe('NotFoundError');
      expect({ ...hidden, id: undefined, message: hidden.message?.replace(id, 'X') }).toEqual({
        ...missing,
        id: undefined,
        message: missing.message?.replace('00000000-0000-4000-8000-000000000000', 'X'),
      });
      expect(accounts.passwordsSet.length).toBe(set);
    });

    it('reissueCredentials is a CONFLICT for HOST_ACCOUNT and terminated sessions, and changes nothing', async () => {
      const serverId = await runningServer(alice);
      const host = (await createSession(alice, { serverId, credentialMode: 'HOST_ACCOUNT' })).body.data?.createSession;
      expect(host?.__typename).toBe('CreateSessionSuccess');
      const set = accounts.passwordsSet.length;
      const refused = await reissue(alice, host?.session?.id ?? '');
      expect(refused).toMatchObject({ __typename: 'ConflictError', code: 'CONFLICT' });
      expect(refused.message).toMatch(/HOST_ACCOUNT.*own Linux password/);

      const ended = await admitted(alice, serverId);
      await t.gql(TERMINATE, { id: ended.session?.id }, alice);
      const gone = await reissue(alice, ended.session?.id ?? '');
      expect(gone).toMatchObject({ __typename: 'ConflictError', code: 'CONFLICT' });
      expect(gone.message).toMatch(/terminated/);
      expect(accounts.passwordsSet.length).toBe(set);
    });

    it('a HOST_ACCOUNT session is refused when its Linux account does not exist on the host, and nothing is stored', async () => {
      const serverId = await runningServer(bob);
      accounts.missingHostAccounts.add('bob');
      try {
        const before = await sessionCount();
        const r = await createSession(bob, { serverId, credentialMode: 'HOST_ACCOUNT' });
        expect(r.body.data?.createSession ?? null).toBeNull();
        expect(r.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
        expect(r.body.errors?.[0]?.message).toContain('no Linux account "bob" on the host of this server');
        expect(await sessionCount()).toBe(before);
        // Its slots were not kept: an EPHEMERAL session is admitted as before.
        expect((await admitted(bob, serverId)).__typename).toBe('CreateSessionSuccess');
      } finally {
        accounts.missingHostAccounts.delete('bob');
      }
    });
  });
}
