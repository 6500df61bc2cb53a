import { NotFoundError } from '../../src/domain/shared/errors.js';
import { builder } from '../builder.js';
import { viewerOf } from '../viewer.js';
import { HostRef } from './host-type.js';

builder.mutationField('setHostDrain', (t) =>
  t.field({
    type: HostRef,
    description:
      'Drains a host or ends its drain (admins only; audited). A draining host gets no new servers and no new sessions. Without a deadline running servers and sessions continue. With one, each server of the host drains with it (as drainServer, origin HOST, unless it drains on its own): its ACTIVE sessions get the DRAIN_NOTICE countdown, the sessions left end at the deadline (DRAINED) and, with stopServers, the servers stop; ending the host drain cancels those server drains. Setting the state it already has changes nothing.',
    authScopes: { admin: true },
    errors: {
      types: [NotFoundError],
      union: { name: 'SetHostDrainResult', description: 'Outcome of setHostDrain.' },
      result: { name: 'SetHostDrainSuccess', description: 'setHostDrain succeeded.' },
      dataField: { name: 'host', description: 'The host after the change.' },
    },
    args: {
      hostId: t.arg.id({ required: true, description: 'Host id.' }),
      drain: t.arg.boolean({ required: true, description: 'True to drain, false to take new servers and sessions again.' }),
      deadline: t.arg({
        type: 'DateTime',
        required: false,
        description:
          "With drain: true, when the host's servers end their sessions: in the future, at most 30 days ahead. Omitted: nothing is ended.",
      }),
      stopServers: t.arg.boolean({
        required: false,
        defaultValue: false,
        description: 'With a deadline: also stop the servers then.',
      }),
    },
    resolve: async (_root, { hostId, drain, deadline, stopServers }, ctx) => {
      const host = await ctx.services.hosts.setDrain(viewerOf(ctx), String(hostId), drain, {
        deadline: deadline ?? null,
        stopServers: stopServers ?? false,
      });
      // The job does this too; now, so the drain reaches the servers before the answer.
      const r = await ctx.services.drains.applyHostDrains();
      for (const err of r.failures) ctx.log.warn({ err }, 'a host drain did not reach every server; the drain job retries');
      return host;
    },
  }),
);
