import type { InstanceProbe } from '../../domain/servers/instance-probe.js';
import type { RdpServer } from '../../domain/servers/server.js';
import { PROTOCOL_SSL, probeRdp } from './rdp-probe.js';

export interface InstanceHealthProbeOptions {
  /** Connect, X.224 answer and TLS handshake each get this long. @default 3000 */
  timeoutMs?: number;
  /**
   * Where instances answer: an address (the one the runtime's readiness probe uses, on the host
   * itself), or the server's own address (`server.host`, its host's RDP address) from elsewhere.
   * @default 127.0.0.1
   */
  host?: string | ((server: RdpServer) => string);
}

/**
 * Healthy means what a client needs: the instance's port accepts, answers an X.224 Connection
 * Request by selecting TLS, and completes the TLS handshake. A stopped or hung listener still
 * has its socket accepted by the kernel (backlog), so connecting alone proves nothing.
 */
export function createInstanceHealthProbe(options: InstanceHealthProbeOptions = {}): InstanceProbe {
  const timeoutMs = options.timeoutMs ?? 3000;
  const hostOf = typeof options.host === 'function' ? options.host : () => (options.host as string | undefined) ?? '127.0.0.1';
  return {
    async check(server) {
      try {
        const r = await probeRdp({ host: hostOf(server), port: server.port, timeoutMs });
        if (r.kind === 'selected' && r.protocol === PROTOCOL_SSL) return null;
        if (r.kind === 'selected') return `port ${server.port} selected protocol ${r.protocol} instead of TLS`;
        if (r.kind === 'negotiation-failure') return `port ${server.port} refused the negotiation (code ${r.code})`;
        return `port ${server.port} answered without security negotiation`;
      } catch (err) {
        return `port ${server.port}: ${err instanceof Error ? err.message : String(err)}`;
      }
    },
  };
}
