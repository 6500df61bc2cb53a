import { builder } from '../builder.js';
import { ViewerRef, viewerOf } from '../viewer.js';
import { AssignmentRef, EffectiveAccessRef, PoolRef } from './pool-type.js';

builder.queryField('pool', (t) =>
  t.field({
    type: PoolRef,
    nullable: true,
    description: 'One pool by id; null when it does not exist or is not assigned to the caller (operators see every pool).',
    authScopes: { authenticated: true },
    args: { id: t.arg.id({ required: true, description: 'Pool id.' }) },
    resolve: async (_root, { id }, ctx) => (await ctx.services.pools.getMany(viewerOf(ctx), [String(id)]))[0] ?? null,
  }),
);

builder.queryField('pools', (t) =>
  t.field({
    type: [PoolRef],
    description:
      'Every pool for operators and admins; for a user, the pools assigned to them or to one of their groups. By name.',
    authScopes: { authenticated: true },
    resolve: (_root, _args, ctx) => ctx.services.pools.list(viewerOf(ctx)),
  }),
);

const EffectiveAccessTarget = builder.inputType('AccessTargetInput', {
  description: 'A pool or a server: exactly one of the two.',
  fields: (t) => ({
    poolId: t.id({ required: false, description: 'A pool.' }),
    serverId: t.id({ required: false, description: 'A server.' }),
  }),
});

builder.queryField('effectiveAccess', (t) =>
  t.field({
    type: EffectiveAccessRef,
    description:
      "Whether user `userId`, with the groups `groups` (their token's GROUPS_CLAIM; none when omitted), may use the pool or server, and why (operators and admins). NOT_FOUND-style GraphQL error for a missing pool or server.",
    authScopes: { operator: true },
    args: {
      userId: t.arg.string({ required: true, description: 'The user id (token subject).' }),
      groups: t.arg.stringList({ required: false, description: 'Their groups.' }),
      target: t.arg({ type: EffectiveAccessTarget, required: true, description: 'The pool or server.' }),
    },
    resolve: (_root, { userId, groups, target }, ctx) =>
      ctx.services.pools.effectiveAccess(
        viewerOf(ctx),
        { userId, groups: groups ?? [] },
        {
          poolId: target.poolId == null ? undefined : String(target.poolId),
          serverId: target.serverId == null ? undefined : String(target.serverId),
        },
      ),
  }),
);

builder.objectField(ViewerRef, 'assignments', (t) =>
  t.field({
    type: [AssignmentRef],
    description: 'Pools and servers assigned to you, directly or through one of your groups, oldest first.',
    resolve: (viewer, _args, ctx) => ctx.services.pools.assignmentsOf(viewer),
  }),
);

builder.objectField(ViewerRef, 'groups', (t) =>
  t.stringList({
    description: 'Your groups, from the token claim GROUPS_CLAIM names (assignments to them reach you).',
    resolve: (viewer) => viewer.groups ?? [],
  }),
);
