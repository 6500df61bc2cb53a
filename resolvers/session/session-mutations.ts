import { ServerDrainingError } from '../../src/domain/servers/server-drain.js';
import { ConflictError, LimitExceededError, NotFoundError } from '../../src/domain/shared/errors.js';
import { builder } from '../builder.js';
import { viewerOf } from '../viewer.js';
import { CreateSessionInput } from './session-inputs.js';
import { CreateSessionSuccessRef, RdpSessionRef, ReissueCredentialsSuccessRef } from './session-type.js';

builder.mutationField('createSession', (t) =>
  t.field({
    type: CreateSessionSuccessRef,
    description:
      'Admits the caller onto a running server within the global, per-server and per-user caps. Refused with ServerDrainingError on a draining server.',
    authScopes: { authenticated: true },
    errors: {
      types: [NotFoundError, ConflictError, LimitExceededError, ServerDrainingError],
      directResult: true,
      union: { name: 'CreateSessionResult', description: 'Outcome of createSession.' },
    },
    args: { input: t.arg({ type: CreateSessionInput, required: true, description: 'The request.' }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.sessions.create(viewerOf(ctx), { ...input, serverId: String(input.serverId) }),
  }),
);

function lifecycle(verb: string, description: string) {
  return {
    types: [NotFoundError, ConflictError],
    union: { name: `${verb}SessionResult`, description: `Outcome of ${verb.toLowerCase()}Session.` },
    result: { name: `${verb}SessionSuccess`, description: `${verb}Session succeeded.` },
    dataField: { name: 'session', description },
  };
}

builder.mutationField('connectSession', (t) =>
  t.field({
    type: RdpSessionRef,
    description:
      'Marks a disconnected session connected again (the console; xrdp logins do this by themselves). Audited as session.connect.',
    authScopes: { authenticated: true },
    errors: lifecycle('Connect', 'The session after the change.'),
    args: { id: t.arg.id({ required: true, description: 'Session id.' }) },
    resolve: (_root, { id }, ctx) => ctx.services.sessions.connect(viewerOf(ctx), String(id)),
  }),
);

builder.mutationField('disconnectSession', (t) =>
  t.field({
    type: RdpSessionRef,
    description:
      'Drops the RDP client for real (its xrdp connection ends) while the desktop keeps running; a login with the same account reconnects to it until the session ends. A CONFLICT when it is DISCONNECTED and no client is connected. Audited as session.disconnect.',
    authScopes: { authenticated: true },
    errors: lifecycle('Disconnect', 'The session after the change.'),
    args: { id: t.arg.id({ required: true, description: 'Session id.' }) },
    resolve: (_root, { id }, ctx) => ctx.services.sessions.disconnect(viewerOf(ctx), String(id)),
  }),
);

builder.mutationField('terminateSession', (t) =>
  t.field({
    type: RdpSessionRef,
    description: 'Ends a session for good: its xrdp session is ended and an EPHEMERAL account removed.',
    authScopes: { authenticated: true },
    errors: lifecycle('Terminate', 'The session after the change.'),
    args: {
      id: t.arg.id({ required: true, description: 'Session id.' }),
      force: t.arg.boolean({
        required: false,
        defaultValue: false,
        description:
          'End it even while a client is connected. Without it, a CONFLICT whenever the host shows a client connected, whatever the status says, or cannot tell.',
      }),
    },
    resolve: (_root, { id, force }, ctx) => ctx.services.sessions.terminate(viewerOf(ctx), String(id), force ?? false),
  }),
);

builder.mutationField('reissueCredentials', (t) =>
  t.field({
    type: ReissueCredentialsSuccessRef,
    description:
      "A fresh one-time password for a live EPHEMERAL session (its owner, operators and admins): the account's password changes on its host at once, so the old one no longer logs in, and it works for SESSION_CREDENTIAL_TTL from now, even after the previous one had expired. A CONFLICT for HOST_ACCOUNT sessions (your own password applies) and terminated ones. Audited as session.reissue.",
    authScopes: { authenticated: true },
    errors: {
      types: [NotFoundError, ConflictError],
      directResult: true,
      union: { name: 'ReissueCredentialsResult', description: 'Outcome of reissueCredentials.' },
    },
    args: { sessionId: t.arg.id({ required: true, description: 'Session id.' }) },
    resolve: (_root, { sessionId }, ctx) => ctx.services.sessions.reissueCredentials(viewerOf(ctx), String(sessionId)),
  }),
);
