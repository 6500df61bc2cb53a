import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, describeIgnored, loadConfig } from '../../src/config/config.js';

const SECRET_32 = 's'.repeat(32);

function configError(env: Record<string, string | undefined>, options: Parameters<typeof loadConfig>[1] = {}): ConfigError {
  try {
    loadConfig(env, options);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

describe('loadConfig', () => {
  describe('with an empty environment', () => {
    const config = loadConfig({});

    it('serves on 0.0.0.0:8090 in development', () => {
      expect(config.env).toBe('development');
      expect(config.service).toMatchObject({ host: '0.0.0.0', port: 8090, name: 'rdp-services-cluster', version: '0.0.0' });
    });

    it('allocates RDP ports from 33890-33999 and allows 50 servers and 100 sessions', () => {
      expect(config.xrdp.portRange).toEqual({ from: 33890, to: 33999 });
      expect(config.limits).toEqual({ maxServers: 50, maxSessions: 100, maxCpuUsage: 80, maxMemoryUsage: 80 });
    });

    it('selects the in-memory store and in-process pub/sub (no mongo, no redis)', () => {
      expect(config.mongo).toBeUndefined();
      expect(config.redis).toBeUndefined();
      expect('mongo' in config).toBe(false);
      expect('redis' in config).toBe(false);
    });

    it('logs at info in json, and takes the deployment document’s timeouts', () => {
      expect(config.log).toEqual({ level: 'info', format: 'json' });
      expect(config.sessions).toEqual({
        sessionTimeoutSeconds: 3600,
        idleTimeoutSeconds: 1800,
        disconnectedTimeoutSeconds: 1800,
        credentialTtlSeconds: 3600,
        drainNoticeSeconds: [900, 300, 60],
      });
      expect(config.metrics).toEqual({ enabled: true, intervalSeconds: 30, healthCheckIntervalSeconds: 30 });
    });

    it('is a safe first run: xrdp files under DATA_DIR (absolute), loopback only, instances stopped with the service', () => {
      expect(config.xrdp).toMatchObject({
        configPath: resolve('.data/xrdp/etc'),
        logPath: resolve('.data/xrdp/log'),
        loopbackOnly: true,
        stopOnShutdown: true,
      });
      expect(loadConfig({ DATA_DIR: '/srv/rdp' }).xrdp).toMatchObject({
        configPath: '/srv/rdp/xrdp/etc',
        logPath: '/srv/rdp/xrdp/log',
      });
    });

    it('has no secret and does not claim one was generated when no devSecret is supplied', () => {
      expect(config.auth.secret).toBeUndefined();
      expect(config.auth.secretGenerated).toBe(false);
    });
  });

  it('keeps the production behaviour through explicit settings: /etc/xrdp, every address, instances outlive a restart', () => {
    const config = loadConfig({
      XRDP_CONFIG_PATH: '/etc/xrdp',
      XRDP_LOG_PATH: '/var/log/xrdp',
      RDP_LOOPBACK_ONLY: 'false',
      XRDP_STOP_ON_SHUTDOWN: 'false',
    });
    expect(config.xrdp).toMatchObject({
      configPath: '/etc/xrdp',
      logPath: '/var/log/xrdp',
      loopbackOnly: false,
      stopOnShutdown: false,
    });
  });

  it('treats empty strings as unset', () => {
    const config = loadConfig({ SERVICE_PORT: '', MONGODB_URI: '', LOG_LEVEL: '' });
    expect(config.service.port).toBe(8090);
    expect(config.mongo).toBeUndefined();
    expect(config.log.level).toBe('info');
  });

  it('reads set values: port, range, mongo and redis with pool sizes, upper-case log level', () => {
    const config = loadConfig({
      SERVICE_PORT: '9000',
      RDP_PORT_RANGE: '40000-40010',
      MONGODB_URI: 'mongodb://mongo:27017/lucid_rdp',
      MONGODB_MAX_POOL_SIZE: '20',
      MONGODB_MIN_POOL_SIZE: '2',
      REDIS_URL: 'redis://redis:6379',
      MAX_CONCURRENT_SERVERS: '7',
      LOG_LEVEL: 'DEBUG',
      PROMETHEUS_ENABLED: 'false',
    });
    expect(config.service.port).toBe(9000);
    expect(config.xrdp.portRange).toEqual({ from: 40000, to: 40010 });
    expect(config.mongo).toEqual({ uri: 'mongodb://mongo:27017/lucid_rdp', maxPoolSize: 20, minPoolSize: 2 });
    expect(config.redis).toEqual({ url: 'redis://redis:6379' });
    expect(config.limits.maxServers).toBe(7);
    expect(config.log.level).toBe('debug');
    expect(config.metrics.enabled).toBe(false);
  });

  it('lists every bad variable at once, one problem per variable', () => {
    const err = configError({ SERVICE_PORT: 'abc', RDP_PORT_RANGE: '9-1', MONGODB_URI: 'http://x', METRICS_INTERVAL: '0' });
    expect(err.problems).toHaveLength(4);
    const variables = err.problems.map((p) => p.split(':')[0]).sort();
    expect(variables).toEqual(['METRICS_INTERVAL', 'MONGODB_URI', 'RDP_PORT_RANGE', 'SERVICE_PORT']);
    for (const name of variables) expect(err.message).toContain(name);
  });

  it.each([
    ['SERVICE_PORT', '65536'],
    ['SERVICE_PORT', '-1'],
    ['RDP_PORT_RANGE', '1000-2000'],
    ['RDP_PORT_RANGE', '33890'],
    ['REDIS_URL', 'http://redis:6379'],
    ['AUTH_SERVICE_URL', 'not a url'],
    ['PROMETHEUS_ENABLED', 'maybe'],
    ['LOG_LEVEL', 'loud'],
    ['XRDP_CONFIG_PATH', 'etc/xrdp'],
    ['SESSION_TIMEOUT', '10'],
    ['HOST_ID', 'Local'],
    ['HOST_ID', '-edge'],
    ['HOST_ID', 'a'.repeat(64)],
    ['HOST_HEARTBEAT_INTERVAL', '0'],
    ['HOST_HEARTBEAT_INTERVAL', '1.5'],
    ['RESPONSE_CACHE', 'true'],
    ['RESPONSE_CACHE_MAX_BYTES', '1000'],
    ['RESPONSE_CACHE_MAX_BYTES', '64MB'],
  ])('rejects %s=%s naming that variable', (name, value) => {
    const err = configError({ [name]: value });
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatch(new RegExp(`^${name}: `));
  });

  it('RESPONSE_CACHE: off by default with 64 MiB; on in memory alone or with MongoDB and Redis, never MongoDB without Redis', () => {
    expect(loadConfig({}).responseCache).toEqual({ enabled: false, maxBytes: 64 * 1024 * 1024 });
    expect(loadConfig({ RESPONSE_CACHE: 'on', RESPONSE_CACHE_MAX_BYTES: '1048576' }).responseCache).toEqual({
      enabled: true,
      maxBytes: 1048576,
    });
    const mongo = { MONGODB_URI: 'mongodb://m:27017/rdp', RESPONSE_CACHE: 'on' };
    expect(configError(mongo).problems).toEqual([
      'RESPONSE_CACHE: on with MONGODB_URI needs REDIS_URL (the replicas share its generations through Redis)',
    ]);
    expect(loadConfig({ ...mongo, REDIS_URL: 'redis://r:6379' }).responseCache.enabled).toBe(true);
    expect(loadConfig({ MONGODB_URI: 'mongodb://m:27017/rdp', RESPONSE_CACHE: 'off' }).responseCache.enabled).toBe(false);
  });

  it('takes HOST_ID and HOST_HEARTBEAT_INTERVAL, defaulting to local and 5 seconds', () => {
    expect(loadConfig({ JWT_SECRET: SECRET_32 }).hosts).toEqual({ mode: 'local', localId: 'local', heartbeatIntervalSeconds: 5 });
    expect(loadConfig({ JWT_SECRET: SECRET_32, HOST_ID: 'edge-7', HOST_HEARTBEAT_INTERVAL: '2' }).hosts).toEqual({
      mode: 'local',
      localId: 'edge-7',
      heartbeatIntervalSeconds: 2,
    });
  });

  it('RDP_HOSTS=agents needs REDIS_URL; with it, the process runs no xrdp and serves hosts through agents', () => {
    expect(configError({ JWT_SECRET: SECRET_32, RDP_HOSTS: 'agents' }).problems).toContain(
      'RDP_HOSTS: agents needs REDIS_URL (commands and events go through Redis Streams)',
    );
    expect(configError({ JWT_SECRET: SECRET_32, RDP_HOSTS: 'cluster' }).problems).toContain('RDP_HOSTS: must be local or agents');
    expect(loadConfig({ JWT_SECRET: SECRET_32, RDP_HOSTS: 'agents', REDIS_URL: 'redis://r:6379' }).hosts.mode).toBe('agents');
  });

  it('rejects a JWT_SECRET shorter than 32 bytes and accepts exactly 32', () => {
    const err = configError({ JWT_SECRET: 's'.repeat(31) });
    expect(err.problems).toEqual(['JWT_SECRET: must be at least 32 bytes (got 31)']);
    const config = loadConfig({ JWT_SECRET: SECRET_32 });
    expect(config.auth.secret).toEqual(new TextEncoder().encode(SECRET_32));
    expect(config.auth.secretGenerated).toBe(false);
  });

  it('measures JWT_SECRET in UTF-8 bytes, not characters', () => {
    expect(loadConfig({ JWT_SECRET: 'é'.repeat(16) }).auth.secret?.byteLength).toBe(32);
    expect(configError({ JWT_SECRET: 'é'.repeat(15) }).problems[0]).toMatch(/^JWT_SECRET: .*got 30/);
  });

  it('requires JWT_SECRET or AUTH_SERVICE_URL in production, even when a devSecret is offered', () => {
    const err = configError({ NODE_ENV: 'production' }, { devSecret: () => SECRET_32 });
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatch(/^JWT_SECRET: /);
  });

  it('accepts production with only AUTH_SERVICE_URL, using the JWKS issuer and no secret', () => {
    const config = loadConfig(
      { NODE_ENV: 'production', AUTH_SERVICE_URL: 'https://auth.example.test/jwks' },
      { devSecret: () => SECRET_32 },
    );
    expect(config.auth).toEqual({ secretGenerated: false, jwksUrl: 'https://auth.example.test/jwks', groupsClaim: 'groups' });
  });

  it('accepts production with only an OpenID provider: its issuer is the one tokens are checked against', () => {
    const config = loadConfig(
      { NODE_ENV: 'production', OIDC_ISSUER: 'https://id.example.test/realms/rdp', OIDC_CLIENT_ID: 'rdp-console' },
      { devSecret: () => SECRET_32 },
    );
    expect(config.auth).toEqual({
      secretGenerated: false,
      issuer: 'https://id.example.test/realms/rdp',
      groupsClaim: 'groups',
      oidc: { issuer: 'https://id.example.test/realms/rdp', clientId: 'rdp-console', scopes: 'openid profile email' },
    });
  });

  it('takes the OIDC settings together, https (http on loopback only), with openid among the scopes', () => {
    const issuer = 'https://id.example.test';
    expect(configError({ OIDC_ISSUER: issuer }).problems).toEqual(['OIDC_CLIENT_ID: required when OIDC_ISSUER is set']);
    expect(configError({ OIDC_CLIENT_ID: 'c', OIDC_SCOPES: 'openid' }).problems).toEqual([
      'OIDC_CLIENT_ID: needs OIDC_ISSUER',
      'OIDC_SCOPES: needs OIDC_ISSUER',
    ]);
    expect(configError({ OIDC_ISSUER: 'http://id.example.test', OIDC_CLIENT_ID: 'c' }).problems).toEqual([
      'OIDC_ISSUER: must be https (http only for localhost, 127.0.0.1 or [::1])',
    ]);
    expect(loadConfig({ OIDC_ISSUER: 'http://127.0.0.1:9000', OIDC_CLIENT_ID: 'c' }).auth.oidc?.issuer).toBe(
      'http://127.0.0.1:9000',
    );
    expect(configError({ OIDC_ISSUER: issuer, OIDC_CLIENT_ID: 'c', OIDC_SCOPES: 'profile email' }).problems).toEqual([
      'OIDC_SCOPES: must include openid',
    ]);
    expect(configError({ OIDC_ISSUER: issuer, OIDC_CLIENT_ID: 'c', OIDC_SCOPES: 'openid  "x"' }).problems).toEqual([
      'OIDC_SCOPES: must be scope names separated by single spaces',
    ]);
    expect(configError({ OIDC_ISSUER: issuer, OIDC_CLIENT_ID: 'c', JWT_ISSUER: 'https://other.example.test' }).problems).toEqual([
      'JWT_ISSUER: must be unset or equal to OIDC_ISSUER (tokens are checked against one issuer)',
    ]);
    expect(loadConfig({ OIDC_ISSUER: issuer, OIDC_CLIENT_ID: 'c', OIDC_SCOPES: 'openid rdp:api' }).auth.oidc).toEqual({
      issuer,
      clientId: 'c',
      scopes: 'openid rdp:api',
    });
  });

  it('uses the devSecret outside production when JWT_SECRET is unset, marking it generated', () => {
    const config = loadConfig({ NODE_ENV: 'test' }, { devSecret: () => 'd'.repeat(48) });
    expect(config.auth.secretGenerated).toBe(true);
    expect(config.auth.secret).toEqual(new TextEncoder().encode('d'.repeat(48)));
  });

  it('prefers JWT_SECRET over the devSecret', () => {
    let asked = false;
    const devSecret = (): string => {
      asked = true;
      return 'd'.repeat(48);
    };
    const config = loadConfig({ JWT_SECRET: SECRET_32 }, { devSecret });
    expect(asked).toBe(false);
    expect(config.auth.secretGenerated).toBe(false);
    expect(config.auth.secret).toEqual(new TextEncoder().encode(SECRET_32));
  });

  it('rejects IDLE_TIMEOUT equal to or above SESSION_TIMEOUT', () => {
    expect(configError({ IDLE_TIMEOUT: '3600', SESSION_TIMEOUT: '3600' }).problems).toEqual([
      'IDLE_TIMEOUT: must be less than SESSION_TIMEOUT',
    ]);
    expect(configError({ IDLE_TIMEOUT: '1000', SESSION_TIMEOUT: '900' }).problems[0]).toMatch(/^IDLE_TIMEOUT: /);
    expect(loadConfig({ IDLE_TIMEOUT: '899', SESSION_TIMEOUT: '900' }).sessions).toEqual({
      sessionTimeoutSeconds: 900,
      idleTimeoutSeconds: 899,
      disconnectedTimeoutSeconds: 899,
      credentialTtlSeconds: 3600,
      drainNoticeSeconds: [900, 300, 60],
    });
  });

  it('DISCONNECTED_SESSION_TIMEOUT: IDLE_TIMEOUT when unset; 60 s at least; below SESSION_TIMEOUT', () => {
    expect(loadConfig({ IDLE_TIMEOUT: '60' }).sessions.disconnectedTimeoutSeconds).toBe(60);
    expect(loadConfig({ DISCONNECTED_SESSION_TIMEOUT: '60' }).sessions).toMatchObject({
      idleTimeoutSeconds: 1800,
      disconnectedTimeoutSeconds: 60,
    });
    expect(loadConfig({ DISCONNECTED_SESSION_TIMEOUT: '3599' }).sessions.disconnectedTimeoutSeconds).toBe(3599);
    expect(configError({ DISCONNECTED_SESSION_TIMEOUT: '59' }).problems).toEqual([
      'DISCONNECTED_SESSION_TIMEOUT: must be at least 60',
    ]);
    expect(configError({ DISCONNECTED_SESSION_TIMEOUT: 'soon' }).problems[0]).toMatch(/^DISCONNECTED_SESSION_TIMEOUT: /);
    expect(configError({ DISCONNECTED_SESSION_TIMEOUT: '3600' }).problems).toEqual([
      'DISCONNECTED_SESSION_TIMEOUT: must be less than SESSION_TIMEOUT',
    ]);
  });

  it('SESSION_CREDENTIAL_TTL: seconds from 5 to a day', () => {
    expect(loadConfig({ SESSION_CREDENTIAL_TTL: '600' }).sessions.credentialTtlSeconds).toBe(600);
    expect(configError({ SESSION_CREDENTIAL_TTL: '4' }).problems[0]).toMatch(/^SESSION_CREDENTIAL_TTL: /);
    expect(configError({ SESSION_CREDENTIAL_TTL: 'soon' }).problems[0]).toMatch(/^SESSION_CREDENTIAL_TTL: /);
  });

  it('DRAIN_NOTICE_SECONDS: whole seconds 1 to 86400, comma-separated; kept highest first without repeats', () => {
    expect(loadConfig({ DRAIN_NOTICE_SECONDS: '60, 600,30,60' }).sessions.drainNoticeSeconds).toEqual([600, 60, 30]);
    expect(loadConfig({ DRAIN_NOTICE_SECONDS: '10' }).sessions.drainNoticeSeconds).toEqual([10]);
    expect(configError({ DRAIN_NOTICE_SECONDS: '0,60' }).problems[0]).toMatch(
      /^DRAIN_NOTICE_SECONDS: each step must be 1 to 86400/,
    );
    expect(configError({ DRAIN_NOTICE_SECONDS: '5m' }).problems[0]).toMatch(/^DRAIN_NOTICE_SECONDS: must be whole seconds/);
  });

  it('lists cross-field problems together: idle timeout, pool sizes and short secret', () => {
    const err = configError({
      IDLE_TIMEOUT: '4000',
      MONGODB_MIN_POOL_SIZE: '60',
      MONGODB_MAX_POOL_SIZE: '50',
      JWT_SECRET: 'short',
    });
    expect(err.problems.map((p) => p.split(':')[0]).sort()).toEqual(['IDLE_TIMEOUT', 'JWT_SECRET', 'MONGODB_MIN_POOL_SIZE']);
  });
});

describe('ignoredVariables', () => {
  it('names retired seed variables, near misses of known names and unknown names with our prefixes; nothing else', () => {
    const ignored = loadConfig({
      SESION_TIMEOUT: '600',
      JWT_SECERT: 'x',
      RDP_PORTS: '1-2',
      PROMETHEUS_PORT: '9090',
      REDIS_MAX_CONNECTIONS: '50',
      // Other software's variables, known ones and empty ones are not reported.
      NODE_OPTIONS: '--x',
      NODE_EXTRA_CA_CERTS: '/x',
      PATH: '/bin',
      HOSTNAME: 'h',
      GRAFANA_ADMIN_PASSWORD: 'p',
      COMPOSE_FILE: 'a.yml',
      SESSION_TIMEOUT: '3600',
      ENVIRONMENT: '',
    }).ignoredVariables;
    expect(ignored).toEqual([
      { name: 'JWT_SECERT', hint: 'did you mean JWT_SECRET?' },
      { name: 'PROMETHEUS_PORT', hint: 'metrics are served on SERVICE_PORT at /metrics' },
      { name: 'RDP_PORTS', hint: 'did you mean RDP_HOSTS?' },
      { name: 'REDIS_MAX_CONNECTIONS', hint: 'a replica opens exactly two Redis connections' },
      { name: 'SESION_TIMEOUT', hint: 'did you mean SESSION_TIMEOUT?' },
    ]);
    expect(describeIgnored(ignored)).toBe(
      'JWT_SECERT (did you mean JWT_SECRET?), PROMETHEUS_PORT (metrics are served on SERVICE_PORT at /metrics), RDP_PORTS (did you mean RDP_HOSTS?), ' +
        'REDIS_MAX_CONNECTIONS (a replica opens exactly two Redis connections), SESION_TIMEOUT (did you mean SESSION_TIMEOUT?)',
    );
  });

  it('is empty for an environment of known variables only', () => {
    expect(loadConfig({ SERVICE_PORT: '9000', LOG_FORMAT: 'pretty' }).ignoredVariables).toEqual([]);
  });
});
