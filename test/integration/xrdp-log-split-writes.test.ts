import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentAclSetUserArgs, agentUserName } from '../../src/adapters/redis/host-acl.js';
import { instancePaths } from '../../src/adapters/xrdp/instance-paths.js';
import { createRedisAgentTransport } from '../../src/app/agent/redis-agent-transport.js';
import { type RunningAgent, runAgent } from '../../src/app/agent/run-agent.js';
import { createLogger } from '../../src/app/logger.js';
import { loadAgentConfig } from '../../src/config/agent-config.js';
import { collect, startTestApp, type TestApp } from '../support/app-harness.js';
import { waitFor } from '../support/net.js';
import { type PrivateRedis, startPrivateRedis } from '../support/private-redis.js';
import { need, services, uniqueMongoUri } from '../support/real-services.js';
import { xrdpLogLine } from '../support/xrdp-available.js';

/**
 * serverLogs while xrdp's log is written in pieces: a read of the file may end inside a line and
 * inside a multi-line entry (continuation lines without a `[time] [LEVEL]` prefix). Both ways of
 * following hand out whole entries, as `logs` reads them back: the all-in-one process tailing the
 * file itself, and a replica with RDP_HOSTS=agents, the host agent tailing it (logs.follow) and its
 * lines coming back as xrdp.log events through Redis.
 */
const ready = need('xrdp log split writes', ['mongo']);

const SUBSCRIBE = `subscription($id: ID!) { serverLogs(serverId: $id) { kind lines { time level message pid } } }`;
const LOGS = 'query($id: ID!) { server(id: $id) { logs(last: 10) { time level message pid } } }';
type Line = { time: string; level: string; message: string; pid: number | null };

/** Creates a server on `t`, follows its log, writes it in two pieces; returns what came. */
async function followSplitWrites(t: TestApp, createInput: string, logOf: (serverId: string) => string) {
  const owner = await t.token('log-writer');
  const created = await t.gql<{ createServer: { server?: { id: string }; message?: string } }>(
    `mutation { createServer(input: ${createInput}) { ... on CreateServerSuccess { server { id } } ... on Error { message } } }`,
    {},
    owner,
  );
  const id = created.body.data?.createServer.server?.id;
  if (!id) throw new Error(JSON.stringify(created.body));
  const log = logOf(id);
  mkdirSync(dirname(log), { recursive: true });
  const feed = collect<{ serverLogs: { kind: string; lines: Line[] } }>(t.ws(owner), SUBSCRIBE, { id });
  await feed.until(() => feed.items.length >= 1, 15_000);
  expect(feed.items[0]?.data?.serverLogs).toEqual({ kind: 'SNAPSHOT', lines: [] });
  const followed = () => feed.items.slice(1).flatMap((i) => i.data?.serverLogs.lines ?? []);

  // First write: an entry, a continuation line and half of the next one; the tail reads it (a
  // watch event, or its poll within 250 ms) before the second write brings the rest.
  appendFileSync(log, `${xrdpLogLine('ERROR', '[pid:41 tid:1] cannot bind')}\n  reason: address in use\n  port: 33`);
  await new Promise((r) => setTimeout(r, 600));
  appendFileSync(log, `89\n  try another port\n${xrdpLogLine('INFO', 'listening')}\n`);
  await waitFor(async () => followed().length >= 2, 15_000, 'two entries');
  // Nothing more comes (a late piece would be a third entry).
  await new Promise((r) => setTimeout(r, 600));
  const lines = followed();
  const read = await t.gql<{ server: { logs: Line[] } }>(LOGS, { id }, owner);
  feed.dispose();
  return { lines, read: read.body.data?.server.logs, kinds: feed.items.slice(1).map((i) => i.data?.serverLogs.kind) };
}

const expected = [
  expect.objectContaining({
    level: 'ERROR',
    message: 'cannot bind\n  reason: address in use\n  port: 3389\n  try another port',
    pid: 41,
  }),
  expect.objectContaining({ level: 'INFO', message: 'listening', pid: null }),
];

describe.runIf(ready)('serverLogs: a log written in two pieces', { timeout: 90_000 }, () => {
  const dirs: string[] = [];
  const tmp = (prefix: string) => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('all in one process: the local tail hands out whole entries, as logs reads them', async () => {
    const configPath = tmp('rdp-split-local-');
    const t = await startTestApp({
      MONGODB_URI: uniqueMongoUri(services.mongoUri as string, 'log_split_local'),
      XRDP_CONFIG_PATH: configPath,
    });
    try {
      const got = await followSplitWrites(t, '{ name: "split-local" }', (id) => instancePaths(configPath, id).log);
      expect(got.lines).toEqual(expected);
      expect(got.kinds.every((k) => k === 'LINES')).toBe(true);
      expect(got.read).toEqual(got.lines);
    } finally {
      await t.stop();
    }
  });

  describe('RDP_HOSTS=agents: the host agent tails the log', () => {
    let redis: PrivateRedis;
    let api: TestApp;
    let agent: RunningAgent;
    let configPath: string;
    const HOST = 'split';
    const PASSWORD = 'agent-split-password-0123456789';

    beforeAll(async () => {
      redis = await startPrivateRedis();
      await redis.admin.call('ACL', 'SETUSER', ...agentAclSetUserArgs(HOST, PASSWORD));
      const dataDir = tmp('rdp-split-agent-');
      const base = 36500 + Math.floor(Math.random() * 50) * 10;
      const config = loadAgentConfig({
        AGENT_HOST_ID: HOST,
        REDIS_URL: `redis://${agentUserName(HOST)}:${PASSWORD}@127.0.0.1:${redis.port}`,
        DATA_DIR: dataDir,
        HOST_HEARTBEAT_INTERVAL: '1',
        RDP_PUBLIC_HOST: '127.0.0.1',
        RDP_PORT_RANGE: `${base}-${base + 4}`,
      });
      configPath = config.xrdp.configPath;
      api = await startTestApp({
        MONGODB_URI: uniqueMongoUri(services.mongoUri as string, 'log_split_agents'),
        REDIS_URL: redis.url,
        RDP_HOSTS: 'agents',
        HOST_HEARTBEAT_INTERVAL: '1',
      });
      const logger = createLogger({ level: 'silent' });
      agent = await runAgent(config, logger, await createRedisAgentTransport(config, logger));
      const admin = await api.token('root-admin', ['admin']);
      await waitFor(
        async () =>
          (await api.gql<{ host: { status: string } | null }>('query { host(id: "split") { status } }', {}, admin)).body.data
            ?.host?.status === 'ONLINE',
        30_000,
        'the host ONLINE',
      );
    }, 60_000);

    afterAll(async () => {
      await agent?.stop().catch(() => undefined);
      await api?.stop().catch(() => undefined);
      await redis?.stop();
    });

    it("the agent's xrdp.log events carry whole entries, as logs reads them from the agent", async () => {
      const got = await followSplitWrites(
        api,
        `{ name: "split-agent", hostId: "${HOST}" }`,
        (id) => instancePaths(configPath, id).log,
      );
      expect(got.lines).toEqual(expected);
      expect(got.kinds.every((k) => k === 'LINES')).toBe(true);
      expect(got.read).toEqual(got.lines);
    });
  });
});
