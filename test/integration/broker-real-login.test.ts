import { describe, expect, it } from 'vitest';
import { needLoginTools, rdpClient, startedServer, until, useLoginHost, xServersOn } from '../support/login-host.js';

const CONNECT = `mutation($id: ID!) { connect(input: { serverId: $id, credentialMode: EPHEMERAL }) {
  __typename
  ... on ConnectSuccess { reconnected reason session { id } connection { port username password } }
  ... on Error { code message }
} }`;

interface Connected {
  __typename: string;
  reconnected?: boolean;
  reason?: string;
  session?: { id: string };
  connection?: { port: number; username: string; password: string | null };
  message?: string;
}

describe.skipIf(!needLoginTools('broker real login'))(
  'connect twice through xrdp: the second connect is the same desktop',
  () => {
    const host = useLoginHost({ tmpPrefix: 'rdp-broker-login-', portBase: 31000, displayBase: 160 });

    // One retry, as session-real-login: a desktop login on a loaded 2-core machine occasionally
    // loses its X server to a slow start.
    it('connect, log in with xfreerdp, kill the client (DISCONNECTED), connect again: same session, same X display', {
      retry: 1,
      timeout: 90_000,
    }, async () => {
      const { t } = host;
      const xDisplay = host.xDisplays[0] ?? 0;
      const alice = await t.token('alice');
      const server = await startedServer(t, alice, 'broker-desk');
      const session = async (id: string) =>
        (
          await t.gql<{ session: { status: string; display: number | null } }>(
            'query($id: ID!) { session(id: $id) { status display } }',
            { id },
            alice,
          )
        ).body.data?.session;

      const first = (await t.gql<{ connect: Connected }>(CONNECT, { id: server.id }, alice)).body.data?.connect;
      expect(first).toMatchObject({ __typename: 'ConnectSuccess', reconnected: false });
      const id = first?.session?.id ?? '';
      const login = {
        port: first?.connection?.port ?? 0,
        username: first?.connection?.username ?? '',
        password: first?.connection?.password ?? '',
      };
      expect(login.password).not.toBe('');

      const one = rdpClient(host, xDisplay, login);
      const active = await until(
        () => session(id),
        (s) => s?.status === 'ACTIVE' && s.display !== null,
        20_000,
        'first login',
      );
      const display = active?.display ?? -1;
      const xServer = await until(
        () => xServersOn(display),
        (pids) => pids.length > 0,
        5000,
        'X server of the session',
      );

      // The client dies without logging off: xrdp keeps the desktop, the session goes DISCONNECTED.
      if (one.child.pid) process.kill(-one.child.pid, 'SIGKILL');
      await one.exited;
      await until(
        () => session(id),
        (s) => s?.status === 'DISCONNECTED',
        20_000,
        'disconnect recorded',
      );
      expect(xServersOn(display)).toEqual(xServer);

      const second = (await t.gql<{ connect: Connected }>(CONNECT, { id: server.id }, alice)).body.data?.connect;
      expect(second).toMatchObject({ __typename: 'ConnectSuccess', reconnected: true, session: { id } });
      expect(second?.connection).toEqual({ port: login.port, username: login.username, password: null });
      expect(second?.reason).toMatch(/disconnected session .* on server broker-desk/);

      // The client still holds the password it was given once: it logs in to the same desktop.
      const two = rdpClient(host, xDisplay, login);
      const back = await until(
        () => session(id),
        (s) => s?.status === 'ACTIVE',
        20_000,
        'second login',
      );
      expect(back?.display).toBe(display);
      expect(xServersOn(display)).toEqual(xServer);
      console.log(`broker real login: session ${id} reconnected on X display :${display}`);
      if (two.child.pid) process.kill(-two.child.pid, 'SIGKILL');
    });
  },
);
