import { join, resolve } from 'node:path';
import { distance } from 'fastest-levenshtein';
import { z } from 'zod';
import { HOST_ID_PATTERN } from '../domain/cluster/host-protocol.js';

/** Thrown when the environment is invalid; lists every problem at once. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: 'must be a whole number' })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { message: `must be at least ${min}` })
        .max(max, { message: `must be at most ${max}` }),
    );

export const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL with scheme ${protocols.join(' or ')}` },
  );

export const portRange = z
  .string()
  .regex(/^\d+-\d+$/, { message: 'must look like 33890-33999' })
  .transform((v) => {
    const [from, to] = v.split('-').map(Number) as [number, number];
    return { from, to };
  })
  .refine((r) => r.from >= 1024 && r.to <= 65535 && r.from <= r.to, {
    message: 'must be an ascending range within 1024-65535',
  });

/** DRAIN_NOTICE_SECONDS: seconds before a drain's deadline, comma-separated, e.g. 900,300,60. */
export const noticeSteps = z
  .string()
  .regex(/^\s*\d+(\s*,\s*\d+)*\s*$/, { message: 'must be whole seconds separated by commas, e.g. 900,300,60' })
  .transform((v) => [...new Set(v.split(',').map((n) => Number(n.trim())))].sort((a, b) => b - a))
  .refine((steps) => steps.every((n) => n >= 1 && n <= 86400), { message: 'each step must be 1 to 86400 seconds' });

