import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  constants,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instancePaths } from '../../src/adapters/xrdp/instance-paths.js';
import type { RoundReport } from '../../src/domain/resources/resource-collector.js';
import { collect, startTestApp, type TestApp } from '../support/app-harness.js';
import { lockHostSesman } from '../support/host-sesman-lock.js';
import { needXrdp } from '../support/xrdp-available.js';

const TOOLS = [
  '/usr/sbin/xrdp-sesman',
  '/usr/bin/xfreerdp',
  '/usr/bin/Xvfb',
  '/usr/bin/Xvnc',
  '/usr/bin/xterm',
  '/usr/sbin/useradd',
];
const BURNERS = 4 * availableParallelism();
/**
 * The CPU alert threshold of this test, in percent of all host CPUs. docs/DOMAIN.md's default is 80; on
 * an idle host the burners reach about 100 % and that default works (ALERT_CPU_PERCENT=80). A
 * shared CI machine runs other suites at the same time and the kernel shares CPU fairly between
 * sessions (CFS autogroup; each burner calls setsid, so each is a group of its own and gets its
 * share), so the session's burners got 20-90 % of the host here: the test sets
 * a threshold the burners exceed and an idle session does not (under 3 %), and checks the
 * alerting at that threshold; the default thresholds are covered by the unit and API tests.
 */
const CPU_THRESHOLD = Number(process.env.RESOURCE_TEST_CPU_THRESHOLD ?? 15);
const BURN_LOOP = 'while :; do :; done';

function needTools(): boolean {
  if (!needXrdp('resource monitor on real xrdp')) return false;
  const missing = TOOLS.filter((t) => !existsSync(t));
  if (missing.length === 0) return true;
  const reason = `resource monitor on real xrdp: skipped, missing ${missing.join(', ')}`;
  if (process.env.REQUIRE_REAL_SERVICES === '1') throw new Error(`REQUIRE_REAL_SERVICES=1 but ${reason}`);
  console.warn(`SKIPPED ${reason}`);
  return false;
}

