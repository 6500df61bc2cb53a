import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instancePaths } from '../../src/adapters/xrdp/instance-paths.js';
import { isAlive, readProc } from '../../src/adapters/xrdp/procfs.js';
import type { XrdpSessionEvent } from '../../src/domain/xrdp/xrdp-session-events.js';
import { collect, startTestApp, type TestApp } from '../support/app-harness.js';
import { lockHostSesman } from '../support/host-sesman-lock.js';
import { needXrdp } from '../support/xrdp-available.js';

const HINT = 'xrdp is not installed on this host (install the xrdp package)';
const STATUS = '{ xrdpService { status version uptimeSeconds pid runningInstances liveSessions message } }';
const CONTROL = `mutation($action: XrdpServiceAction!) { controlXrdpService(action: $action) {
  __typename
  ... on ControlXrdpServiceSuccess { service { status pid uptimeSeconds liveSessions } }
  ... on Error { code message }
} }`;

interface ServiceShape {
  status: string;
  version: string | null;
  uptimeSeconds: number | null;
  pid: number | null;
  runningInstances: number;
  liveSessions: number;
  message: string | null;
}
type Control = {
  controlXrdpService: { __typename: string; code?: string; message?: string; service?: Pick<ServiceShape, 'status' | 'pid'> };
};

