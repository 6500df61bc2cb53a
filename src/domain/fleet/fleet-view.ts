import type { Viewer } from '../auth/viewer.js';
import type { ResourceSample } from '../resources/resource-sample.js';
import type { RdpServer } from '../servers/server.js';
import type { FleetScope } from '../servers/server-visibility.js';
import { LIVE_STATUSES, type RdpSession, type SessionStatus } from '../sessions/session.js';
import type { Watched } from '../shared/event-publisher.js';
import type { FleetEvent, FleetPrincipal, FleetUsageView, FleetViewEvent } from './fleet-events.js';

export interface FleetViewDeps {
  servers: {
    /** Every server the viewer may see (the `servers` query's rule), in list order. */
    listAll(viewer: Viewer): Promise<RdpServer[]>;
    /** The same rule as a filter of events. */
    fleetScope(viewer: Viewer): FleetScope;
  };
  sessions: {
    byServers(viewer: Viewer, serverIds: readonly string[], statuses: readonly SessionStatus[]): Promise<RdpSession[][]>;
  };
  usage: {
    /** The newest sample of each subject if it is current, else null. */
    current(subjectIds: readonly string[]): Promise<(ResourceSample | null)[]>;
  };
}

/** Whether an assignment change of these principals may change what the viewer sees. */
function concerns(viewer: Viewer, principals: readonly FleetPrincipal[] | undefined): boolean {
  if (!principals) return true;
  const groups = new Set(viewer.groups ?? []);
  return principals.some((p) => (p.type === 'USER' ? p.id === viewer.userId : groups.has(p.id)));
}

/**
 * The live fleet lists of one viewer, scoped to the servers they may see (operators and admins:
 * all, filtered by nothing; users: their own, assigned and pool-assigned servers, as the `servers`
 * query lists them). The subscriptions hand these their one bus stream.
 */
export class FleetViewService {
  constructor(private readonly deps: FleetViewDeps) {}

  /**
   * Every server the viewer may see first (SNAPSHOT, with its live session counts), then each
   * change newer than what was sent, of those servers only. A server that becomes visible (its
   * pool or an assignment changed) comes as CREATED, one that stops being visible as DELETED.
   * Counts are read when an event is delivered, so they are never older than it. After a resync
   * every visible server is sent again, and one that went in between as DELETED.
   */
  async *events(viewer: Viewer, changes: AsyncIterator<Watched<'fleet:changed'>>): AsyncGenerator<FleetViewEvent> {
    const { servers, sessions } = this.deps;
    const scope = servers.fleetScope(viewer);
    const known = new Map<string, RdpServer>();
    const withCounts = async (kind: FleetViewEvent['kind'], list: RdpServer[], at: string): Promise<FleetViewEvent[]> => {
      if (list.length === 0) return [];
      const lists =
        kind === 'DELETED'
          ? []
          : await sessions.byServers(
              viewer,
              list.map((s) => s.id),
              LIVE_STATUSES,
            );
      return list.map((server, i) => {
        const live = lists[i] ?? [];
        return {
          kind,
          subject: 'SERVER',
          server,
          activeSessions: live.filter((s) => s.status === 'ACTIVE').length,
          disconnectedSessions: live.filter((s) => s.status === 'DISCONNECTED').length,
          at,
        };
      });
    };
    /** The visible servers now against what was sent: gone ones, and the rest. */
    const reread = async () => {
      scope.refresh();
      const now = await servers.listAll(viewer);
      const present = new Set(now.map((s) => s.id));
      const gone = [...known.values()].filter((s) => !present.has(s.id));
      for (const s of gone) known.delete(s.id);
      return { now, gone };
    };
    const snapshot = async () => {
      const { now, gone } = await reread();
      for (const s of now) known.set(s.id, s);
      const at = new Date().toISOString();
      return [...(await withCounts('DELETED', gone, at)), ...(await withCounts('SNAPSHOT', now, at))];
    };
    /** A user's assignments changed: the servers that appeared come as CREATED, those that went as DELETED. */
    const accessChanged = async (at: string) => {
      const { now, gone } = await reread();
      const added = now.filter((s) => !known.has(s.id));
      for (const s of added) known.set(s.id, s);
      return [...(await withCounts('DELETED', gone, at)), ...(await withCounts('CREATED', added, at))];
    };
    const changed = async (event: FleetEvent): Promise<FleetViewEvent[]> => {
      if (event.change === 'ACCESS_CHANGED') {
        return scope.all || !concerns(viewer, event.principals) ? [] : accessChanged(event.at);
      }
      const last = known.get(event.serverId);
      if (event.change === 'DELETED') {
        known.delete(event.serverId);
        const gone = event.server ?? last;
        // A user is told only of servers they were shown.
        if (!gone || (!scope.all && !last)) return [];
        return withCounts('DELETED', [gone], event.at);
      }
      if (event.change === 'SESSIONS_CHANGED') return last ? withCounts('SESSIONS_CHANGED', [last], event.at) : [];
      const server = event.server;
      if (!server || (last && server.version <= last.version)) return [];
      if (!scope.all && !(await scope.sees(server))) {
        // It was visible and is no longer (its pool changed): gone, for this viewer.
        if (!last) return [];
        known.delete(server.id);
        return withCounts('DELETED', [server], event.at);
      }
      known.set(server.id, server);
      // Visible now and not before (moved into a pool of theirs): new, for this viewer.
      return withCounts(last || scope.all ? event.change : 'CREATED', [server], event.at);
    };
    try {
      yield* await snapshot();
      while (true) {
        const next = await changes.next();
        if (next.done) return;
        yield* await (next.value.kind === 'resync' ? snapshot() : changed(next.value.event));
      }
    } finally {
      await changes.return?.();
    }
  }

  /**
   * The newest current sample of every server the viewer may see (SNAPSHOT, one message), then
   * per collection round one message (ROUND) with the round's samples of those servers; a round
   * with none of them sends nothing. The same rule as `resourceUsage` of a server: who may see
   * the server may see its samples. After a resync, a fresh SNAPSHOT.
   */
  async *usage(viewer: Viewer, rounds: AsyncIterator<Watched<'fleet:usage'>>): AsyncGenerator<FleetUsageView> {
    const { servers, usage } = this.deps;
    const scope = servers.fleetScope(viewer);
    const snapshot = async (): Promise<FleetUsageView> => {
      scope.refresh();
      const ids = (await servers.listAll(viewer)).map((s) => s.id);
      const samples = (await usage.current(ids)).filter((s): s is ResourceSample => s !== null);
      return { kind: 'SNAPSHOT', at: new Date().toISOString(), samples };
    };
    try {
      yield await snapshot();
      while (true) {
        const next = await rounds.next();
        if (next.done) return;
        if (next.value.kind === 'resync') {
          yield await snapshot();
          continue;
        }
        const round = next.value.event;
        let samples: ResourceSample[];
        if (scope.all) {
          samples = round.samples.map((s) => s.sample);
        } else {
          // Assignments may have changed since the last round: read them again (once, if needed).
          scope.refresh();
          samples = [];
          for (const s of round.samples) if (await scope.sees(s.server)) samples.push(s.sample);
        }
        if (samples.length > 0) yield { kind: 'ROUND', at: round.at, samples };
      }
    } finally {
      await rounds.return?.();
    }
  }
}