async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Processes as ps and /proc/<pid>/status tell them, read independently of the collector. */
function pids(args: string[]): number[] {
  try {
    return execFileSync('pgrep', args, { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map(Number);
  } catch {
    return [];
  }
}

function vmRssKb(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

const rssMb = (list: number[]) => list.reduce((sum, pid) => sum + vmRssKb(pid), 0) / 1024;

/** The burner loops of an account, found by their command line (they are our own children, via the session). */
function burnerPids(uid: number): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => {
      try {
        return (
          statSync(`/proc/${pid}`).uid === uid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(BURN_LOOP)
        );
      } catch {
        return false;
      }
    });
}

type AlertMsg = { alertEvents: { kind: string; alert: { subjectId: string; resource: string; value: number; id: string } } };

describe.skipIf(!needTools())('the resource monitor on a real xrdp server and a real RDP session', () => {
  let t: TestApp;
  let dir: string;
  let unlock: () => Promise<void> = async () => {};
  const children: ChildProcess[] = [];
  const rounds: (RoundReport & { doneAt: number })[] = [];
  const base = 20000 + Math.floor(Math.random() * 50) * 10;
  const clientDisplay = 200 + Math.floor(Math.random() * 50);
  let alice: string;
  let operator: string;
  let serverId = '';
  let sessionId = '';
  let username = '';
  let uid = -1;
  const report: Record<string, unknown> = {};

  async function nextRound(timeoutMs = 8000): Promise<void> {
    const since = Date.now();
    await until('a stored round', timeoutMs, () =>
      rounds.find((r) => r.leader && r.samples > 0 && r.doneAt > since && Date.parse(r.at) >= since - 1000),
    );
  }

  async function usageOf(id: string) {
    const [sample] = await t.app.container.resources.usage.current([id]);
    return sample ?? null;
  }

  beforeAll(async () => {
    unlock = await lockHostSesman();
    dir = mkdtempSync(join(tmpdir(), 'rdp-resources-'));
    t = await startTestApp({
      XRDP_CONFIG_PATH: join(dir, 'etc'),
      XRDP_LOG_PATH: join(dir, 'log'),
      DATA_DIR: join(dir, 'data'),
      RDP_LOOPBACK_ONLY: 'true',
      RDP_PORT_RANGE: `${base}-${base + 9}`,
      METRICS_INTERVAL: '1',
      ALERT_CPU_PERCENT: String(CPU_THRESHOLD),
    });
    t.app.container.resources.collector.onRound((r) => rounds.push({ ...r, doneAt: Date.now() }));
    alice = await t.token('alice');
    operator = await t.token('olga', ['operator']);
    const xvfb = spawn('Xvfb', [`:${clientDisplay}`, '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], {
      stdio: 'ignore',
      detached: true,
    });
    children.push(xvfb);
    await until('Xvfb', 5000, () => (existsSync(`/tmp/.X11-unix/X${clientDisplay}`) ? true : undefined));
  }, 120_000);

  afterAll(async () => {
    if (uid >= 0) for (const pid of burnerPids(uid)) process.kill(pid, 'SIGKILL');
    for (const c of children) {
      try {
        if (c.pid) process.kill(-c.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    if (t) {
      if (serverId) {
        // Ends the session (and removes its account), then the instance.
        await t.app.container.sessions.terminateAll(serverId, 'SERVER_STOPPED').catch(() => undefined);
        await t.gql('mutation($id: ID!) { deleteServer(id: $id, force: true) { __typename } }', { id: serverId }, alice);
      }
      await t.app.container.sesman.stop().catch(() => undefined);
      await t.stop();
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
    await unlock();
    console.log(`resource monitor on real xrdp: ${JSON.stringify(report)}`);
  }, 60_000);

  it("a running server's sampled RSS is within 20 % of what /proc says about its xrdp processes", async () => {
    const created = await t.gql<{ createServer: { server: { id: string } } }>(
      'mutation { createServer(input: { name: "measured" }) { ... on CreateServerSuccess { server { id } } } }',
      {},
      alice,
    );
    serverId = created.body.data?.createServer.server.id ?? '';
    const started = await t.gql<{ startServer: { __typename: string } }>(
      'mutation($id: ID!) { startServer(id: $id) { __typename } }',
      { id: serverId },
      alice,
    );
    expect(started.body.data?.startServer.__typename).toBe('StartServerSuccess');
    const instancePid = Number(readFileSync(`${instancePaths(join(dir, 'etc'), serverId).dir}/instance.pid`, 'utf8').trim());
    await nextRound();
    await nextRound();
    const sampled = await usageOf(serverId);
    const procMb = rssMb(pids(['-g', String(instancePid)]));
    report.serverRss = { sampledMb: sampled?.memoryUsedMb, procMb: Math.round(procMb * 100) / 100 };
    expect(sampled?.memoryUsedMb).toBeGreaterThan(0);
    expect(Math.abs((sampled?.memoryUsedMb ?? 0) - procMb) / procMb).toBeLessThanOrEqual(0.2);
    expect(sampled?.cpuPercent).not.toBeNull();
    // The API and /metrics show the same figure.
    const api = await t.gql<{ server: { usage: { memoryUsedMb: number; memoryPercent: number } } }>(
      'query($id: ID!) { server(id: $id) { usage { memoryUsedMb memoryPercent } } }',
      { id: serverId },
      alice,
    );
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    const line = metrics.split('\n').find((l) => l.startsWith(`rdp_memory_usage_percent{server_id="${serverId}"}`));
    expect(Number(line?.split(' ')[1])).toBe(api.body.data?.server.usage.memoryPercent);
  }, 60_000);

  it("a CPU burner started inside the session drives the session's and server's CPU above the threshold: one alert and one event each; stopping it resolves them", async () => {
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
    sessionId = admission.session.id;
    username = admission.connection.username;
    uid = Number(execFileSync('id', ['-u', username], { encoding: 'utf8' }).trim());
    const home = `/home/${username}`;
    // The session's own startup script starts the burners once a line comes through ~/burn (a
    // FIFO, so the wait spawns nothing): they are the session's processes (children of its
    // window manager script), as anything a user runs is.
    execFileSync('mkfifo', ['-m', '600', `${home}/burn`]);
    execFileSync('chown', [`${username}:`, `${home}/burn`]);
    writeFileSync(
      `${home}/startwm.sh`,
      [
        '#!/bin/sh',
        '(',
        '  read -r _ < "$HOME/burn"',
        '  i=0',
        `  while [ $i -lt ${BURNERS} ]; do setsid sh -c '${BURN_LOOP}' & i=$((i+1)); done`,
        '  wait',
        ') &',
        'exec xterm -geometry 80x24+10+10',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    execFileSync('chown', [`${username}:`, `${home}/startwm.sh`]);

    const alerts = collect<AlertMsg>(
      t.ws(operator),
      'subscription { alertEvents { kind alert { id subjectId resource value } } }',
    );
    await alerts.until(() => true);
    const client = spawn(
      'xfreerdp',
      [
        `/v:127.0.0.1:${admission.connection.port}`,
        `/u:${username}`,
        `/p:${admission.connection.password}`,
        '/cert:ignore',
        '/size:1024x768',
        '/log-level:OFF',
      ],
      { stdio: 'ignore', detached: true, env: { ...process.env, DISPLAY: `:${clientDisplay}` } },
    );
    children.push(client);
    await until('session connected with a display', 20_000, async () => {
      const s = (
        await t.gql<{ session: { display: number | null } }>(
          'query($id: ID!) { session(id: $id) { display } }',
          { id: sessionId },
          alice,
        )
      ).body.data?.session;
      return s?.display != null ? s : undefined;
    });
    // Compared once the session has settled (the same processes over two rounds), since the
    // sample was taken at the start of its round and /proc is read after it.
    let previous = '';
    await until('the session settled', 20_000, async () => {
      await nextRound();
      const now = pids(['-u', String(uid)]).join(',');
      const settled = now !== '' && now === previous;
      previous = now;
      return settled ? true : undefined;
    });
    const quiet = await usageOf(sessionId);
    const sessionProcMb = rssMb(pids(['-u', String(uid)]));
    report.sessionRss = { sampledMb: quiet?.memoryUsedMb, userProcessesMb: Math.round(sessionProcMb * 100) / 100 };
    expect(quiet?.memoryUsedMb).toBeGreaterThan(0);
    expect(Math.abs((quiet?.memoryUsedMb ?? 0) - sessionProcMb) / sessionProcMb).toBeLessThanOrEqual(0.2);
    const serverNow = await usageOf(serverId);
    // The server's figure holds its session's processes too.
    expect(serverNow?.memoryUsedMb ?? 0).toBeGreaterThan(quiet?.memoryUsedMb ?? 0);

    const cpuEvents = (subject: string, kind: string) =>
      alerts.items.filter(
        (i) =>
          i.data?.alertEvents.kind === kind &&
          i.data.alertEvents.alert.subjectId === subject &&
          i.data.alertEvents.alert.resource === 'CPU',
      );
    // Before the burn nothing is above the threshold: whatever alert comes is the burner's.
    report.quietCpuBefore = { session: quiet?.cpuPercent, server: serverNow?.cpuPercent };
    expect(quiet?.cpuPercent ?? 100).toBeLessThan(CPU_THRESHOLD);
    expect(serverNow?.cpuPercent ?? 100).toBeLessThan(CPU_THRESHOLD);
    expect(cpuEvents(sessionId, 'RAISED').length + cpuEvents(serverId, 'RAISED').length).toBe(0);
    const burnStart = Date.now();
    // Non-blocking: without a reader (the session's script is not waiting) this throws, not hangs.
    const fifo = openSync(`${home}/burn`, constants.O_WRONLY | constants.O_NONBLOCK);
    writeSync(fifo, 'go\n');
    closeSync(fifo);
    try {
      await alerts
        .until(() => cpuEvents(sessionId, 'RAISED').length >= 1 && cpuEvents(serverId, 'RAISED').length >= 1, 25_000)
        .catch(async (err: unknown) => {
          const cpu = { session: (await usageOf(sessionId))?.cpuPercent, server: (await usageOf(serverId))?.cpuPercent };
          console.log(`burners ${JSON.stringify(burnerPids(uid))}, sampled CPU ${JSON.stringify(cpu)}`);
          console.log(execFileSync('ps', ['-o', 'pid,ppid,ni,stat,pcpu,rss,args', '-u', String(uid)], { encoding: 'utf8' }));
          throw err;
        });
      report.alertAfterMs = Date.now() - burnStart;
      report.burners = { count: BURNERS, running: burnerPids(uid).length };
      report.burningCpu = { session: (await usageOf(sessionId))?.cpuPercent, server: (await usageOf(serverId))?.cpuPercent };
      // More rounds above the threshold raise nothing more.
      await nextRound();
      await nextRound();
    } finally {
      rmSync(`${home}/burn`, { force: true });
      for (const pid of burnerPids(uid)) process.kill(pid, 'SIGKILL');
    }
    const stopped = Date.now();
    await alerts.until(() => cpuEvents(sessionId, 'RESOLVED').length >= 1 && cpuEvents(serverId, 'RESOLVED').length >= 1, 15_000);
    report.resolvedAfterMs = Date.now() - stopped;
    report.quietCpu = { session: (await usageOf(sessionId))?.cpuPercent, server: (await usageOf(serverId))?.cpuPercent };
    for (const subject of [sessionId, serverId]) {
      expect(cpuEvents(subject, 'RAISED')).toHaveLength(1);
      expect(cpuEvents(subject, 'RESOLVED')).toHaveLength(1);
      const stored = await t.gql<{ alerts: { totalCount: number; edges: { node: { resolved: boolean; value: number } }[] } }>(
        'query($s: ID!) { alerts(filter: { subject: $s }) { totalCount edges { node { resolved value resource } } } }',
        { s: subject },
        operator,
      );
      const cpuAlerts = stored.body.data?.alerts.edges.filter((e) => (e.node as { resource?: string }).resource === 'CPU') ?? [];
      expect(cpuAlerts).toHaveLength(1);
      expect(cpuAlerts[0]?.node.resolved).toBe(true);
      expect(cpuAlerts[0]?.node.value).toBeGreaterThan(CPU_THRESHOLD);
    }
    // Alice owns the server and the session: she sees both alerts; the host's is not hers.
    const hers = await t.gql<{ alerts: { edges: { node: { subjectKind: string } }[] } }>(
      '{ alerts(first: 100) { edges { node { subjectKind } } } }',
      {},
      alice,
    );
    expect(new Set(hers.body.data?.alerts.edges.map((e) => e.node.subjectKind))).toEqual(new Set(['SERVER', 'SESSION']));
    alerts.dispose();
  }, 120_000);
});
