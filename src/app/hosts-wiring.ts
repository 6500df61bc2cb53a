import { cpus, hostname, totalmem } from 'node:os';
import type { Config } from '../config/config.js';
import type { AuditRecorder } from '../domain/audit/audit-service.js';
import { usablePorts } from '../domain/hosts/host.js';
import type { HostHello } from '../domain/hosts/host-input.js';
import { HostPlacement } from '../domain/hosts/host-placement.js';
import { HostService } from '../domain/hosts/host-service.js';
import type { HostStore } from '../domain/hosts/host-store.js';
import type { ServerService } from '../domain/servers/server-service.js';
import type { ClaimStore } from '../domain/shared/claim-store.js';
import type { Clock } from '../domain/shared/clock.js';
import type { EventPublisher } from '../domain/shared/event-publisher.js';
import type { Logger } from './logger.js';

export interface Hosts {
  service: HostService;
  placement: HostPlacement;
}

export function createHosts(deps: {
  config: Config;
  store: HostStore;
  claims: ClaimStore;
  events: EventPublisher;
  clock: Clock;
  audit: AuditRecorder;
}): Hosts {
  const heartbeatIntervalSeconds = deps.config.hosts.heartbeatIntervalSeconds;
  const placement = new HostPlacement({ hosts: deps.store, claims: deps.claims, clock: deps.clock, heartbeatIntervalSeconds });
  const service = new HostService({
    store: deps.store,
    events: deps.events,
    clock: deps.clock,
    heartbeatIntervalSeconds,
    placement,
    audit: deps.audit,
  });
  return { service, placement };
}

/**
 * The host this process runs RDP servers on (the all-in-one default): HOST_ID, reached at
 * RDP_PUBLIC_HOST, ports from RDP_PORT_RANGE, as many servers as it has ports.
 */
export function localHostHello(config: Config): HostHello {
  return {
    id: config.hosts.localId,
    name: hostname() || config.hosts.localId,
    labels: {},
    agentVersion: config.service.version,
    rdpAddress: config.xrdp.publicHost,
    portRange: config.xrdp.portRange,
    capacity: {
      maxServers: usablePorts(config.xrdp.portRange).length,
      cpuCount: Math.max(1, cpus().length),
      memoryMb: Math.max(1, Math.round(totalmem() / 1024 / 1024)),
    },
  };
}

/**
 * Registers the local host and moves port claims from before hosts existed onto it (`ready`
 * settles when that is done or failed), then heartbeats it every HOST_HEARTBEAT_INTERVAL with
 * the host's latest resource sample, registering again while the first attempt has not landed.
 */
export function startLocalHost(deps: {
  config: Config;
  logger: Logger;
  hosts: HostService;
  servers: ServerService;
  usage: () => Promise<{ cpuPercent: number | null; memoryPercent: number | null }[]>;
  clock: Clock;
}): {
  ready: Promise<void>;
  /** Stops the heartbeats and settles once the one in flight (if any) has finished. */
  stop(): Promise<void>;
} {
  const { config, logger, hosts, clock } = deps;
  const hello = localHostHello(config);
  let registered = false;
  const register = async () => {
    await hosts.register(hello);
    registered = true;
    const legacy = await deps.servers.migrateLegacyPortClaims(config.xrdp.publicHost, hello.id);
    if (legacy.moved > 0)
      logger.info({ moved: legacy.moved, hostId: hello.id }, 'port claims from before hosts moved to the local host');
    if (legacy.conflicts.length > 0)
      logger.warn({ conflicts: legacy.conflicts }, 'port claims from before hosts collide with new ones');
  };
  let inFlight: Promise<void> | null = null;
  let stopped = false;
  const beat = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    inFlight ??= beatOnce().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };
  const beatOnce = async () => {
    try {
      if (!registered) {
        await register();
        return;
      }
      const [sample] = await deps.usage().catch(() => []);
      const usage =
        sample && sample.cpuPercent !== null && sample.memoryPercent !== null
          ? { cpuPercent: Math.min(100, sample.cpuPercent), memoryPercent: Math.min(100, sample.memoryPercent) }
          : null;
      await hosts.heartbeat(hello.id, { at: clock.now().toISOString(), usage });
    } catch (err) {
      logger.warn({ err: err instanceof Error ? err.message : String(err), hostId: hello.id }, 'local host heartbeat failed');
    }
  };
  // Placement needs the host: try for a few seconds before serving (two replicas registering the
  // same host at once, or a busy database, can make one attempt lose), then keep trying each beat.
  const ready = (async () => {
    for (let attempt = 0; attempt < 20 && !registered && !stopped; attempt++) {
      await beat();
      if (!registered) await new Promise((r) => setTimeout(r, 250));
    }
  })();
  const timer = setInterval(() => void beat(), config.hosts.heartbeatIntervalSeconds * 1000);
  timer.unref();
  return {
    ready,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await inFlight;
    },
  };
}
