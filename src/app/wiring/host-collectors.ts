import { type Host, isAlive } from '../../domain/hosts/host.js';
import type { HostStore } from '../../domain/hosts/host-store.js';
import type { ResourceCollector } from '../../domain/resources/resource-collector.js';
import type { Clock } from '../../domain/shared/clock.js';
import type { Logger } from '../logger.js';
import type { Resources } from '../resources-wiring.js';
import type { RemoteHost } from './remote-host.js';

/**
 * With agents, every ONLINE host gets a collector of its own on the replicas (one of them holds
 * its lease and stores the samples): each round asks that host's agent to measure its host,
 * servers and sessions (`probe.measure`), then stores, publishes and raises alerts as the
 * all-in-one process does for its own machine. A host that goes OFFLINE has its collector
 * stopped; it gets a new one when it returns.
 */
export function startHostCollectors(deps: {
  hostStore: HostStore;
  clock: Clock;
  heartbeatIntervalSeconds: number;
  /** The collection interval: a measurement outlasting it is given up (the next round asks again). */
  collectIntervalSeconds: number;
  resources: Resources;
  remote: RemoteHost;
  logger: Logger;
}): { stop(): Promise<void> } {
  const running = new Map<string, ResourceCollector>();
  let stopped = false;
  const sync = async () => {
    const hosts: Host[] = await deps.hostStore.list();
    const now = deps.clock.now();
    const alive = new Set(hosts.filter((h) => isAlive(h, now, deps.heartbeatIntervalSeconds)).map((h) => h.id));
    for (const host of hosts) {
      if (!alive.has(host.id) || running.has(host.id) || stopped) continue;
      const collector = deps.resources.collectorFor(
        host.rdpAddress,
        deps.remote.probeOf(host.id, deps.collectIntervalSeconds * 1000),
      );
      running.set(host.id, collector);
      collector.start();
    }
    for (const [id, collector] of running) {
      if (alive.has(id)) continue;
      running.delete(id);
      await collector.stop();
    }
  };
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    sync()
      .catch((err: unknown) => deps.logger.warn({ err }, 'could not update the hosts collected'))
      .finally(() => {
        busy = false;
      });
  }, deps.heartbeatIntervalSeconds * 1000);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.all([...running.values()].map((c) => c.stop()));
      running.clear();
    },
  };
}
