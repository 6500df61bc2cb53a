import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createCgroupEnforcement } from '../../adapters/host/cgroup-enforcement.js';
import { createLinuxSessionAccounts } from '../../adapters/host/linux-session-accounts.js';
import { createDisplayActivityWatcher, type DisplayActivityWatcher } from '../../adapters/xrdp/display-activity-watcher.js';
import { FileXrdpLogReader } from '../../adapters/xrdp/file-xrdp-log-reader.js';
import { createInstanceHealthProbe } from '../../adapters/xrdp/instance-health-probe.js';
import { instancePaths, sesmanPaths } from '../../adapters/xrdp/instance-paths.js';
import { createSesmanSupervisor, type HostSesman } from '../../adapters/xrdp/sesman-supervisor.js';
import { createSessionTerminator } from '../../adapters/xrdp/session-terminator.js';
import { createXrdpDisplays } from '../../adapters/xrdp/xrdp-displays.js';
import { createXrdpServerRuntime } from '../../adapters/xrdp/xrdp-server-runtime.js';
import { createXrdpSessionHost } from '../../adapters/xrdp/xrdp-session-host.js';
import { createXrdpSessionWatcher, type XrdpSessionWatcher } from '../../adapters/xrdp/xrdp-session-watcher.js';
import type { Config } from '../../config/config.js';
import type { InstanceProbe } from '../../domain/servers/instance-probe.js';
import type { ResourceEnforcement } from '../../domain/servers/resource-enforcement.js';
import type { ServerRuntime } from '../../domain/servers/server-runtime.js';
import type { CredentialMode } from '../../domain/sessions/session.js';
import type { SessionAccounts } from '../../domain/sessions/session-accounts.js';
import type { SessionActivityReport, SessionHost } from '../../domain/sessions/session-host.js';
import type { EventPublisher } from '../../domain/shared/event-publisher.js';
import type { XrdpConfig } from '../../domain/xrdp/xrdp-config.js';
import type { XrdpLogReader } from '../../domain/xrdp/xrdp-log-reader.js';
import type { XrdpSessionEvent } from '../../domain/xrdp/xrdp-session-events.js';
import type { XrdpSessionTerminator } from '../../domain/xrdp/xrdp-session-terminator.js';
import type { Logger } from '../logger.js';

/** Replaceable parts of the host side, for tests and embedding. */
export interface LocalHostOverrides {
  sessionAccounts?: SessionAccounts;
  runtime?: ServerRuntime;
  /** How often the input idle time of every live desktop is read. @default 10000 */
  activityIntervalMs?: number;
  /** Marks the session accounts this installation makes, so it only ever cleans up its own. */
  installationId?: string;
}

/**
 * What runs on an RDP host: xrdp instances, the host's one sesman, session accounts, the end of
 * sessions, xrdp's logs and what they report. The all-in-one process wires it in process; the
 * host agent wires the same and serves it to the API replicas.
 */
export interface LocalHost {
  runtime: ServerRuntime;
  /** Makes server and session CPU and memory limits bind (cgroups), or says why it cannot. */
  enforcement?: ResourceEnforcement & { close(): Promise<void> };
  /** Asks a running instance whether it answers RDP clients (HEALTH_CHECK_INTERVAL). */
  health?: InstanceProbe;
  /** The host's one xrdp-sesman. */
  sesman: HostSesman;
  /** Ends a live xrdp session by user and display. */
  sessionTerminator: XrdpSessionTerminator;
  /** The desktops, for the sessions area: end them, drop their clients, see what really runs. */
  sessionHost: SessionHost;
  /** EPHEMERAL accounts; only where accounts can be made (root). */
  accounts?: SessionAccounts;
  /** EPHEMERAL where accounts can be made, else HOST_ACCOUNT. */
  defaultCredentialMode: CredentialMode;
  logs: XrdpLogReader;
  /** Follows xrdp's logs, publishing `xrdp:session-event`; undefined when xrdp is not installed. */
  watchSessions(events: EventPublisher, onEvent: (event: XrdpSessionEvent) => void): XrdpSessionWatcher | undefined;
  /** Reports every live desktop's input idle time at an interval; undefined when xrdp is not installed. */
  watchActivity(
    onReports: (reports: SessionActivityReport[], measuredAt: Date) => Promise<unknown> | undefined,
  ): DisplayActivityWatcher | undefined;
}

