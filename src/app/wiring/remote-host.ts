import { createInstanceHealthProbe } from '../../adapters/xrdp/instance-health-probe.js';
import type { HostSesman } from '../../adapters/xrdp/sesman-supervisor.js';
import type { AuditActor } from '../../domain/audit/audit-event.js';
import { type HostCommandMap, type HostCommandType, probeResultFromJson } from '../../domain/cluster/host-messages.js';
import type { HostProbe } from '../../domain/resources/host-probe.js';
import type { ResourceEnforcement } from '../../domain/servers/resource-enforcement.js';
import type { RuntimeExit, ServerRuntime } from '../../domain/servers/server-runtime.js';
import type { SessionAccounts } from '../../domain/sessions/session-accounts.js';
import type { SessionHost } from '../../domain/sessions/session-host.js';
import type { XrdpConfig } from '../../domain/xrdp/xrdp-config.js';
import type { XrdpLogReader } from '../../domain/xrdp/xrdp-log-reader.js';
import type { XrdpSessionTerminator } from '../../domain/xrdp/xrdp-session-terminator.js';
import type { LocalHost } from './local-host.js';

/** Sends one command to a host's agent and resolves with its result (the transport's client). */
export interface HostCommands {
  send<T extends HostCommandType>(
    hostId: string,
    type: T,
    payload: HostCommandMap[T]['payload'],
    options?: { actor?: AuditActor; timeoutMs?: number },
  ): Promise<HostCommandMap[T]['result']>;
}

export interface RemoteHostDeps {
  commands: HostCommands;
  /** The host a server is placed on (servers never move). */
  hostOfServer(serverId: string): Promise<string>;
  /** The host that serves host-wide questions without a server (the xrdp service query). */
  defaultHostId: string;
  xrdpConfig: { current(): Promise<XrdpConfig> };
}

/** A host side whose exits are reported by the agents' events, not by child processes. */
export interface RemoteHost extends LocalHost {
  /** The session accounts of one host (its agent's), for the clean-up when that agent starts. */
  accountsOn(hostId: string): SessionAccounts;
  /** Called by the event applier for a `runtime.exit` event. */
  reportExit(exit: RuntimeExit): void;
  /**
   * A probe of one host, for that host's collector. A measurement not answered within
   * `timeoutMs` fails (the round is skipped), so a hung agent holds no later round up.
   */
  probeOf(hostId: string, timeoutMs: number): HostProbe;
}

/** How long a start may take on the agent (xrdp's own ready timeout is 10 s). */
const START_TIMEOUT_MS = 20_000;

/**
 * The host side of an API replica in a cluster: the domain's host ports served by the agents,
 * each call a command to the agent of the server's host. The replica runs no xrdp itself.
 */
