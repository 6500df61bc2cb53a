import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type CollectionTag, parse, parseDocument, type ScalarTag } from 'yaml';
import { agentAclRules, agentAclSetUserArgs } from '../../src/adapters/redis/host-acl.js';
import { loadConfig } from '../../src/config/config.js';
import { tool } from '../support/tools.js';

const root = new URL('../../', import.meta.url);
const path = (p: string): string => fileURLToPath(new URL(p, root));
const read = (p: string): string => readFileSync(new URL(p, root), 'utf8');

type Doc = Record<string, unknown>;

function isDoc(value: unknown): value is Doc {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function doc(value: unknown, what: string): Doc {
  if (!isDoc(value)) throw new Error(`${what} is not a mapping`);
  return value;
}

function list(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${what} is not a list`);
  return value;
}

/** Compose's merge tags (!reset, !override), kept as plain values when parsing. */
const composeTags: (ScalarTag | CollectionTag)[] = ['!reset', '!override'].flatMap((tag) => [
  { tag, collection: 'seq' as const, resolve: (v: unknown) => v } as unknown as CollectionTag,
  { tag, collection: 'map' as const, resolve: (v: unknown) => v } as unknown as CollectionTag,
]);

// --- .env.example -------------------------------------------------------------------------------

const envExample = read('.env.example');
const envAssignments = new Map(
  envExample
    .split(/\r?\n/)
    .map((line) => /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1] ?? '', m[2] ?? ''] as const),
);

/**
 * Every variable the service reads: the keys of the zod schema in src/config/config.ts (the only
 * reader of process.env), plus any other `env.NAME` used in src/config. Read from the source, so a
 * variable added there must be added to .env.example too.
 */
function variablesTheCodeReads(): string[] {
  const source = read('src/config/config.ts');
  const block = /const envSchema = z\.object\(\{\n([\s\S]*?)\n\}\);/.exec(source)?.[1];
  if (!block) throw new Error('cannot find `const envSchema = z.object({ ... });` in src/config/config.ts');
  const keys = [...block.matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map((m) => m[1] ?? '');
  const others = ['src/config/process-config.ts', 'src/config/dev-secret.ts']
    .filter((f) => existsSync(path(f)))
    .flatMap((f) => [...read(f).matchAll(/\benv\.([A-Z][A-Z0-9_]*)/g)].map((m) => m[1] ?? ''));
  return [...new Set([...keys, ...others])].sort();
}

/** Compose interpolation (${NAME}, ${NAME:-default}, ${NAME:?error}, $$) with .env.example's values. */
function interpolate(text: string): string {
  return text.replace(/\$\$|\$\{([A-Z][A-Z0-9_]*)(?::?([-?])([^}]*))?\}/g, (whole, name?: string, op?: string, arg?: string) => {
    if (whole === '$$') return '$';
    const value = envAssignments.get(name ?? '') ?? '';
    if (value !== '') return value;
    if (op === '-') return arg ?? '';
    if (op === '?') return `<${name} required>`;
    return '';
  });
}

const composeVariables = (text: string): string[] =>
  [...text.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1] ?? '').filter((v, i, a) => a.indexOf(v) === i);

// --- docker-compose.yml -------------------------------------------------------------------------

const composeText = read('docker-compose.yml');
const compose = doc(parse(composeText, { customTags: composeTags }), 'docker-compose.yml');
const services = doc(compose.services, 'services');
const service = (name: string): Doc => doc(services[name], `service ${name}`);

interface PortMapping {
  host: string;
  container: string;
}

/** Short-syntax port mappings ("8090:8090", "127.0.0.1:9091:9090/tcp", ranges) after interpolation. */
function publishedPorts(svc: Doc): PortMapping[] {
  return list(svc.ports ?? [], 'ports').map((entry) => {
    if (isDoc(entry)) return { host: String(entry.published), container: String(entry.target) };
    const parts = interpolate(String(entry))
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    return { host: parts.at(-2) ?? '', container: parts.at(-1) ?? '' };
  });
}

function apiContainerPort(): number {
  const [first] = publishedPorts(service('api'));
  if (!first) throw new Error('api publishes no port');
  return Number(first.container);
}

function commandText(value: unknown): string {
  return Array.isArray(value) ? value.map(String).join(' ') : String(value ?? '');
}

/** "source:target[:mode]" volume entries as pairs. */
function mounts(svc: Doc): { source: string; target: string; readOnly: boolean }[] {
  return list(svc.volumes ?? [], 'volumes').map((v) => {
    const [source = '', target = '', mode = ''] = String(v).split(':');
    return { source, target, readOnly: mode === 'ro' };
  });
}

const mountOf = (svc: Doc, target: string) => mounts(svc).find((m) => m.target === target);

const seconds = (duration: unknown): number => {
  const m = /^(\d+)(ms|s|m)$/.exec(String(duration));
  if (!m) throw new Error(`cannot read duration ${String(duration)}`);
  return Number(m[1]) * (m[2] === 'm' ? 60 : m[2] === 'ms' ? 0.001 : 1);
};

// --- Dockerfile ---------------------------------------------------------------------------------

/** Dockerfile instructions with line continuations joined and comments dropped. */
function dockerfileInstructions(text: string): { keyword: string; args: string }[] {
  return text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

interface Stage {
  name: string | undefined;
  image: string;
  instructions: { keyword: string; args: string }[];
}

function dockerfileStages(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const instruction of dockerfileInstructions(text)) {
    if (instruction.keyword === 'FROM') {
      const match = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      if (!match?.[1]) throw new Error(`cannot read FROM ${instruction.args}`);
      stages.push({ name: match[2], image: match[1], instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

const dockerfile = read('Dockerfile');
const dockerfileStage = (name: string): Stage => {
  const stage = dockerfileStages(dockerfile).find((s) => s.name === name);
  if (!stage) throw new Error(`Dockerfile has no stage ${name}`);
  return stage;
};
const argsOf = (stage: Stage, keyword: string): string[] =>
  stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

// --- config/ ------------------------------------------------------------------------------------

const prometheus = doc(parse(read('config/prometheus.yml')), 'config/prometheus.yml');
const scrapeJobs = list(prometheus.scrape_configs, 'scrape_configs').map((job, i) => doc(job, `scrape job ${i}`));
const scrapeJob = (name: string): Doc => {
  const job = scrapeJobs.find((j) => j.job_name === name);
  if (!job) throw new Error(`no scrape job ${name}`);
  return job;
};
const targetsOf = (job: Doc): string[] =>
  list(job.static_configs, 'static_configs').flatMap((c) => list(doc(c, 'static_config').targets, 'targets').map(String));

const DEFAULTS = loadConfig({});
const portRangeText = `${DEFAULTS.xrdp.portRange.from}-${DEFAULTS.xrdp.portRange.to}`;

describe('docker-compose.yml', () => {
  it('is compose-spec style without the obsolete version key', () => {
    expect(compose).not.toHaveProperty('version');
  });

  it('defines the service, its databases and the monitoring stack', () => {
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
  });

  it('runs the API in the distroless image: not privileged, no RDP port, no volume, RDP_HOSTS=agents', () => {
    const api = service('api');
    const build = doc(api.build, 'api.build');
    expect(build.target).toBe('api');
    expect(build.dockerfile ?? 'Dockerfile').toBe('Dockerfile');
    expect(api.image).toBe('rdp-services-cluster-api');
    expect(api.privileged ?? false).toBe(false);
    // The image's user (distroless nonroot) is kept.
    expect(api).not.toHaveProperty('user');
    expect(api).not.toHaveProperty('volumes');
    expect(publishedPorts(api)).toEqual([{ host: '8090', container: '8090' }]);
    expect(doc(api.environment, 'api.environment').RDP_HOSTS).toBe('agents');
    expect(loadConfig({ RDP_HOSTS: 'agents', REDIS_URL: 'redis://redis:6379' }).hosts).toMatchObject({ mode: 'agents' });
  });

  it('runs the host agent in the privileged xrdp-host image, through its entrypoint, with the compiled agent entry', () => {
    const agent = service('agent');
    const build = doc(agent.build, 'agent.build');
    expect(build.target).toBe('xrdp-host');
    expect(agent.image).toBe('rdp-services-cluster-xrdp-host');
    expect(agent.privileged).toBe(true);
    expect(agent.init).toBe(true);
    expect(agent).not.toHaveProperty('user');
    expect(agent).not.toHaveProperty('entrypoint');
    // The entrypoint runs `node <script>`; tsc (tsconfig.build.json, rootDir .) puts src/app/agent-main.ts there.
    expect(agent.command).toEqual(['dist/src/app/agent-main.js']);
    expect(existsSync(path('src/app/agent-main.ts'))).toBe(true);
    expect(read('scripts/xrdp-host-entrypoint.sh')).toContain('exec /nodejs/bin/node "$@"');
    expect(JSON.parse(read('tsconfig.json')).compilerOptions).toMatchObject({ outDir: 'dist', rootDir: '.' });
    expect(argsOf(dockerfileStage('xrdp-host'), 'COPY')).toContain('--from=build /app/dist ./dist');
  });

  it('publishes the RDP port range of RDP_PORT_RANGE one to one on the agent, and the API on 8090', () => {
    expect(publishedPorts(service('api'))).toContainEqual({ host: '8090', container: '8090' });
    const ports = publishedPorts(service('agent'));
    expect(envAssignments.get('RDP_PORT_RANGE')).toBe(portRangeText);
    expect(ports).toEqual([{ host: portRangeText, container: portRangeText }]);
    // Without a .env value compose falls back to the service's own default range.
    expect(composeText).toContain(`\${RDP_PORT_RANGE:-${portRangeText}}:\${RDP_PORT_RANGE:-${portRangeText}}`);
    expect(doc(service('agent').environment, 'agent.environment').RDP_PORT_RANGE).toBe(`\${RDP_PORT_RANGE:-${portRangeText}}`);
  });

  it('gives the agent Redis as its own ACL user and no .env: no MongoDB URI, no JWT secret', () => {
    const agent = service('agent');
    expect(agent).not.toHaveProperty('env_file');
    const env = doc(agent.environment, 'agent.environment');
    expect(String(env.AGENT_HOST_ID)).toMatch(/^\$\{AGENT_HOST_ID:\?/);
    expect(String(env.REDIS_URL)).toMatch(
      /^redis:\/\/rdp-agent-\$\{AGENT_HOST_ID\}:\$\{AGENT_REDIS_PASSWORD:\?[^}]*\}@redis:6379$/,
    );
    expect(Object.keys(env).filter((k) => /MONGO|JWT|AUTH_SERVICE|GRAFANA/.test(k))).toEqual([]);
    expect(String(env.RDP_PUBLIC_HOST)).toMatch(/^\$\{RDP_PUBLIC_HOST/);
    expect(Object.keys(doc(agent.depends_on, 'agent.depends_on'))).toEqual(['redis']);
  });

  it("keeps /etc/xrdp and /var/log/xrdp in named volumes, where the agent's XRDP_CONFIG_PATH and XRDP_LOG_PATH point", () => {
    const agent = service('agent');
    const env = doc(agent.environment, 'agent.environment');
    for (const variable of ['XRDP_CONFIG_PATH', 'XRDP_LOG_PATH', 'DATA_DIR']) {
      const dir = String(env[variable]);
      const mount = mountOf(agent, dir);
      expect(mount, `${variable}=${dir} is mounted`).toBeDefined();
      expect(mount?.source).toMatch(/^[a-z][a-z0-9-]*$/);
    }
    expect(env.XRDP_CONFIG_PATH).toBe('/etc/xrdp');
    expect(env.XRDP_LOG_PATH).toBe('/var/log/xrdp');
    expect(env.RDP_LOOPBACK_ONLY).toBe('false');
    // The agent never stops its instances when it stops: there is no such switch to set.
    expect(env).not.toHaveProperty('XRDP_STOP_ON_SHUTDOWN');
    expect(read('src/config/agent-config.ts')).not.toContain('XRDP_STOP_ON_SHUTDOWN');
  });

  it("makes the agent's Redis user from .env with the rules of agentAclRules, keeping the default user", () => {
    const command = list(service('redis').command, 'redis.command').map(String);
    const at = command.indexOf('--user');
    expect(at).toBeGreaterThan(0);
    expect(command.filter((a) => a === '--user')).toHaveLength(1);
    const [user, reset, on, password, ...rules] = command.slice(at + 1);
    expect([user, reset, on, password]).toEqual([
      `rdp-agent-\${AGENT_HOST_ID:?set AGENT_HOST_ID in .env}`,
      'reset',
      'on',
      `>\${AGENT_REDIS_PASSWORD:?set AGENT_REDIS_PASSWORD in .env}`,
    ]);
    // The same rules, with the host id as compose will fill it in.
    expect(rules).toEqual(agentAclRules('host-x').map((r) => r.replaceAll('host-x', `\${AGENT_HOST_ID}`)));
    expect(agentAclSetUserArgs('host-x', 'p'.repeat(16)).slice(0, 3)).toEqual(['rdp-agent-host-x', 'reset', 'on']);
  });

  it('points the API at the mongo and redis services (the default Redis user) and checks readiness on its container port', () => {
    const api = service('api');
    const env = doc(api.environment, 'api.environment');
    expect(env.MONGODB_URI).toBe('mongodb://mongo:27017/lucid_rdp');
    expect(env.REDIS_URL).toBe('redis://redis:6379');
    expect(Number(env.SERVICE_PORT)).toBe(apiContainerPort());
    expect(api.env_file).toEqual(['.env']);
    const test = commandText(doc(api.healthcheck, 'api.healthcheck').test);
    expect(test).toContain(`http://127.0.0.1:${apiContainerPort()}/health/ready`);
    // The same node path exists in both images (xrdp-host copies node there).
    expect(test).toMatch(/^CMD \/nodejs\/bin\/node -e /);
  });

  it("runs only the console's trusted documents in this production example, unless .env says otherwise", () => {
    const env = doc(service('api').environment, 'api.environment');
    expect(env.TRUSTED_DOCUMENTS_ONLY).toBe(`\${TRUSTED_DOCUMENTS_ONLY:-true}`);
    expect(envAssignments.get('TRUSTED_DOCUMENTS_ONLY')).toBe('true');
    const resolved = interpolate(`v: ${String(env.TRUSTED_DOCUMENTS_ONLY)}`);
    expect(loadConfig({ TRUSTED_DOCUMENTS_ONLY: resolved.slice(3) }).trustedDocumentsOnly).toBe(true);
    expect(DEFAULTS.trustedDocumentsOnly).toBe(false);
  });

  it('gives the API more time to stop than its own shutdown timeout', () => {
    const timeout = /SHUTDOWN_TIMEOUT_MS = ([\d_]+)/.exec(read('src/app/main.ts'))?.[1];
    expect(timeout).toBeDefined();
    expect(seconds(service('api').stop_grace_period)).toBeGreaterThan(Number(timeout?.replaceAll('_', '')) / 1000);
  });

  it('runs MongoDB 7 with scripts/mongo-init.js against the database the API uses', () => {
    const mongo = service('mongo');
    expect(String(mongo.image)).toMatch(/^mongo:7(\b|$)/);
    const init = mounts(mongo).find((m) => m.target.startsWith('/docker-entrypoint-initdb.d/'));
    expect(init).toEqual({
      source: './scripts/mongo-init.js',
      target: '/docker-entrypoint-initdb.d/mongo-init.js',
      readOnly: true,
    });
    const database = new URL(String(doc(service('api').environment, 'env').MONGODB_URI)).pathname.slice(1);
    expect(doc(mongo.environment, 'mongo.environment').MONGO_INITDB_DATABASE).toBe(database);
  });

  it('runs Redis 7 on Alpine with append-only persistence', () => {
    expect(String(service('redis').image)).toMatch(/^redis:7-alpine/);
    expect(commandText(service('redis').command)).toMatch(/^redis-server --appendonly yes /);
  });

  it('publishes Prometheus on host port 9091 with its config and the alert rules it names', () => {
    const prom = service('prometheus');
    expect(publishedPorts(prom)).toContainEqual({ host: '9091', container: '9090' });
    const config = mountOf(prom, '/etc/prometheus/prometheus.yml');
    expect(config).toEqual({ source: './config/prometheus.yml', target: '/etc/prometheus/prometheus.yml', readOnly: true });
    for (const ruleFile of list(prometheus.rule_files, 'rule_files').map(String)) {
      const mount = mountOf(prom, `/etc/prometheus/${ruleFile}`);
      expect(mount?.source, ruleFile).toBe(`./config/${ruleFile}`);
    }
    expect(commandText(prom.command)).toContain('--config.file=/etc/prometheus/prometheus.yml');
  });

  it('runs Grafana on 3000 with the provisioned datasource and dashboards, and a required admin password', () => {
    const grafana = service('grafana');
    expect(publishedPorts(grafana)).toContainEqual({ host: '3000', container: '3000' });
    expect(mountOf(grafana, '/etc/grafana/provisioning')?.source).toBe('./config/grafana/provisioning');
    const dashboards = mountOf(grafana, '/etc/grafana/dashboards');
    expect(dashboards?.source).toBe('./config/grafana/dashboards');
    const provider = doc(parse(read('config/grafana/provisioning/dashboards/rdp-cluster.yml')), 'dashboard provider');
    const providers = list(provider.providers, 'providers').map((p) => doc(p, 'provider'));
    expect(providers.map((p) => doc(p.options, 'options').path)).toEqual([dashboards?.target]);
    const env = doc(grafana.environment, 'grafana.environment');
    expect(String(env.GF_SECURITY_ADMIN_PASSWORD)).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:\?/);
    expect(String(env.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH)).toBe(`${dashboards?.target}/rdp-cluster.json`);
  });

  it('gives every service a health check, a restart policy and rotated logs', () => {
    for (const [name, svc] of Object.entries(services)) {
      const s = doc(svc, name);
      const healthcheck = doc(s.healthcheck, `${name}.healthcheck`);
      expect(commandText(healthcheck.test), name).toMatch(/^CMD(-SHELL)? \S/);
      expect(healthcheck.disable, name).not.toBe(true);
      expect(s.restart, name).toBe('unless-stopped');
      const logging = doc(s.logging, `${name}.logging`);
      expect(doc(logging.options, 'logging.options')['max-size'], name).toBeDefined();
    }
  });

  it('starts every service only after the services it depends on are healthy', () => {
    const dependsOn = (name: string) => doc(service(name).depends_on ?? {}, `${name}.depends_on`);
    expect(Object.keys(dependsOn('api')).sort()).toEqual(['mongo', 'redis']);
    expect(Object.keys(dependsOn('agent'))).toEqual(['redis']);
    expect(Object.keys(dependsOn('grafana'))).toEqual(['prometheus']);
    expect(Object.keys(dependsOn('prometheus')).sort()).toEqual(['alertmanager', 'blackbox']);
    for (const name of Object.keys(services)) {
      for (const [dependency, condition] of Object.entries(dependsOn(name))) {
        expect(doc(condition, `${name} -> ${dependency}`).condition, `${name} -> ${dependency}`).toBe('service_healthy');
        expect(services, `${name} depends on ${dependency}`).toHaveProperty(dependency);
      }
    }
  });

  it('keeps data in declared named volumes and mounts only files that exist in the repository', () => {
    const declared = Object.keys(doc(compose.volumes, 'volumes'));
    for (const name of ['agent', 'mongo', 'redis', 'prometheus', 'alertmanager', 'grafana']) {
      const named = mounts(service(name)).filter((m) => /^[a-z]/.test(m.source));
      expect(named.length, `${name} has a named volume`).toBeGreaterThan(0);
      for (const m of named) expect(declared, `${name} uses ${m.source}`).toContain(m.source);
    }
    for (const [name, svc] of Object.entries(services)) {
      for (const m of mounts(doc(svc, name)).filter((v) => v.source.startsWith('./'))) {
        expect(existsSync(path(m.source)), `${name} mounts ${m.source}`).toBe(true);
        expect(m.readOnly, `${name} mounts ${m.source} read-only`).toBe(true);
      }
    }
  });

  it('limits the CPU and memory of every service, in units Docker accepts', () => {
    const memoryBytes = (v: string) => {
      const m = /^(\d+(?:\.\d+)?)([bkmg])?$/i.exec(v);
      if (!m) return Number.NaN;
      return Number(m[1]) * 1024 ** 'bkmg'.indexOf((m[2] ?? 'b').toLowerCase());
    };
    const memoryOf: Record<string, number> = {};
    for (const name of Object.keys(services)) {
      const limits = doc(
        doc(doc(service(name).deploy, `${name}.deploy`).resources, `${name}.resources`).limits,
        `${name}.limits`,
      );
      const cpus = Number(interpolate(String(limits.cpus)));
      memoryOf[name] = memoryBytes(interpolate(String(limits.memory)));
      expect(cpus, `${name} cpus`).toBeGreaterThan(0);
      expect(memoryOf[name], `${name} memory`).toBeGreaterThanOrEqual(32 * 1024 ** 2);
    }
    // The agent container holds xrdp and the sessions: at least 4 GiB with .env.example's values.
    expect(memoryOf.agent).toBeGreaterThanOrEqual(4 * 1024 ** 3);
    expect(memoryOf.api).toBeGreaterThanOrEqual(512 * 1024 ** 2);
  });

  it('takes every variable it interpolates from .env.example', () => {
    for (const variable of composeVariables(composeText)) {
      expect(envAssignments.has(variable), `${variable} in .env.example`).toBe(true);
    }
  });
});

