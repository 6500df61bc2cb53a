import { ValidationError } from '../../src/domain/shared/errors.js';
import { builder } from '../builder.js';
import { toConnection } from '../connection.js';
import { RdpServerRef } from '../server/server-type.js';
import { CredentialModeEnum } from '../session/session-type.js';
import { AssignmentRef, PlacementPolicyEnum, PoolRef } from './pool-type.js';

PoolRef.implement({
  description: 'A named set of servers (possibly on several hosts) that users reach through connect.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'UUID of the pool.' }),
    name: t.exposeString('name', { description: 'Display name, 1-255 characters.' }),
    description: t.exposeString('description', { description: 'Free text, up to 1000 characters.' }),
    placementPolicy: t.expose('placementPolicy', {
      type: PlacementPolicyEnum,
      description: 'How connect picks a server for a new session.',
    }),
    maxSessions: t.exposeInt('maxSessions', {
      nullable: true,
      description:
        "Most live sessions on the pool's servers together (enforced at admission, across replicas, for connect and createSession alike); null: only each server's own cap.",
    }),
    defaultCredentialMode: t.expose('defaultCredentialMode', {
      type: CredentialModeEnum,
      nullable: true,
      description: "Credential mode of sessions connect admits here when the caller names none; null: the service's default.",
    }),
    createdBy: t.exposeString('createdBy', { description: 'User id of the creator.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was created.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When it last changed.' }),
    liveSessions: t.int({
      description: 'Live (ACTIVE or DISCONNECTED) sessions admitted in this pool now.',
      resolve: (p, _args, ctx) => ctx.services.pools.countLiveSessions(p.id),
    }),
    assignments: t.field({
      type: [AssignmentRef],
      description: 'Who is assigned this pool (operators and admins; empty for others).',
      resolve: (p, _args, ctx) => (ctx.viewer ? ctx.services.pools.assignmentsTo(ctx.viewer, 'POOL', p.id) : []),
    }),
    servers: t.connection(
      {
        type: RdpServerRef,
        description: 'Servers of the pool visible to the caller, oldest first. `first` is at most 100 (default 20).',
        resolve: async (p, args, ctx) => {
          if (!ctx.viewer) return toConnection({ items: [], hasNextPage: false, totalCount: 0 }, null);
          if (args.last != null || args.before != null) {
            throw new ValidationError(
              args.last != null ? 'last' : 'before',
              'only forward pagination (first, after) is supported',
            );
          }
          const page = await ctx.services.servers.list(
            ctx.viewer,
            { poolId: p.id },
            { first: args.first ?? 20, after: args.after ?? undefined },
          );
          return toConnection(page, args.after);
        },
      },
      {
        name: 'PoolServerConnection',
        description: 'A page of a pool’s servers.',
        fields: (c) => ({
          totalCount: c.int({
            description: 'How many of its servers the caller may see in all.',
            resolve: (conn) => (conn as unknown as { totalCount: number }).totalCount,
          }),
        }),
      },
      { name: 'PoolServerEdge', description: 'A server of a pool.' },
    ),
  }),
});

builder.objectField(RdpServerRef, 'pool', (t) =>
  t.field({
    type: PoolRef,
    nullable: true,
    description: 'The pool the server belongs to; null when it is in none or the caller may not see that pool.',
    resolve: async (s, _args, ctx) =>
      s.poolId && ctx.viewer ? ((await ctx.services.pools.getMany(ctx.viewer, [s.poolId]))[0] ?? null) : null,
  }),
);

builder.objectField(RdpServerRef, 'poolId', (t) =>
  t.exposeString('poolId', { nullable: true, description: 'Id of the pool the server belongs to (at most one), or null.' }),
);
