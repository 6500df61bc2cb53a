import { printAcl as aclText } from '../../adapters/redis/host-acl.js';
import { HOST_ID_PATTERN } from '../../domain/cluster/host-protocol.js';

/** `npm run agent -- --print-acl <hostId> [password]`: the Redis ACL user of a host's agent. */
export function printAcl(hostId: string, password?: string): string {
  if (!HOST_ID_PATTERN.test(hostId)) {
    return 'usage: npm run agent -- --print-acl <hostId> [password]\n  hostId: 1-63 lowercase letters, digits or dashes\n';
  }
  return aclText(hostId, password, () => undefined);
}
