import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CgroupDriver } from '../../src/adapters/host/cgroups.js';
import { probeRdp } from '../../src/adapters/xrdp/rdp-probe.js';
import { collect, startTestApp, type TestApp } from '../support/app-harness.js';
import {
  allocateInGroup,
  burner,
  cgroupsOf,
  coresUsed,
  favourInTests,
  kill,
  realCgroups,
  uniqueParent,
} from '../support/cgroup-tools.js';
import { lockHostSesman } from '../support/host-sesman-lock.js';
import { needXrdp } from '../support/xrdp-available.js';

const MB = 1024 * 1024;
const parent = uniqueParent('xrdp');
const driver = needXrdp('server limits on real xrdp') ? await realCgroups(parent) : null;

const CREATE = `mutation($name: String!, $resources: ServerResourcesInput) {
  createServer(input: { name: $name, resources: $resources }) {
    ... on CreateServerSuccess { server { id port resources { cpuLimit memoryLimitMb enforced enforcedBy notEnforcedReason } } } } }`;
const START = `mutation($id: ID!) { startServer(id: $id) { __typename ... on StartServerSuccess { server { status } } ... on Error { message } } }`;
const STOP = `mutation($id: ID!) { stopServer(id: $id) { __typename ... on Error { message } } }`;
const RESTART = `mutation($id: ID!) { restartServer(id: $id) { __typename ... on RestartServerSuccess { server { status statusMessage } } ... on Error { message } } }`;
const UPDATE = `mutation($id: ID!, $resources: ServerResourcesInput) {
  updateServer(id: $id, input: { resources: $resources }) { __typename ... on UpdateServerSuccess { server { resources { cpuLimit memoryLimitMb } } } } }`;

