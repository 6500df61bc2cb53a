import { isAdmin, isOperator, type Viewer } from '../auth/viewer.js';
import type { ServerStore } from '../servers/server-store.js';
import type { Clock } from '../shared/clock.js';
import { ConflictError, ForbiddenError, RuntimeUnavailableError } from '../shared/errors.js';

export const XRDP_SERVICE_STATUSES = ['RUNNING', 'STOPPED', 'ERROR', 'NOT_INSTALLED'] as const;
export type XrdpServiceStatus = (typeof XRDP_SERVICE_STATUSES)[number];

export const XRDP_SERVICE_ACTIONS = ['START', 'STOP', 'RESTART'] as const;
export type XrdpServiceAction = (typeof XRDP_SERVICE_ACTIONS)[number];

export const XRDP_NOT_INSTALLED_MESSAGE = 'xrdp is not installed on this host (install the xrdp package)';

/** What the host's session manager is doing right now. */
export interface SesmanState {
  /** xrdp and xrdp-sesman binaries exist and are executable. */
  installed: boolean;
  /** `xrdp --version`, e.g. "0.9.21.1"; null when unknown. */
  version: string | null;
  /** Pid of our running xrdp-sesman, or null. */
  pid: number | null;
  /** When it started (ISO), while running. */
  startedAt: string | null;
  /** Why the last start failed or why it died; cleared by a successful start or a stop. */
  error: string | null;
  /** Sessions (X servers) sesman runs now. */
  liveSessions: number;
}

/**
 * The host's one xrdp-sesman. xrdp reads sesman's port from the fixed /etc/xrdp/sesman.ini,
 * so every instance on a host shares it. The process supervisor is in adapters/xrdp.
 */
export interface SesmanSupervisor {
  state(): Promise<SesmanState>;
  /** Throws RuntimeUnavailableError (not installed), ConflictError (running, or another sesman
   * holds the pid file or port) or RuntimeFailureError (it did not come up). */
  start(): Promise<void>;
  /** Stops sesman and every session it runs. Throws ConflictError when not running. */
  stop(): Promise<void>;
}

export interface XrdpServiceInfo {
  status: XrdpServiceStatus;
  version: string | null;
  uptimeSeconds: number | null;
  pid: number | null;
  /** RDP servers RUNNING according to the store. */
  runningInstances: number;
  liveSessions: number;
  message: string | null;
}

export interface XrdpHostServiceDeps {
  supervisor: SesmanSupervisor;
  servers: Pick<ServerStore, 'countByStatus'>;
  clock: Clock;
  /** Called after every control action, e.g. for audit. */
  onControl?: (viewer: Viewer, action: XrdpServiceAction, result: 'SUCCESS' | 'FAILURE', message: string | null) => void;
}

/** Status and control of the host's xrdp service (the shared sesman). */
export class XrdpHostService {
  constructor(private readonly deps: XrdpHostServiceDeps) {}

  async status(viewer: Viewer): Promise<XrdpServiceInfo> {
    if (!isOperator(viewer)) throw new ForbiddenError('reading the xrdp service status', 'operator');
    const [state, byStatus] = await Promise.all([this.deps.supervisor.state(), this.deps.servers.countByStatus()]);
    const running = state.pid !== null;
    const status: XrdpServiceStatus = !state.installed
      ? 'NOT_INSTALLED'
      : running
        ? 'RUNNING'
        : state.error
          ? 'ERROR'
          : 'STOPPED';
    const startedMs = state.startedAt === null ? Number.NaN : Date.parse(state.startedAt);
    return {
      status,
      version: state.version,
      uptimeSeconds:
        running && !Number.isNaN(startedMs)
          ? Math.max(0, Math.floor((this.deps.clock.now().getTime() - startedMs) / 1000))
          : null,
      pid: state.pid,
      runningInstances: byStatus.RUNNING ?? 0,
      liveSessions: running ? state.liveSessions : 0,
      message: !state.installed ? XRDP_NOT_INSTALLED_MESSAGE : status === 'ERROR' ? state.error : null,
    };
  }

  async control(viewer: Viewer, action: XrdpServiceAction): Promise<XrdpServiceInfo> {
    if (!isAdmin(viewer)) throw new ForbiddenError('controlling the xrdp service', 'admin');
    try {
      const state = await this.deps.supervisor.state();
      if (!state.installed) throw new RuntimeUnavailableError(XRDP_NOT_INSTALLED_MESSAGE);
      const running = state.pid !== null;
      if (action === 'START' && running) throw new ConflictError(`xrdp-sesman is already running (pid ${state.pid})`);
      if (action === 'STOP' && !running) throw new ConflictError('xrdp-sesman is not running');
      if (action !== 'START' && running) await this.deps.supervisor.stop();
      if (action !== 'STOP') await this.deps.supervisor.start();
      this.deps.onControl?.(viewer, action, 'SUCCESS', null);
    } catch (err) {
      this.deps.onControl?.(viewer, action, 'FAILURE', err instanceof Error ? err.message : String(err));
      throw err;
    }
    return this.status(viewer);
  }
}
