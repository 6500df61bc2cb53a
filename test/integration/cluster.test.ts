import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentAclSetUserArgs, agentUserName } from '../../src/adapters/redis/host-acl.js';
import { PROTOCOL_SSL, probeRdp } from '../../src/adapters/xrdp/rdp-probe.js';
import { collect, startTestApp, type TestApp } from '../support/app-harness.js';
import { canMakeNamespaces, createNamespace, type TestNamespace } from '../support/netns.js';
import { type PrivateRedis, startPrivateRedis } from '../support/private-redis.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';
import { needXrdp } from '../support/xrdp-available.js';

/**
 * Two RDP hosts on one machine: each host agent runs in a network namespace of its own (its own
 * loopback, so its own sesman on 127.0.0.1:3350, and an address of its own for RDP clients), with
 * its own port range and state directory, and reaches Redis as its own ACL user. Two API replicas
 * (no xrdp of their own) share FerretDB and Redis.
 */
const ready = needXrdp('cluster') && need('cluster', ['mongo']) && canMakeNamespaces() && existsSync('/usr/bin/xfreerdp');

// 2 s: a host is OFFLINE after 6 s without a heartbeat. At 1 s, the 3 s window was shorter than
// a heartbeat's trip (agent, Redis, a replica, FerretDB) on a CI machine at load 20, and live
// agents were taken OFFLINE (placement refused "b is offline").
const HEARTBEAT_S = 2;
const PASSWORDS = { a: 'agent-a-password-0123456789', b: 'agent-b-password-0123456789' } as const;

