import { ValidationError } from '../../src/domain/shared/errors.js';
import { builder } from '../builder.js';
import { serverConnection } from '../server/server-connection.js';
import { RdpServerRef } from '../server/server-type.js';
import { viewerOf } from '../viewer.js';
import { HostRef } from './host-type.js';

const DEFAULT_PAGE_SIZE = 20;

builder.queryField('hosts', (t) =>
  t.field({
    type: [HostRef],
    description: 'Every registered host, by id (operators and admins; users get FORBIDDEN).',
    authScopes: { operator: true },
    resolve: (_root, _args, ctx) => ctx.services.hosts.list(viewerOf(ctx)),
  }),
);

builder.queryField('host', (t) =>
  t.field({
    type: HostRef,
    nullable: true,
    description: 'One host by id; null when no such host is registered (operators and admins; users get FORBIDDEN).',
    authScopes: { operator: true },
    args: { id: t.arg.id({ required: true, description: 'Host id.' }) },
    resolve: (_root, { id }, ctx) => ctx.loaders.host.load(String(id)),
  }),
);

builder.objectField(HostRef, 'servers', (t) =>
  t.connection(
    {
      type: RdpServerRef,
      description: 'Servers placed on this host, oldest first. `first` is at most 100 (default 20).',
      resolve: async (host, args, ctx, info) => {
        if (args.last != null || args.before != null) {
          throw new ValidationError(args.last != null ? 'last' : 'before', 'only forward pagination (first, after) is supported');
        }
        const page = await ctx.services.servers.list(
          viewerOf(ctx),
          { hostId: host.id },
          { first: args.first ?? DEFAULT_PAGE_SIZE, after: args.after ?? undefined },
        );
        return serverConnection(page, args.after, ctx, info);
      },
    },
    {
      name: 'HostServerConnection',
      description: 'A page of the servers on a host.',
      fields: (c) => ({
        totalCount: c.int({
          description: 'How many servers are placed on the host in all.',
          resolve: (conn) => (conn as unknown as { totalCount: number }).totalCount,
        }),
      }),
    },
    { name: 'HostServerEdge', description: 'A server on a host.' },
  ),
);

builder.objectField(RdpServerRef, 'placement', (t) =>
  t.field({
    type: HostRef,
    nullable: true,
    description:
      'The host the server is placed on; null for users (hosts are for operators) and when its host is not registered.',
    resolve: (server, _args, ctx) => ctx.loaders.host.load(server.hostId),
  }),
);
