import type { Clock } from '../shared/clock.js';
import { LimitExceededError } from '../shared/errors.js';
import type { ResourceLimitsProvider } from './resource-limits.js';
import type { ResourceSampleStore } from './resource-sample-store.js';

/** What the servers and sessions areas ask before adding load to a host. */
export interface AdmissionGate {
  /** Throws LimitExceededError when the host is above maxTotalCpu or maxTotalMemory. */
  check(what: 'server start' | 'session', host: string): Promise<void>;
}

export interface HostAdmissionDeps {
  samples: ResourceSampleStore;
  limits: ResourceLimitsProvider;
  clock: Clock;
  /** The subject id of a host's samples. */
  hostSubject: (host: string) => string;
  /** A host sample older than this says nothing about now: the gate lets the request through. */
  maxAgeMs: number;
}

/**
 * Refuses new server starts and sessions on a host whose latest sample is above the global
 * maxTotalCpu or maxTotalMemory. Without a recent sample (collector down, first seconds after
 * start) it admits: a monitoring gap must not stop the fleet.
 */
export class HostAdmission implements AdmissionGate {
  constructor(private readonly deps: HostAdmissionDeps) {}

  async check(what: 'server start' | 'session', host: string): Promise<void> {
    const [sample] = await this.deps.samples.latest([this.deps.hostSubject(host)]);
    if (!sample || this.deps.clock.now().getTime() - Date.parse(sample.at) > this.deps.maxAgeMs) return;
    const { maxTotalCpu, maxTotalMemory } = (await this.deps.limits.get()).global;
    const refuse = (limit: string, label: string, value: number, max: number, variable: string) => {
      throw new LimitExceededError(
        limit,
        max,
        `host ${host} is at ${Math.round(value)}% ${label}, above the ${max}% limit (${limit}): new ${what}s are refused until it falls`,
        `raise global.${limit} with updateResourceLimits (${variable} sets the default), or set REFUSE_ON_HOST_OVERLOAD=false to admit regardless`,
      );
    };
    if (sample.cpuPercent !== null && sample.cpuPercent > maxTotalCpu) {
      refuse('maxTotalCpu', 'CPU', sample.cpuPercent, maxTotalCpu, 'MAX_CPU_USAGE');
    }
    if (sample.memoryPercent !== null && sample.memoryPercent > maxTotalMemory) {
      refuse('maxTotalMemory', 'memory', sample.memoryPercent, maxTotalMemory, 'MAX_MEMORY_USAGE');
    }
  }
}
