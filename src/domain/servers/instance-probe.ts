import type { RdpServer } from './server.js';

/**
 * Asks a running instance whether it answers RDP clients (the real one sends an X.224
 * Connection Request and completes the TLS handshake). Resolves with why it does not, or null.
 */
export interface InstanceProbe {
  check(server: RdpServer): Promise<string | null>;
}
