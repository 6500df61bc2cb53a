/** The admin-editable limits document (docs/DOMAIN.md, "Resource limits"). */
export interface ResourceLimits {
  global: { maxServers: number; maxSessions: number; maxTotalCpu: number; maxTotalMemory: number; maxTotalDisk: number };
  perServer: { maxCpu: number; maxMemoryMb: number; maxDiskMb: number; maxBandwidthMbps: number };
  perSession: { maxCpu: number; maxMemoryMb: number; maxBandwidthMbps: number; maxDurationSeconds: number };
  perUser: { maxSessions: number };
}

export function defaultResourceLimits(
  overrides: {
    maxServers?: number;
    maxSessions?: number;
    maxCpuUsage?: number;
    maxMemoryUsage?: number;
    sessionTimeoutSeconds?: number;
  } = {},
): ResourceLimits {
  return {
    global: {
      maxServers: overrides.maxServers ?? 50,
      maxSessions: overrides.maxSessions ?? 100,
      maxTotalCpu: overrides.maxCpuUsage ?? 80,
      maxTotalMemory: overrides.maxMemoryUsage ?? 80,
      maxTotalDisk: 90,
    },
    perServer: { maxCpu: 80, maxMemoryMb: 4096, maxDiskMb: 20480, maxBandwidthMbps: 1000 },
    perSession: {
      maxCpu: 50,
      maxMemoryMb: 2048,
      maxBandwidthMbps: 500,
      maxDurationSeconds: overrides.sessionTimeoutSeconds ?? 3600,
    },
    perUser: { maxSessions: 10 },
  };
}

/** Where services read the limits in force at the moment of a decision. */
export interface ResourceLimitsProvider {
  get(): Promise<ResourceLimits>;
}

export function staticLimitsProvider(limits: ResourceLimits): ResourceLimitsProvider & { set(next: ResourceLimits): void } {
  let current = limits;
  return {
    get: async () => current,
    set: (next) => {
      current = next;
    },
  };
}
