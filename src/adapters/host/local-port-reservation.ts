import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface PortRange {
  from: number;
  to: number;
}

/**
 * What became of the RDP port range against the kernel's ephemeral ports (docs/OPERATIONS.md,
 * "RDP ports and the ephemeral range"):
 * - `outside-ephemeral`: no outgoing connection can take one of them; nothing written;
 * - `already-reserved`: the whole range was in `ip_local_reserved_ports`; nothing written;
 * - `reserved`: the range was added to `ip_local_reserved_ports`, what was there kept;
 * - `not-reserved`: it overlaps and could not be reserved (no permission, read-only /proc/sys);
 * - `unknown`: the kernel settings could not be read (not Linux, no /proc).
 */
export type PortReservation =
  | { outcome: 'outside-ephemeral'; ephemeral: PortRange }
  | { outcome: 'already-reserved'; ephemeral: PortRange; reserved: string }
  | { outcome: 'reserved'; ephemeral: PortRange; reserved: string }
  | { outcome: 'not-reserved'; ephemeral: PortRange; reserved: string; reason: string }
  | { outcome: 'unknown'; reason: string };

export interface ReservePortsOptions {
  /** Where the sysctls are; per network namespace. @default /proc/sys/net/ipv4 */
  sysctlDir?: string;
}

/** `ip_local_reserved_ports` as the kernel prints it: `33890-33999,40000`, or empty. */
export function parsePortList(text: string): PortRange[] {
  return text
    .trim()
    .split(',')
    .filter((part) => part.trim() !== '')
    .map((part) => {
      const [from, to = from] = part.trim().split('-').map(Number) as [number, number?];
      return { from, to };
    });
}

/** Whether every port of `range` lies in one of `list`'s ranges. */
function covers(list: readonly PortRange[], range: PortRange): boolean {
  for (let port = range.from; port <= range.to; port++) {
    if (!list.some((r) => r.from <= port && port <= r.to)) return false;
  }
  return true;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Keeps outgoing connections off the RDP port range. Linux picks the local port of an outgoing
 * connection from `ip_local_port_range` (32768-60999 by default), which holds the default range
 * 33890-33999: a connection that happens to take 33895 makes the server on 33895 fail to start
 * until it closes. Ports in `ip_local_reserved_ports` are never picked for that, yet can still be
 * bound by a listener. The range is appended to what the file holds (the kernel replaces the whole
 * list on a write). Both sysctls belong to the network namespace of the process; writing needs
 * CAP_NET_ADMIN over it (root, or a privileged container).
 */
export async function reserveLocalPortRange(range: PortRange, options: ReservePortsOptions = {}): Promise<PortReservation> {
  const dir = options.sysctlDir ?? '/proc/sys/net/ipv4';
  const reservedFile = join(dir, 'ip_local_reserved_ports');
  let ephemeral: PortRange;
  let current: string;
  try {
    const [lo, hi] = (await readFile(join(dir, 'ip_local_port_range'), 'utf8')).trim().split(/\s+/).map(Number) as [
      number,
      number,
    ];
    ephemeral = { from: lo, to: hi };
    current = (await readFile(reservedFile, 'utf8')).trim();
  } catch (err) {
    return { outcome: 'unknown', reason: message(err) };
  }
  if (range.to < ephemeral.from || range.from > ephemeral.to) return { outcome: 'outside-ephemeral', ephemeral };
  if (covers(parsePortList(current), range)) return { outcome: 'already-reserved', ephemeral, reserved: current };
  const wanted = `${range.from}-${range.to}`;
  try {
    await writeFile(reservedFile, current === '' ? wanted : `${current},${wanted}`);
  } catch (err) {
    return { outcome: 'not-reserved', ephemeral, reserved: current, reason: message(err) };
  }
  const after = (await readFile(reservedFile, 'utf8').catch(() => '')).trim();
  if (!covers(parsePortList(after), range)) {
    return { outcome: 'not-reserved', ephemeral, reserved: after, reason: 'the kernel did not keep the range' };
  }
  return { outcome: 'reserved', ephemeral, reserved: after };
}
