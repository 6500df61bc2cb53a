import { builder } from '../builder.js';
import { viewerOf } from '../viewer.js';
import { FleetEventRef, FleetUsageEventRef } from './fleet-type.js';

builder.subscriptionField('fleetEvents', (t) =>
  t.field({
    type: FleetEventRef,
    description:
      'Every server the caller may see first (SNAPSHOT, with its live session counts), then each of those servers created, updated, changing status or deleted, and each change of its session counts (SESSIONS_CHANGED). Operators and admins see the whole fleet; a user the servers the `servers` query lists for them (own, assigned, or in an assigned pool): a server that becomes visible comes as CREATED, one that stops being visible as DELETED, and nothing is sent about the others. For a console that lists the fleet.',
    authScopes: { authenticated: true },
    subscribe: async (_root, _args, ctx) => {
      // Listen before reading the snapshot so nothing falls between the two.
      const changes = ctx.events.watch('fleet:changed', 'all')[Symbol.asyncIterator]();
      return ctx.services.fleetViews.events(viewerOf(ctx), changes);
    },
    resolve: (event) => event,
  }),
);

builder.subscriptionField('fleetUsage', (t) =>
  t.field({
    type: FleetUsageEventRef,
    description:
      'Resource samples of every server the caller may see (the same servers as `fleetEvents`, the same rule as `resourceUsage`): their newest current samples first (SNAPSHOT), then one message per collection round (ROUND) with the samples of those servers taken in that round. For the sparklines of a fleet list: one subscription instead of one `resourceUsage` per server.',
    authScopes: { authenticated: true },
    subscribe: async (_root, _args, ctx) => {
      const rounds = ctx.events.watch('fleet:usage', 'all')[Symbol.asyncIterator]();
      return ctx.services.fleetViews.usage(viewerOf(ctx), rounds);
    },
    resolve: (event) => event,
  }),
);
