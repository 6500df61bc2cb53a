import { execFileSync, spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { collect } from '../support/app-harness.js';
import { accountExists, needLoginTools, startedServer, until, useLoginHost, xServersOn } from '../support/login-host.js';

const needTools = () => needLoginTools('session real login');

describe.skipIf(!needTools())('a session admitted by the API, logged in with xfreerdp, ended by the API', () => {
  const host = useLoginHost({ tmpPrefix: 'rdp-session-login-', portBase: 27000, displayBase: 150 });

  // One retry: a real desktop login on a loaded 2-core machine occasionally loses its X server to
  // a slow start; a second failure is a real one.
  it('EPHEMERAL credentials log in, the session shows connected, and terminateSession disconnects the client and removes the account', {
    retry: 1,
    timeout: 60_000,
  }, async () => {
    const { t, children } = host;
    const xDisplay = host.xDisplays[0];
    const alice = await t.token('alice');
    const server = await startedServer(t, alice, 'desk');

    const admitted = await t.gql<{
      createSession: {
        __typename: string;
        session: { id: string };
        connection: { username: string; password: string; port: number };
      };
    }>(
      `mutation($id: ID!) { createSession(input: { serverId: $id, credentialMode: EPHEMERAL }) {
        __typename ... on CreateSessionSuccess { session { id } connection { username password port } } } }`,
      { id: server.id },
      alice,
    );
    const admission = admitted.body.data?.createSession;
    expect(admission?.__typename).toBe('CreateSessionSuccess');
    if (!admission) throw new Error('not admitted');
    const { username, password, port } = admission.connection;
    expect(accountExists(username)).toBe(true);

    const events = collect<{ sessionEvents: { kind: string; session: { status: string; display: number | null } } }>(
      t.ws(alice),
      'subscription($id: ID!) { sessionEvents(sessionId: $id) { kind session { status display } } }',
      { id: admission.session.id },
    );
    await events.until(() => events.items.length >= 1);

    const client = spawn(
      'xfreerdp',
      [`/v:127.0.0.1:${port}`, `/u:${username}`, `/p:${password}`, '/cert:ignore', '/size:1024x768', '/log-level:OFF'],
      { stdio: 'ignore', detached: true, env: { ...process.env, DISPLAY: `:${xDisplay}` } },
    );
    children.push(client);
    const clientExited = new Promise<void>((r) => client.once('exit', () => r()));

    const connected = await until(
      async () =>
        (
          await t.gql<{ session: { status: string; display: number | null; connectedAt: string | null } }>(
            'query($id: ID!) { session(id: $id) { status display connectedAt } }',
            { id: admission.session.id },
            alice,
          )
        ).body.data?.session,
      (s) => s?.status === 'ACTIVE' && s.display !== null && s.connectedAt !== null,
      15_000,
      'session connected',
    );
    const display = connected?.display ?? -1;
    await until(
      () => xServersOn(display).length,
      (n) => n > 0,
      3000,
      'X server of the session',
    );
    await events.until(() => events.items.some((i) => i.data?.sessionEvents.kind === 'CONNECTED'));

    const ended = await t.gql<{
      terminateSession: { __typename: string; session: { status: string; terminationReason: string } };
    }>(
      'mutation($id: ID!) { terminateSession(id: $id, force: true) { __typename ... on TerminateSessionSuccess { session { status terminationReason } } } }',
      { id: admission.session.id },
      alice,
    );
    expect(ended.body.data?.terminateSession).toEqual({
      __typename: 'TerminateSessionSuccess',
      session: { status: 'TERMINATED', terminationReason: 'USER' },
    });
    await until(
      () => xServersOn(display).length,
      (n) => n === 0,
      2000,
      'X server gone',
    );
    await Promise.race([
      clientExited,
      new Promise((_, reject) => setTimeout(() => reject(new Error('client still connected')), 10_000)),
    ]);
    expect(accountExists(username)).toBe(false);
    await events.until(() => events.ended);
    expect(events.items.at(-1)?.data?.sessionEvents.kind).toBe('TERMINATED');
  });
});

/** `passwd -S` status letter of an account: P usable password, L locked, NP none. */
function passwordStatus(name: string): string {
  return execFileSync('passwd', ['-S', name], { encoding: 'utf8' }).split(' ')[1] ?? '';
}

describe.skipIf(!needTools())('an EPHEMERAL one-time password past SESSION_CREDENTIAL_TTL', () => {
  const host = useLoginHost({
    tmpPrefix: 'rdp-session-expiry-',
    portBase: 28000,
    displayBase: 200,
    env: { SESSION_CREDENTIAL_TTL: '5' },
    app: { sweepIntervalMs: 250 },
  });

  it('is locked by the sweeper: xrdp refuses the login, the session stays as it was, and its end removes the account', {
    timeout: 60_000,
  }, async () => {
    const { t, children } = host;
    const xDisplay = host.xDisplays[0];
    const alice = await t.token('alice');
    const serverId = (await startedServer(t, alice, 'expiring')).id;

    const admitted = await t.gql<{
      createSession: {
        session: { id: string };
        connection: { username: string; password: string; port: number; expiresAt: string };
      };
    }>(
      `mutation($id: ID!) { createSession(input: { serverId: $id, credentialMode: EPHEMERAL }) {
        ... on CreateSessionSuccess { session { id } connection { username password port expiresAt } } } }`,
      { id: serverId },
      alice,
    );
    const admission = admitted.body.data?.createSession;
    if (!admission) throw new Error(JSON.stringify(admitted.body));
    const { username, password, port, expiresAt } = admission.connection;
    expect(passwordStatus(username)).toBe('P');

    // The sweeper locks the account once the password's time is up (5 s here), not before.
    const locked = await until(
      () => passwordStatus(username),
      (s) => s === 'L',
      10_000,
      'account locked',
    );
    expect(locked).toBe('L');
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expiresAt));
    const session = await t.gql<{ session: { status: string; connectedAt: string | null } }>(
      'query($id: ID!) { session(id: $id) { status connectedAt } }',
      { id: admission.session.id },
      alice,
    );
    expect(session.body.data?.session).toEqual({ status: 'ACTIVE', connectedAt: null });

    // The expired password no longer logs in: xrdp reports LOGIN_FAILED for the account.
    const xrdpEvents = t.app.container.events.subscribe('xrdp:session-event', serverId)[Symbol.asyncIterator]();
    const failed = (async () => {
      for (;;) {
        const { value, done } = await xrdpEvents.next();
        if (done) return null;
        if (value.user === username && value.kind !== 'CONNECTED' && value.kind !== 'DISCONNECTED') return value.kind;
      }
    })();
    const client = spawn(
      'xfreerdp',
      [`/v:127.0.0.1:${port}`, `/u:${username}`, `/p:${password}`, '/cert:ignore', '/size:1024x768', '/log-level:OFF'],
      { stdio: 'ignore', detached: true, env: { ...process.env, DISPLAY: `:${xDisplay}` } },
    );
    children.push(client);
    const outcome = await Promise.race([failed, new Promise((r) => setTimeout(() => r('no event in 15 s'), 15_000))]);
    await xrdpEvents.return?.();
    expect(outcome).toBe('LOGIN_FAILED');
    const after = await t.gql<{ session: { status: string; connectedAt: string | null } }>(
      'query($id: ID!) { session(id: $id) { status connectedAt } }',
      { id: admission.session.id },
      alice,
    );
    expect(after.body.data?.session.connectedAt).toBeNull();

    const ended = await t.gql<{ terminateSession: { __typename: string } }>(
      'mutation($id: ID!) { terminateSession(id: $id, force: true) { __typename } }',
      { id: admission.session.id },
      alice,
    );
    expect(ended.body.data?.terminateSession.__typename).toBe('TerminateSessionSuccess');
    expect(accountExists(username)).toBe(false);
  });
});