describe('config/compose.all-in-one.yml', () => {
  const text = read('config/compose.all-in-one.yml');
  const override = parseDocument(text, { customTags: composeTags });
  const overrideServices = doc(doc(override.toJS(), 'override').services, 'services');
  const api = doc(overrideServices.api, 'api');
  const tagOf = (path: string[]) => (override.getIn(['services', ...path], true) as { tag?: string } | undefined)?.tag;

  it('makes api the host again: the xrdp-host image, privileged, 8090 and the RDP range, the xrdp volumes, RDP_HOSTS=local', () => {
    expect(doc(api.build, 'build').target).toBe('xrdp-host');
    expect(api.image).toBe(service('agent').image);
    expect(api.privileged).toBe(true);
    expect(api.init).toBe(true);
    expect(api.ports).toEqual(['8090:8090', ...list(service('agent').ports, 'agent.ports')]);
    // Without the tag compose would merge the lists.
    expect(tagOf(['api', 'ports'])).toBe('!override');
    const env = doc(api.environment, 'api.environment');
    expect(env).toMatchObject({
      RDP_HOSTS: 'local',
      XRDP_CONFIG_PATH: '/etc/xrdp',
      XRDP_LOG_PATH: '/var/log/xrdp',
      RDP_LOOPBACK_ONLY: 'false',
      XRDP_STOP_ON_SHUTDOWN: 'false',
    });
    expect(mountOf(api, '/etc/xrdp')?.source).toBe('xrdp-config');
    expect(mountOf(api, '/var/log/xrdp')?.source).toBe('xrdp-logs');
    expect(mountOf(api, '/app/.data')?.source).toBe('api-data');
    expect(Object.keys(doc(doc(override.toJS(), 'override').volumes, 'volumes'))).toEqual(['api-data']);
  });

  it('turns the agent off and gives Redis no agent user', () => {
    expect(list(doc(overrideServices.agent, 'agent').profiles, 'profiles').length).toBe(1);
    expect(Object.keys(doc(overrideServices.agent, 'agent'))).toEqual(['profiles']);
    expect(doc(overrideServices.redis, 'redis').command).toEqual(['redis-server', '--appendonly', 'yes']);
    expect(tagOf(['redis', 'command'])).toBe('!override');
  });

  it('overrides only services the main file defines, with variables from .env.example', () => {
    for (const name of Object.keys(overrideServices)) expect(services).toHaveProperty(name);
    for (const variable of composeVariables(text)) expect(envAssignments.has(variable), variable).toBe(true);
  });
});