export function createRemoteHost(deps: RemoteHostDeps): RemoteHost {
  const { commands, hostOfServer } = deps;
  const exitListeners: ((exit: RuntimeExit) => void)[] = [];
  const onHost = async <T extends HostCommandType>(serverId: string, type: T, payload: HostCommandMap[T]['payload']) =>
    commands.send(await hostOfServer(serverId), type, payload);

  const runtime: ServerRuntime = {
    // Whether a host can run servers is its agent's to say, at the start itself.
    checkAvailable: async () => undefined,
    async start(server) {
      const hostId = await hostOfServer(server.id);
      await commands.send(
        hostId,
        'runtime.start',
        { server, xrdp: await deps.xrdpConfig.current() },
        { timeoutMs: START_TIMEOUT_MS },
      );
    },
    stop: async (server) => void (await onHost(server.id, 'runtime.stop', { server })),
    remove: async (server) => void (await onHost(server.id, 'runtime.remove', { server })),
    isRunning: (server) => onHost(server.id, 'runtime.isRunning', { server }),
    adopt: (server) => onHost(server.id, 'runtime.adopt', { server }),
    // Each agent reconciles its own host when it says hello; a replica's start reaps nothing.
    reap: async () => [],
    onUnexpectedExit: (listener) => void exitListeners.push(listener),
  };

  // Accounts live on the host of the session's server; the sessions area says which.
  const hostOf = (where: { hostId?: string } | undefined) => where?.hostId ?? deps.defaultHostId;
  const accounts: SessionAccounts = {
    create: async (username, password, options = {}) =>
      void (await commands.send(hostOf(options), 'accounts.create', {
        username,
        password,
        ...(options.desktop ? { desktop: options.desktop } : {}),
      })),
    lock: async (username, where) => void (await commands.send(hostOf(where), 'accounts.lock', { username })),
    remove: async (username, where) => void (await commands.send(hostOf(where), 'accounts.remove', { username })),
    unlock: async (username, where) => void (await commands.send(hostOf(where), 'accounts.unlock', { username })),
    setPassword: async (username, password, where) =>
      void (await commands.send(hostOf(where), 'accounts.setPassword', { username, password })),
    exists: (username, where) => commands.send(hostOf(where), 'accounts.exists', { username }),
    // A replica makes no accounts of its own; each agent keeps those of its host.
    listOwn: async () => [],
  };
  const sessionTerminator: XrdpSessionTerminator = {
    end: (ref) => commands.send(deps.defaultHostId, 'session.end', ref),
  };
  // A desktop runs on the host of its server.
  const sessionHost: SessionHost = {
    end: (ref) => onHost(ref.serverId, 'session.end', { user: ref.user, display: ref.display }),
    disconnectClient: (ref) => onHost(ref.serverId, 'session.disconnectClient', ref),
    inspect: (ref) => onHost(ref.serverId, 'session.inspect', ref),
  };
  const logs: XrdpLogReader = {
    readRecent: (serverId, last, minLevel) => onHost(serverId, 'logs.read', { serverId, last, minLevel }),
  };
  const sesman: HostSesman = {
    iniPath: '',
    logFile: '',
    state: () => commands.send(deps.defaultHostId, 'sesman.state', {}),
    start: async () => void (await commands.send(deps.defaultHostId, 'sesman.start', { xrdp: await deps.xrdpConfig.current() })),
    stop: async () => void (await commands.send(deps.defaultHostId, 'sesman.stop', {})),
    ensureRunning: async () => undefined,
  };
  // Limits bind on the host: its agent confines each instance it starts; the rest goes there.
  const enforcement: ResourceEnforcement & { close(): Promise<void> } = {
    // The schema asks host-wide; the default host answers for the fleet (see docs/CLUSTER.md).
    capability: () =>
      commands.send(deps.defaultHostId, 'limits.capability', {}).catch((err: unknown) => ({
        enforced: false,
        mechanism: null,
        reason: `host ${deps.defaultHostId} could not say: ${err instanceof Error ? err.message : String(err)}`,
      })),
    confineServer: async () => undefined,
    releaseServer: async () => undefined,
    updateServer: async (server) => void (await onHost(server.id, 'limits.updateServer', { server })),
    confineSession: async (session) => void (await onHost(session.serverId, 'limits.confineSession', session)),
    releaseSession: async (serverId, sessionId) =>
      void (await onHost(serverId, 'limits.releaseSession', { serverId, sessionId })),
    close: async () => undefined,
  };
  return {
    runtime,
    enforcement,
    sesman,
    sessionTerminator,
    sessionHost,
    accounts,
    defaultCredentialMode: 'EPHEMERAL',
    logs,
    // Session events arrive from the agents' event streams (the event applier), not from files.
    watchSessions: () => undefined,
    // Activity reports arrive from the agents too.
    watchActivity: () => undefined,
    accountsOn: (hostId) => ({
      create: (username, password, options = {}) => accounts.create(username, password, { ...options, hostId }),
      lock: (username) => accounts.lock(username, { hostId }),
      remove: (username) => accounts.remove(username, { hostId }),
      unlock: (username) => accounts.unlock(username, { hostId }),
      setPassword: (username, password) => accounts.setPassword(username, password, { hostId }),
      exists: (username) => accounts.exists(username, { hostId }),
      listOwn: () => commands.send(hostId, 'accounts.listOwn', {}),
    }),
    // Probed from the replica at the server's own address (its host's RDP address).
    health: createInstanceHealthProbe({ host: (server) => server.host }),
    reportExit: (exit) => {
      for (const l of exitListeners) l(exit);
    },
    probeOf: (hostId, timeoutMs) => ({
      measure: async (targets) =>
        probeResultFromJson(
          await commands.send(
            hostId,
            'probe.measure',
            { servers: [...targets.servers], sessions: [...targets.sessions] },
            { timeoutMs },
          ),
        ),
    }),
  };
}
