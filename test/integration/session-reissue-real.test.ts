import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { XrdpSessionEvent } from '../../src/domain/xrdp/xrdp-session-events.js';
import { accountExists, needLoginTools, rdpClient, startedServer, until, useLoginHost } from '../support/login-host.js';

const needTools = () => needLoginTools('session reissue real login', ['/usr/sbin/usermod']);

/** `passwd -S` status letter of an account: P usable password, L locked. */
function passwordStatus(name: string): string {
  return execFileSync('passwd', ['-S', name], { encoding: 'utf8' }).split(' ')[1] ?? '';
}

const REISSUE = `mutation($id: ID!) { reissueCredentials(sessionId: $id) {
  __typename ... on ReissueCredentialsSuccess { connection { username password port } } ... on Error { code message } } }`;

describe.skipIf(!needTools())('reissueCredentials against a real xrdp', () => {
  const host = useLoginHost({ tmpPrefix: 'rdp-session-reissue-', portBase: 31500, displayBase: 420, xDisplays: 2 });

  it('the old password fails at xrdp at once, a locked account is unlocked, and the new password logs in', {
    retry: 1,
    timeout: 90_000,
  }, async () => {
    const { t } = host;
    const [oldDisplay = 0, newDisplay = 0] = host.xDisplays;
    const alice = await t.token('alice');
    const serverId = (await startedServer(t, alice, 'reissue')).id;
    const admitted = await t.gql<{
      createSession: { session: { id: string }; connection: { username: string; password: string; port: number } };
    }>(
      `mutation($id: ID!) { createSession(input: { serverId: $id, credentialMode: EPHEMERAL }) {
        ... on CreateSessionSuccess { session { id } connection { username password port } } } }`,
      { id: serverId },
      alice,
    );
    const admission = admitted.body.data?.createSession;
    if (!admission) throw new Error(JSON.stringify(admitted.body));
    const sessionId = admission.session.id;
    const { username, password: oldPassword, port } = admission.connection;
    expect(accountExists(username)).toBe(true);

    const reissue = async () => {
      const r = await t.gql<{ reissueCredentials: { __typename: string; connection?: { username: string; password: string } } }>(
        REISSUE,
        { id: sessionId },
        alice,
      );
      const out = r.body.data?.reissueCredentials;
      expect(out?.__typename, JSON.stringify(r.body)).toBe('ReissueCredentialsSuccess');
      expect(out?.connection?.username).toBe(username);
      return out?.connection?.password ?? '';
    };
    const first = await reissue();
    expect(first).not.toBe(oldPassword);
    expect(passwordStatus(username)).toBe('P');

    // The old password: xrdp's sesman (PAM) refuses it.
    const xrdpEvents = t.app.container.events.subscribe('xrdp:session-event', serverId)[Symbol.asyncIterator]();
    const outcome = (async () => {
      for (;;) {
        const { value, done } = await xrdpEvents.next();
        if (done) return null;
        const e = value as XrdpSessionEvent;
        if (e.user === username && (e.kind === 'LOGIN_FAILED' || e.kind === 'LOGIN_SUCCEEDED')) return e.kind;
      }
    })();
    const stale = rdpClient(host, oldDisplay, { port, username, password: oldPassword });
    const result = await Promise.race([outcome, new Promise((r) => setTimeout(() => r('no event in 20 s'), 20_000))]);
    await xrdpEvents.return?.();
    expect(result).toBe('LOGIN_FAILED');
    if (stale.running() && stale.child.pid) process.kill(-stale.child.pid, 'SIGKILL');
    const after = await t.gql<{ session: { connectedAt: string | null } }>(
      'query($id: ID!) { session(id: $id) { connectedAt } }',
      { id: sessionId },
      alice,
    );
    expect(after.body.data?.session.connectedAt).toBeNull();

    // Locked as the sweeper locks an expired password: a reissue lifts the lock for the new one.
    const accounts = t.app.container.sessionAccounts;
    if (!accounts) throw new Error('the app has no session accounts (not root?)');
    execFileSync('usermod', ['--lock', username]);
    expect(passwordStatus(username)).toBe('L');
    // The sweep's undo of a lock that hit a reissued password: the password before the lock is back.
    await accounts.unlock(username);
    expect(passwordStatus(username)).toBe('P');
    await accounts.unlock(username);
    expect(passwordStatus(username)).toBe('P');
    expect(await accounts.exists(username)).toBe(true);
    expect(await accounts.exists('no-such-user-here')).toBe(false);
    execFileSync('usermod', ['--lock', username]);
    expect(passwordStatus(username)).toBe('L');
    const fresh = await reissue();
    expect(passwordStatus(username)).toBe('P');

    rdpClient(host, newDisplay, { port, username, password: fresh });
    const connected = await until(
      async () =>
        (
          await t.gql<{ session: { status: string; display: number | null; connectedAt: string | null } }>(
            'query($id: ID!) { session(id: $id) { status display connectedAt } }',
            { id: sessionId },
            alice,
          )
        ).body.data?.session,
      (s) => s?.status === 'ACTIVE' && s.display !== null && s.connectedAt !== null,
      20_000,
      'session connected with the new password',
    );
    expect(connected?.display).not.toBeNull();

    const ended = await t.gql<{ terminateSession: { __typename: string } }>(
      'mutation($id: ID!) { terminateSession(id: $id, force: true) { __typename } }',
      { id: sessionId },
      alice,
    );
    expect(ended.body.data?.terminateSession.__typename).toBe('TerminateSessionSuccess');
    expect(accountExists(username)).toBe(false);
  });
});