export const logLevel = z
  .string()
  .transform((v) => v.toLowerCase())
  .pipe(z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']));

/** Where server and session cgroups go, under each controller's root. */
export const cgroupParent = z
  .string()
  .regex(/^[A-Za-z0-9_-][A-Za-z0-9_.-]*(\/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*$/, {
    message: 'must be a relative cgroup path such as rdp-services (no leading /, no . or .. parts)',
  })
  .max(200)
  .default('rdp-services');

/**
 * Every variable the service reads. Unset variables take the default; MONGODB_URI and REDIS_URL
 * unset select the embedded in-memory store and in-process pub/sub.
 */
const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  SERVICE_HOST: z.string().min(1).default('0.0.0.0'),
  SERVICE_PORT: int(0, 65535).default(8090),
  TRUST_PROXY: bool.default(false),
  SHUTDOWN_DRAIN_SECONDS: int(0, 20).default(5),
  MONGODB_URI: url(['mongodb:', 'mongodb+srv:']).optional(),
  MONGODB_MAX_POOL_SIZE: int(1, 1000).default(50),
  MONGODB_MIN_POOL_SIZE: int(0, 1000).default(10),
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  JWT_SECRET: z.string().optional(),
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).optional(),
  // A claim name: letters, digits, and the `_ - . : /` of namespaced claims (https://example.com/groups).
  GROUPS_CLAIM: z
    .string()
    .regex(/^[A-Za-z0-9_\-.:/]{1,200}$/, { message: 'must be a claim name (letters, digits, _ - . : /)' })
    .default('groups'),
  AUTH_SERVICE_URL: url(['http:', 'https:']).optional(),
  OIDC_ISSUER: url(['https:', 'http:']).optional(),
  OIDC_CLIENT_ID: z.string().min(1).max(255).optional(),
  OIDC_SCOPES: z
    .string()
    .regex(/^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/, {
      message: 'must be scope names separated by single spaces',
    })
    .refine((v) => v.split(' ').includes('openid'), { message: 'must include openid' })
    .default('openid profile email'),
  MAX_CONCURRENT_SERVERS: int(1, 100000).default(50),
  MAX_CONCURRENT_SESSIONS: int(1, 100000).default(100),
  SESSION_TIMEOUT: int(300, 86400).default(3600),
  IDLE_TIMEOUT: int(60, 7200).default(1800),
  // Unset: IDLE_TIMEOUT's value, which already stays below SESSION_TIMEOUT.
  DISCONNECTED_SESSION_TIMEOUT: int(60, 86400).optional(),
  SESSION_CREDENTIAL_TTL: int(5, 86400).default(3600),
  DRAIN_NOTICE_SECONDS: noticeSteps.default([900, 300, 60]),
  MAX_CPU_USAGE: int(1, 100).default(80),
  MAX_MEMORY_USAGE: int(1, 100).default(80),
  REFUSE_ON_HOST_OVERLOAD: bool.default(true),
  CGROUP_PARENT: cgroupParent,
  ALERT_CPU_PERCENT: int(1, 100).default(80),
  ALERT_MEMORY_PERCENT: int(1, 100).default(80),
  ALERT_DISK_PERCENT: int(1, 100).default(90),
  ALERT_NETWORK_MBPS: int(1, 1_000_000).default(1000),
  // Unset: under DATA_DIR (see loadConfig), so a first run leaves nothing in system folders.
  XRDP_CONFIG_PATH: z.string().startsWith('/', { message: 'must be an absolute path' }).optional(),
  XRDP_LOG_PATH: z.string().startsWith('/', { message: 'must be an absolute path' }).optional(),
  XRDP_BINARY: z.string().startsWith('/', { message: 'must be an absolute path' }).default('/usr/sbin/xrdp'),
  RDP_PORT_RANGE: portRange.default({ from: 33890, to: 33999 }),
  RDP_PUBLIC_HOST: z.string().min(1).max(255).default('localhost'),
  RDP_LOOPBACK_ONLY: bool.default(true),
  XRDP_STOP_ON_SHUTDOWN: bool.default(true),
  HOST_ID: z
    .string()
    .regex(HOST_ID_PATTERN, {
      message: 'must be 1-63 lowercase letters, digits or hyphens, not starting with a hyphen',
    })
    .default('local'),
  HOST_HEARTBEAT_INTERVAL: int(1, 3600).default(5),
  RDP_HOSTS: z.enum(['local', 'agents'], { message: 'must be local or agents' }).default('local'),
  PROMETHEUS_ENABLED: bool.default(true),
  METRICS_INTERVAL: int(1, 86400).default(30),
  HEALTH_CHECK_INTERVAL: int(1, 86400).default(30),
  LOG_LEVEL: logLevel.default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  MAX_REQUEST_BODY_BYTES: int(1024, 64 * 1024 * 1024).default(1024 * 1024),
  DATA_DIR: z.string().min(1).default('.data'),
  ENABLE_GRAPHIQL: bool.optional(),
  TRUSTED_DOCUMENTS_ONLY: bool.default(false),
  WS_MAX_SUBSCRIPTIONS_PER_USER: int(1, 100_000).default(100),
  RATE_LIMIT_ENABLED: bool.default(true),
  RATE_LIMIT_SERVERS_PER_MIN: int(1, 1_000_000).default(100),
  RATE_LIMIT_SESSIONS_PER_MIN: int(1, 1_000_000).default(200),
  RATE_LIMIT_XRDP_PER_MIN: int(1, 1_000_000).default(50),
  RATE_LIMIT_RESOURCES_PER_MIN: int(1, 1_000_000).default(300),
  RATE_LIMIT_BURST_FACTOR: int(1, 100).default(2),
  RESPONSE_CACHE: z.enum(['on', 'off'], { message: 'must be on or off' }).default('off'),
  RESPONSE_CACHE_MAX_BYTES: int(1024 * 1024, 4 * 1024 * 1024 * 1024).default(64 * 1024 * 1024),
});

export type Env = z.infer<typeof envSchema>;

/** Every variable the schema reads. */
export const KNOWN_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

/**
 * Variables of the four services this product replaced that it does not read, and why: set in an
 * old .env they would otherwise look as if they did something.
 */
export const RETIRED_VARIABLES: Readonly<Record<string, string>> = {
  PROMETHEUS_PORT: 'metrics are served on SERVICE_PORT at /metrics',
  ENVIRONMENT: 'use NODE_ENV',
  SERVICE_NAME: 'the service is always named rdp-services-cluster',
  REDIS_MAX_CONNECTIONS: 'a replica opens exactly two Redis connections',
};

/**
 * Prefixes of this product's variables: a set variable with one of them that the schema does not
 * know is a typo or a setting that does not exist. Generic prefixes of other software (NODE_,
 * npm_) are not here, so their variables are never reported.
 */