async function until<T>(probe: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(v)})`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Live processes of a process group (the instance's listener and its connection children). */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid && f[0] !== 'Z') out.push(Number(e));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

describe.skipIf(!driver)('server resources bind on a real xrdp instance (cgroups), and health checks catch a dead one', () => {
  const d = driver as CgroupDriver;
  let t: TestApp;
  let booted = false;
  let dir: string;
  let token: string;
  const children: ChildProcess[] = [];
  // 30000-30999: a range no other suite uses (below the ephemeral ports, 32768+).
  const base = 30000 + Math.floor(Math.random() * 100) * 10;
  let unlock: () => Promise<void> = async () => {};

  const instancePid = (id: string) => Number(readFileSync(join(dir, 'servers', id, 'instance.pid'), 'utf8').trim());
  const where = (pid: number) => {
    const c = cgroupsOf(pid);
    return d.version === 'v1' ? [c.get('cpu'), c.get('memory')] : [c.get('')];
  };
  const expected = (path: string) => (d.version === 'v1' ? [`/${path}`, `/${path}`] : [`/${path}`]);

  async function createServer(name: string, resources: Record<string, number>) {
    const r = await t.gql<{
      createServer: { server: { id: string; port: number; resources: Record<string, unknown> } };
    }>(CREATE, { name, resources }, token);
    const s = r.body.data?.createServer.server;
    if (!s) throw new Error(JSON.stringify(r.body));
    return s;
  }

  async function start(id: string) {
    const r = await t.gql<{ startServer: { __typename: string } }>(START, { id }, token);
    expect(r.body.data?.startServer).toEqual({ __typename: 'StartServerSuccess', server: { status: 'RUNNING' } });
  }

  /**
   * One app per part: the limits part runs without health checks (its own CPU burner and OOM
   * kill, inside the server's 0.2-core group, are load a health round on a busy CI host could
   * take for a hung listener), the health part checks every second.
   */
  async function boot(healthCheckSeconds: number): Promise<void> {
    t = await startTestApp({
      XRDP_CONFIG_PATH: dir,
      RDP_LOOPBACK_ONLY: 'true',
      RDP_PORT_RANGE: `${base}-${base + 9}`,
      CGROUP_PARENT: parent,
      HEALTH_CHECK_INTERVAL: String(healthCheckSeconds),
    });
    // The service weights its parent by the host's cores; the test then outweighs the rest of
    // this shared machine so that what it measures is the quota, not the load.
    await t.app.container.servers.enforcementCapability();
    favourInTests(d, parent);
    booted = true;
    token = await t.token('alice');
  }

  async function shutdown(): Promise<void> {
    if (!booted) return;
    booted = false;
    for (const c of children.splice(0)) kill(c);
    await t.app.container.sesman.stop().catch(() => undefined);
    const root = { userId: 'root', username: 'root', roles: ['admin' as const], permissions: [] };
    for (const s of (await t.app.container.servers.list(root, {}, { first: 100 })).items) {
      await t.app.container.runtime.stop(s).catch(() => undefined);
    }
    await t.stop();
  }

  // Other suites may hold the host's sesman for a while: the lock waits up to 110 s.
  beforeAll(async () => {
    unlock = await lockHostSesman();
    dir = mkdtempSync(join(tmpdir(), 'rdp-limits-'));
  }, 150_000);
  afterEach(() => {
    for (const c of children.splice(0)) kill(c);
  });
  afterAll(async () => {
    await shutdown();
    rmSync(dir, { recursive: true, force: true });
    // Every group the suite made is gone with it.
    expect(await d.remove(parent)).toBe(true);
    await unlock();
  });

  describe('limits', () => {
    beforeAll(() => boot(86_400), 60_000);
    afterAll(shutdown, 60_000);

    it('the instance and its connection children run in <parent>/<id>/xrdp: CPU past cpuLimit is throttled, memory past memoryLimitMb OOM-killed, a change applies at once, stop removes the group', {
      timeout: 60_000,
    }, async () => {
      const server = await createServer('limited', { cpuLimit: 0.2, memoryLimitMb: 512 });
      expect(server.resources).toEqual({
        cpuLimit: 0.2,
        memoryLimitMb: 512,
        enforced: true,
        enforcedBy: `cgroup ${d.version}`,
        notEnforcedReason: null,
      });
      await start(server.id);
      const pid = instancePid(server.id);
      expect(where(pid)).toEqual(expected(`${parent}/${server.id}/xrdp`));
      expect(await d.readLimits(`${parent}/${server.id}`)).toEqual({ cpuCores: 0.2, memoryBytes: 512 * MB });

      // A client connection makes xrdp fork; the child is born in the same group.
      const socket = connect({ host: '127.0.0.1', port: server.port });
      try {
        const forked = await until(
          () => groupMembers(pid).filter((p) => p !== pid),
          (l) => l.length > 0,
          5000,
          'connection child',
        );
        for (const child of forked) expect(where(child)).toEqual(expected(`${parent}/${server.id}/xrdp`));
      } finally {
        socket.destroy();
      }

      // A busy process in the server's group gets no more than its 0.2 cores; one in an unlimited
      // group beside it (same weight against the rest of the host) gets far more.
      const inside = burner();
      const outside = burner();
      children.push(inside, outside);
      await d.move(`${parent}/${server.id}/xrdp`, [inside.pid as number]);
      await d.create(`${parent}/control`);
      await d.move(`${parent}/control`, [outside.pid as number]);
      const [confined, free] = await coresUsed([inside.pid as number, outside.pid as number]);
      expect(confined).toBeLessThanOrEqual(0.3);
      expect(free).toBeGreaterThanOrEqual(0.7);
      kill(inside);
      kill(outside);
      await new Promise<void>((r) =>
        outside.exitCode !== null || outside.signalCode !== null ? r() : outside.once('exit', () => r()),
      );
      expect(await d.remove(`${parent}/control`)).toBe(true);

      // 700 MB in a 512 MB server: the kernel kills the allocation; 64 MB is fine.
      const over = await allocateInGroup(d.dirs(`${parent}/${server.id}/xrdp`), 700);
      expect(over).toMatchObject({ signal: 'SIGKILL', stdout: '' });
      const under = await allocateInGroup(d.dirs(`${parent}/${server.id}/xrdp`), 64);
      expect(under).toMatchObject({ code: 0, stdout: 'allocated\n' });
      // The instance itself is untouched by its neighbour's OOM kill and still serves TLS.
      // (If it were not, the server's status says why: an exit of xrdp is reported there.)
      const after = await t.gql<{ server: { status: string; statusMessage: string | null } }>(
        'query($id: ID!) { server(id: $id) { status statusMessage } }',
        { id: server.id },
        token,
      );
      expect(after.body.data?.server).toEqual({ status: 'RUNNING', statusMessage: null });
      expect(await probeRdp({ host: '127.0.0.1', port: server.port })).toMatchObject({ kind: 'selected', protocol: 1 });

      const updated = await t.gql<{ updateServer: { __typename: string } }>(
        UPDATE,
        { id: server.id, resources: { cpuLimit: 0.5, memoryLimitMb: 1024 } },
        token,
      );
      expect(updated.body.data?.updateServer).toEqual({
        __typename: 'UpdateServerSuccess',
        server: { resources: { cpuLimit: 0.5, memoryLimitMb: 1024 } },
      });
      expect(await d.readLimits(`${parent}/${server.id}`)).toEqual({ cpuCores: 0.5, memoryBytes: 1024 * MB });

      // A limit below what the server holds now is refused by the kernel: a clear error, no change.
      const holder = spawn(
        'sh',
        [
          '-c',
          `${d
            .dirs(`${parent}/${server.id}/xrdp`)
            .map((g) => `echo $$ > ${g}/cgroup.procs`)
            .join(' && ')} && exec node -e "globalThis.b=Buffer.alloc(600<<20,1);console.log('held');setInterval(()=>{},1000)"`,
        ],
        { stdio: ['ignore', 'pipe', 'ignore'], detached: true },
      );
      children.push(holder);
      await new Promise<void>((r) => holder.stdout?.once('data', () => r()));
      const refused = await t.gql<{ updateServer: unknown }>(UPDATE, { id: server.id, resources: { memoryLimitMb: 512 } }, token);
      expect(refused.body.errors?.[0]).toMatchObject({
        message: expect.stringMatching(/^resources: cannot be applied to the running server: EBUSY/),
        extensions: { code: 'BAD_USER_INPUT' },
      });
      expect(await d.readLimits(`${parent}/${server.id}`)).toEqual({ cpuCores: 0.5, memoryBytes: 1024 * MB });
      const kept = await t.gql<{ server: { resources: { memoryLimitMb: number } } }>(
        'query($id: ID!) { server(id: $id) { resources { memoryLimitMb } } }',
        { id: server.id },
        token,
      );
      expect(kept.body.data?.server.resources.memoryLimitMb).toBe(1024);
      kill(holder);
      await new Promise<void>((r) =>
        holder.exitCode !== null || holder.signalCode !== null ? r() : holder.once('exit', () => r()),
      );

      const stopped = await t.gql<{ stopServer: { __typename: string } }>(STOP, { id: server.id }, token);
      expect(stopped.body.data?.stopServer.__typename).toBe('StopServerSuccess');
      expect(await d.exists(`${parent}/${server.id}`)).toBe(false);
    });
  });

  describe('health checks', () => {
    beforeAll(() => boot(1), 60_000);
    afterAll(shutdown, 60_000);

    it('a listener that stops answering (SIGSTOP) goes to ERROR with the reason as an event, restartServer brings it back; one that vanishes goes to ERROR too', {
      timeout: 60_000,
    }, async () => {
      const server = await createServer('watched', {});
      await start(server.id);
      const events = collect<{ serverEvents: { kind: string; server: { status: string; statusMessage: string | null } } }>(
        t.ws(token),
        'subscription($id: ID!) { serverEvents(serverId: $id) { kind server { status statusMessage } } }',
        { id: server.id },
      );
      await events.until(() => events.items.length >= 1);
      // Healthy rounds (HEALTH_CHECK_INTERVAL=1; each probe is a connection in the instance log)
      // leave a running server alone.
      const probes = () =>
        (readFileSync(join(dir, 'servers', server.id, 'xrdp.log'), 'utf8').match(/connection received from/g) ?? []).length;
      const before = probes();
      await until(probes, (n) => n >= before + 2, 10_000, 'two health probes');
      expect(events.items.map((i) => i.data?.serverEvents.server.status)).toEqual(['RUNNING']);

      const pid = instancePid(server.id);
      process.kill(pid, 'SIGSTOP');
      await events.until(() => events.items.some((i) => i.data?.serverEvents.server.status === 'ERROR'), 20_000);
      const failed = events.items.find((i) => i.data?.serverEvents.server.status === 'ERROR')?.data?.serverEvents;
      expect(failed?.kind).toBe('STATUS_CHANGED');
      expect(failed?.server.statusMessage).toMatch(/^health check failed: port \d+: no X\.224 Connection Confirm within/);
      // The hung instance was ended, so its port is free for the restart.
      await until(
        () => groupMembers(pid).length,
        (n) => n === 0,
        5000,
        'hung instance gone',
      );

      const restarted = await t.gql<{ restartServer: { server: { status: string; statusMessage: string | null } } }>(
        RESTART,
        { id: server.id },
        token,
      );
      expect(restarted.body.data?.restartServer).toEqual({
        __typename: 'RestartServerSuccess',
        server: { status: 'RUNNING', statusMessage: null },
      });
      expect(await probeRdp({ host: '127.0.0.1', port: server.port })).toMatchObject({ kind: 'selected', protocol: 1 });

      const seen = events.items.length;
      process.kill(instancePid(server.id), 'SIGKILL');
      await events.until(() => events.items.slice(seen).some((i) => i.data?.serverEvents.server.status === 'ERROR'), 20_000);
      expect(
        events.items.slice(seen).find((i) => i.data?.serverEvents.server.status === 'ERROR')?.data?.serverEvents.server
          .statusMessage,
      ).toMatch(/xrdp exited unexpectedly|health check failed/);
      events.dispose();
      await until(
        () => d.exists(`${parent}/${server.id}`),
        (e) => !e,
        5000,
        'cgroup of the vanished instance removed',
      );
    });
  });
});
