import { LIVE_STATUSES } from '../../src/domain/sessions/session.js';
import { ValidationError } from '../../src/domain/shared/errors.js';
import { builder } from '../builder.js';
import { toConnection } from '../connection.js';
import { RdpServerRef } from '../server/server-type.js';
import { viewerOf } from '../viewer.js';
import { SessionFilterInput } from './session-inputs.js';
import { RdpSessionRef } from './session-type.js';

builder.queryField('session', (t) =>
  t.field({
    type: RdpSessionRef,
    nullable: true,
    description: 'One session by id; null when it does not exist or is not visible to the caller.',
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true, description: 'Session id.' }) },
    resolve: async (_root, { id }, ctx) => (await ctx.services.sessions.getMany(viewerOf(ctx), [String(id)]))[0] ?? null,
  }),
);

builder.queryField('sessions', (t) =>
  t.connection(
    {
      type: RdpSessionRef,
      description: 'Sessions visible to the caller, oldest first. `first` is at most 100 (default 20).',
      authScopes: { authenticated: true },
      args: { filter: t.arg({ type: SessionFilterInput, required: false, description: 'Narrows the list.' }) },
      resolve: async (_root, args, ctx) => {
        if (args.last != null || args.before != null) {
          throw new ValidationError(args.last != null ? 'last' : 'before', 'only forward pagination (first, after) is supported');
        }
        const page = await ctx.services.sessions.list(
          viewerOf(ctx),
          {
            serverId: args.filter?.serverId != null ? String(args.filter.serverId) : undefined,
            userId: args.filter?.userId ?? undefined,
            status: args.filter?.status ?? undefined,
          },
          { first: args.first ?? 20, after: args.after ?? undefined },
        );
        return toConnection(page, args.after);
      },
    },
    {
      name: 'RdpSessionConnection',
      description: 'A page of sessions.',
      fields: (c) => ({
        totalCount: c.int({
          description: 'How many sessions match the filter in all.',
          resolve: (conn) => (conn as unknown as { totalCount: number }).totalCount,
        }),
      }),
    },
    { name: 'RdpSessionEdge', description: 'A session in a page.' },
  ),
);

builder.objectField(RdpServerRef, 'sessions', (t) =>
  t.field({
    type: [RdpSessionRef],
    description: `Live sessions on this server (${LIVE_STATUSES.join(', ')}), oldest first; batched across servers.`,
    resolve: (server, _args, ctx) => ctx.loaders.liveSessionsByServer.get(server.id),
  }),
);
