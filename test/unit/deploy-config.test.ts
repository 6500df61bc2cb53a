import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');

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

const compose = doc(parse(read('docker-compose.yml')), 'docker-compose.yml');
const services = doc(compose.services, 'services');
const service = (name: string): Doc => doc(services[name], `service ${name}`);

const prometheus = doc(parse(read('config/prometheus.yml')), 'config/prometheus.yml');
const scrapeJobs = list(prometheus.scrape_configs, 'scrape_configs').map((job, i) => doc(job, `scrape job ${i}`));
const scrapeJob = (name: string): Doc => {
  const job = scrapeJobs.find((j) => j.job_name === name);
  if (!job) throw new Error(`no scrape job ${name}`);
  return job;
};
const targetsOf = (job: Doc): string[] =>
  list(job.static_configs, 'static_configs').flatMap((c) => list(doc(c, 'static_config').targets, 'targets').map(String));

/** Short-syntax port mappings ("8090:8090", "127.0.0.1:9091:9090/tcp") as host/container pairs. */
function publishedPorts(svc: Doc): { host: number; container: number }[] {
  return list(svc.ports ?? [], 'ports').map((entry) => {
    if (isDoc(entry)) return { host: Number(entry.published), container: Number(entry.target) };
    const parts = String(entry)
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    return { host: Number(parts.at(-2)), container: Number(parts.at(-1)) };
  });
}

function apiContainerPort(): number {
  const [first] = publishedPorts(service('api'));
  if (!first) throw new Error('api publishes no port');
  return first.container;
}

function commandText(value: unknown): string {
  return Array.isArray(value) ? value.map(String).join(' ') : String(value ?? '');
}

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

const dockerfileStage = (name: string): Stage => {
  const stage = dockerfileStages(read('Dockerfile')).find((s) => s.name === name);
  if (!stage) throw new Error(`Dockerfile has no stage ${name}`);
  return stage;
};

describe('docker-compose.yml', () => {
  it('is compose-spec style without the obsolete version key', () => {
    expect(compose).not.toHaveProperty('version');
  });

  it('defines the api, mongo, redis and prometheus services', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['api', 'mongo', 'redis', 'prometheus']));
  });

  it('publishes the API on 8090', () => {
    expect(publishedPorts(service('api'))).toContainEqual({ host: 8090, container: 8090 });
  });

  it('builds the api service from the Dockerfile target api', () => {
    const build = doc(service('api').build, 'api.build');
    expect(build.target).toBe('api');
    expect(build.dockerfile ?? 'Dockerfile').toBe('Dockerfile');
  });

  it('points the API at the mongo and redis services', () => {
    const env = doc(service('api').environment, 'api.environment');
    expect(env.MONGODB_URI).toBe('mongodb://mongo:27017/lucid_rdp');
    expect(env.REDIS_URL).toBe('redis://redis:6379');
    expect(service('api').env_file).toBeDefined();
  });

  it('starts the API only after mongo and redis are healthy', () => {
    const dependsOn = doc(service('api').depends_on, 'api.depends_on');
    expect(doc(dependsOn.mongo, 'depends_on.mongo').condition).toBe('service_healthy');
    expect(doc(dependsOn.redis, 'depends_on.redis').condition).toBe('service_healthy');
  });

  it('restarts the API unless stopped', () => {
    expect(service('api').restart).toBe('unless-stopped');
  });

  it('checks API readiness on its container port', () => {
    const test = commandText(doc(service('api').healthcheck, 'api.healthcheck').test);
    expect(test).toContain(`http://127.0.0.1:${apiContainerPort()}/health/ready`);
  });

  it('runs MongoDB 7', () => {
    expect(String(service('mongo').image)).toMatch(/^mongo:7(\b|$)/);
  });

  it('runs Redis 7 on Alpine with append-only persistence', () => {
    expect(String(service('redis').image)).toMatch(/^redis:7-alpine/);
    expect(commandText(service('redis').command)).toMatch(/--appendonly\s+yes/);
  });

  it('publishes Prometheus on host port 9091 and mounts config/prometheus.yml', () => {
    const prom = service('prometheus');
    expect(publishedPorts(prom)).toContainEqual({ host: 9091, container: 9090 });
    expect(list(prom.volumes, 'prometheus.volumes').map(String)).toContainEqual(
      expect.stringMatching(/^\.\/config\/prometheus\.yml:\/etc\/prometheus\/prometheus\.yml/),
    );
    expect(prom.depends_on).toBeDefined();
  });

  it('gives every service a healthcheck', () => {
    for (const [name, svc] of Object.entries(services)) {
      const healthcheck = doc(doc(svc, name).healthcheck, `${name}.healthcheck`);
      expect(commandText(healthcheck.test), name).not.toBe('');
      expect(healthcheck.disable, name).not.toBe(true);
    }
  });

  it('keeps data in named volumes declared at the top level', () => {
    const declared = Object.keys(doc(compose.volumes, 'volumes'));
    for (const name of ['mongo', 'redis', 'prometheus']) {
      const named = list(service(name).volumes, `${name}.volumes`)
        .map((v) => String(v).split(':')[0] ?? '')
        .filter((source) => !source.startsWith('.') && !source.startsWith('/'));
      expect(named.length, `${name} has a named volume`).toBeGreaterThan(0);
      for (const volume of named) expect(declared, `${name} uses ${volume}`).toContain(volume);
    }
  });
});

