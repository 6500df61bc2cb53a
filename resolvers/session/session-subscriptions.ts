import { canSee, type Viewer } from '../../src/domain/auth/viewer.js';
import { LIVE_STATUSES, type RdpSession } from '../../src/domain/sessions/session.js';
import { ValidationError } from '../../src/domain/shared/errors.js';
import type { Watched } from '../../src/domain/shared/event-publisher.js';
import { builder } from '../builder.js';
import { viewerOf } from '../viewer.js';
import { SessionEventRef, type SessionEventShape } from './session-type.js';

const GONE = Symbol('server deleted');

/** Settles when `changes` (the server's own events) carry its DELETED; never when they just end. */
async function deletedFrom(changes: AsyncIterator<Watched<'server:changed'>>): Promise<void> {
  while (true) {
    const next = await changes.next();
    if (next.done) return new Promise<void>(() => undefined);
    if (next.value.kind === 'event' && next.value.event.kind === 'DELETED') return;
  }
}

/**
 * Snapshots first, then changes newer than what was sent, each filtered by ownership. After a
 * resync (events may have been lost) every session of the view is read again, those sent before
 * included, and sent as SNAPSHOTs, so a session that ended in between shows up TERMINATED.
 */
async function* snapshotThenChanges(
  viewer: Viewer,
  snapshot: RdpSession[],
  changes: AsyncIterator<Watched<'session:changed'>>,
  endOnTerminated: boolean,
  reread: (known: string[]) => Promise<RdpSession[]>,
  /** Settles when the followed server is deleted: the view is read once more, then the stream ends. */
  serverGone?: Promise<void>,
): AsyncGenerator<SessionEventShape> {
  const versions = new Map<string, number>();
  const snapshots = function* (sessions: RdpSession[], onlyNewer = false) {
    const at = new Date().toISOString();
    for (const session of sessions) {
      if (onlyNewer && session.version <= (versions.get(session.id) ?? 0)) continue;
      versions.set(session.id, session.version);
      yield { kind: 'SNAPSHOT', session: { ...session, credentialHash: null }, at } as const;
    }
  };
  try {
    yield* snapshots(snapshot);
    // A terminated session never changes again (its server may even be gone): nothing to wait for.
    if (endOnTerminated && snapshot.some((s) => s.status === 'TERMINATED')) return;
    const gone = serverGone?.then((): typeof GONE => GONE);
    while (true) {
      const next = await (gone ? Promise.race([changes.next(), gone]) : changes.next());
      if (next === GONE) {
        // The sessions' last changes may still be on their way: send what the store holds now.
        yield* snapshots(await reread([...versions.keys()]), true);
        return;
      }
      if (next.done) return;
      if (next.value.kind === 'resync') {
        const now = await reread([...versions.keys()]);
        yield* snapshots(now);
        if (endOnTerminated && now.some((s) => s.status === 'TERMINATED')) return;
        continue;
      }
      const event = next.value.event;
      // Drain notices change no session: they pass at the version already sent.
      const notice = event.kind === 'DRAIN_NOTICE' || event.kind === 'DRAIN_CANCELLED';
      if (event.session.version < (versions.get(event.session.id) ?? 0)) continue;
      if (!notice && event.session.version === versions.get(event.session.id)) continue;
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
      sessionId: t.arg.id({
        required: false,
        description:
          'Follow this session; the stream ends when it is terminated (its server stopped or deleted included), at once for one that already is.',
      }),
      serverId: t.arg.id({
        required: false,
        description: "Follow this server's sessions; the stream ends when the server is deleted, after its sessions' last state.",
      }),
    },
    subscribe: async (_root, args, ctx) => {
      const viewer = viewerOf(ctx);
      if ((args.sessionId == null) === (args.serverId == null)) {
        throw new ValidationError('sessionId', 'give exactly one of sessionId or serverId');
      }
      const key = args.sessionId != null ? String(args.sessionId) : `server:${String(args.serverId)}`;
      // Listen before reading the snapshot; the read also authorizes (hidden answers as missing).
      const changes = ctx.events.watch('session:changed', key)[Symbol.asyncIterator]();
      // A server's stream ends when the server is deleted (its sessions end with it).
      const serverChanges =
        args.serverId != null ? ctx.events.watch('server:changed', String(args.serverId))[Symbol.asyncIterator]() : null;
      const closeAll = async () => {
        await Promise.all([changes.return?.(), serverChanges?.return?.()]);
      };
      const { sessions, servers } = ctx.services;
      const visible = async (ids: readonly string[]) =>
        (await sessions.getMany(viewer, ids)).filter((s): s is RdpSession => s !== null);
      try {
        if (args.sessionId != null) {
          const session = await sessions.get(viewer, String(args.sessionId));
          return snapshotThenChanges(viewer, [session], changes, true, visible);
        }
        const server = await servers.get(viewer, String(args.serverId));
        const [live] = await sessions.byServers(viewer, [server.id], LIVE_STATUSES);
        const reread = async (known: string[]) => {
          const [now] = await sessions.byServers(viewer, [server.id], LIVE_STATUSES);
          const liveIds = new Set((now ?? []).map((s) => s.id));
          return [...(now ?? []), ...(await visible(known.filter((id) => !liveIds.has(id))))];
        };
        const gone = serverChanges ? deletedFrom(serverChanges) : undefined;
        const stream = snapshotThenChanges(viewer, live ?? [], changes, false, reread, gone);
        return (async function* () {
          try {
            yield* stream;
          } finally {
            await serverChanges?.return?.();
          }
        })();
      } catch (err) {
        await closeAll();
        throw err;
      }
    },
    resolve: (event) => event,
  }),
);

builder.subscriptionField('mySessions', (t) =>
  t.field({
    type: SessionEventRef,
    description:
      "The caller's own sessions (those they own): the live ones first (SNAPSHOT), then each change to any of them, new ones included, until and including TERMINATED. Never another user's session, whatever the caller's role.",
    authScopes: { authenticated: true },
    subscribe: async (_root, _args, ctx) => {
      const viewer = viewerOf(ctx);
      const changes = ctx.events.watch('session:changed', `owner:${viewer.userId}`)[Symbol.asyncIterator]();
      const { sessions } = ctx.services;
      const own = { ...viewer, roles: [], permissions: [] } satisfies Viewer;
      try {
        const live = await sessions.liveOwnedBy(viewer);
        const reread = async (known: string[]) => {
          const now = await sessions.liveOwnedBy(viewer);
          const liveIds = new Set(now.map((s) => s.id));
          const ended = (
            await sessions.getMany(
              viewer,
              known.filter((id) => !liveIds.has(id)),
            )
          ).filter((s): s is RdpSession => s !== null && s.owner === viewer.userId);
          return [...now, ...ended];
        };
        // Filtered as a plain user would be: an operator's own list holds only their own sessions.
        return snapshotThenChanges(own, live, changes, false, reread);
      } catch (err) {
        await changes.return?.();
        throw err;
      }
    },
    resolve: (event) => event,
  }),
);