/** Where xrdp is on this host, how its instances listen, and the cgroup their limits go under. */
export type LocalHostSettings = Pick<Config['xrdp'], 'configPath' | 'logPath' | 'binary' | 'loopbackOnly' | 'publicHost'> & {
  cgroupParent: string;
};

export function createLocalHost(
  xrdp: LocalHostSettings,
  logger: Logger,
  xrdpConfig: { current(): Promise<XrdpConfig> },
  overrides: LocalHostOverrides = {},
): LocalHost {
  const sesmanLog = join(xrdp.logPath, 'xrdp-sesman.log');
  const sesman = createSesmanSupervisor({
    xrdpBinary: xrdp.binary,
    dir: sesmanPaths(xrdp.configPath).dir,
    logFile: sesmanLog,
    config: () => xrdpConfig.current(),
    onUnexpectedExit: (message) => logger.error({ message }, 'xrdp-sesman exited unexpectedly'),
  });
  const sessionTerminator = createSessionTerminator({
    sesmanLog,
    instanceLogs: async () => {
      const root = join(xrdp.configPath, 'servers');
      const ids = await readdir(root).catch(() => [] as string[]);
      return ids.filter((id) => /^[A-Za-z0-9_-]{1,128}$/.test(id)).map((id) => instancePaths(xrdp.configPath, id).log);
    },
  });
  const displays = createXrdpDisplays({ configPath: xrdp.configPath });
  // cpuLimit, memoryLimitMb and the per-session limits as cgroups (what cannot bind says why).
  const enforcement = createCgroupEnforcement({
    parent: xrdp.cgroupParent,
    onError: (err, what) =>
      logger.warn({ err: err instanceof Error ? err.message : String(err) }, `resource limits: ${what} failed`),
  });
  const runtime =
    overrides.runtime ??
    createXrdpServerRuntime({
      binary: xrdp.binary,
      configPath: xrdp.configPath,
      loopbackOnly: xrdp.loopbackOnly,
      publicHost: xrdp.publicHost,
      // Each start renders the instance from the latest configuration version.
      config: xrdpConfig,
      // xrdp hands logins to the host's one sesman, so an instance start brings it up. A sesman
      // that cannot start does not stop the listener (logins fail until it runs; xrdpService
      // reports why), so a start never fails for it.
      beforeStart: () =>
        sesman.ensureRunning().catch((err: unknown) => {
          logger.warn(
            { err: err instanceof Error ? err.message : String(err) },
            'xrdp-sesman is not running: RDP logins will fail',
          );
        }),
      onInstance: (server, pid) => enforcement.confineServer(server, pid),
      onInstanceGone: (serverId) => enforcement.releaseServer(serverId),
    });
  const isRoot = process.getuid?.() === 0;
  const accounts =
    overrides.sessionAccounts ??
    (isRoot && overrides.installationId ? createLinuxSessionAccounts({ installationId: overrides.installationId }) : undefined);
  return {
    runtime,
    enforcement,
    // Probes the real instances only: a replaced runtime (tests, embedding) has no listener to ask.
    ...(overrides.runtime ? {} : { health: createInstanceHealthProbe() }),
    sesman,
    sessionTerminator,
    sessionHost: createXrdpSessionHost({ terminator: sessionTerminator, displays }),
    ...(accounts ? { accounts } : {}),
    defaultCredentialMode: isRoot ? 'EPHEMERAL' : 'HOST_ACCOUNT',
    logs: new FileXrdpLogReader({ configPath: xrdp.configPath }),
    watchSessions: (events, onEvent) =>
      existsSync(xrdp.binary) ? createXrdpSessionWatcher({ sesmanLog, configPath: xrdp.configPath, events, onEvent }) : undefined,
    watchActivity: (onReports) =>
      existsSync(xrdp.binary)
        ? createDisplayActivityWatcher({
            displays,
            onReports,
            onError: (err) => logger.warn({ err }, 'could not report the activity of the desktops'),
            intervalMs: overrides.activityIntervalMs ?? 10_000,
          })
        : undefined,
  };
}