const OUR_PREFIXES = [
  'RDP_',
  'XRDP_',
  'MONGODB_',
  'MONGO_',
  'REDIS_',
  'JWT_',
  'AUTH_',
  'OIDC_',
  'RATE_LIMIT_',
  'ALERT_',
  'SESSION_',
  'IDLE_',
  'MAX_',
  'SERVICE_',
  'LOG_',
  'METRICS_',
  'HEALTH_',
  'PROMETHEUS_',
  'SHUTDOWN_',
  'WS_',
  'REFUSE_',
  'RESPONSE_',
];

export interface IgnoredVariable {
  name: string;
  /** Why it is ignored, or which known variable it looks like. */
  hint?: string;
}

/** The known variable a name is a likely typo of (at most two edits, names of 8 characters or more). */
function closestKnown(name: string): string | undefined {
  if (name.length < 8) return undefined;
  let best: { name: string; d: number } | undefined;
  for (const known of KNOWN_VARIABLES) {
    const d = distance(name, known);
    if (d <= 2 && (!best || d < best.d)) best = { name: known, d };
  }
  return best?.name;
}

/**
 * The set variables the service ignores: the retired ones, unknown names with one of our prefixes,
 * and near misses of a known name (SESION_TIMEOUT), each with a hint. Sorted by name.
 */
export function ignoredVariables(source: Record<string, string | undefined>): IgnoredVariable[] {
  const known = new Set(KNOWN_VARIABLES);
  const ignored: IgnoredVariable[] = [];
  for (const name of Object.keys(source).sort()) {
    if (known.has(name) || source[name] === undefined) continue;
    const retired = RETIRED_VARIABLES[name];
    const near = closestKnown(name);
    if (retired) ignored.push({ name, hint: retired });
    else if (near) ignored.push({ name, hint: `did you mean ${near}?` });
    else if (OUR_PREFIXES.some((p) => name.startsWith(p))) ignored.push({ name });
  }
  return ignored;
}

/** One line naming every ignored variable, e.g. `SESION_TIMEOUT (did you mean SESSION_TIMEOUT?)`. */
export function describeIgnored(ignored: readonly IgnoredVariable[]): string {
  return ignored.map((v) => (v.hint ? `${v.name} (${v.hint})` : v.name)).join(', ');
}

export interface AuthConfig {
  /** HS256 secret bytes; absent when only a JWKS issuer is used. */
  secret?: Uint8Array;
  /** True when the secret was generated for development (printed at start). */
  secretGenerated: boolean;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  /**
   * The OpenID provider the console signs people in with (authorization code + PKCE); the API
   * takes its JWT access tokens, with the keys its discovery document names.
   */
  oidc?: { issuer: string; clientId: string; scopes: string };
  /** The token claim that lists the caller's groups (assignments to a group reach its members). @default 'groups' */
  groupsClaim: string;
}

