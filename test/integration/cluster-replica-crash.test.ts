import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentAclSetUserArgs, agentUserName } from '../../src/adapters/redis/host-acl.js';
import { probeRdp } from '../../src/adapters/xrdp/rdp-probe.js';
import { type ApiProcess, startApiProcess } from '../support/api-process.js';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { canMakeNamespaces, createNamespace, type TestNamespace } from '../support/netns.js';
import { type PrivateRedis, startPrivateRedis } from '../support/private-redis.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';
import { needXrdp } from '../support/xrdp-available.js';

/**
 * Issue 12: kill -9 of API replica A in the middle of 50 commands. Every command executes at most
 * once, and every one acknowledged to a client executed. Replica A is a process of its own (so it
 * can really be SIGKILLed), replica B runs in this process; one host agent runs real xrdp in a
 * network namespace (its own loopback, so its own sesman, and no clash with other test files).
 */
const ready = needXrdp('cluster-replica-crash') && need('cluster-replica-crash', ['mongo']) && canMakeNamespaces();

const HOST = 'crash';
const PASSWORD = 'agent-crash-password-0123456789';
const SERVERS = 25;
const ABANDONED_AFTER_MS = 25_000;

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

/** What the host really runs: the xrdp instances (process-group leaders) per server, and listening sockets per port. */
function hostFacts(ns: TestNamespace) {
  const instances = new Map<string, number[]>();
  const pids = execFileSync('ip', ['netns', 'pids', ns.name], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const pid of pids) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      // Field 5 of stat (after the parenthesised name) is the process group: an instance leads its own.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
      if (!argv[0]?.endsWith('xrdp') || pgrp !== Number(pid)) continue;
      const ini = argv[argv.indexOf('-c') + 1] ?? '';
      const id = /\/servers\/([^/]+)\/xrdp\.ini$/.exec(ini)?.[1];
      if (id) instances.set(id, [...(instances.get(id) ?? []), Number(pid)]);
    } catch {
      // exited meanwhile
    }
  }
  const listeners = new Map<number, number>();
  const ss = execFileSync('ip', ['netns', 'exec', ns.name, 'ss', '-Hltn'], { encoding: 'utf8' });
  for (const line of ss.split('\n').filter(Boolean)) {
    const port = Number(line.trim().split(/\s+/)[3]?.split(':').at(-1));
    if (Number.isInteger(port)) listeners.set(port, (listeners.get(port) ?? 0) + 1);
  }
  return { instances, listeners };
}

type Outcome =
  | { kind: 'start'; serverId: string; answer?: { __typename: string; code?: string }; failure?: string }
  | { kind: 'logs'; serverId: string; answer?: { lines: number }; failure?: string };

