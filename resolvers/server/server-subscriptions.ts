import { canSee, type Viewer } from '../../src/domain/auth/viewer.js';
import type { RdpServer } from '../../src/domain/servers/server.js';
import type { Watched } from '../../src/domain/shared/event-publisher.js';
import { builder } from '../builder.js';
import { viewerOf } from '../viewer.js';
import { ServerEventRef, type ServerEventShape } from './server-type.js';

/**
 * Snapshot first, then changes newer than it, each filtered by what the viewer may see. After a
 * resync (events may have been lost) the server is read again and sent as a new SNAPSHOT; one
 * that is gone by then ends the stream with DELETED.
 */
async function* snapshotThenChanges(
  viewer: Viewer,
  snapshot: RdpServer,
  changes: AsyncIterator<Watched<'server:changed'>>,
  reread: () => Promise<RdpServer | null>,
  visible: (server: RdpServer) => Promise<boolean>,
): AsyncGenerator<ServerEventShape> {
  try {
    let last = snapshot;
    yield { kind: 'SNAPSHOT', server: snapshot, at: new Date().toISOString() };
    while (true) {
      const next = await changes.next();
      if (next.done) return;
      if (next.value.kind === 'resync') {
        const now = await reread();
        if (!now) {
          yield { kind: 'DELETED', server: last, at: new Date().toISOString() };
          return;
        }
        last = now;
        yield { kind: 'SNAPSHOT', server: now, at: new Date().toISOString() };
        continue;
      }
      const event = next.value.event;
      if (event.kind !== 'DELETED' && event.server.version <= last.version) continue;
      // The fast rule first; a user's assignments (pools area) are read only when it says no.
      if (!canSee(viewer, event.server) && !(await visible(event.server))) return;
      last = event.server;
      yield event;
      if (event.kind === 'DELETED') return;
    }
  } finally {
    await changes.return?.();
  }
}

builder.subscriptionField('serverEvents', (t) =>
  t.field({
    type: ServerEventRef,
    description: 'The server now (SNAPSHOT), then each change to it; ends after DELETED.',
    authScopes: { authenticated: true },
    args: { serverId: t.arg.id({ required: true, description: 'Server id.' }) },
    subscribe: async (_root, { serverId }, ctx) => {
      const viewer = viewerOf(ctx);
      const id = String(serverId);
      // Listen before reading the snapshot so nothing falls between the two; the read also
      // authorizes, so a hidden server fails here exactly as a missing one does.
      const changes = ctx.events.watch('server:changed', id)[Symbol.asyncIterator]();
      try {
        const snapshot = await ctx.services.servers.get(viewer, id);
        const reread = async () => (await ctx.services.servers.getMany(viewer, [id]))[0] ?? null;
        const visible = (server: RdpServer) => ctx.services.servers.canSee(viewer, server);
        return snapshotThenChanges(viewer, snapshot, changes, reread, visible);
      } catch (err) {
        await changes.return?.();
        throw err;
      }
    },
    resolve: (event) => event,
  }),
);