export interface Config {
  env: Env['NODE_ENV'];
  service: {
    name: string;
    version: string;
    host: string;
    port: number;
    maxRequestBodyBytes: number;
    /** Take the client address from X-Forwarded-For (last entry, the one our proxy added). */
    trustProxy: boolean;
    /** On SIGTERM, readiness is false this long before the listener closes, so balancers stop sending. */
    shutdownDrainSeconds: number;
  };
  mongo?: { uri: string; maxPoolSize: number; minPoolSize: number };
  /** A replica opens two connections (publish, subscribe); ioredis pipelines commands on one. */
  redis?: { url: string };
  auth: AuthConfig;
  limits: {
    maxServers: number;
    maxSessions: number;
    maxCpuUsage: number;
    maxMemoryUsage: number;
  };
  resources: {
    /** Refuse server starts and sessions while the host is above maxTotalCpu or maxTotalMemory. */
    refuseOnHostOverload: boolean;
    /** The cgroup (relative to the controllers' mounts) that holds every server's and session's limits. */
    cgroupParent: string;
    /** A sampled value strictly above one of these raises an alert (docs/DOMAIN.md defaults). */
    alertThresholds: { cpuPercent: number; memoryPercent: number; diskPercent: number; networkMbps: number };
  };
  sessions: {
    sessionTimeoutSeconds: number;
    /** An ACTIVE session without keyboard or pointer input this long has its client disconnected. */
    idleTimeoutSeconds: number;
    /** A DISCONNECTED session is ended this long after its client left, unless one comes back. */
    disconnectedTimeoutSeconds: number;
    credentialTtlSeconds: number;
    /** Seconds before a drain's deadline at which ACTIVE sessions get a DRAIN_NOTICE (besides the one at its start). */
    drainNoticeSeconds: number[];
  };
  xrdp: {
    configPath: string;
    logPath: string;
    binary: string;
    portRange: { from: number; to: number };
    publicHost: string;
    /** Bind xrdp instances to 127.0.0.1 only (the default; production sets false). */
    loopbackOnly: boolean;
    /**
     * On SIGTERM/SIGINT, stop the xrdp instances and the sesman this service started (the
     * default). Production sets false: instances outlive a restart and are adopted again.
     */
    stopOnShutdown: boolean;
  };
  hosts: {
    /**
     * `local`: this process runs xrdp and is the one host (the all-in-one default). `agents`: it
     * runs none; host agents serve every host through Redis Streams.
     */
    mode: 'local' | 'agents';
    /** The id of the host this process serves RDP on (its in-process agent). */
    localId: string;
    /** Seconds between heartbeats; a host silent for 3 of them is OFFLINE. */
    heartbeatIntervalSeconds: number;
  };
  metrics: { enabled: boolean; intervalSeconds: number; healthCheckIntervalSeconds: number };
  log: { level: Env['LOG_LEVEL']; format: Env['LOG_FORMAT'] };
  dataDir: string;
  /** Open GraphQL operations one user may hold over WebSocket. */
  wsMaxSubscriptionsPerUser: number;
  /** Requests a minute per user and operation group; bursts are twice that. */
  rateLimits: {
    enabled: boolean;
    perMinute: { servers: number; sessions: number; xrdp: number; resources: number };
    /** Bucket size as a multiple of the per-minute rate. */
    burstFactor: number;
  };
  /** GraphiQL at /graphql in a browser: on outside production unless ENABLE_GRAPHIQL says otherwise. */
  graphiql: boolean;
  /** Variables that are set but that the service does not read; start-up names them in one warning. */
  ignoredVariables: IgnoredVariable[];
  /** Execute only the console's trusted documents (by sha256), never a client's own query text. */
  trustedDocumentsOnly: boolean;
  /**
   * The response cache of hot list queries (src/app/response-cache.ts): answers kept per document,
   * variables, visibility and the generations of the stores they read, at most maxBytes of them.
   */
  responseCache: { enabled: boolean; maxBytes: number };
}

export const MIN_SECRET_BYTES = 32;

