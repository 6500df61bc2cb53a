import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentAclSetUserArgs } from '../../src/adapters/redis/host-acl.js';
import { startPrivateRedis } from '../support/private-redis.js';
import { tool } from '../support/tools.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const checker = fileURLToPath(new URL('../fixtures/deploy-parse/', import.meta.url));
const go = tool('go', ['/usr/local/go/bin/go']);
const redisServer = tool('redis-server', ['/usr/bin/redis-server']);
const unshare = tool('unshare', ['/usr/bin/unshare']);
const AGENT_PASSWORD = 'agent-password-0123456789_abc';

interface Parsed {
  services: Record<
    string,
    {
      image: string;
      target: string;
      privileged: boolean;
      ports: string[];
      volumes: string[];
      healthcheck: string[];
      dependsOn: string[];
      command: string[];
      environment: Record<string, string>;
      envFiles: string[];
      user: string;
      init: boolean;
    }
  >;
  /** Services a profile that is not enabled turns off. */
  disabled: string[];
  volumes: string[];
  stages: { name: string; base: string; commands: string[] }[];
  lint: string[];
}

/**
 * docker-compose.yml and the Dockerfile through the parsers Docker uses (compose-go and BuildKit,
 * built from test/fixtures/deploy-parse with the Go toolchain that builds FerretDB here), in a
 * directory holding the repository's files and a .env made from .env.example.
 */
