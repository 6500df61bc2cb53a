import type { HostCommandMap, HostCommandType, HostEventMap } from '../../domain/cluster/host-messages.js';
import { probeResultToJson } from '../../domain/cluster/host-messages.js';
import type { HostProbe } from '../../domain/resources/host-probe.js';
import { RuntimeUnavailableError, ValidationError } from '../../domain/shared/errors.js';
import type { XrdpConfig } from '../../domain/xrdp/xrdp-config.js';
import type { XrdpLogFollow } from '../../domain/xrdp/xrdp-log-reader.js';
import type { LocalHost } from '../wiring/local-host.js';

type Handlers = { [K in HostCommandType]: (payload: HostCommandMap[K]['payload']) => Promise<HostCommandMap[K]['result']> };

/** The xrdp configuration in force on this host: the one the last start or sesman start carried. */
export interface XrdpConfigHolder {
  current(): Promise<XrdpConfig>;
  set(config: XrdpConfig): void;
}

/**
 * Runs the API's commands on this host's own ports: the same xrdp runtime, sesman, accounts and
 * probe the all-in-one process uses in process.
 */
/** The agent's leases on following logs (`logs.follow`). */
export interface LogFollowLeases {
  /** Resolves once the tail is positioned (every line written after it is reported). */
  follow(serverId: string, forMs: number): Promise<void>;
}

/**
 * Follows a server's log while its lease lasts, publishing each batch of lines: one tail per
 * server (the host's shared follow), however many replicas renew the lease.
 */
export function createLogFollowLeases(
  host: Pick<LocalHost, 'logs'>,
  publish: (payload: HostEventMap['xrdp.log']) => void,
): LogFollowLeases & { stop(): void } {
  const leases = new Map<string, { timer: NodeJS.Timeout; follow: XrdpLogFollow }>();
  const end = (serverId: string) => {
    const lease = leases.get(serverId);
    if (!lease) return;
    leases.delete(serverId);
    clearTimeout(lease.timer);
    lease.follow.stop();
  };
  return {
    async follow(serverId, forMs) {
      if (!/^[A-Za-z0-9_-]{1,128}$/.test(serverId)) throw new ValidationError('serverId', 'is not a server id');
      if (!Number.isInteger(forMs) || forMs < 1 || forMs > 120_000) {
        throw new ValidationError('forMs', 'must be a whole number of milliseconds from 1 to 120000');
      }
      const lease = leases.get(serverId);
      if (lease) clearTimeout(lease.timer);
      const follow =
        lease?.follow ??
        host.logs.follow(serverId, (item) => {
          if (item.kind === 'lines') publish({ serverId, lines: item.lines });
        });
      const timer = setTimeout(() => end(serverId), forMs);
      timer.unref();
      leases.set(serverId, { timer, follow });
      await follow.ready;
    },
    stop() {
      for (const serverId of [...leases.keys()]) end(serverId);
    },
  };
}

export function createHostCommandHandler(host: LocalHost, probe: HostProbe, xrdp: XrdpConfigHolder, logs: LogFollowLeases) {
  const accounts = () => {
    if (!host.accounts) throw new RuntimeUnavailableError('session accounts need the agent to run as root on this host');
    return host.accounts;
  };
  const limits = () => {
    if (!host.enforcement) throw new RuntimeUnavailableError('resource limits are not enforced by this agent');
    return host.enforcement;
  };
  const handlers: Handlers = {
    'runtime.checkAvailable': async () => {
      await host.runtime.checkAvailable();
      return null;
    },
    'runtime.start': async ({ server, xrdp: config }) => {
      xrdp.set(config);
      await host.runtime.start(server);
      return null;
    },
    'runtime.stop': async ({ server }) => {
      await host.runtime.stop(server);
      return null;
    },
    'runtime.remove': async ({ server }) => {
      await host.runtime.remove(server);
      return null;
    },
    'runtime.isRunning': ({ server }) => host.runtime.isRunning(server),
    'runtime.adopt': ({ server }) => host.runtime.adopt(server),
    'runtime.reap': async ({ keep }) => host.runtime.reap(new Set(keep)),
    'accounts.create': async ({ username, password, desktop }) => {
      await accounts().create(username, password, desktop ? { desktop } : {});
      return null;
    },
    'accounts.lock': async ({ username }) => {
      await accounts().lock(username);
      return null;
    },
    'accounts.remove': async ({ username }) => {
      await accounts().remove(username);
      return null;
    },
    'accounts.unlock': async ({ username }) => {
      await accounts().unlock(username);
      return null;
    },
    'accounts.setPassword': async ({ username, password }) => {
      await accounts().setPassword(username, password);
      return null;
    },
    'accounts.exists': ({ username }) => accounts().exists(username),
    'accounts.listOwn': () => accounts().listOwn(),
    'session.end': (ref) => host.sessionTerminator.end(ref),
    'session.disconnectClient': (ref) => host.sessionHost.disconnectClient(ref),
    'session.inspect': (ref) => host.sessionHost.inspect(ref),
    'sesman.state': () => host.sesman.state(),
    'sesman.start': async ({ xrdp: config }) => {
      xrdp.set(config);
      await host.sesman.start();
      return null;
    },
    'sesman.stop': async () => {
      await host.sesman.stop();
      return null;
    },
    'logs.read': ({ serverId, last, minLevel }) => host.logs.readRecent(serverId, last, minLevel),
    'logs.follow': async ({ serverId, forMs }) => {
      await logs.follow(serverId, forMs);
      return null;
    },
    'probe.measure': async (targets) => probeResultToJson(await probe.measure(targets)),
    'limits.capability': () => limits().capability(),
    'limits.updateServer': async ({ server }) => {
      await limits().updateServer(server);
      return null;
    },
    'limits.confineSession': async (session) => {
      await limits().confineSession(session);
      return null;
    },
    'limits.releaseSession': async ({ serverId, sessionId }) => {
      await limits().releaseSession(serverId, sessionId);
      return null;
    },
  };
  return async (type: string, payload: unknown): Promise<unknown> => {
    const handler = (handlers as Record<string, ((p: unknown) => Promise<unknown>) | undefined>)[type];
    if (!handler) throw new ValidationError('type', `unknown command type ${type}`);
    return handler(payload);
  };
}