export interface LoadConfigOptions {
  /** Supplies a development secret when JWT_SECRET is unset outside production. */
  devSecret?: () => string;
  version?: string;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The OIDC settings go together, and the issuer is the one tokens are checked against. */
function oidcProblems(e: Env, cleaned: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  if (!e.OIDC_ISSUER) {
    if (e.OIDC_CLIENT_ID) problems.push('OIDC_CLIENT_ID: needs OIDC_ISSUER');
    if (cleaned.OIDC_SCOPES !== undefined) problems.push('OIDC_SCOPES: needs OIDC_ISSUER');
    return problems;
  }
  if (!e.OIDC_CLIENT_ID) problems.push('OIDC_CLIENT_ID: required when OIDC_ISSUER is set');
  const issuer = new URL(e.OIDC_ISSUER);
  // Tokens and codes cross the network: plain http only to a provider on this machine (tests, trials).
  if (issuer.protocol === 'http:' && !LOOPBACK_HOSTS.has(issuer.hostname)) {
    problems.push('OIDC_ISSUER: must be https (http only for localhost, 127.0.0.1 or [::1])');
  }
  if (issuer.search || issuer.hash) problems.push('OIDC_ISSUER: must have no query or fragment');
  if (e.JWT_ISSUER && e.JWT_ISSUER !== e.OIDC_ISSUER) {
    problems.push('JWT_ISSUER: must be unset or equal to OIDC_ISSUER (tokens are checked against one issuer)');
  }
  return problems;
}

/** Parses and validates the environment once. Throws ConfigError listing every problem. */
export function loadConfig(source: Record<string, string | undefined>, options: LoadConfigOptions = {}): Config {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    // Rules across variables are checked on the raw values too, so one run lists every problem.
    const secret = cleaned.JWT_SECRET;
    if (secret !== undefined && new TextEncoder().encode(secret).byteLength < MIN_SECRET_BYTES) {
      problems.push(`JWT_SECRET: must be at least ${MIN_SECRET_BYTES} bytes`);
    }
    if (cleaned.NODE_ENV === 'production' && secret === undefined && !cleaned.AUTH_SERVICE_URL && !cleaned.OIDC_ISSUER) {
      problems.push('JWT_SECRET: required in production unless AUTH_SERVICE_URL or OIDC_ISSUER is set');
    }
    throw new ConfigError(problems);
  }
  const e = parsed.data;
  if (e.RDP_HOSTS === 'agents' && !e.REDIS_URL)
    problems.push('RDP_HOSTS: agents needs REDIS_URL (commands and events go through Redis Streams)');
  // Every replica must see every other's writes move the generations: with MongoDB, through Redis.
  if (e.RESPONSE_CACHE === 'on' && e.MONGODB_URI && !e.REDIS_URL)
    problems.push('RESPONSE_CACHE: on with MONGODB_URI needs REDIS_URL (the replicas share its generations through Redis)');
  if (e.IDLE_TIMEOUT >= e.SESSION_TIMEOUT) problems.push('IDLE_TIMEOUT: must be less than SESSION_TIMEOUT');
  // At or past SESSION_TIMEOUT it could never end a session first: it would be accepted and do nothing.
  if (e.DISCONNECTED_SESSION_TIMEOUT !== undefined && e.DISCONNECTED_SESSION_TIMEOUT >= e.SESSION_TIMEOUT) {
    problems.push('DISCONNECTED_SESSION_TIMEOUT: must be less than SESSION_TIMEOUT');
  }
  if (e.MONGODB_MIN_POOL_SIZE > e.MONGODB_MAX_POOL_SIZE) {
    problems.push('MONGODB_MIN_POOL_SIZE: must not exceed MONGODB_MAX_POOL_SIZE');
  }
  problems.push(...oidcProblems(e, cleaned));
  let secret: Uint8Array | undefined;
  let secretGenerated = false;
  if (e.JWT_SECRET !== undefined) {
    secret = new TextEncoder().encode(e.JWT_SECRET);
    if (secret.byteLength < MIN_SECRET_BYTES) {
      problems.push(`JWT_SECRET: must be at least ${MIN_SECRET_BYTES} bytes (got ${secret.byteLength})`);
    }
  } else if (e.NODE_ENV === 'production') {
    if (!e.AUTH_SERVICE_URL && !e.OIDC_ISSUER) {
      problems.push('JWT_SECRET: required in production unless AUTH_SERVICE_URL or OIDC_ISSUER is set');
    }
  } else if (options.devSecret) {
    secret = new TextEncoder().encode(options.devSecret());
    secretGenerated = true;
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    env: e.NODE_ENV,
    service: {
      name: 'rdp-services-cluster',
      version: options.version ?? '0.0.0',
      host: e.SERVICE_HOST,
      port: e.SERVICE_PORT,
      maxRequestBodyBytes: e.MAX_REQUEST_BODY_BYTES,
      trustProxy: e.TRUST_PROXY,
      shutdownDrainSeconds: e.SHUTDOWN_DRAIN_SECONDS,
    },
    ...(e.MONGODB_URI
      ? { mongo: { uri: e.MONGODB_URI, maxPoolSize: e.MONGODB_MAX_POOL_SIZE, minPoolSize: e.MONGODB_MIN_POOL_SIZE } }
      : {}),
    ...(e.REDIS_URL ? { redis: { url: e.REDIS_URL } } : {}),
    auth: {
      ...(secret ? { secret } : {}),
      secretGenerated,
      ...(e.AUTH_SERVICE_URL ? { jwksUrl: e.AUTH_SERVICE_URL } : {}),
      ...((e.JWT_ISSUER ?? e.OIDC_ISSUER) ? { issuer: e.JWT_ISSUER ?? e.OIDC_ISSUER } : {}),
      ...(e.JWT_AUDIENCE ? { audience: e.JWT_AUDIENCE } : {}),
      ...(e.OIDC_ISSUER && e.OIDC_CLIENT_ID
        ? { oidc: { issuer: e.OIDC_ISSUER, clientId: e.OIDC_CLIENT_ID, scopes: e.OIDC_SCOPES } }
        : {}),
      groupsClaim: e.GROUPS_CLAIM,
    },
    limits: {
      maxServers: e.MAX_CONCURRENT_SERVERS,
      maxSessions: e.MAX_CONCURRENT_SESSIONS,
      maxCpuUsage: e.MAX_CPU_USAGE,
      maxMemoryUsage: e.MAX_MEMORY_USAGE,
    },
    resources: {
      refuseOnHostOverload: e.REFUSE_ON_HOST_OVERLOAD,
      cgroupParent: e.CGROUP_PARENT,
      alertThresholds: {
        cpuPercent: e.ALERT_CPU_PERCENT,
        memoryPercent: e.ALERT_MEMORY_PERCENT,
        diskPercent: e.ALERT_DISK_PERCENT,
        networkMbps: e.ALERT_NETWORK_MBPS,
      },
    },
    sessions: {
      sessionTimeoutSeconds: e.SESSION_TIMEOUT,
      idleTimeoutSeconds: e.IDLE_TIMEOUT,
      disconnectedTimeoutSeconds: e.DISCONNECTED_SESSION_TIMEOUT ?? e.IDLE_TIMEOUT,
      credentialTtlSeconds: e.SESSION_CREDENTIAL_TTL,
      drainNoticeSeconds: e.DRAIN_NOTICE_SECONDS,
    },
    xrdp: {
      configPath: e.XRDP_CONFIG_PATH ?? join(resolve(e.DATA_DIR), 'xrdp', 'etc'),
      logPath: e.XRDP_LOG_PATH ?? join(resolve(e.DATA_DIR), 'xrdp', 'log'),
      binary: e.XRDP_BINARY,
      portRange: e.RDP_PORT_RANGE,
      publicHost: e.RDP_PUBLIC_HOST,
      loopbackOnly: e.RDP_LOOPBACK_ONLY,
      stopOnShutdown: e.XRDP_STOP_ON_SHUTDOWN,
    },
    hosts: { mode: e.RDP_HOSTS, localId: e.HOST_ID, heartbeatIntervalSeconds: e.HOST_HEARTBEAT_INTERVAL },
    metrics: {
      enabled: e.PROMETHEUS_ENABLED,
      intervalSeconds: e.METRICS_INTERVAL,
      healthCheckIntervalSeconds: e.HEALTH_CHECK_INTERVAL,
    },
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT },
    dataDir: e.DATA_DIR,
    graphiql: e.ENABLE_GRAPHIQL ?? e.NODE_ENV !== 'production',
    trustedDocumentsOnly: e.TRUSTED_DOCUMENTS_ONLY,
    responseCache: { enabled: e.RESPONSE_CACHE === 'on', maxBytes: e.RESPONSE_CACHE_MAX_BYTES },
    wsMaxSubscriptionsPerUser: e.WS_MAX_SUBSCRIPTIONS_PER_USER,
    ignoredVariables: ignoredVariables(cleaned),
    rateLimits: {
      enabled: e.RATE_LIMIT_ENABLED,
      perMinute: {
        servers: e.RATE_LIMIT_SERVERS_PER_MIN,
        sessions: e.RATE_LIMIT_SESSIONS_PER_MIN,
        xrdp: e.RATE_LIMIT_XRDP_PER_MIN,
        resources: e.RATE_LIMIT_RESOURCES_PER_MIN,
      },
      burstFactor: e.RATE_LIMIT_BURST_FACTOR,
    },
  };
}
