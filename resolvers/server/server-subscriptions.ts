import { canSee, type Viewer } from '../../src/domain/auth/viewer.js';
import type { RdpServer } from '../../src/domain/servers/server.js';
import type { ServerEvent } from '../../src/domain/servers/server-events.js';
import { builder } from '../builder.js';
import { viewerOf } from '../viewer.js';
import { ServerEventRef, type ServerEventShape } from './server-type.js';

/** Snapshot first, then changes newer than it, each filtered by what the viewer may see. */
async function* snapshotThenChanges(
  viewer: Viewer,
  snapshot: RdpServer,
  changes: AsyncIterator<ServerEvent>,
): AsyncGenerator<ServerEventShape> {
  try {
    let version = snapshot.version;
    yield { kind: 'SNAPSHOT', server: snapshot, at: new Date().toISOString() };
    while (true) {
      const next = await changes.next();
      if (next.done) return;
      const event = next.value;
      if (event.kind !== 'DELETED' && event.server.version <= version) continue;
      if (!canSee(viewer, event.server)) return;
      version = event.server.version;
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
      const changes = ctx.events.subscribe('server:changed', id)[Symbol.asyncIterator]();
      try {
        const snapshot = await ctx.services.servers.get(viewer, id);
        return snapshotThenChanges(viewer, snapshot, changes);
      } catch (err) {
        await changes.return?.();
        throw err;
      }
    },
    resolve: (event) => event,
  }),
);
