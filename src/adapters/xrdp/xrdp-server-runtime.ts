import { access, constants } from 'node:fs/promises';
import type { RdpServer } from '../../domain/servers/server.js';
import type { RuntimeExit, ServerRuntime } from '../../domain/servers/server-runtime.js';
import { RuntimeFailureError, RuntimeUnavailableError } from '../../domain/shared/errors.js';

export const XRDP_MISSING_MESSAGE = 'xrdp is not installed on this host (install the xrdp package)';

export interface XrdpRuntimeOptions {
  /** Path of the xrdp binary. @default /usr/sbin/xrdp */
  binary: string;
}

/**
 * The xrdp runtime. Until the process supervisor lands (next issue) it answers availability
 * truthfully and refuses to start anything it cannot run.
 */
export function createXrdpServerRuntime(options: XrdpRuntimeOptions): ServerRuntime {
  const listeners: ((exit: RuntimeExit) => void)[] = [];
  async function checkAvailable(): Promise<void> {
    try {
      await access(options.binary, constants.X_OK);
    } catch {
      throw new RuntimeUnavailableError(XRDP_MISSING_MESSAGE);
    }
  }
  return {
    checkAvailable,
    async start(_server: RdpServer) {
      await checkAvailable();
      throw new RuntimeFailureError('starting xrdp instances is not supported by this build yet');
    },
    async stop() {},
    async remove() {},
    async isRunning() {
      return false;
    },
    onUnexpectedExit(listener) {
      listeners.push(listener);
    },
  };
}
