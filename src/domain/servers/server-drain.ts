import { DomainError } from '../shared/errors.js';
import type { RdpServer, ServerDrain } from './server.js';

/** A drain's countdown as users and operators get it (DRAIN_NOTICE events of servers and sessions). */
export interface DrainNotice {
  serverId: string;
  deadline: string;
  /** Whole seconds from the notice to the deadline; 0 at and after it. */
  secondsLeft: number;
  /** Whether the server stops at the deadline. */
  stopServer: boolean;
}

/** Session admission (and any placement) refused: the server drains (docs/DOMAIN.md, "Drain"). */
export class ServerDrainingError extends DomainError {
  readonly code = 'SERVER_DRAINING';
  readonly serverId: string;
  readonly deadline: string;
  constructor(server: Pick<RdpServer, 'id'> & { drain: Pick<ServerDrain, 'deadline' | 'origin' | 'completedAt'> }) {
    const { drain } = server;
    const why = drain.origin === 'HOST' ? 'its host is draining' : 'it is draining';
    const when =
      drain.completedAt === null
        ? `its sessions end at ${drain.deadline}`
        : `its deadline ${drain.deadline} has passed; cancelServerDrain lets sessions in again`;
    super(`server ${server.id} takes no new sessions: ${why} (${when})`);
    this.name = 'ServerDrainingError';
    this.serverId = server.id;
    this.deadline = drain.deadline;
  }
}

/** Throws SERVER_DRAINING when the server drains: what admission and placement call. */
export function assertNotDraining(server: RdpServer): void {
  if (server.drain) throw new ServerDrainingError({ id: server.id, drain: server.drain });
}

/** Whole seconds from now to the drain's deadline, never below 0. */
export function secondsLeft(drain: Pick<ServerDrain, 'deadline'>, now: Date): number {
  return Math.max(0, Math.ceil((Date.parse(drain.deadline) - now.getTime()) / 1000));
}

/**
 * The countdown step due now, or null: the lowest of `steps` (seconds before the deadline) that
 * the time left has reached and that is below the step announced last. Steps missed while no
 * replica ran collapse into one notice, the latest.
 */
export function dueNoticeStep(drain: ServerDrain, now: Date, steps: readonly number[]): number | null {
  if (drain.completedAt !== null) return null;
  const left = secondsLeft(drain, now);
  if (left === 0) return null;
  const due = steps.filter((s) => s < drain.noticeStep && left <= s);
  return due.length === 0 ? null : Math.min(...due);
}

export function noticeOf(server: RdpServer, drain: ServerDrain, now: Date): DrainNotice {
  return { serverId: server.id, deadline: drain.deadline, secondsLeft: secondsLeft(drain, now), stopServer: drain.stopServer };
}
