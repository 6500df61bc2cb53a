import { PlacementError } from '../../src/domain/hosts/host-errors.js';
import { ConflictError, LimitExceededError, NotFoundError } from '../../src/domain/shared/errors.js';
import { builder } from '../builder.js';
import { CREATE_SERVER_ERRORS, LIFECYCLE_ERRORS } from '../errors.js';
import { viewerOf } from '../viewer.js';
import { CreateServerInput, UpdateServerInput } from './server-inputs.js';
import { RdpServerRef } from './server-type.js';

function resultOptions(verb: string, types: (new (...args: never[]) => Error)[]) {
  return {
    types,
    union: { name: `${verb}ServerResult`, description: `Outcome of ${verb.toLowerCase()}Server.` },
    result: { name: `${verb}ServerSuccess`, description: `${verb}Server succeeded.` },
    dataField: { name: 'server', description: 'The server after the change.' },
  };
}

builder.mutationField('createServer', (t) =>
  t.field({
    type: RdpServerRef,
    description:
      'Creates a server (STOPPED) on a host (input.hostId, or the ONLINE non-draining host with the most free capacity) and allocates the lowest free RDP port of that host. Refusals: LimitExceededError (the fleet cap), PlacementError (no host can take it: each host considered with its reason), PortExhaustedError (only one host was considered and every port of its range is taken).',
    authScopes: { authenticated: true },
    errors: resultOptions('Create', [...CREATE_SERVER_ERRORS, PlacementError]),
    args: { input: t.arg({ type: CreateServerInput, required: true, description: 'The new server.' }) },
    resolve: (_root, { input }, ctx) => ctx.services.servers.create(viewerOf(ctx), input),
  }),
);

builder.mutationField('updateServer', (t) =>
  t.field({
    type: RdpServerRef,
    description: 'Changes name, description, configuration or resources.',
    authScopes: { authenticated: true },
    errors: resultOptions('Update', [NotFoundError, ConflictError]),
    args: {
      id: t.arg.id({ required: true, description: 'Server id.' }),
      input: t.arg({ type: UpdateServerInput, required: true, description: 'The changes.' }),
    },
    resolve: (_root, { id, input }, ctx) => ctx.services.servers.update(viewerOf(ctx), String(id), input),
  }),
);

const forceArg = (t: Parameters<Parameters<typeof builder.mutationField>[1]>[0]) =>
  t.arg.boolean({
    required: false,
    defaultValue: false,
    description:
      'Terminate live sessions first instead of refusing with a CONFLICT (deleteServer: also delete a server in maintenance or draining).',
  });

builder.mutationField('deleteServer', (t) =>
  t.field({
    type: RdpServerRef,
    description:
      'Stops and deletes a server and frees its port. A server with live sessions, in MAINTENANCE or draining is refused (ConflictError) unless force is true.',
    authScopes: { authenticated: true },
    errors: resultOptions('Delete', LIFECYCLE_ERRORS),
    args: { id: t.arg.id({ required: true, description: 'Server id.' }), force: forceArg(t) },
    resolve: (_root, { id, force }, ctx) => ctx.services.servers.delete(viewerOf(ctx), String(id), force ?? false),
  }),
);

builder.mutationField('startServer', (t) =>
  t.field({
    type: RdpServerRef,
    description:
      'Starts the xrdp instance; returns once it accepts RDP connections. Refused (LimitExceededError) while the host is above its CPU or memory limit. In MAINTENANCE only an admin may, and the server stays in maintenance; a drain never blocks it (a draining server still takes no sessions).',
    authScopes: { authenticated: true },
    errors: resultOptions('Start', [...LIFECYCLE_ERRORS, LimitExceededError]),
    args: { id: t.arg.id({ required: true, description: 'Server id.' }) },
    resolve: (_root, { id }, ctx) => ctx.services.servers.start(viewerOf(ctx), String(id)),
  }),
);

builder.mutationField('stopServer', (t) =>
  t.field({
    type: RdpServerRef,
    description:
      'Stops the xrdp instance. In MAINTENANCE only an admin may, and the server stays in maintenance (with its stopped state kept for when it ends); a drain never blocks it.',
    authScopes: { authenticated: true },
    errors: resultOptions('Stop', LIFECYCLE_ERRORS),
    args: { id: t.arg.id({ required: true, description: 'Server id.' }), force: forceArg(t) },
    resolve: (_root, { id, force }, ctx) => ctx.services.servers.stop(viewerOf(ctx), String(id), force ?? false),
  }),
);