describe('config/prometheus.yml and the monitoring services', () => {
  it('scrapes and evaluates every 15s with external labels', () => {
    const global = doc(prometheus.global, 'global');
    expect(global.scrape_interval).toBe('15s');
    expect(global.evaluation_interval).toBe('15s');
    expect(doc(global.external_labels, 'external_labels').cluster).toBe('rdp-services');
  });

  it('scrapes /metrics on the api service at the port compose exposes, and Prometheus itself', () => {
    const job = scrapeJob('rdp-api');
    expect(job.metrics_path).toBe('/metrics');
    expect(targetsOf(job)).toEqual([`api:${apiContainerPort()}`]);
    expect(targetsOf(scrapeJob('prometheus'))).toEqual(['localhost:9090']);
  });

  it('sends alerts to the alertmanager service', () => {
    const alerting = doc(prometheus.alerting, 'alerting');
    const managers = list(alerting.alertmanagers, 'alertmanagers').map((m) => doc(m, 'alertmanager'));
    expect(managers.flatMap((m) => targetsOf(m))).toEqual(['alertmanager:9093']);
    expect(commandText(doc(service('alertmanager').healthcheck, 'hc').test)).toContain('localhost:9093');
    const am = doc(parse(read('config/alertmanager.yml')), 'alertmanager.yml');
    const route = doc(am.route, 'route');
    const receivers = list(am.receivers, 'receivers').map((r) => doc(r, 'receiver').name);
    expect(receivers).toContain(route.receiver);
  });

  it('probes readiness through the blackbox service with a module it defines', () => {
    const job = scrapeJob('rdp-api-ready');
    expect(targetsOf(job)).toEqual([`http://api:${apiContainerPort()}/health/ready`]);
    const module = list(doc(job.params, 'params').module, 'module')[0];
    const modules = doc(doc(parse(read('config/blackbox.yml')), 'blackbox.yml').modules, 'modules');
    expect(modules).toHaveProperty(String(module));
    const relabel = list(job.relabel_configs, 'relabel_configs').map((r) => doc(r, 'relabel'));
    expect(relabel.find((r) => r.target_label === '__address__')?.replacement).toBe('blackbox:9115');
    expect(commandText(doc(service('blackbox').healthcheck, 'hc').test)).toContain('localhost:9115');
  });

  it('names rule files that exist next to it', () => {
    for (const file of list(prometheus.rule_files, 'rule_files').map(String)) {
      expect(existsSync(path(`config/${file}`)), file).toBe(true);
    }
  });

  it('gives Grafana the Prometheus service as its default datasource, with the uid the dashboard uses', () => {
    const provisioning = doc(parse(read('config/grafana/provisioning/datasources/prometheus.yml')), 'datasources');
    const [source] = list(provisioning.datasources, 'datasources').map((d) => doc(d, 'datasource'));
    expect(source?.url).toBe('http://prometheus:9090');
    expect(source?.isDefault).toBe(true);
    const dashboard = read('config/grafana/dashboards/rdp-cluster.json');
    const uids = [...dashboard.matchAll(/"uid": "([^"]+)"/g)].map((m) => m[1]).filter((u) => u !== 'rdp-cluster');
    expect(new Set(uids.filter((u) => u !== '-- Grafana --'))).toEqual(new Set([source?.uid]));
  });
});

