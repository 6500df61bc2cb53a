import { canSee } from '../../src/domain/auth/viewer.js';
import { builder } from '../builder.js';
import { viewerOf } from '../viewer.js';
import { ServerEventRef, type ServerEventShape } from './server-type.js';

builder.subscriptionField('serverEvents', (t) =>
  t.field({
    type: ServerEventRef,
    description: 'The server now (SNAPSHOT), then each change to it; ends after DELETED.',
    authScopes: { authenticated: true },
    args: { serverId: t.arg.id({ required: true, description: 'Server id.' }) },
    subscribe: async function* (_root, { serverId }, ctx) {
      const viewer = viewerOf(ctx);
      const id = String(serverId);
      // Listen before reading the snapshot so nothing falls between the two.
      const changes = ctx.events.subscribe('server:changed', id)[Symbol.asyncIterator]();
      try {
        const server = await ctx.services.servers.get(viewer, id);
        let version = server.version;
        yield { kind: 'SNAPSHOT', server, at: new Date().toISOString() } satisfies ServerEventShape;
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
    },
    resolve: (event) => event,
  }),
);