describe.skipIf(!ready)('kill -9 of an API replica in the middle of 50 host commands', () => {
  let redis: PrivateRedis;
  let ns: TestNamespace;
  let dataDir: string;
  let apiDataDir: string;
  let agent: ChildProcess | undefined;
  let apiA: ApiProcess | undefined;
  let apiB: TestApp;
  let ports: { from: number; to: number };
  let env: Record<string, string>;

  function startAgent(): ChildProcess {
    const child = spawn(
      ns.exec[0] as string,
      [...ns.exec.slice(1), process.execPath, '--import', 'tsx', 'src/app/agent-main.ts'],
      {
        env: {
          PATH: process.env.PATH,
          AGENT_HOST_ID: HOST,
          REDIS_URL: `redis://${agentUserName(HOST)}:${PASSWORD}@${ns.outsideAddress}:${redis.port}`,
          DATA_DIR: dataDir,
          HOST_HEARTBEAT_INTERVAL: '1',
          RDP_PUBLIC_HOST: ns.insideAddress,
          RDP_PORT_RANGE: `${ports.from}-${ports.to}`,
          LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
        detached: true,
      },
    );
    agent = child;
    return child;
  }

  async function stopAgent(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const child = agent;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    try {
      process.kill(-child.pid, signal);
    } catch {
      return;
    }
    await exited;
  }

  const hostStatus = async (token: string) =>
    (await apiB.gql<{ host: { status: string } | null }>('query($id: ID!) { host(id: $id) { status } }', { id: HOST }, token))
      .body.data?.host?.status;

  async function gqlA<T>(query: string, variables: Record<string, unknown>, token: string): Promise<T> {
    const res = await fetch(`${apiA?.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: T; errors?: unknown[] };
    if (!body.data || body.errors) throw new Error(`errors: ${JSON.stringify(body)}`);
    return body.data;
  }

  beforeAll(async () => {
    ns = createNamespace('rc');
    dataDir = mkdtempSync(join(tmpdir(), 'rdp-agent-crash-'));
    apiDataDir = mkdtempSync(join(tmpdir(), 'rdp-api-crash-'));
    const base = 35000 + Math.floor(Math.random() * 30) * 40;
    ports = { from: base, to: base + SERVERS + 4 };
    redis = await startPrivateRedis({ bind: [ns.outsideAddress] });
    await redis.admin.call('ACL', 'SETUSER', ...agentAclSetUserArgs(HOST, PASSWORD));
    env = {
      MONGODB_URI: uniqueMongoUri(services.mongoUri as string, 'replica_crash'),
      REDIS_URL: redis.url,
      RDP_HOSTS: 'agents',
      HOST_HEARTBEAT_INTERVAL: '1',
      DATA_DIR: apiDataDir,
    };
    // B takes a STARTING/STOPPING record as abandoned sooner than in production (60 s), but still
    // after any start can have finished on the agent (1 s to be taken + 20 s): a younger record may
    // belong to a start the agent is still running, whose instance is not up yet.
    apiB = await startTestApp(env, { abandonedAfterMs: ABANDONED_AFTER_MS, abandonedCheckIntervalMs: 500 });
    apiA = await startApiProcess(env);
    startAgent();
    const admin = await apiB.token('root-admin', ['admin']);
    await until(
      () => hostStatus(admin),
      (s) => s === 'ONLINE',
      30_000,
      'the host ONLINE',
    );
  }, 120_000);

  afterAll(async () => {
    await apiA?.kill();
    await stopAgent('SIGKILL');
    // xrdp instances (and sesman) outlive their agent on purpose: end them here.
    if (ns) {
      try {
        for (const pid of execFileSync('ip', ['netns', 'pids', ns.name], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // gone
          }
        }
      } catch {
        // no namespace
      }
      ns.remove();
    }
    await apiB?.stop();
    await redis?.stop();
    for (const dir of [dataDir, apiDataDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('every command runs at most once, every acknowledged start runs, and the rest end up consistent', async () => {
    const owner = await apiB.token('erin', ['user']);
    const admin = await apiB.token('root-admin', ['admin']);
    const servers: { id: string; port: number }[] = [];
    for (let i = 0; i < SERVERS; i++) {
      const created = await apiB.gql<{ createServer: { server?: { id: string; port: number } } }>(
        'mutation($name: String!, $host: String!) { createServer(input: { name: $name, hostId: $host }) { ... on CreateServerSuccess { server { id port } } ... on Error { code message } } }',
        { name: `crash-${i}`, host: HOST },
        owner,
      );
      const server = created.body.data?.createServer.server;
      expect(server, JSON.stringify(created.body)).toBeDefined();
      if (server) servers.push(server);
    }

    // 50 commands through replica A at once: a start of every server and a read of its xrdp log.
    const outcomes: Outcome[] = [];
    let startsAcknowledged = 0;
    let answers = 0;
    const calls = servers.flatMap((s) => [
      gqlA<{ startServer: { __typename: string; code?: string } }>(
        'mutation($id: ID!) { startServer(id: $id) { __typename ... on Error { code } } }',
        { id: s.id },
        owner,
      ).then(
        (d) => {
          answers++;
          if (d.startServer.__typename === 'StartServerSuccess') startsAcknowledged++;
          outcomes.push({ kind: 'start', serverId: s.id, answer: d.startServer });
        },
        (err: unknown) => outcomes.push({ kind: 'start', serverId: s.id, failure: String(err) }),
      ),
      gqlA<{ server: { logs: unknown[] } }>(
        'query($id: ID!) { server(id: $id) { logs(last: 5) { message } } }',
        { id: s.id },
        owner,
      ).then(
        (d) => {
          answers++;
          outcomes.push({ kind: 'logs', serverId: s.id, answer: { lines: d.server.logs.length } });
        },
        (err: unknown) => outcomes.push({ kind: 'logs', serverId: s.id, failure: String(err) }),
      ),
    ]);
    await until(
      async () => startsAcknowledged,
      (n) => n >= 3,
      60_000,
      'the first starts acknowledged through replica A',
    );
    await apiA?.kill();
    const answeredBeforeKill = answers;
    await Promise.all(calls);
    const startOutcomes = outcomes.filter((o) => o.kind === 'start');
    const acknowledged = startOutcomes.filter((o) => o.answer?.__typename === 'StartServerSuccess').map((o) => o.serverId);
    const unanswered = startOutcomes.filter((o) => !o.answer).map((o) => o.serverId);
    console.info(
      `replica A killed after ${answeredBeforeKill} answers; starts acknowledged ${acknowledged.length}, answered otherwise ${
        startOutcomes.length - acknowledged.length - unanswered.length
      }, cut off ${unanswered.length}`,
    );
    expect(outcomes).toHaveLength(2 * SERVERS);
    // The kill has to land in the middle, or this test proves nothing.
    expect(unanswered.length).toBeGreaterThan(0);

    // Every acknowledged start executed: its instance answers the X.224 probe on the host's address.
    const portOf = new Map(servers.map((s) => [s.id, s.port]));
    for (const id of acknowledged) {
      const probe = await probeRdp({ host: ns.insideAddress, port: portOf.get(id) as number, timeoutMs: 3000 });
      expect(probe.kind, `server ${id}`).toBe('selected');
    }

    // Let the agent finish what it took before A died (its answers go to a dead replica's stream).
    const commandsKey = `rdp:host:${HOST}:commands`;
    const sent = (await redis.admin.xrange(commandsKey, '-', '+')).map(([, fields]) => {
      const m = new Map<string, string>();
      for (let i = 0; i + 1 < fields.length; i += 2) m.set(fields[i] as string, fields[i + 1] as string);
      const payload = JSON.parse(m.get('payload') ?? 'null') as { server?: { id: string }; serverId?: string } | null;
      return { id: m.get('id') as string, type: m.get('type') as string, serverId: payload?.server?.id ?? payload?.serverId };
    });
    const journalPath = join(dataDir, 'agent', HOST, 'commands.journal');
    const journalLines = () => readFileSync(journalPath, 'utf8').split('\n').filter(Boolean);
    const sentIds = new Set(sent.map((c) => c.id));
    await until(
      async () => {
        const lines = journalLines();
        const started = lines.filter((l) => l.startsWith('started ')).map((l) => l.slice(8));
        const done = new Set(lines.filter((l) => l.startsWith('done ')).map((l) => l.split(' ')[1]));
        return started.filter((id) => sentIds.has(id) && !done.has(id)).length;
      },
      (open) => open === 0,
      30_000,
      'the agent to finish the commands it took',
    );

    // At most once: each command id is `started` at most once in the journal, and replica A sent
    // at most one start per server (nobody re-sent a dead replica's command).
    const startedCount = new Map<string, number>();
    for (const line of journalLines()) {
      if (line.startsWith('started ')) {
        const id = line.slice(8);
        startedCount.set(id, (startedCount.get(id) ?? 0) + 1);
      }
    }
    expect([...startedCount].filter(([, n]) => n > 1)).toEqual([]);
    const startsSent = sent.filter((c) => c.type === 'runtime.start');
    const startsPerServer = new Map<string, number>();
    for (const c of startsSent) startsPerServer.set(c.serverId ?? '', (startsPerServer.get(c.serverId ?? '') ?? 0) + 1);
    expect([...startsPerServer].filter(([, n]) => n > 1)).toEqual([]);
    const replies = new Map<string, string>();
    for (const line of journalLines()) {
      const m = /^done (\S+) (.*)$/.exec(line);
      if (m) replies.set(m[1] as string, (JSON.parse(m[2] as string) as { status: string }).status);
    }
    const startsRun = startsSent.filter((c) => startedCount.has(c.id) && replies.get(c.id) === 'OK').map((c) => c.serverId);
    for (const id of acknowledged) expect(startsRun, `start of ${id} in the journal`).toContain(id);
    const logReads = sent.filter((c) => c.type === 'logs.read');
    expect(logReads.length).toBeLessThanOrEqual(SERVERS);

    // At most one xrdp instance per server, no port bound twice; every start that ran has its instance.
    let facts = hostFacts(ns);
    expect([...facts.instances].filter(([, pids]) => pids.length > 1)).toEqual([]);
    expect([...facts.listeners].filter(([, n]) => n > 1)).toEqual([]);
    for (const id of startsRun) expect(facts.instances.has(id as string), `instance of ${id}`).toBe(true);

    const statuses = async () => {
      const out = new Map<string, string>();
      for (const s of servers) {
        const r = await apiB.gql<{ server: { status: string } }>(
          'query($id: ID!) { server(id: $id) { status } }',
          { id: s.id },
          owner,
        );
        out.set(s.id, r.body.data?.server.status ?? 'MISSING');
      }
      return out;
    };
    const beforeReconcile = await statuses();
    const stuck = servers.filter((s) => beforeReconcile.get(s.id) === 'STARTING').map((s) => s.id);
    const counts = (m: Map<string, string>) =>
      [...m.values()].reduce<Record<string, number>>((acc, st) => {
        acc[st] = (acc[st] ?? 0) + 1;
        return acc;
      }, {});
    console.info(`records before reconciliation: ${JSON.stringify(counts(beforeReconcile))}`);
    for (const id of acknowledged) expect(beforeReconcile.get(id)).toBe('RUNNING');
    // A record never says RUNNING for an instance that does not run.
    for (const s of servers) if (beforeReconcile.get(s.id) === 'RUNNING') expect(facts.instances.has(s.id), s.id).toBe(true);

    const consistent = (m: Map<string, string>, f: ReturnType<typeof hostFacts>) =>
      servers.every((s) => {
        const st = m.get(s.id);
        const runs = f.instances.has(s.id);
        return st === 'RUNNING' ? runs : (st === 'STOPPED' || st === 'ERROR') && !runs;
      });
    // Replica B settles the starts A left unfinished (nothing else would: start, restart and
    // delete refuse a STARTING server), asking the agent whether each instance runs.
    let settled = beforeReconcile;
    await until(
      async () => {
        settled = await statuses();
        facts = hostFacts(ns);
        return consistent(settled, facts);
      },
      (ok) => ok,
      ABANDONED_AFTER_MS + 20_000,
      'replica B to settle the unfinished starts',
    ).catch((err: unknown) => {
      throw new Error(
        `${String(err)}; records ${JSON.stringify([...settled])}; instances ${JSON.stringify([...facts.instances.keys()])}`,
      );
    });
    console.info(`records after replica B settled them: ${JSON.stringify(counts(settled))}`);
    for (const id of acknowledged) expect(settled.get(id)).toBe('RUNNING');

    // The agent's hello (after a restart) reconciles: a STARTING record whose instance runs is
    // RUNNING, one without is ERROR, and an instance nobody wants is stopped.
    await stopAgent('SIGTERM');
    await until(
      () => hostStatus(admin),
      (s) => s === 'OFFLINE',
      10_000,
      'the host OFFLINE after bye',
    );
    startAgent();
    await until(
      () => hostStatus(admin),
      (s) => s === 'ONLINE',
      30_000,
      'the host ONLINE again',
    );
    let afterReconcile = await statuses();
    await until(
      async () => {
        afterReconcile = await statuses();
        facts = hostFacts(ns);
        return consistent(afterReconcile, facts);
      },
      (ok) => ok,
      20_000,
      'records and instances to agree after the hello',
    ).catch((err: unknown) => {
      throw new Error(
        `${String(err)}; records ${JSON.stringify([...afterReconcile])}; instances ${JSON.stringify([...facts.instances.keys()])}`,
      );
    });
    console.info(
      `records after reconciliation: ${JSON.stringify(counts(afterReconcile))}; stuck STARTING before: ${stuck.length}`,
    );
    for (const id of acknowledged) expect(afterReconcile.get(id)).toBe('RUNNING');

    // Through replica B every server that is not running starts (once), and then all run, each on its own port.
    for (const s of servers) {
      if (afterReconcile.get(s.id) === 'RUNNING') continue;
      const r = await apiB.gql<{ startServer: { __typename: string } }>(
        'mutation($id: ID!) { startServer(id: $id) { __typename ... on Error { code message } } }',
        { id: s.id },
        owner,
      );
      expect(r.body.data?.startServer.__typename, JSON.stringify(r.body)).toBe('StartServerSuccess');
    }
    facts = hostFacts(ns);
    for (const s of servers) {
      expect(facts.instances.get(s.id)?.length, `instances of ${s.id}`).toBe(1);
      const probe = await probeRdp({ host: ns.insideAddress, port: s.port, timeoutMs: 3000 });
      expect(probe.kind, `probe of ${s.id}`).toBe('selected');
    }
    expect([...facts.listeners].filter(([, n]) => n > 1)).toEqual([]);
    expect(new Set(servers.map((s) => s.port)).size).toBe(SERVERS);
  }, 240_000);
});