describe('xrdp service, logs and session events on a host without xrdp', () => {
  let t: TestApp;
  let dir: string;
  let serverId: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xrdp-api-'));
    t = await startTestApp({ XRDP_BINARY: '/nonexistent/xrdp', XRDP_CONFIG_PATH: dir, XRDP_LOG_PATH: join(dir, 'log') });
    const created = await t.gql<{ createServer: { server: { id: string } } }>(
      'mutation { createServer(input: { name: "logs" }) { ... on CreateServerSuccess { server { id } } } }',
      {},
      await t.token('alice'),
    );
    serverId = created.body.data?.createServer.server.id ?? '';
  });
  afterAll(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('xrdpService answers NOT_INSTALLED with the install hint for an operator, FORBIDDEN for a user', async () => {
    const op = await t.gql<{ xrdpService: ServiceShape }>(STATUS, {}, await t.token('olga', ['operator']));
    expect(op.body.data?.xrdpService).toEqual({
      status: 'NOT_INSTALLED',
      version: null,
      uptimeSeconds: null,
      pid: null,
      runningInstances: 0,
      liveSessions: 0,
      message: HINT,
    });
    const user = await t.gql(STATUS, {}, await t.token('bob'));
    expect(user.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(user.body.data ?? null).toBeNull();
  });

  it('controlXrdpService(START) fails with RuntimeUnavailableError and the hint; operators are FORBIDDEN', async () => {
    const r = await t.gql<Control>(CONTROL, { action: 'START' }, await t.token('root', ['admin']));
    expect(r.body.data?.controlXrdpService).toEqual({
      __typename: 'RuntimeUnavailableError',
      code: 'RUNTIME_UNAVAILABLE',
      message: HINT,
    });
    const op = await t.gql(CONTROL, { action: 'START' }, await t.token('olga', ['operator']));
    expect(op.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it("server.logs reads the instance's xrdp.log: last N, oldest first, filtered by level; empty before any run", async () => {
    const alice = await t.token('alice');
    const query = `query($id: ID!, $last: Int, $level: XrdpLogLevel) { server(id: $id) { logs(last: $last, level: $level) { time level message pid } } }`;
    const before = await t.gql<{ server: { logs: unknown[] } }>(query, { id: serverId }, alice);
    expect(before.body.data?.server.logs).toEqual([]);

    const paths = instancePaths(dir, serverId);
    mkdirSync(paths.dir, { recursive: true });
    writeFileSync(
      paths.log,
      [
        '[20261126-23:05:41] [INFO ] [pid:26061 tid:1] starting xrdp with pid 26061',
        '[20261126-23:05:42] [WARN ] [pid:26471 tid:1] local keymap file for 0x00000409 found',
        '[20261126-23:05:42] [INFO ] [pid:26471 tid:1] login successful for user rdpexp on display 10',
        '[20261126-23:05:46] [ERROR] [pid:26471 tid:1] Sending [ITU T.125] DisconnectProviderUltimatum failed',
        '',
      ].join('\n'),
    );
    const two = await t.gql<{ server: { logs: { level: string; message: string; pid: number }[] } }>(
      query,
      { id: serverId, last: 2 },
      alice,
    );
    expect(two.body.data?.server.logs.map((l) => `${l.level} ${l.message}`)).toEqual([
      'INFO login successful for user rdpexp on display 10',
      'ERROR Sending [ITU T.125] DisconnectProviderUltimatum failed',
    ]);
    const warn = await t.gql<{ server: { logs: { level: string }[] } }>(query, { id: serverId, level: 'WARN' }, alice);
    expect(warn.body.data?.server.logs.map((l) => l.level)).toEqual(['WARN', 'ERROR']);

    const tooMany = await t.gql(query, { id: serverId, last: 1001 }, alice);
    expect(tooMany.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'last' });
    const hidden = await t.gql<{ server: unknown }>(query, { id: serverId }, await t.token('bob'));
    expect(hidden.body.data?.server).toBeNull();
  });

  it('xrdpSessionEvents streams the server events to those who may see the server, NOT_FOUND to others', async () => {
    const query = 'subscription($id: ID!) { xrdpSessionEvents(serverId: $id) { serverId kind user display clientAddress at } }';
    const bob = collect(t.ws(await t.token('bob')), query, { id: serverId });
    await bob.until(() => bob.ended);
    expect(bob.items[0]?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    const alice = collect<{ xrdpSessionEvents: XrdpSessionEvent }>(t.ws(await t.token('alice')), query, { id: serverId });
    const event: XrdpSessionEvent = {
      serverId,
      kind: 'LOGIN_SUCCEEDED',
      user: 'rdpexp',
      display: 10,
      clientAddress: '127.0.0.1:54168',
      at: '2026-11-26T23:05:43.000Z',
    };
    // The subscription is set up asynchronously; publish until it is listening.
    const deadline = Date.now() + 5000;
    while (alice.items.length === 0 && Date.now() < deadline) {
      t.app.container.events.publish('xrdp:session-event', serverId, event);
      await alice.until(() => alice.items.length > 0, 100).catch(() => undefined);
    }
    expect(alice.items[0]?.data?.xrdpSessionEvents).toEqual(event);
    alice.dispose();
  });
});

describe.skipIf(!needXrdp('xrdp service control'))('controlXrdpService on a real host sesman', () => {
  let t: TestApp;
  let dir: string;
  let admin: string;
  let operator: string;
  let release: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    release = await lockHostSesman();
    dir = mkdtempSync(join(tmpdir(), 'xrdp-service-'));
    t = await startTestApp({ XRDP_CONFIG_PATH: dir, XRDP_LOG_PATH: join(dir, 'log') });
    admin = await t.token('root', ['admin']);
    operator = await t.token('olga', ['operator']);
  }, 120_000);
  afterAll(async () => {
    if (t && (await t.app.container.sesman.state()).pid !== null) await t.app.container.sesman.stop();
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
    await release?.();
  });

  it('START runs sesman, START again is a CONFLICT, STOP ends it and its process, STOP again is a CONFLICT', async () => {
    const before = await t.gql<{ xrdpService: ServiceShape }>(STATUS, {}, operator);
    expect(before.body.data?.xrdpService).toMatchObject({
      status: 'STOPPED',
      pid: null,
      version: expect.stringMatching(/^0\.9\./),
    });

    const start = await t.gql<Control>(CONTROL, { action: 'START' }, admin);
    expect(start.body.data?.controlXrdpService.__typename).toBe('ControlXrdpServiceSuccess');
    const pid = start.body.data?.controlXrdpService.service?.pid ?? 0;
    expect(start.body.data?.controlXrdpService.service?.status).toBe('RUNNING');
    const proc = await readProc(pid);
    expect(proc?.argv.slice(0, 3)).toEqual(['/usr/sbin/xrdp-sesman', '--nodaemon', '-c']);
    expect(proc?.pgid).toBe(pid); // its own process group

    const again = await t.gql<Control>(CONTROL, { action: 'START' }, admin);
    expect(again.body.data?.controlXrdpService).toMatchObject({ __typename: 'ConflictError', code: 'CONFLICT' });

    const running = await t.gql<{ xrdpService: ServiceShape }>(STATUS, {}, operator);
    expect(running.body.data?.xrdpService).toMatchObject({ status: 'RUNNING', pid, liveSessions: 0, runningInstances: 0 });
    expect(running.body.data?.xrdpService.uptimeSeconds).toBeGreaterThanOrEqual(0);

    const stop = await t.gql<Control>(CONTROL, { action: 'STOP' }, admin);
    expect(stop.body.data?.controlXrdpService.service).toMatchObject({ status: 'STOPPED', pid: null });
    expect(await isAlive(pid)).toBe(false);

    const stopAgain = await t.gql<Control>(CONTROL, { action: 'STOP' }, admin);
    expect(stopAgain.body.data?.controlXrdpService.__typename).toBe('ConflictError');
  });

  it('RESTART starts a stopped sesman and replaces a running one', async () => {
    const first = await t.gql<Control>(CONTROL, { action: 'RESTART' }, admin);
    const pid1 = first.body.data?.controlXrdpService.service?.pid ?? 0;
    expect(first.body.data?.controlXrdpService.service?.status).toBe('RUNNING');
    const second = await t.gql<Control>(CONTROL, { action: 'RESTART' }, admin);
    const pid2 = second.body.data?.controlXrdpService.service?.pid ?? 0;
    expect(second.body.data?.controlXrdpService.service?.status).toBe('RUNNING');
    expect(pid2).not.toBe(pid1);
    expect(await isAlive(pid1)).toBe(false);
    await t.gql<Control>(CONTROL, { action: 'STOP' }, admin);
    expect(await isAlive(pid2)).toBe(false);
  });
});
