import type { ResourceSample } from '../../src/domain/resources/resource-sample.js';
import type { UsageService } from '../../src/domain/resources/usage-service.js';
import { NotFoundError } from '../../src/domain/shared/errors.js';
import type { Watched } from '../../src/domain/shared/event-publisher.js';
import { builder } from '../builder.js';
import { RdpServerRef } from '../server/server-type.js';
import { RdpSessionRef } from '../session/session-type.js';
import { viewerOf } from '../viewer.js';
import {
  ResourceSampleRef,
  ResourceUsageEventRef,
  type ResourceUsageEventShape,
  ResourceUsageRef,
  UsageWindowEnum,
} from './usage-types.js';

builder.queryField('resourceUsage', (t) =>
  t.field({
    type: ResourceUsageRef,
    nullable: true,
    description:
      'Resource history of a server, a session or a host (`host` for this one; operators) over a window: at most 300 points and the latest sample. Null when the subject does not exist or is not visible.',
    authScopes: { authenticated: true },
    args: {
      subjectId: t.arg.id({ required: true, description: 'Server id, session id, `host` or `host:<name>`.' }),
      window: t.arg({ type: UsageWindowEnum, required: false, defaultValue: 'H1', description: 'How far back (default H1).' }),
    },
    resolve: async (_root, { subjectId, window }, ctx) => {
      try {
        return await ctx.services.usage.usage(viewerOf(ctx), String(subjectId), window ?? 'H1');
      } catch (err) {
        if (err instanceof NotFoundError) return null;
        throw err;
      }
    },
  }),
);

builder.objectField(RdpServerRef, 'usage', (t) =>
  t.field({
    type: ResourceSampleRef,
    nullable: true,
    description:
      'Current CPU, memory and network of the server (its xrdp processes and sessions); null when it is not being measured. Batched across servers.',
    resolve: (server, _args, ctx) => ctx.loaders.usage.load(server.id),
  }),
);

builder.objectField(RdpSessionRef, 'usage', (t) =>
  t.field({
    type: ResourceSampleRef,
    nullable: true,
    description:
      "Current CPU and memory of the session's processes; null when it is not being measured. Batched across sessions.",
    resolve: (session, _args, ctx) => ctx.loaders.usage.load(session.id),
  }),
);

/**
 * The snapshot, then the published events themselves (the same object for every subscriber on
 * this replica, which lets one execution serve them all); a resync sends a fresh snapshot.
 */
async function* snapshotThenSamples(
  usage: UsageService,
  subjectId: string,
  changes: AsyncIterator<Watched<'resource:sample'>>,
): AsyncGenerator<ResourceUsageEventShape> {
  try {
    let last: string | null = null;
    const snapshot = async (): Promise<ResourceUsageEventShape> => {
      const sample: ResourceSample | null = await usage.latest(subjectId);
      last = sample?.at ?? last;
      return { kind: 'SNAPSHOT', sample };
    };
    yield await snapshot();
    while (true) {
      const next = await changes.next();
      if (next.done) return;
      if (next.value.kind === 'resync') {
        yield await snapshot();
        continue;
      }
      const event = next.value.event;
      // A sample no newer than what was sent (the snapshot raced it) is not sent again.
      if (last !== null && event.sample.at <= last) continue;
      last = event.sample.at;
      yield event;
    }
  } finally {
    await changes.return?.();
  }
}

builder.subscriptionField('resourceUsage', (t) =>
  t.field({
    type: ResourceUsageEventRef,
    description: "A subject's latest sample (SNAPSHOT), then each new sample as it is collected.",
    authScopes: { authenticated: true },
    args: { subjectId: t.arg.id({ required: true, description: 'Server id, session id, `host` or `host:<name>`.' }) },
    subscribe: async (_root, args, ctx) => {
      const viewer = viewerOf(ctx);
      // Authorizes first: a hidden subject fails here exactly as a missing one does.
      const subject = await ctx.services.usage.subject(viewer, String(args.subjectId));
      const changes = ctx.events.watch('resource:sample', subject.id)[Symbol.asyncIterator]();
      return snapshotThenSamples(ctx.services.usage, subject.id, changes);
    },
    resolve: (event) => event,
  }),
);