describe('config/prometheus.yml', () => {
  it('scrapes and evaluates every 15s with the cluster label', () => {
    const global = doc(prometheus.global, 'global');
    expect(global.scrape_interval).toBe('15s');
    expect(global.evaluation_interval).toBe('15s');
    expect(doc(global.external_labels, 'external_labels').cluster).toBe('rdp-services');
  });

  it('scrapes /metrics on the api service at the port compose exposes', () => {
    const job = scrapeJob('rdp-api');
    expect(job.metrics_path).toBe('/metrics');
    expect(targetsOf(job)).toEqual([`api:${apiContainerPort()}`]);
  });

  it('scrapes Prometheus itself', () => {
    expect(targetsOf(scrapeJob('prometheus'))).toEqual(['localhost:9090']);
  });

  const promtool = spawnSync('which', ['promtool'], { encoding: 'utf8' }).stdout.trim();
  it.skipIf(!promtool)(`passes promtool check config${promtool ? '' : ' (skipped: promtool is not on the PATH)'}`, () => {
    const result = spawnSync(promtool, ['check', 'config', fileURLToPath(new URL('config/prometheus.yml', root))], {
      encoding: 'utf8',
    });
    expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('installs with npm ci in a deps stage and builds then prunes in a build stage', () => {
    const deps = dockerfileStage('deps');
    expect(deps.image).toMatch(/^node:20-bookworm-slim/);
    expect(deps.instructions.some((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args))).toBe(true);
    const build = dockerfileStage('build');
    const runs = build.instructions
      .filter((i) => i.keyword === 'RUN')
      .map((i) => i.args)
      .join(' && ');
    expect(runs).toMatch(/npm run build.*npm prune --omit=dev/);
  });

  it('has an api stage on a distroless Node 20 image', () => {
    expect(dockerfileStage('api').image).toMatch(/^gcr\.io\/distroless\/nodejs20-debian\d+/);
  });

  it('runs the api stage as a non-root user', () => {
    const users = dockerfileStage('api').instructions.filter((i) => i.keyword === 'USER');
    const user = users.at(-1)?.args ?? '';
    expect(user).not.toBe('');
    expect(user).not.toMatch(/^(root|0)(:|$)/);
  });

  it('checks liveness in the api stage and fails the check on error', () => {
    const healthcheck = dockerfileStage('api').instructions.find((i) => i.keyword === 'HEALTHCHECK');
    expect(healthcheck?.args).toContain(`http://127.0.0.1:${apiContainerPort()}/health/live`);
    expect(healthcheck?.args).toMatch(/process\.exit\(1\)/);
  });

  it('exposes the same port that compose publishes', () => {
    const exposed = dockerfileStage('api')
      .instructions.filter((i) => i.keyword === 'EXPOSE')
      .flatMap((i) => i.args.split(/\s+/))
      .map((p) => Number(p.replace(/\/tcp$/, '')));
    expect(exposed).toContain(apiContainerPort());
  });

  it('starts the compiled entry point in production mode', () => {
    const api = dockerfileStage('api');
    expect(api.instructions.find((i) => i.keyword === 'CMD')?.args).toBe('["dist/src/app/main.js"]');
    expect(api.instructions.some((i) => i.keyword === 'ENV' && /NODE_ENV=production/.test(i.args))).toBe(true);
    expect(dockerfile).toMatch(/COPY --from=build \S*node_modules/);
    expect(dockerfile).toMatch(/COPY --from=build \S*dist/);
  });

  it('keeps dependencies, build output and secrets out of the build context', () => {
    const ignored = read('.dockerignore')
      .split(/\r?\n/)
      .map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.data', '.git', 'coverage', '*.log', '.env']));
  });
});

describe('.env.example', () => {
  const envExample = read('.env.example');
  const assignments = new Map(
    envExample
      .split(/\r?\n/)
      .map((line) => /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1] ?? '', m[2] ?? ''] as const),
  );

  // Every variable src/config reads, with the value the example ships ('' = unset, default applies).
  const expected: Record<string, string> = {
    NODE_ENV: 'production',
    SERVICE_HOST: '0.0.0.0',
    SERVICE_PORT: '8090',
    MONGODB_URI: '',
    MONGODB_MAX_POOL_SIZE: '50',
    MONGODB_MIN_POOL_SIZE: '10',
    REDIS_URL: '',
    REDIS_MAX_CONNECTIONS: '50',
    JWT_ISSUER: '',
    JWT_AUDIENCE: '',
    AUTH_SERVICE_URL: '',
    MAX_CONCURRENT_SERVERS: '50',
    MAX_CONCURRENT_SESSIONS: '100',
    SESSION_TIMEOUT: '3600',
    IDLE_TIMEOUT: '1800',
    MAX_CPU_USAGE: '80',
    MAX_MEMORY_USAGE: '80',
    XRDP_CONFIG_PATH: '/etc/xrdp',
    XRDP_LOG_PATH: '/var/log/xrdp',
    XRDP_BINARY: '/usr/sbin/xrdp',
    RDP_PORT_RANGE: '33890-33999',
    RDP_PUBLIC_HOST: 'localhost',
    RDP_LOOPBACK_ONLY: 'false',
    ENABLE_GRAPHIQL: '',
    WS_MAX_SUBSCRIPTIONS_PER_USER: '100',
    RATE_LIMIT_ENABLED: 'true',
    RATE_LIMIT_SERVERS_PER_MIN: '100',
    RATE_LIMIT_SESSIONS_PER_MIN: '200',
    RATE_LIMIT_XRDP_PER_MIN: '50',
    RATE_LIMIT_RESOURCES_PER_MIN: '300',
    RATE_LIMIT_BURST_FACTOR: '2',
    PROMETHEUS_ENABLED: 'true',
    METRICS_INTERVAL: '30',
    HEALTH_CHECK_INTERVAL: '30',
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
    MAX_REQUEST_BODY_BYTES: '1048576',
    DATA_DIR: '.data',
  };

  it('lists every variable the service reads with its default', () => {
    const listed = Object.fromEntries([...assignments].filter(([name]) => name in expected));
    expect(listed).toEqual(expected);
    expect(assignments.has('JWT_SECRET')).toBe(true);
  });

  it('sets SERVICE_PORT to the port compose publishes', () => {
    expect(Number(assignments.get('SERVICE_PORT'))).toBe(apiContainerPort());
  });

  it('ships a JWT_SECRET placeholder too short to be accepted unchanged', () => {
    const secret = assignments.get('JWT_SECRET') ?? '';
    expect(secret).not.toBe('');
    expect(Buffer.byteLength(secret)).toBeLessThan(32);
    expect(envExample).toContain('openssl rand -base64 48');
  });

  it('comments every variable on the line above it', () => {
    const lines = envExample.split(/\r?\n/);
    lines.forEach((line, i) => {
      if (/^[A-Z][A-Z0-9_]*=/.test(line)) expect(lines[i - 1], `comment above ${line}`).toMatch(/^#\s*\S/);
    });
  });
});
