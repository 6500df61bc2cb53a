import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createLinuxSessionAccounts } from '../../adapters/host/linux-session-accounts.js';
import { FileXrdpLogReader } from '../../adapters/xrdp/file-xrdp-log-reader.js';
import { instancePaths, sesmanPaths } from '../../adapters/xrdp/instance-paths.js';
import { createSesmanSupervisor, type HostSesman } from '../../adapters/xrdp/sesman-supervisor.js';
import { createSessionTerminator } from '../../adapters/xrdp/session-terminator.js';
import { createXrdpServerRuntime } from '../../adapters/xrdp/xrdp-server-runtime.js';
import { createXrdpSessionWatcher, type XrdpSessionWatcher } from '../../adapters/xrdp/xrdp-session-watcher.js';
import type { Config } from '../../config/config.js';
import type { ServerRuntime } from '../../domain/servers/server-runtime.js';
import type { CredentialMode } from '../../domain/sessions/session.js';
import type { SessionAccounts } from '../../domain/sessions/session-accounts.js';
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
}

/**
 * What runs on an RDP host: xrdp instances, the host's one sesman, session accounts, the end of
 * sessions, xrdp's logs and what they report. The all-in-one process wires it in process; the
 * host agent wires the same and serves it to the API replicas.
 */
export interface LocalHost {
  runtime: ServerRuntime;
  /** The host's one xrdp-sesman. */
  sesman: HostSesman;
  /** Ends a live xrdp session by user and display. */
  sessionTerminator: XrdpSessionTerminator;
  /** EPHEMERAL accounts; only where accounts can be made (root). */
  accounts?: SessionAccounts;
  /** EPHEMERAL where accounts can be made, else HOST_ACCOUNT. */
  defaultCredentialMode: CredentialMode;
  logs: XrdpLogReader;
  /** Follows xrdp's logs, publishing `xrdp:session-event`; undefined when xrdp is not installed. */
  watchSessions(events: EventPublisher, onEvent: (event: XrdpSessionEvent) => void): XrdpSessionWatcher | undefined;
}

/** Where xrdp is on this host and how its instances listen. */
export type LocalHostSettings = Pick<Config['xrdp'], 'configPath' | 'logPath' | 'binary' | 'loopbackOnly' | 'publicHost'>;

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
    });
  const isRoot = process.getuid?.() === 0;
  const accounts = overrides.sessionAccounts ?? (isRoot ? createLinuxSessionAccounts() : undefined);
  return {
    runtime,
    sesman,
    sessionTerminator,
    ...(accounts ? { accounts } : {}),
    defaultCredentialMode: isRoot ? 'EPHEMERAL' : 'HOST_ACCOUNT',
    logs: new FileXrdpLogReader({ configPath: xrdp.configPath }),
    watchSessions: (events, onEvent) =>
      existsSync(xrdp.binary) ? createXrdpSessionWatcher({ sesmanLog, configPath: xrdp.configPath, events, onEvent }) : undefined,
  };
}
