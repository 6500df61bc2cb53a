import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { HOST_ID_PATTERN } from '../domain/cluster/host-protocol.js';
import { bool, ConfigError, cgroupParent, int, logLevel, portRange, url } from './config.js';

/** The host agent's variables (`npm run agent`). It needs Redis only: no MongoDB, no JWT secret. */
const agentSchema = z.object({
  AGENT_HOST_ID: z.string().regex(HOST_ID_PATTERN, { message: 'must be 1-63 lowercase letters, digits or dashes' }),
  AGENT_HOST_NAME: z.string().min(1).max(255).optional(),
  /** `key=value` pairs separated by commas. */
  AGENT_LABELS: z
    .string()
    .regex(/^([A-Za-z0-9_.-]{1,63}=[^,=]{0,255})(,[A-Za-z0-9_.-]{1,63}=[^,=]{0,255})*$/, {
      message: 'must look like zone=a,gpu=no',
    })
    .optional(),
  AGENT_MAX_SERVERS: int(1, 10_000).optional(),
  REDIS_URL: url(['redis:', 'rediss:']),
  HOST_HEARTBEAT_INTERVAL: int(1, 3600).default(5),
  DATA_DIR: z.string().min(1).default('.data'),
  XRDP_CONFIG_PATH: z.string().startsWith('/', { message: 'must be an absolute path' }).optional(),
  XRDP_LOG_PATH: z.string().startsWith('/', { message: 'must be an absolute path' }).optional(),
  XRDP_BINARY: z.string().startsWith('/', { message: 'must be an absolute path' }).default('/usr/sbin/xrdp'),
  RDP_PORT_RANGE: portRange.default({ from: 33890, to: 33999 }),
  RDP_PUBLIC_HOST: z.string().min(1).max(255).default('localhost'),
  RDP_LOOPBACK_ONLY: bool.default(false),
  CGROUP_PARENT: cgroupParent,
  LOG_LEVEL: logLevel.default('info'),
});

export interface AgentConfig {
  hostId: string;
  name: string;
  labels: Record<string, string>;
  redisUrl: string;
  heartbeatIntervalSeconds: number;
  /** Dedupe journal and what the agent keeps between runs. */
  stateDir: string;
  dataDir: string;
  maxServers: number;
  xrdp: {
    configPath: string;
    logPath: string;
    binary: string;
    portRange: { from: number; to: number };
    publicHost: string;
    loopbackOnly: boolean;
    cgroupParent: string;
  };
  log: { level: string };
  version: string;
}

export function loadAgentConfig(source: Record<string, string | undefined>, version = '0.0.0'): AgentConfig {
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = agentSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  const e = parsed.data;
  const stateDir = join(e.DATA_DIR, 'agent', e.AGENT_HOST_ID);
  const labels = Object.fromEntries(
    (e.AGENT_LABELS ?? '')
      .split(',')
      .filter(Boolean)
      .map((pair) => pair.split('=') as [string, string]),
  );
  return {
    hostId: e.AGENT_HOST_ID,
    name: e.AGENT_HOST_NAME ?? hostname(),
    labels,
    redisUrl: e.REDIS_URL,
    heartbeatIntervalSeconds: e.HOST_HEARTBEAT_INTERVAL,
    stateDir,
    dataDir: e.DATA_DIR,
    maxServers: e.AGENT_MAX_SERVERS ?? e.RDP_PORT_RANGE.to - e.RDP_PORT_RANGE.from + 1,
    xrdp: {
      configPath: e.XRDP_CONFIG_PATH ?? join(stateDir, 'xrdp'),
      logPath: e.XRDP_LOG_PATH ?? join(stateDir, 'log'),
      binary: e.XRDP_BINARY,
      portRange: e.RDP_PORT_RANGE,
      publicHost: e.RDP_PUBLIC_HOST,
      loopbackOnly: e.RDP_LOOPBACK_ONLY,
      cgroupParent: e.CGROUP_PARENT,
    },
    log: { level: e.LOG_LEVEL },
    version,
  };
}

/** Loads the agent's configuration from this process's environment. */
export function loadAgentProcessConfig(version: string): AgentConfig {
  return loadAgentConfig(process.env, version);
}