describe('promtool', () => {
  const promtool = tool('promtool', ['/usr/bin/promtool']);
  const run = (...args: string[]) => {
    const result = spawnSync(promtool ?? 'promtool', args, { encoding: 'utf8', cwd: path('.') });
    return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
  };

  it.skipIf(!promtool)('check config passes on config/prometheus.yml (with its rule files)', () => {
    const r = run('check', 'config', 'config/prometheus.yml');
    expect(r.status, r.output).toBe(0);
  });

  it.skipIf(!promtool)('test rules passes on config/alert-rules.test.yml, which tests every alert', () => {
    const r = run('test', 'rules', 'config/alert-rules.test.yml');
    expect(r.status, r.output).toBe(0);
    const rules = doc(parse(read('config/alert-rules.yml')), 'alert rules');
    const alerts = list(rules.groups, 'groups').flatMap((g) =>
      list(doc(g, 'group').rules, 'rules').map((r) => doc(r, 'rule').alert),
    );
    const tested = new Set([...read('config/alert-rules.test.yml').matchAll(/alertname: (\w+)/g)].map((m) => m[1]));
    for (const alert of alerts) expect(tested.has(String(alert)), `${String(alert)} has a rule test`).toBe(true);
  });
});

describe('Dockerfile', () => {
  it('installs with npm ci in a deps stage and builds then prunes in a build stage', () => {
    const deps = dockerfileStage('deps');
    expect(deps.image).toMatch(/^node:20-bookworm-slim/);
    expect(argsOf(deps, 'RUN').some((a) => /\bnpm ci\b/.test(a))).toBe(true);
    expect(argsOf(dockerfileStage('build'), 'RUN').join(' && ')).toMatch(/npm run build.*npm prune --omit=dev/);
  });

  it('has an api stage on distroless Node 20, non-root, with a liveness check that fails on error', () => {
    const api = dockerfileStage('api');
    expect(api.image).toMatch(/^gcr\.io\/distroless\/nodejs20-debian\d+/);
    const user = argsOf(api, 'USER').at(-1) ?? '';
    expect(user).not.toBe('');
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    const healthcheck = argsOf(api, 'HEALTHCHECK')[0];
    expect(healthcheck).toContain(`http://127.0.0.1:${apiContainerPort()}/health/live`);
    expect(healthcheck).toMatch(/process\.exit\(1\)/);
  });

  it('has an xrdp-host stage on debian:12-slim with Node 20 and the xrdp packages', () => {
    const host = dockerfileStage('xrdp-host');
    expect(host.image).toBe('debian:12-slim');
    const install = argsOf(host, 'RUN').join(' ');
    for (const pkg of ['xrdp', 'xorgxrdp', 'tigervnc-standalone-server', 'openssl', 'procps', 'xprintidle']) {
      expect(install, pkg).toMatch(new RegExp(`\\s${pkg}(\\s|$)`));
    }
    expect(install).toMatch(/rm -f \/run\/xrdp\/xrdp\.pid \/run\/xrdp\/xrdp-sesman\.pid/);
    expect(argsOf(host, 'COPY')).toContain('--from=deps /usr/local/bin/node /nodejs/bin/node');
    expect(argsOf(host, 'HEALTHCHECK')[0]).toContain(`http://127.0.0.1:${apiContainerPort()}/health/live`);
    expect(argsOf(host, 'USER')).toEqual([]);
  });

  it('starts the compiled entry point in production mode in both runtime images, exposing the compose port', () => {
    for (const name of ['api', 'xrdp-host']) {
      const stage = dockerfileStage(name);
      expect(argsOf(stage, 'CMD'), name).toEqual(['["dist/src/app/main.js"]']);
      expect(
        argsOf(stage, 'ENV').some((a) => /NODE_ENV=production/.test(a)),
        name,
      ).toBe(true);
      expect(argsOf(stage, 'COPY'), name).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^--from=build \S*node_modules/),
          expect.stringMatching(/^--from=build \S*dist/),
        ]),
      );
      const exposed = argsOf(stage, 'EXPOSE').flatMap((a) => a.split(/\s+/));
      expect(exposed, name).toContain(String(apiContainerPort()));
    }
    expect(argsOf(dockerfileStage('xrdp-host'), 'EXPOSE').join(' ')).toContain(portRangeText);
  });

  it('labels both runtime images (OCI) with title, description, version (package.json) and revision', () => {
    const argRef = (name: string) => `\${${name}}`;
    const { version } = JSON.parse(read('package.json')) as { version: string };
    const globalArgs = dockerfile.slice(0, dockerfile.search(/^FROM /m));
    expect(globalArgs).toMatch(new RegExp(`^ARG VERSION=${version.replaceAll('.', '\\.')}$`, 'm'));
    expect(globalArgs).toMatch(/^ARG REVISION=\S+$/m);
    for (const name of ['api', 'xrdp-host']) {
      const stage = dockerfileStage(name);
      const labels = Object.fromEntries(
        argsOf(stage, 'LABEL').flatMap((a) => [...a.matchAll(/([\w.-]+)="([^"]*)"/g)].map((m) => [m[1], m[2]])),
      );
      expect(labels, name).toMatchObject({
        'org.opencontainers.image.title': `rdp-services-cluster-${name}`,
        'org.opencontainers.image.description': expect.stringMatching(/\S/),
        'org.opencontainers.image.version': argRef('VERSION'),
        'org.opencontainers.image.revision': argRef('REVISION'),
        'org.opencontainers.image.base.name': expect.stringContaining(stage.image.replace(/^docker\.io\/library\//, '')),
      });
      // A global ARG is empty inside a stage unless the stage declares it again.
      expect(argsOf(stage, 'ARG'), name).toEqual(expect.arrayContaining(['VERSION', 'REVISION']));
    }
  });

  it('copies only files that exist, and the xrdp-host entrypoint is executable', () => {
    const sources = dockerfileStages(dockerfile)
      .flatMap((s) => argsOf(s, 'COPY'))
      .filter((a) => !a.includes('--from='))
      .flatMap((a) =>
        a
          .split(/\s+/)
          .filter((w) => !w.startsWith('--'))
          .slice(0, -1),
      );
    for (const source of sources) expect(existsSync(path(source)), source).toBe(true);
    const entrypoint = argsOf(dockerfileStage('xrdp-host'), 'ENTRYPOINT')[0];
    expect(entrypoint).toBe('["/usr/local/bin/xrdp-host-entrypoint"]');
    expect(() => accessSync(path('scripts/xrdp-host-entrypoint.sh'), constants.X_OK)).not.toThrow();
  });

  it('keeps dependencies, build output, secrets and backups out of the build context', () => {
    const ignored = read('.dockerignore')
      .split(/\r?\n/)
      .map((l) => l.trim());
    expect(ignored).toEqual(
      expect.arrayContaining(['node_modules', 'dist', '.data', '.git', 'coverage', '*.log', '.env', 'backups']),
    );
  });
});

describe('.env.example', () => {
  it('lists every variable the service reads (the keys of the schema in src/config/config.ts)', () => {
    const read = variablesTheCodeReads();
    expect(read.length).toBeGreaterThan(30);
    expect(read).toEqual(expect.arrayContaining(['NODE_ENV', 'MONGODB_URI', 'JWT_SECRET', 'RATE_LIMIT_BURST_FACTOR']));
    const missing = read.filter((name) => !envAssignments.has(name));
    expect(missing, 'variables missing from .env.example').toEqual([]);
  });

  it('lists nothing else but what docker compose itself interpolates', () => {
    const known = new Set([...variablesTheCodeReads(), ...composeVariables(composeText)]);
    expect([...envAssignments.keys()].filter((name) => !known.has(name))).toEqual([]);
  });

  it("ships the service's defaults, except the production xrdp settings a first run must not have", () => {
    const secret = 'x'.repeat(48);
    const fromExample = Object.fromEntries([...envAssignments].map(([k, v]) => [k, k === 'JWT_SECRET' ? secret : v]));
    const production = {
      XRDP_CONFIG_PATH: '/etc/xrdp',
      XRDP_LOG_PATH: '/var/log/xrdp',
      RDP_LOOPBACK_ONLY: 'false',
      XRDP_STOP_ON_SHUTDOWN: 'false',
      TRUSTED_DOCUMENTS_ONLY: 'true',
    };
    expect(loadConfig(fromExample)).toEqual(loadConfig({ NODE_ENV: 'production', JWT_SECRET: secret, ...production }));
    // Each differs from the default, so leaving .env.example out gives the safe first run.
    const defaults = loadConfig({ NODE_ENV: 'production', JWT_SECRET: secret }).xrdp;
    expect(loadConfig(fromExample).xrdp).not.toMatchObject({ configPath: defaults.configPath });
    expect(defaults).toMatchObject({ loopbackOnly: true, stopOnShutdown: true });
  });

  it('sets SERVICE_PORT to the port compose publishes', () => {
    expect(Number(envAssignments.get('SERVICE_PORT'))).toBe(apiContainerPort());
  });

  it('ships a JWT_SECRET placeholder too short to be accepted unchanged', () => {
    const secret = envAssignments.get('JWT_SECRET') ?? '';
    expect(secret).not.toBe('');
    expect(Buffer.byteLength(secret)).toBeLessThan(32);
    expect(envExample).toContain('openssl rand -base64 48');
    expect(() => loadConfig({ NODE_ENV: 'production', JWT_SECRET: secret })).toThrow(/JWT_SECRET/);
  });

  it('comments every variable on the line above it', () => {
    const lines = envExample.split(/\r?\n/);
    lines.forEach((line, i) => {
      if (/^[A-Z][A-Z0-9_]*=/.test(line)) expect(lines[i - 1], `comment above ${line}`).toMatch(/^#\s*\S/);
    });
  });
});
