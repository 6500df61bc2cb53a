import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instancePaths } from '../../src/adapters/xrdp/instance-paths.js';
import { probeRdp } from '../../src/adapters/xrdp/rdp-probe.js';
import { collect, startTestApp, type TestApp } from '../support/app-harness.js';
import { lockHostSesman } from '../support/host-sesman-lock.js';
import { needXrdp, xrdpListenersUnder, xrdpLogLine } from '../support/xrdp-available.js';

const CREATE = `mutation($name: String!) { createServer(input: { name: $name }) { ... on CreateServerSuccess { server { id port } } } }`;
const START = `mutation($id: ID!) { startServer(id: $id) { __typename ... on Error { code message } } }`;
const DELETE = 'mutation($id: ID!) { deleteServer(id: $id, force: true) { __typename ... on Error { code message } } }';
const LOGS = `subscription($id: ID!, $level: XrdpLogLevel, $last: Int) {
  serverLogs(serverId: $id, level: $level, last: $last) { kind lines { time level message pid } } }`;

interface LogData {
  serverLogs: { kind: 'SNAPSHOT' | 'LINES'; lines: { time: string; level: string; message: string; pid: number | null }[] };
}

// serverLogs on a real xrdp instance: the log is tailed where it is written (this process) and
// its lines pushed to every subscriber, each filtered by its level.
describe.skipIf(!needXrdp('xrdp log tail'))('serverLogs: a live tail of a real xrdp instance', { timeout: 90_000 }, () => {
  let t: TestApp;
  let dir: string;
  let unlock: () => Promise<void> = async () => {};
  const base = 22500 + Math.floor(Math.random() * 50) * 10;

  beforeAll(async () => {
    unlock = await lockHostSesman();
    dir = mkdtempSync(join(tmpdir(), 'rdp-logtail-'));
    t = await startTestApp({ XRDP_CONFIG_PATH: dir, RDP_LOOPBACK_ONLY: 'true', RDP_PORT_RANGE: `${base}-${base + 9}` });
  });
  afterAll(async () => {
    for (const pid of xrdpListenersUnder(dir)) process.kill(pid, 'SIGKILL');
    await t?.app.container.sesman.stop().catch(() => undefined);
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
    await unlock();
  });

  it('SNAPSHOT, then the lines xrdp writes as it starts and serves a connection, by level; NOT_FOUND for others; ends on delete', async () => {
    const alice = await t.token('alice');
    const created = await t.gql<{ createServer: { server: { id: string; port: number } } }>(CREATE, { name: 'tail' }, alice);
    const server = created.body.data?.createServer.server;
    if (!server) throw new Error(JSON.stringify(created.body));
    const client = t.ws(alice);
    // Subscribed before the instance ever ran: empty snapshot, then everything it writes.
    const all = collect<LogData>(client, LOGS, { id: server.id });
    const errors = collect<LogData>(client, LOGS, { id: server.id, level: 'ERROR' });
    const warn = collect<LogData>(client, LOGS, { id: server.id, level: 'WARN', last: 5 });
    await all.until(() => all.items.length >= 1);
    await errors.until(() => errors.items.length >= 1);
    await warn.until(() => warn.items.length >= 1);
    expect(all.items[0]?.data?.serverLogs).toEqual({ kind: 'SNAPSHOT', lines: [] });
    const lines = (c: typeof all) => c.items.slice(1).flatMap((i) => i.data?.serverLogs.lines ?? []);

    expect((await t.gql(START, { id: server.id }, alice)).body.data).toEqual({
      startServer: { __typename: 'StartServerSuccess' },
    });
    await all.until(() => lines(all).some((l) => l.level === 'INFO'), 20_000);
    expect(all.items.slice(1).every((i) => i.data?.serverLogs.kind === 'LINES')).toBe(true);
    const before = lines(all).length;
    // A connection makes xrdp write more lines: they arrive without asking.
    await probeRdp({ host: '127.0.0.1', port: server.port, timeoutMs: 3000 }).catch(() => undefined);
    await all.until(() => lines(all).length > before, 20_000);

    // A line of each level written to the same log reaches each subscriber at its level.
    appendFileSync(
      instancePaths(dir, server.id).log,
      [
        xrdpLogLine('DEBUG', 'tail-test debug'),
        xrdpLogLine('WARN', 'tail-test warn'),
        xrdpLogLine('ERROR', 'tail-test error'),
        '',
      ].join('\n'),
    );
    const mine = (c: typeof all) => lines(c).filter((l) => l.message.startsWith('tail-test'));
    await all.until(() => mine(all).length === 3, 10_000);
    await errors.until(() => mine(errors).length === 1, 10_000);
    await warn.until(() => mine(warn).length === 2, 10_000);
    expect(mine(all).map((l) => l.level)).toEqual(['DEBUG', 'WARN', 'ERROR']);
    expect(mine(warn).map((l) => l.level)).toEqual(['WARN', 'ERROR']);
    expect(mine(errors).map((l) => l.level)).toEqual(['ERROR']);
    expect(lines(errors).every((l) => l.level === 'ERROR' || l.level === 'CORE')).toBe(true);
    expect(lines(warn).every((l) => ['CORE', 'ERROR', 'WARN'].includes(l.level))).toBe(true);
    expect(lines(all).map((l) => l.level)).toContain('INFO');

    // A late subscriber starts from a snapshot of the same lines (the last 2 at WARN) as the
    // WARN subscriber has been sent live; the probe's connection may still add some, which both
    // are sent after them (the snapshot may be taken in the middle of such a burst).
    const late = collect<LogData>(t.ws(alice), LOGS, { id: server.id, level: 'WARN', last: 2 });
    await late.until(() => late.items.length >= 1);
    expect(late.items[0]?.data?.serverLogs.kind).toBe('SNAPSHOT');
    const snapshot = late.items[0]?.data?.serverLogs.lines ?? [];
    expect(snapshot.length).toBe(2);
    const text = (ls: unknown[]) => ls.map((l) => JSON.stringify(l));
    const afterSnapshot = () => {
      const sent = text(lines(warn));
      for (let i = sent.length - snapshot.length; i >= 0; i--) {
        if (sent.slice(i, i + snapshot.length).join() === text(snapshot).join()) return sent.slice(i + snapshot.length);
      }
      return null;
    };
    await warn.until(() => afterSnapshot() !== null, 10_000);
    await late.until(() => text(lines(late)).join() === afterSnapshot()?.join(), 10_000);

    // Someone who may not see the server gets what a missing server gives; a bad `last` is refused.
    const bob = collect<LogData>(t.ws(await t.token('bob')), LOGS, { id: server.id });
    await bob.until(() => bob.items.length >= 1 || bob.ended);
    expect(bob.items[0]?.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const bad = collect<LogData>(client, LOGS, { id: server.id, last: -1 });
    await bad.until(() => bad.items.length >= 1 || bad.ended);
    expect(bad.items[0]?.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    // Deleting the server completes every follower.
    expect((await t.gql(DELETE, { id: server.id }, alice)).body.data).toEqual({
      deleteServer: { __typename: 'DeleteServerSuccess' },
    });
    for (const c of [all, errors, warn, late]) await c.until(() => c.ended, 10_000);
    expect(all.failure).toBeUndefined();
  });
});
