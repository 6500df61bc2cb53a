import { z } from 'zod';

/** Thrown when the environment is invalid; lists every problem at once. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (min: number, max: number) =>
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

const url = (protocols: string[]) =>
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

const portRange = z
  .string()
  .regex(/^\d+-\d+$/, { message: 'must look like 33890-33999' })
  .transform((v) => {
    const [from, to] = v.split('-').map(Number) as [number, number];
    return { from, to };
  })
  .refine((r) => r.from >= 1024 && r.to <= 65535 && r.from <= r.to, {
    message: 'must be an ascending range within 1024-65535',
  });

const logLevel = z
  .string()
  .transform((v) => v.toLowerCase())
  .pipe(z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']));

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
  REDIS_MAX_CONNECTIONS: int(2, 10000).default(50),
  JWT_SECRET: z.string().optional(),
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).optional(),
  AUTH_SERVICE_URL: url(['http:', 'https:']).optional(),
  MAX_CONCURRENT_SERVERS: int(1, 100000).default(50),
  MAX_CONCURRENT_SESSIONS: int(1, 100000).default(100),
  SESSION_TIMEOUT: int(300, 86400).default(3600),
  IDLE_TIMEOUT: int(60, 7200).default(1800),
  SESSION_CREDENTIAL_TTL: int(5, 86400).default(3600),
  MAX_CPU_USAGE: int(1, 100).default(80),
  MAX_MEMORY_USAGE: int(1, 100).default(80),
  REFUSE_ON_HOST_OVERLOAD: bool.default(true),
  ALERT_CPU_PERCENT: int(1, 100).default(80),
  ALERT_MEMORY_PERCENT: int(1, 100).default(80),
  ALERT_DISK_PERCENT: int(1, 100).default(90),
  ALERT_NETWORK_MBPS: int(1, 1_000_000).default(1000),
  XRDP_CONFIG_PATH: z.string().startsWith('/', { message: 'must be an absolute path' }).default('/etc/xrdp'),
  XRDP_LOG_PATH: z.string().startsWith('/', { message: 'must be an absolute path' }).default('/var/log/xrdp'),
  XRDP_BINARY: z.string().startsWith('/', { message: 'must be an absolute path' }).default('/usr/sbin/xrdp'),
  RDP_PORT_RANGE: portRange.default({ from: 33890, to: 33999 }),
  RDP_PUBLIC_HOST: z.string().min(1).max(255).default('localhost'),
  RDP_LOOPBACK_ONLY: bool.default(false),
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
});

export type Env = z.infer<typeof envSchema>;

export interface AuthConfig {
  /** HS256 secret bytes; absent when only a JWKS issuer is used. */
  secret?: Uint8Array;
  /** True when the secret was generated for development (printed at start). */
  secretGenerated: boolean;
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
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
  redis?: { url: string; maxConnections: number };
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
    /** A sampled value strictly above one of these raises an alert (DOMAIN.md defaults). */
    alertThresholds: { cpuPercent: number; memoryPercent: number; diskPercent: number; networkMbps: number };
  };
  sessions: { sessionTimeoutSeconds: number; idleTimeoutSeconds: number; credentialTtlSeconds: number };
  xrdp: {
    configPath: string;
    logPath: string;
    binary: string;
    portRange: { from: number; to: number };
    publicHost: string;
    /** Bind xrdp instances to 127.0.0.1 only. */
    loopbackOnly: boolean;
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
  /** Execute only the console's trusted documents (by sha256), never a client's own query text. */
  trustedDocumentsOnly: boolean;
}

export const MIN_SECRET_BYTES = 32;

export interface LoadConfigOptions {
  /** Supplies a development secret when JWT_SECRET is unset outside production. */
  devSecret?: () => string;
  version?: string;
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
    if (cleaned.NODE_ENV === 'production' && secret === undefined && !cleaned.AUTH_SERVICE_URL) {
      problems.push('JWT_SECRET: required in production unless AUTH_SERVICE_URL is set');
    }
    throw new ConfigError(problems);
  }
  const e = parsed.data;
  if (e.IDLE_TIMEOUT >= e.SESSION_TIMEOUT) problems.push('IDLE_TIMEOUT: must be less than SESSION_TIMEOUT');
  if (e.MONGODB_MIN_POOL_SIZE > e.MONGODB_MAX_POOL_SIZE) {
    problems.push('MONGODB_MIN_POOL_SIZE: must not exceed MONGODB_MAX_POOL_SIZE');
  }
  let secret: Uint8Array | undefined;
  let secretGenerated = false;
  if (e.JWT_SECRET !== undefined) {
    secret = new TextEncoder().encode(e.JWT_SECRET);
    if (secret.byteLength < MIN_SECRET_BYTES) {
      problems.push(`JWT_SECRET: must be at least ${MIN_SECRET_BYTES} bytes (got ${secret.byteLength})`);
    }
  } else if (e.NODE_ENV === 'production') {
    if (!e.AUTH_SERVICE_URL) problems.push('JWT_SECRET: required in production unless AUTH_SERVICE_URL is set');
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
    ...(e.REDIS_URL ? { redis: { url: e.REDIS_URL, maxConnections: e.REDIS_MAX_CONNECTIONS } } : {}),
    auth: {
      ...(secret ? { secret } : {}),
      secretGenerated,
      ...(e.AUTH_SERVICE_URL ? { jwksUrl: e.AUTH_SERVICE_URL } : {}),
      ...(e.JWT_ISSUER ? { issuer: e.JWT_ISSUER } : {}),
      ...(e.JWT_AUDIENCE ? { audience: e.JWT_AUDIENCE } : {}),
    },
    limits: {
      maxServers: e.MAX_CONCURRENT_SERVERS,
      maxSessions: e.MAX_CONCURRENT_SESSIONS,
      maxCpuUsage: e.MAX_CPU_USAGE,
      maxMemoryUsage: e.MAX_MEMORY_USAGE,
    },
    resources: {
      refuseOnHostOverload: e.REFUSE_ON_HOST_OVERLOAD,
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
      credentialTtlSeconds: e.SESSION_CREDENTIAL_TTL,
    },
    xrdp: {
      configPath: e.XRDP_CONFIG_PATH,
      logPath: e.XRDP_LOG_PATH,
      binary: e.XRDP_BINARY,
      portRange: e.RDP_PORT_RANGE,
      publicHost: e.RDP_PUBLIC_HOST,
      loopbackOnly: e.RDP_LOOPBACK_ONLY,
    },
    metrics: {
      enabled: e.PROMETHEUS_ENABLED,
      intervalSeconds: e.METRICS_INTERVAL,
      healthCheckIntervalSeconds: e.HEALTH_CHECK_INTERVAL,
    },
    log: { level: e.LOG_LEVEL, format: e.LOG_FORMAT },
    dataDir: e.DATA_DIR,
    graphiql: e.ENABLE_GRAPHIQL ?? e.NODE_ENV !== 'production',
    trustedDocumentsOnly: e.TRUSTED_DOCUMENTS_ONLY,
    wsMaxSubscriptionsPerUser: e.WS_MAX_SUBSCRIPTIONS_PER_USER,
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
