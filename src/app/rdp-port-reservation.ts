import { existsSync } from 'node:fs';
import { reserveLocalPortRange } from '../adapters/host/local-port-reservation.js';
import type { Config } from '../config/config.js';
import type { Logger } from './logger.js';

/**
 * In the process that runs xrdp (this one while it has the xrdp binary; later each host agent):
 * keeps outgoing connections off RDP_PORT_RANGE, or warns that one may take a server's port.
 * A process without xrdp binds no RDP port and leaves the kernel settings alone.
 */
export async function reserveRdpPorts(config: Config, logger: Logger): Promise<void> {
  if (!existsSync(config.xrdp.binary)) return;
  const { from, to } = config.xrdp.portRange;
  const range = `${from}-${to}`;
  const r = await reserveLocalPortRange(config.xrdp.portRange);
  switch (r.outcome) {
    case 'reserved':
      logger.info({ reserved: r.reserved }, `reserved RDP_PORT_RANGE ${range} in net.ipv4.ip_local_reserved_ports`);
      return;
    case 'outside-ephemeral':
    case 'already-reserved':
      return;
    case 'not-reserved':
      logger.warn(
        { reason: r.reason, ephemeral: `${r.ephemeral.from}-${r.ephemeral.to}` },
        `RDP_PORT_RANGE ${range} lies in the ephemeral port range ${r.ephemeral.from}-${r.ephemeral.to} and could not be reserved: ` +
          "an outgoing connection can take a server's port. As root: " +
          `sysctl -w net.ipv4.ip_local_reserved_ports=${r.reserved ? `${r.reserved},` : ''}${range}`,
      );
      return;
    case 'unknown':
      logger.warn({ reason: r.reason }, `could not check RDP_PORT_RANGE ${range} against the ephemeral port range`);
      return;
  }
}
