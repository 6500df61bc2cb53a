import { canSee, type Viewer } from '../../src/domain/auth/viewer.js';
import { LIVE_STATUSES, type RdpSession } from '../../src/domain/sessions/session.js';
import type { SessionEvent } from '../../src/domain/sessions/session-events.js';
import { ValidationError } from '../../src/domain/shared/errors.js';
import { builder } from '../builder.js';
import { viewerOf } from '../viewer.js';
import { SessionEventRef, type SessionEventShape } from './session-type.js';

/** Snapshots first, then changes newer than what was sent, each filtered by ownership. */
async function* snapshotThenChanges(
  viewer: Viewer,
  snapshot: RdpSession[],
  changes: AsyncIterator<SessionEvent>,
  endOnTerminated: boolean,
): AsyncGenerator<SessionEventShape> {
  const versions = new Map(snapshot.map((s) => [s.id, s.version]));
  try {
    const at = new Date().toISOString();
    for (const session of snapshot) yield { kind: 'SNAPSHOT', session: { ...session, credentialHash: null }, at };
    while (true) {
      const next = await changes.next();
      if (next.done) return;
      const event = next.value;
      if (event.session.version <= (versions.get(event.session.id) ?? 0)) continue;
      if (!canSee(viewer, event.session)) continue;
      versions.set(event.session.id, event.session.version);
      yield event;
      if (endOnTerminated && event.kind === 'TERMINATED') return;
    }
  } finally {
    await changes.return?.();
  }
}

builder.subscriptionField('sessionEvents', (t) =>
  t.field({
    type: SessionEventRef,
    description:
      'One session (sessionId), or every session of a server (serverId): the current state first (SNAPSHOT), then each change.',
    authScopes: { authenticated: true },
    args: {
      sessionId: t.arg.id({ required: false, description: 'Follow this session; the stream ends when it is terminated.' }),
      serverId: t.arg.id({ required: false, description: "Follow this server's sessions." }),
    },
    subscribe: async (_root, args, ctx) => {
      const viewer = viewerOf(ctx);
      if ((args.sessionId == null) === (args.serverId == null)) {
        throw new ValidationError('sessionId', 'give exactly one of sessionId or serverId');
      }
      const key = args.sessionId != null ? String(args.sessionId) : `server:${String(args.serverId)}`;
      // Listen before reading the snapshot; the read also authorizes (hidden answers as missing).
      const changes = ctx.events.subscribe('session:changed', key)[Symbol.asyncIterator]();
      try {
        if (args.sessionId != null) {
          const session = await ctx.services.sessions.get(viewer, String(args.sessionId));
          return snapshotThenChanges(viewer, [session], changes, true);
        }
        const server = await ctx.services.servers.get(viewer, String(args.serverId));
        const [live] = await ctx.services.sessions.byServers(viewer, [server.id], LIVE_STATUSES);
        return snapshotThenChanges(viewer, live ?? [], changes, false);
      } catch (err) {
        await changes.return?.();
        throw err;
      }
    },
    resolve: (event) => event,
  }),
);
