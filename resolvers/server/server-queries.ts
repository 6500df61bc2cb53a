import { ValidationError } from '../../src/domain/shared/errors.js';
import { builder } from '../builder.js';
import { viewerOf } from '../viewer.js';
import { serverConnection } from './server-connection.js';
import { ServerFilterInput } from './server-inputs.js';
import { RdpServerRef } from './server-type.js';

const DEFAULT_PAGE_SIZE = 20;

builder.queryField('server', (t) =>
  t.field({
    type: RdpServerRef,
    nullable: true,
    description: 'One server by id; null when it does not exist or is not visible to the caller.',
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true, description: 'Server id.' }) },
    resolve: (_root, { id }, ctx) => ctx.loaders.server.load(String(id)),
  }),
);

builder.queryField('servers', (t) =>
  t.connection(
    {
      type: RdpServerRef,
      description: 'Servers visible to the caller, oldest first. `first` is at most 100 (default 20).',
      authScopes: { authenticated: true },
      args: { filter: t.arg({ type: ServerFilterInput, required: false, description: 'Narrows the list.' }) },
      resolve: async (_root, args, ctx, info) => {
        if (args.last != null || args.before != null) {
          throw new ValidationError(args.last != null ? 'last' : 'before', 'only forward pagination (first, after) is supported');
        }
        const page = await ctx.services.servers.list(
          viewerOf(ctx),
          { status: args.filter?.status ?? undefined, ownerId: args.filter?.ownerId ?? undefined },
          { first: args.first ?? DEFAULT_PAGE_SIZE, after: args.after ?? undefined },
        );
        return serverConnection(page, args.after, ctx, info);
      },
    },
    {
      name: 'RdpServerConnection',
      description: 'A page of servers.',
      fields: (c) => ({
        totalCount: c.int({
          description: 'How many servers match the filter in all.',
          resolve: (conn) => (conn as unknown as { totalCount: number }).totalCount,
        }),
      }),
    },
    { name: 'RdpServerEdge', description: 'A server in a page.' },
  ),
);
