import { NotFoundError } from '../../src/domain/shared/errors.js';
import { builder } from '../builder.js';
import { viewerOf } from '../viewer.js';
import { HostRef } from './host-type.js';

builder.mutationField('setHostDrain', (t) =>
  t.field({
    type: HostRef,
    description:
      'Drains a host or ends its drain (admins only; audited). A draining host gets no new servers and no new sessions; running servers and sessions continue. Setting the state it already has changes nothing.',
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
    },
    resolve: (_root, { hostId, drain }, ctx) => ctx.services.hosts.setDrain(viewerOf(ctx), String(hostId), drain),
  }),
);