builder.mutationField('restartServer', (t) =>
  t.field({
    type: RdpServerRef,
    description: 'Stops and starts a running or failed server, applying its latest configuration.',
    authScopes: { authenticated: true },
    errors: resultOptions('Restart', LIFECYCLE_ERRORS),
    args: { id: t.arg.id({ required: true, description: 'Server id.' }), force: forceArg(t) },
    resolve: (_root, { id, force }, ctx) => ctx.services.servers.restart(viewerOf(ctx), String(id), force ?? false),
  }),
);

builder.mutationField('setServerMaintenance', (t) =>
  t.field({
    type: RdpServerRef,
    description:
      'Puts a server into maintenance or takes it out (admins only). In maintenance it admits no sessions, only an admin may start or stop it, and deleting it needs force; leaving it restores the status it had.',
    authScopes: { admin: true },
    errors: {
      types: [NotFoundError, ConflictError],
      union: { name: 'SetServerMaintenanceResult', description: 'Outcome of setServerMaintenance.' },
      result: { name: 'SetServerMaintenanceSuccess', description: 'setServerMaintenance succeeded.' },
      dataField: { name: 'server', description: 'The server after the change.' },
    },
    args: {
      id: t.arg.id({ required: true, description: 'Server id.' }),
      enabled: t.arg.boolean({ required: true, description: 'True to enter maintenance, false to leave it.' }),
    },
    resolve: (_root, { id, enabled }, ctx) => ctx.services.servers.setMaintenance(viewerOf(ctx), String(id), enabled),
  }),
);

builder.mutationField('drainServer', (t) =>
  t.field({
    type: RdpServerRef,
    description:
      'Drains a server (operators and admins; audited as server.drain): from now on it admits no new sessions (ServerDrainingError), keeps running, and its ACTIVE sessions get DRAIN_NOTICE events in sessionEvents (serverEvents too) at once and at each DRAIN_NOTICE_SECONDS step before the deadline. At the deadline the sessions left end (reason DRAINED) and, with stopServer, the server stops. It drains until cancelServerDrain, after the deadline too. On a draining server it reschedules (a new countdown). Refused (ConflictError) while the deadline action runs.',
    authScopes: { operator: true },
    errors: {
      types: [NotFoundError, ConflictError],
      union: { name: 'DrainServerResult', description: 'Outcome of drainServer.' },
      result: { name: 'DrainServerSuccess', description: 'drainServer succeeded.' },
      dataField: { name: 'server', description: 'The server, draining.' },
    },
    args: {
      serverId: t.arg.id({ required: true, description: 'Server id.' }),
      deadline: t.arg({
        type: 'DateTime',
        required: true,
        description: 'When the sessions left are ended: in the future, at most 30 days ahead (else BAD_USER_INPUT).',
      }),
      stopServer: t.arg.boolean({
        required: false,
        defaultValue: false,
        description: 'Also stop the server at the deadline, once its sessions have ended.',
      }),
    },
    resolve: (_root, { serverId, deadline, stopServer }, ctx) =>
      ctx.services.drains.drain(viewerOf(ctx), String(serverId), { deadline, stopServer: stopServer ?? false }),
  }),
);

builder.mutationField('cancelServerDrain', (t) =>
  t.field({
    type: RdpServerRef,
    description:
      "Ends a server's drain, before or after its deadline (operators and admins; audited as server.drain.cancel): it admits new sessions again, and its ACTIVE sessions get DRAIN_CANCELLED. ConflictError when it does not drain, when it drains because its host does (end that with setHostDrain), or while the deadline action runs.",
    authScopes: { operator: true },
    errors: {
      types: [NotFoundError, ConflictError],
      union: { name: 'CancelServerDrainResult', description: 'Outcome of cancelServerDrain.' },
      result: { name: 'CancelServerDrainSuccess', description: 'cancelServerDrain succeeded.' },
      dataField: { name: 'server', description: 'The server, no longer draining.' },
    },
    args: { serverId: t.arg.id({ required: true, description: 'Server id.' }) },
    resolve: (_root, { serverId }, ctx) => ctx.services.drains.cancel(viewerOf(ctx), String(serverId)),
  }),
);