describe.skipIf(!go)('docker-compose.yml and the Dockerfile, loaded by compose-go and BuildKit', () => {
  const work = mkdtempSync(join(tmpdir(), 'rdp-deploy-parse-'));
  const bin = join(work, 'deploy-parse');
  const example = readFileSync(join(repo, '.env.example'), 'utf8');

  function load(files: string[], env: Record<string, string> = {}): { status: number | null; parsed?: Parsed; stderr: string } {
    const values: Record<string, string> = {
      JWT_SECRET: 'x'.repeat(48),
      GRAFANA_ADMIN_PASSWORD: 'grafana-pass',
      AGENT_HOST_ID: 'host-a',
      AGENT_REDIS_PASSWORD: AGENT_PASSWORD,
      RDP_PUBLIC_HOST: 'rdp.example.net',
      ...env,
    };
    let text = example;
    for (const [name, value] of Object.entries(values)) text = text.replace(new RegExp(`^${name}=.*$`, 'm'), `${name}=${value}`);
    writeFileSync(join(work, '.env'), text);
    const r = spawnSync(bin, ['-dir', work, '-env', join(work, '.env'), '-dockerfile', join(repo, 'Dockerfile'), ...files], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    return { status: r.status, stderr: r.stderr, ...(r.status === 0 ? { parsed: JSON.parse(r.stdout) as Parsed } : {}) };
  }

  beforeAll(() => {
    copyFileSync(join(repo, 'docker-compose.yml'), join(work, 'docker-compose.yml'));
    for (const dir of ['config', 'scripts']) symlinkSync(join(repo, dir), join(work, dir));
    // GOTOOLCHAIN=local: a missing toolchain is an error here, never a download.
    const build = spawnSync(go ?? 'go', ['build', '-o', bin, '.'], {
      cwd: checker,
      encoding: 'utf8',
      env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=readonly' },
      timeout: 170_000,
    });
    if (build.status !== 0) throw new Error(`building test/fixtures/deploy-parse failed:\n${build.stdout}${build.stderr}`);
  }, 180_000);

  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  const rdpRange = Array.from({ length: 110 }, (_, i) => `${33890 + i}:${33890 + i}/tcp`);

  it('the default topology loads: api distroless without xrdp, agent privileged with the RDP range', () => {
    const { parsed, stderr } = load(['docker-compose.yml']);
    expect(parsed, stderr).toBeDefined();
    const services = parsed?.services ?? {};
    expect(Object.keys(services).sort()).toEqual([
      'agent',
      'alertmanager',
      'api',
      'blackbox',
      'grafana',
      'mongo',
      'prometheus',
      'redis',
    ]);
    expect(parsed?.disabled).toEqual([]);
    const api = services.api;
    // Not privileged, no RDP port, no volume, the image's own user (distroless nonroot).
    expect(api).toMatchObject({ target: 'api', image: 'rdp-services-cluster-api', privileged: false, user: '', init: false });
    expect(api?.ports).toEqual(['8090:8090/tcp']);
    expect(api?.volumes).toEqual([]);
    expect(api?.environment).toMatchObject({
      RDP_HOSTS: 'agents',
      REDIS_URL: 'redis://redis:6379',
      MONGODB_URI: 'mongodb://mongo:27017/lucid_rdp',
    });
    expect(api?.dependsOn).toEqual(['mongo:service_healthy', 'redis:service_healthy']);

    const agent = services.agent;
    expect(agent).toMatchObject({
      target: 'xrdp-host',
      image: 'rdp-services-cluster-xrdp-host',
      privileged: true,
      init: true,
      user: '',
    });
    // The xrdp-host entrypoint runs node with this script: the compiled agent entry.
    expect(agent?.command).toEqual(['dist/src/app/agent-main.js']);
    expect(existsSync(join(repo, 'src/app/agent-main.ts'))).toBe(true);
    expect(agent?.ports).toEqual(rdpRange);
    expect(agent?.volumes).toEqual([
      'volume:xrdp-config:/etc/xrdp',
      'volume:xrdp-logs:/var/log/xrdp',
      'volume:agent-data:/app/.data',
    ]);
    expect(agent?.dependsOn).toEqual(['redis:service_healthy']);
    // Redis only, as its own user: no env_file, so no MongoDB URI or JWT secret reaches it.
    expect(agent?.envFiles).toEqual([]);
    expect(agent?.environment).toMatchObject({
      AGENT_HOST_ID: 'host-a',
      REDIS_URL: `redis://rdp-agent-host-a:${AGENT_PASSWORD}@redis:6379`,
      RDP_PUBLIC_HOST: 'rdp.example.net',
      RDP_PORT_RANGE: '33890-33999',
      RDP_LOOPBACK_ONLY: 'false',
      XRDP_CONFIG_PATH: '/etc/xrdp',
      XRDP_LOG_PATH: '/var/log/xrdp',
      DATA_DIR: '/app/.data',
    });
    const leaked = Object.keys(agent?.environment ?? {}).filter((k) => /MONGO|JWT|GRAFANA|AUTH_SERVICE/.test(k));
    expect(leaked).toEqual([]);

    for (const [name, s] of Object.entries(services)) expect(s.healthcheck.length, `${name} health check`).toBeGreaterThan(1);
    expect(parsed?.volumes).toEqual([
      'agent-data',
      'alertmanager-data',
      'grafana-data',
      'mongo-data',
      'prometheus-data',
      'redis-data',
      'xrdp-config',
      'xrdp-logs',
    ]);
  });

  it('the agent reads as its .env-free environment what it needs (loadAgentConfig accepts it)', async () => {
    const { loadAgentConfig } = await import('../../src/config/agent-config.js');
    const env = load(['docker-compose.yml']).parsed?.services.agent?.environment ?? {};
    const config = loadAgentConfig(env);
    expect(config).toMatchObject({
      hostId: 'host-a',
      stateDir: '/app/.data/agent/host-a',
      maxServers: 110,
      xrdp: { configPath: '/etc/xrdp', logPath: '/var/log/xrdp', publicHost: 'rdp.example.net', loopbackOnly: false },
    });
  });

  it('publishes the RDP_PORT_RANGE of .env on the agent, and hands it the same range', () => {
    const { parsed, stderr } = load(['docker-compose.yml'], { RDP_PORT_RANGE: '34000-34004' });
    expect(parsed?.services.agent?.ports, stderr).toEqual([
      '34000:34000/tcp',
      '34001:34001/tcp',
      '34002:34002/tcp',
      '34003:34003/tcp',
      '34004:34004/tcp',
    ]);
    expect(parsed?.services.agent?.environment.RDP_PORT_RANGE).toBe('34000-34004');
    expect(parsed?.services.api?.ports).toEqual(['8090:8090/tcp']);
  });

  it('refuses to load without a Grafana admin password, an agent host id or an agent password, saying which variable', () => {
    for (const variable of ['GRAFANA_ADMIN_PASSWORD', 'AGENT_HOST_ID', 'AGENT_REDIS_PASSWORD']) {
      const r = load(['docker-compose.yml'], { [variable]: '' });
      expect(r.status, variable).not.toBe(0);
      expect(r.stderr).toMatch(new RegExp(variable));
    }
  });

  it('with config/compose.all-in-one.yml, api is the host again (xrdp-host, privileged, RDP range, xrdp volumes) and agent is off', () => {
    const { parsed, stderr } = load(['docker-compose.yml', 'config/compose.all-in-one.yml']);
    expect(parsed?.services.api, stderr).toMatchObject({
      target: 'xrdp-host',
      image: 'rdp-services-cluster-xrdp-host',
      privileged: true,
      init: true,
      ports: ['8090:8090/tcp', ...rdpRange],
      volumes: ['volume:xrdp-config:/etc/xrdp', 'volume:xrdp-logs:/var/log/xrdp', 'volume:api-data:/app/.data'],
    });
    expect(parsed?.services.api?.environment).toMatchObject({
      RDP_HOSTS: 'local',
      XRDP_CONFIG_PATH: '/etc/xrdp',
      XRDP_LOG_PATH: '/var/log/xrdp',
      RDP_LOOPBACK_ONLY: 'false',
      XRDP_STOP_ON_SHUTDOWN: 'false',
    });
    expect(Object.keys(parsed?.services ?? {})).not.toContain('agent');
    expect(parsed?.disabled).toEqual(['agent']);
    expect(parsed?.services.redis?.command).toEqual(['redis-server', '--appendonly', 'yes']);
  });

  describe.skipIf(!redisServer)("the redis service's command line, run by this machine's redis-server 7", () => {
    let parsed: Parsed | undefined;
    let agentEnv: Record<string, string> = {};
    let redis: Awaited<ReturnType<typeof startPrivateRedis>>;
    let agent: Redis;
    const onLoopback = (url: string) => url.replace('@redis:6379', `@127.0.0.1:${redis.port}`);

    beforeAll(async () => {
      // After the outer beforeAll built the loader.
      parsed = load(['docker-compose.yml']).parsed;
      agentEnv = parsed?.services.agent?.environment ?? {};
      const command = parsed?.services.redis?.command ?? [];
      expect(command[0]).toBe('redis-server');
      // Its own directives first; then a free loopback port, no persistence (these win).
      redis = await startPrivateRedis({ args: command.slice(1) });
      agent = new Redis(onLoopback(agentEnv.REDIS_URL ?? ''), { enableReadyCheck: false, maxRetriesPerRequest: 0 });
    });
    afterAll(async () => {
      agent?.disconnect();
      await redis?.stop();
    });

    it('makes the user agentAclSetUserArgs makes (what --print-acl prints), and keeps the default user for the API', async () => {
      const list = (await redis.admin.call('ACL', 'LIST')) as string[];
      expect(list).toContain('user default on nopass ~* &* +@all');
      const fromCompose = list.find((l) => l.startsWith('user rdp-agent-host-a '));
      expect(fromCompose).toBeDefined();
      await redis.admin.call('ACL', 'SETUSER', ...agentAclSetUserArgs('host-a', AGENT_PASSWORD));
      expect((await redis.admin.call('ACL', 'LIST')) as string[]).toEqual(list);
      expect(fromCompose).toContain(createHash('sha256').update(AGENT_PASSWORD).digest('hex'));
    });

    it('lets the agent, with its REDIS_URL, read its commands and XADD its events, and nothing of another host', async () => {
      await agent.xgroup('CREATE', 'rdp:host:host-a:commands', 'agent', '0', 'MKSTREAM');
      const id = await redis.admin.xadd('rdp:host:host-a:commands', '*', 'v', '1', 'type', 'ping');
      expect(
        await agent.xreadgroup('GROUP', 'agent', 'host-a', 'COUNT', '1', 'STREAMS', 'rdp:host:host-a:commands', '>'),
      ).toEqual([['rdp:host:host-a:commands', [[id, ['v', '1', 'type', 'ping']]]]]);
      expect(await agent.xack('rdp:host:host-a:commands', 'agent', id ?? '')).toBe(1);
      expect(await agent.xadd('rdp:host:host-a:events', 'MAXLEN', '~', '10000', '*', 'v', '1')).toMatch(/^\d+-\d+$/);
      await expect(agent.xadd('rdp:host:host-b:events', '*', 'v', '1')).rejects.toThrow(/NOPERM/);
      await expect(agent.xadd('rdp:host:host-a:commands', '*', 'v', '1')).rejects.toThrow(/NOPERM/);
      await expect(agent.xrange('rdp:host:host-a:events', '-', '+')).rejects.toThrow(/NOPERM/);
      await expect(agent.get('port:host-a:33890')).rejects.toThrow(/NOPERM/);
      expect(await redis.admin.xlen('rdp:host:host-a:events')).toBe(1);
      expect(await redis.admin.exists('rdp:host:host-b:events')).toBe(0);
    });

    it("the agent's health check passes with its credentials, fails with a wrong password or no Redis", () => {
      const check = parsed?.services.agent?.healthcheck ?? [];
      expect(check.slice(0, 3)).toEqual(['CMD', '/nodejs/bin/node', '-e']);
      // The image's WORKDIR is /app with node_modules there; the repository's stand in for it.
      const run = (url: string) =>
        spawnSync(process.execPath, ['-e', check[3] ?? ''], {
          cwd: repo,
          env: { ...process.env, REDIS_URL: url },
          timeout: 15_000,
        }).status;
      const url = onLoopback(agentEnv.REDIS_URL ?? '');
      expect(run(url)).toBe(0);
      expect(run(url.replace(AGENT_PASSWORD, 'wrong-password-0123456789'))).toBe(1);
      expect(run(url.replace(`:${redis.port}`, ':1'))).toBe(1);
    });
  });

  // The image's layout (/app: package.json, node_modules, dist from the build stage's `npm run build`)
  // and the agent service's environment, in a network namespace of its own with the redis service's
  // command line on its loopback: what `docker compose up agent` runs, without Docker.
  describe.skipIf(!redisServer || !unshare || process.getuid?.() !== 0)(
    "the compiled agent entry with the agent service's environment",
    () => {
      it('starts from dist/src/app/agent-main.js, says hello and heartbeats as its Redis user, and bye on SIGTERM', () => {
        const parsed = load(['docker-compose.yml']).parsed;
        const app = join(work, 'app');
        const build = spawnSync(
          process.execPath,
          [join(repo, 'node_modules/typescript/bin/tsc'), '-p', join(repo, 'tsconfig.build.json'), '--outDir', join(app, 'dist')],
          { encoding: 'utf8', timeout: 150_000 },
        );
        expect(build.status, `${build.stdout}${build.stderr}`).toBe(0);
        copyFileSync(join(repo, 'package.json'), join(app, 'package.json'));
        symlinkSync(join(repo, 'node_modules'), join(app, 'node_modules'));
        const entry = parsed?.services.agent?.command[0] ?? '';
        expect(existsSync(join(app, entry)), entry).toBe(true);

        const state = mkdtempSync(join(tmpdir(), 'rdp-agent-dist-'));
        const env: Record<string, string> = {
          ...(parsed?.services.agent?.environment ?? {}),
          REDIS_URL: (parsed?.services.agent?.environment.REDIS_URL ?? '').replace('@redis:6379', '@127.0.0.1:6379'),
          // Not this machine's /etc/xrdp and /var/log/xrdp: the container's volumes stand in here.
          XRDP_CONFIG_PATH: join(state, 'etc'),
          XRDP_LOG_PATH: join(state, 'log'),
          DATA_DIR: join(state, 'data'),
          HOST_HEARTBEAT_INTERVAL: '1',
          NODE_ENV: 'production',
          PATH: process.env.PATH ?? '',
        };
        const script = [
          'set -e',
          'T=$1 APP=$2 NODE=$3 ENTRY=$4; shift 4',
          'ip link set lo up',
          `redis-server "$@" --port 6379 --bind 127.0.0.1 --dir "$T" --save '' --appendonly no --daemonize yes --logfile "$T/redis.log"`,
          'for _ in $(seq 50); do redis-cli ping >/dev/null 2>&1 && break; sleep 0.1; done',
          'cd "$APP"',
          '"$NODE" "$ENTRY" >"$T/agent.log" 2>&1 &',
          'A=$!',
          'for _ in $(seq 150); do [ "$(redis-cli XLEN "rdp:host:$AGENT_HOST_ID:events")" -ge 2 ] && break; sleep 0.1; done',
          'kill -TERM "$A"',
          'if wait "$A"; then echo exit=0; else echo "exit=$?"; fi',
          'redis-cli --raw XRANGE "rdp:host:$AGENT_HOST_ID:events" - + | grep -x "agent\\.[a-z]*"',
          'redis-cli shutdown nosave >/dev/null 2>&1 || true',
        ].join('\n');
        try {
          const r = spawnSync(
            unshare ?? 'unshare',
            [
              '-n',
              'bash',
              '-c',
              script,
              'agent-check',
              state,
              app,
              process.execPath,
              entry,
              ...(parsed?.services.redis?.command.slice(1) ?? []),
            ],
            { encoding: 'utf8', env, timeout: 60_000 },
          );
          const log = existsSync(join(state, 'agent.log')) ? readFileSync(join(state, 'agent.log'), 'utf8') : '';
          const lines = r.stdout.trim().split('\n');
          expect(lines[0], `${r.stderr}${log}`).toBe('exit=0');
          const events = lines.slice(1);
          expect(events[0]).toBe('agent.hello');
          expect(events.at(-1)).toBe('agent.bye');
          expect(new Set(events.slice(1, -1))).toEqual(new Set(['agent.heartbeat']));
          expect(log).toContain('"hostId":"host-a"');
          expect(log).toContain('host agent serving');
        } finally {
          rmSync(state, { recursive: true, force: true });
        }
      }, 200_000);
    },
  );

  it('the Dockerfile parses with BuildKit into its four stages and passes its checks', () => {
    const { parsed, stderr } = load(['docker-compose.yml']);
    expect(
      parsed?.stages.map((s) => [s.name, s.base]),
      stderr,
    ).toEqual([
      ['deps', 'node:20-bookworm-slim'],
      ['build', 'deps'],
      ['xrdp-host', 'debian:12-slim'],
      ['api', 'gcr.io/distroless/nodejs20-debian12:nonroot'],
    ]);
    expect(parsed?.lint).toEqual([]);
  });
});