interface Agent {
  hostId: 'a' | 'b';
  ns: TestNamespace;
  dataDir: string;
  child?: ChildProcess;
  ports: { from: number; to: number };
}

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | undefined;
  for (;;) {
    try {
      last = await probe();
      if (ok(last)) return last;
    } catch {
      // keep trying
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!ready)('a cluster: two host agents in network namespaces, two API replicas', () => {
  let redis: PrivateRedis;
  let apiA: TestApp;
  let apiB: TestApp;
  let admin: string;
  let env: Record<string, string> = {};
  const agents: Record<'a' | 'b', Agent> = {} as never;
  let xvfb: ChildProcess | undefined;
  const xDisplay = 150 + Math.floor(Math.random() * 50);

  function startAgent(agent: Agent): ChildProcess {
    const redisUrl = `redis://${agentUserName(agent.hostId)}:${PASSWORDS[agent.hostId]}@${agent.ns.outsideAddress}:${redis.port}`;
    const child = spawn(
      agent.ns.exec[0] as string,
      [...agent.ns.exec.slice(1), process.execPath, '--import', 'tsx', 'src/app/agent-main.ts'],
      {
        env: {
          PATH: process.env.PATH,
          AGENT_HOST_ID: agent.hostId,
          REDIS_URL: redisUrl,
          DATA_DIR: agent.dataDir,
          HOST_HEARTBEAT_INTERVAL: String(HEARTBEAT_S),
          RDP_PUBLIC_HOST: agent.ns.insideAddress,
          RDP_PORT_RANGE: `${agent.ports.from}-${agent.ports.to}`,
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
        detached: true,
      },
    );
    agent.child = child;
    return child;
  }

  const hostStatus = async (t: TestApp, id: string) =>
    (await t.gql<{ host: { status: string } | null }>('query($id: ID!) { host(id: $id) { status } }', { id }, admin)).body.data
      ?.host?.status;

  beforeAll(async () => {
    const mongoUri = uniqueMongoUri(services.mongoUri as string, 'cluster');
    for (const hostId of ['a', 'b'] as const) {
      const base = 34200 + Math.floor(Math.random() * 70) * 10;
      agents[hostId] = {
        hostId,
        ns: createNamespace(hostId),
        dataDir: mkdtempSync(join(tmpdir(), `rdp-agent-${hostId}-`)),
        ports: { from: base, to: base + 4 },
      };
    }
    redis = await startPrivateRedis({ bind: [agents.a.ns.outsideAddress, agents.b.ns.outsideAddress] });
    for (const hostId of ['a', 'b'] as const) {
      await redis.admin.call('ACL', 'SETUSER', ...agentAclSetUserArgs(hostId, PASSWORDS[hostId]));
    }
    env = {
      MONGODB_URI: mongoUri,
      REDIS_URL: redis.url,
      RDP_HOSTS: 'agents',
      HOST_HEARTBEAT_INTERVAL: String(HEARTBEAT_S),
      METRICS_INTERVAL: '1',
    };
    apiA = await startTestApp(env);
    apiB = await startTestApp(env);
    admin = await apiA.token('root-admin', ['admin']);
    startAgent(agents.a);
    startAgent(agents.b);
    for (const id of ['a', 'b'])
      await until(
        () => hostStatus(apiB, id),
        (s) => s === 'ONLINE',
        30_000,
        `host ${id} ONLINE`,
      );
    xvfb = spawn('Xvfb', [`:${xDisplay}`, '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], {
      stdio: 'ignore',
      detached: true,
    });
  }, 120_000);

  afterAll(async () => {
    for (const agent of Object.values(agents)) {
      if (agent.child?.pid) {
        try {
          process.kill(-agent.child.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      // The namespace's xrdp instances and sesman outlive their agent on purpose: end them here.
      try {
        execFileSync('ip', ['netns', 'pids', agent.ns.name], { encoding: 'utf8' })
          .split('\n')
          .filter(Boolean)
          .forEach((pid) => {
            try {
              process.kill(Number(pid), 'SIGKILL');
            } catch {
              // gone
            }
          });
      } catch {
        // no namespace
      }
      agent.ns.remove();
      rmSync(agent.dataDir, { recursive: true, force: true });
    }
    if (xvfb?.pid) process.kill(-xvfb.pid, 'SIGKILL');
    await apiA?.stop();
    await apiB?.stop();
    await redis?.stop();
  }, 60_000);

  it('a server placed on host B through replica A starts on B, a real login through it is CONNECTED on a subscriber of replica B, and replacing replica A (a rolling update) leaves that RDP session connected', async () => {
    const owner = await apiA.token('carol', ['user']);
    const created = await apiA.gql<{ createServer: { server?: { id: string; port: number; hostId: string; host: string } } }>(
      'mutation { createServer(input: { name: "on-b", hostId: "b" }) { ... on CreateServerSuccess { server { id port hostId host } } ... on Error { code message } } }',
      {},
      owner,
    );
    const server = created.body.data?.createServer.server;
    expect(server, JSON.stringify(created.body)).toBeDefined();
    if (!server) return;
    expect(server.hostId).toBe('b');
    expect(server.host).toBe(agents.b.ns.insideAddress);
    expect(server.port).toBeGreaterThanOrEqual(agents.b.ports.from);
    const started = await apiA.gql<{ startServer: { __typename: string; message?: string } }>(
      'mutation($id: ID!) { startServer(id: $id) { __typename ... on Error { message } } }',
      { id: server.id },
      owner,
    );
    expect(started.body.data?.startServer, JSON.stringify(started.body)).toEqual({ __typename: 'StartServerSuccess' });
    // Its log, live on replica B: read from B's agent (SNAPSHOT), then tailed there while B has
    // a subscriber (logs.follow), its lines coming back as xrdp.log events over the bus.
    const logs = collect<{ serverLogs: { kind: string; lines: { level: string; message: string }[] } }>(
      apiB.ws(owner),
      'subscription($id: ID!) { serverLogs(serverId: $id) { kind lines { level message } } }',
      { id: server.id },
    );
    await logs.until(() => logs.items.length >= 1, 15_000);
    expect(logs.items[0]?.data?.serverLogs.kind, JSON.stringify(logs.items[0])).toBe('SNAPSHOT');
    expect(logs.items[0]?.data?.serverLogs.lines.length).toBeGreaterThan(0);
    // X.224 + TLS on B's own address, from this machine's namespace.
    const probe = await probeRdp({ host: agents.b.ns.insideAddress, port: server.port, timeoutMs: 3000 });
    expect(probe.kind === 'selected' && probe.protocol).toBe(PROTOCOL_SSL);
    // The connection made xrdp write lines (probed again while the agent's tail may still be starting).
    let probedAt = Date.now();
    await until(
      async () => {
        if (logs.items.length < 2 && Date.now() - probedAt > 2000) {
          probedAt = Date.now();
          await probeRdp({ host: agents.b.ns.insideAddress, port: server.port, timeoutMs: 3000 });
        }
        return logs.items.slice(1).flatMap((i) => i.data?.serverLogs.lines ?? []);
      },
      (lines) => lines.length > 0,
      20_000,
      "new lines of the server's log from host B",
    );
    expect(logs.items.slice(1).every((i) => i.data?.serverLogs.kind === 'LINES')).toBe(true);
    logs.dispose();
    // Its resources are measured on host B by B's agent (probe.measure) and stored by a replica.
    const usage = await until(
      async () =>
        (
          await apiA.gql<{ server: { usage: { memoryUsedMb: number | null } | null } }>(
            'query($id: ID!) { server(id: $id) { usage { memoryUsedMb } } }',
            { id: server.id },
            owner,
          )
        ).body.data?.server.usage,
      (u) => (u?.memoryUsedMb ?? 0) > 0,
      30_000,
      'a sample of the server on host B',
    );
    expect(usage?.memoryUsedMb).toBeGreaterThan(0);

    const session = await apiA.gql<{
      createSession: {
        session?: { id: string };
        connection?: { host: string; port: number; username: string; password: string };
      };
    }>(
      'mutation($id: ID!) { createSession(input: { serverId: $id, credentialMode: EPHEMERAL }) { ... on CreateSessionSuccess { session { id } connection { host port username password } } ... on Error { code message } } }',
      { id: server.id },
      owner,
    );
    const admitted = session.body.data?.createSession.connection;
    expect(admitted, JSON.stringify(session.body)).toBeDefined();
    if (!admitted) return;
    expect(admitted.host).toBe(agents.b.ns.insideAddress);
    // A fresh password set on host B by its agent (through replica B); the client logs in with it.
    const reissued = await apiB.gql<{
      reissueCredentials: { __typename: string; connection?: { host: string; port: number; username: string; password: string } };
    }>(
      'mutation($id: ID!) { reissueCredentials(sessionId: $id) { __typename ... on ReissueCredentialsSuccess { connection { host port username password } } ... on Error { code message } } }',
      { id: session.body.data?.createSession.session?.id },
      owner,
    );
    const connection = reissued.body.data?.reissueCredentials.connection;
    expect(connection, JSON.stringify(reissued.body)).toBeDefined();
    if (!connection) return;
    expect(connection.username).toBe(admitted.username);
    expect(connection.password).not.toBe(admitted.password);
    // HOST_ACCOUNT needs the account on the server's host: host B's agent says carol has none.
    const noAccount = await apiA.gql(
      'mutation($id: ID!) { createSession(input: { serverId: $id, credentialMode: HOST_ACCOUNT }) { __typename } }',
      { id: server.id },
      owner,
    );
    expect(noAccount.body.errors?.[0]?.extensions?.code, JSON.stringify(noAccount.body)).toBe('BAD_USER_INPUT');
    expect(noAccount.body.errors?.[0]?.message).toContain('no Linux account "carol"');

    const client = apiB.ws(owner);
    const events = collect<{ sessionEvents: { kind: string; session: { status: string; display: number | null } } }>(
      client,
      'subscription($id: ID!) { sessionEvents(serverId: $id) { kind session { status display } } }',
      { id: server.id },
    );
    await events.until(() => events.items.some((i) => i.data?.sessionEvents.kind === 'SNAPSHOT'), 10_000);
    const rdp = spawn(
      'xfreerdp',
      [
        `/v:${connection.host}:${connection.port}`,
        `/u:${connection.username}`,
        `/p:${connection.password}`,
        '/cert:ignore',
        '/size:800x600',
        '/log-level:OFF',
      ],
      { env: { ...process.env, DISPLAY: `:${xDisplay}` }, stdio: 'ignore' },
    );
    try {
      await events.until(
        () =>
          events.items.some((i) => i.data?.sessionEvents.kind === 'CONNECTED' && i.data.sessionEvents.session.display !== null),
        30_000,
      );
      const sessionId = session.body.data?.createSession.session?.id as string;
      // A rolling update of the API: replica A goes away and a new one takes its place.
      await apiA.stop();
      apiA = await startTestApp(env);
      expect(rdp.exitCode).toBeNull();
      // The agent is asked, not the record: a client really is still connected to the desktop.
      const terminate = await apiA.gql<{ terminateSession: { __typename: string; message?: string } }>(
        'mutation($id: ID!) { terminateSession(id: $id) { __typename ... on Error { message } } }',
        { id: sessionId },
        owner,
      );
      expect(terminate.body.data?.terminateSession.message ?? JSON.stringify(terminate.body)).toMatch(/client is connected/);
      const still = await apiA.gql<{ session: { status: string } }>(
        'query($id: ID!) { session(id: $id) { status } }',
        { id: sessionId },
        owner,
      );
      expect(still.body.data?.session.status).toBe('ACTIVE');
      expect(rdp.exitCode).toBeNull();
    } finally {
      rdp.kill('SIGKILL');
    }
    events.dispose();
  }, 120_000);

  it('kill -9 of agent B: OFFLINE within 3 heartbeats, commands fail with HOST_UNAVAILABLE at once; restarted, it is ONLINE and its instance adopted', async () => {
    const owner = await apiA.token('dave', ['user']);
    const created = await apiB.gql<{ createServer: { server?: { id: string } } }>(
      'mutation { createServer(input: { name: "b-2", hostId: "b" }) { ... on CreateServerSuccess { server { id } } } }',
      {},
      owner,
    );
    const id = created.body.data?.createServer.server?.id as string;
    const running = await apiB.gql<{ startServer: { __typename: string } }>(
      'mutation($id: ID!) { startServer(id: $id) { __typename } }',
      { id },
      owner,
    );
    expect(running.body.data?.startServer.__typename, JSON.stringify([created.body, running.body])).toBe('StartServerSuccess');

    const pid = agents.b.child?.pid as number;
    const killedAt = Date.now();
    process.kill(-pid, 'SIGKILL');
    // The bound is on what the API answers, not on how soon this loaded machine gets the answer
    // back: every status asked for once 3 heartbeats (+1 s for the clock's and the last beat's
    // slack) have passed since the kill must be OFFLINE. Each probe is timed from when it was
    // sent, so a slow answer does not count against the API; a host that stays ONLINE past the
    // bound still fails (its first probe sent after the bound answers ONLINE).
    const boundMs = 3 * HEARTBEAT_S * 1000 + 1000;
    const answers: { sentAfterMs: number; status: string | undefined }[] = [];
    await until(
      async () => {
        const sentAfterMs = Date.now() - killedAt;
        const status = await hostStatus(apiA, 'b');
        answers.push({ sentAfterMs, status });
        return status;
      },
      (s) => s === 'OFFLINE',
      boundMs + 30_000,
      'host b OFFLINE',
    );
    expect(answers.filter((a) => a.sentAfterMs >= boundMs && a.status !== 'OFFLINE')).toEqual([]);

    const stop = await apiA.gql<{ stopServer: { __typename: string } }>(
      'mutation($id: ID!) { stopServer(id: $id) { __typename ... on Error { code message } } }',
      { id },
      owner,
    );
    // Refused at once, from the host's status: no command was sent to wait for the dead agent
    // (that would fail after the 1 s accept window, "did not take the command within").
    const refusal = stop.body.errors?.[0];
    expect(refusal?.extensions?.code, JSON.stringify(stop.body)).toBe('HOST_UNAVAILABLE');
    expect(refusal?.message).toContain('its agent is OFFLINE');

    startAgent(agents.b);
    await until(
      () => hostStatus(apiA, 'b'),
      (s) => s === 'ONLINE',
      // A fresh agent process (tsx compiles it first) on a loaded machine: a wait, not a bound.
      45_000,
      'host b ONLINE again',
    );
    // Reconciled: the instance outlived its agent, so it is adopted and the server stays RUNNING.
    const after = await apiA.gql<{ server: { status: string } }>('query($id: ID!) { server(id: $id) { status } }', { id }, owner);
    expect(after.body.data?.server.status).toBe('RUNNING');
    const stopped = await apiA.gql<{ stopServer: { __typename: string } }>(
      'mutation($id: ID!) { stopServer(id: $id, force: true) { __typename } }',
      { id },
      owner,
    );
    expect(stopped.body.data?.stopServer.__typename).toBe('StopServerSuccess');
  }, 120_000);

  it("agent B's Redis user can neither read A's commands nor write A's events", async () => {
    const b = new Redis(`redis://${agentUserName('b')}:${PASSWORDS.b}@127.0.0.1:${redis.port}`, {
      maxRetriesPerRequest: 0,
      lazyConnect: true,
    });
    b.on('error', () => {});
    await b.connect();
    try {
      await expect(b.xadd('rdp:host:a:events', '*', 'v', '1', 'type', 'runtime.exit', 'payload', '{}')).rejects.toThrow(/NOPERM/);
      await expect(
        b.call('XREADGROUP', 'GROUP', 'agent', 'b', 'COUNT', '1', 'STREAMS', 'rdp:host:a:commands', '>'),
      ).rejects.toThrow(/NOPERM/);
      await expect(b.get('anything')).rejects.toThrow(/NOPERM/);
    } finally {
      b.disconnect();
    }
  });
});
