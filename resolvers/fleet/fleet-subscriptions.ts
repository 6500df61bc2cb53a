import type { Viewer } from '../../src/domain/auth/viewer.js';
import type { FleetEvent } from '../../src/domain/fleet/fleet-events.js';
import type { RdpServer } from '../../src/domain/servers/server.js';
import { LIVE_STATUSES } from '../../src/domain/sessions/session.js';
import type { Watched } from '../../src/domain/shared/event-publisher.js';
import { builder } from '../builder.js';
import type { GraphQLContext } from '../context.js';
import { viewerOf } from '../viewer.js';
import { FleetEventRef, type FleetEventShape } from './fleet-type.js';

type Services = GraphQLContext['services'];

/**
 * Every server first (SNAPSHOT, with its live session counts), then each change newer than what
 * was sent. Counts are read when an event is delivered, so they are never older than it. After a
 * resync every server is sent again, and one that went in between as DELETED.
 */
async function* fleetView(
  viewer: Viewer,
  services: Services,
  changes: AsyncIterator<Watched<'fleet:changed'>>,
): AsyncGenerator<FleetEventShape> {
  const known = new Map<string, RdpServer>();
  const withCounts = async (kind: FleetEventShape['kind'], servers: RdpServer[], at: string): Promise<FleetEventShape[]> => {
    const lists = await services.sessions.byServers(
      viewer,
      servers.map((s) => s.id),
      LIVE_STATUSES,
    );
    return servers.map((server, i) => {
      const live = kind === 'DELETED' ? [] : (lists[i] ?? []);
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
  const snapshot = async () => {
    const servers = await services.servers.listAll(viewer);
    const at = new Date().toISOString();
    const present = new Set(servers.map((s) => s.id));
    const gone = [...known.values()].filter((s) => !present.has(s.id));
    for (const s of gone) known.delete(s.id);
    for (const s of servers) known.set(s.id, s);
    return [...(await withCounts('DELETED', gone, at)), ...(await withCounts('SNAPSHOT', servers, at))];
  };
  const changed = async (event: FleetEvent): Promise<FleetEventShape | null> => {
    const last = known.get(event.serverId);
    if (event.change === 'DELETED') {
      known.delete(event.serverId);
      return (
        (
          await withCounts(
            'DELETED',
            [event.server ?? last].filter((s): s is RdpServer => !!s),
            event.at,
          )
        )[0] ?? null
      );
    }
    if (event.change === 'SESSIONS_CHANGED') {
      if (!last) return null;
      return (await withCounts('SESSIONS_CHANGED', [last], event.at))[0] ?? null;
    }
    if (!event.server || (last && event.server.version <= last.version)) return null;
    known.set(event.serverId, event.server);
    return (await withCounts(event.change, [event.server], event.at))[0] ?? null;
  };
  try {
    yield* await snapshot();
    while (true) {
      const next = await changes.next();
      if (next.done) return;
      if (next.value.kind === 'resync') {
        yield* await snapshot();
        continue;
      }
      const out = await changed(next.value.event);
      if (out) yield out;
    }
  } finally {
    await changes.return?.();
  }
}

builder.subscriptionField('fleetEvents', (t) =>
  t.field({
    type: FleetEventRef,
    description:
      'Every server of the fleet first (SNAPSHOT, with its live session counts), then each server created, updated, changing status or deleted, and each change of its session counts (SESSIONS_CHANGED). For a console that lists the fleet: operators and admins; users get FORBIDDEN.',
    authScopes: { operator: true },
    subscribe: async (_root, _args, ctx) => {
      const viewer = viewerOf(ctx);
      // Listen before reading the snapshot so nothing falls between the two.
      const changes = ctx.events.watch('fleet:changed', 'all')[Symbol.asyncIterator]();
      return fleetView(viewer, ctx.services, changes);
    },
    resolve: (event) => event,
  }),
);
