import type { Host } from '../../src/domain/hosts/host.js';
import type { Watched } from '../../src/domain/shared/event-publisher.js';
import { builder } from '../builder.js';
import { viewerOf } from '../viewer.js';
import { HostEventRef, type HostEventShape } from './host-type.js';

/**
 * Snapshots first, then changes newer than what was sent (by version). After a resync (events
 * may have been lost) the hosts are read again and sent as new SNAPSHOTs.
 */
async function* snapshotThenChanges(
  snapshot: Host[],
  changes: AsyncIterator<Watched<'host:changed'>>,
  reread: () => Promise<Host[]>,
): AsyncGenerator<HostEventShape> {
  const versions = new Map<string, number>();
  const snapshots = function* (hosts: Host[]) {
    const at = new Date().toISOString();
    for (const host of hosts) {
      versions.set(host.id, host.version);
      yield { kind: 'SNAPSHOT', host, at } as const;
    }
  };
  try {
    yield* snapshots(snapshot);
    while (true) {
      const next = await changes.next();
      if (next.done) return;
      if (next.value.kind === 'resync') {
        yield* snapshots(await reread());
        continue;
      }
      const { kind, host, at } = next.value.event;
      if (host.version <= (versions.get(host.id) ?? 0)) continue;
      versions.set(host.id, host.version);
      yield { kind, host, at };
    }
  } finally {
    await changes.return?.();
  }
}

builder.subscriptionField('hostEvents', (t) =>
  t.field({
    type: HostEventRef,
    description:
      'One host (hostId) or every host (no hostId): the current state first (SNAPSHOT), then each registration, heartbeat, status and drain change. Operators and admins; users get FORBIDDEN, an unknown hostId NOT_FOUND.',
    authScopes: { operator: true },
    args: { hostId: t.arg.id({ required: false, description: 'Follow this host only.' }) },
    subscribe: async (_root, args, ctx) => {
      const viewer = viewerOf(ctx);
      const hostId = args.hostId == null ? null : String(args.hostId);
      // Listen before reading the snapshot so nothing falls between the two.
      const changes = ctx.events.watch('host:changed', hostId ?? 'all')[Symbol.asyncIterator]();
      const read = async () => (hostId ? [await ctx.services.hosts.get(viewer, hostId)] : ctx.services.hosts.list(viewer));
      try {
        return snapshotThenChanges(await read(), changes, read);
      } catch (err) {
        await changes.return?.();
        throw err;
      }
    },
    resolve: (event) => event,
  }),
);
