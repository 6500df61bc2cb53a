import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

const normalize = (ip: string): string => (ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip);

/**
 * The caller's address: the socket's peer, or with `trustProxy` the last X-Forwarded-For entry,
 * which is the one the proxy in front of us appended (earlier entries come from the client and
 * prove nothing). Anything that is not an IP address is ignored.
 */
export function clientIp(req: IncomingMessage | undefined, trustProxy: boolean): string | null {
  if (!req) return null;
  if (trustProxy) {
    const header = req.headers['x-forwarded-for'];
    const list = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',');
    const last = list.at(-1)?.trim() ?? '';
    if (isIP(last)) return normalize(last);
  }
  const peer = req.socket?.remoteAddress;
  return peer && isIP(peer) ? normalize(peer) : null;
}
