import { createHash, randomBytes } from 'node:crypto';
import { commandStreamKey, eventStreamKey, parseHostId } from '../../domain/cluster/host-protocol.js';

/** The Redis user an agent logs in as. */
export function agentUserName(hostId: string): string {
  return `rdp-agent-${parseHostId(hostId)}`;
}

/**
 * The ACL rules of a host's agent user (Redis 7), after `reset` (no keys, no channels, no
 * commands, off):
 * - its command stream with full key access, but only XREADGROUP, XACK and XGROUP CREATE: it reads
 *   commands as a group consumer, acknowledges them, and creates the group (MKSTREAM) when missing;
 *   it cannot XADD commands (no XADD outside the selector below), trim, delete or destroy groups;
 * - a selector for its event stream, write-only (`%W~`), with XADD alone: it writes events (with
 *   MAXLEN trimming) and cannot read them back, nor XADD anywhere else;
 * - TIME (the agent's clock for deadlines), PING, CLIENT SETNAME (connection names);
 * - no other key, command or pub/sub channel: another host's streams answer NOPERM.
 * AUTH needs no rule. Measured on Redis 7.0.15 (test/integration/host-streams-acl.test.ts).
 */
export function agentAclRules(hostId: string): string[] {
  const id = parseHostId(hostId);
  return [
    'resetchannels',
    `~${commandStreamKey(id)}`,
    '+xreadgroup',
    '+xack',
    '+xgroup|create',
    '+time',
    '+ping',
    '+client|setname',
    `(%W~${eventStreamKey(id)} resetchannels +xadd)`,
  ];
}

/** A random password for an agent user (256 bits, URL-safe). */
export function newAgentPassword(): string {
  return randomBytes(32).toString('base64url');
}

/** The arguments of `ACL SETUSER` for the agent of `hostId`; the password is stored hashed (`#sha256`). */
export function agentAclSetUserArgs(hostId: string, password: string): string[] {
  if (password.length < 16) throw new RangeError('an agent password needs at least 16 characters');
  const hash = createHash('sha256').update(password).digest('hex');
  return [agentUserName(hostId), 'reset', 'on', `#${hash}`, ...agentAclRules(hostId)];
}

function quote(arg: string): string {
  return /^[\w~%#:|+.@-]+$/.test(arg) ? arg : `"${arg.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * `npm run agent -- --print-acl <hostId> [password]`: prints the ACL SETUSER line for the host's
 * agent and how to use it. Without a password, one is generated. Returns the text.
 */
export function printAcl(
  hostId: string,
  password = newAgentPassword(),
  write: (text: string) => void = (t) => process.stdout.write(t),
): string {
  const user = agentUserName(hostId);
  const line = `ACL SETUSER ${agentAclSetUserArgs(hostId, password).map(quote).join(' ')}`;
  const text = [
    `# Redis user for the agent of host ${hostId}: its command stream (read as group consumer) and its event stream (write only), nothing else.`,
    '# 1. Run this once as a Redis admin (redis-cli, then ACL SAVE if Redis uses an aclfile, or add the user to users.acl):',
    line,
    `# 2. Give the agent on ${hostId} this Redis URL (keep it secret; only the hash above is stored in Redis):`,
    `REDIS_URL=redis://${user}:${password}@<redis-host>:6379`,
    `# Re-running step 1 with a new password rotates it. Remove the agent with: ACL DELUSER ${user}`,
    '',
  ].join('\n');
  write(text);
  return text;
}
