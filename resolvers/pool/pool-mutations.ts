import type { ConnectResult } from '../../src/domain/pools/broker-service.js';
import { ServerDrainingError } from '../../src/domain/servers/server-drain.js';
import { ConflictError, LimitExceededError, NotFoundError } from '../../src/domain/shared/errors.js';
import { builder } from '../builder.js';
import { RdpServerRef } from '../server/server-type.js';
import { ClientInfoInput } from '../session/session-inputs.js';
import { ConnectionInfoRef, CredentialModeEnum, RdpSessionRef } from '../session/session-type.js';
import { viewerOf } from '../viewer.js';
import { AssignmentRef, AssignmentTargetTypeEnum, PlacementPolicyEnum, PoolRef, PrincipalTypeEnum } from './pool-type.js';

const CreatePoolInput = builder.inputType('CreatePoolInput', {
  description: 'A new pool.',
  fields: (t) => ({
    name: t.string({ required: true, description: 'Display name, 1-255 characters after trimming.' }),
    description: t.string({ required: false, description: 'Free text, up to 1000 characters.' }),
    placementPolicy: t.field({ type: PlacementPolicyEnum, required: false, description: 'Default BREADTH_FIRST.' }),
    maxSessions: t.int({ required: false, description: 'Session cap of the whole pool, 1-100000; omitted: none.' }),
    defaultCredentialMode: t.field({
      type: CredentialModeEnum,
      required: false,
      description: "Credential mode of sessions connect admits here; omitted: the service's default.",
    }),
  }),
});

const UpdatePoolInput = builder.inputType('UpdatePoolInput', {
  description: 'Changes to a pool; omitted fields keep their value.',
  fields: (t) => ({
    name: t.string({ required: false, description: 'Display name, 1-255 characters after trimming.' }),
    description: t.string({ required: false, description: 'Free text, up to 1000 characters.' }),
    placementPolicy: t.field({ type: PlacementPolicyEnum, required: false, description: 'Placement of new sessions.' }),
    maxSessions: t.int({
      required: false,
      description: 'Session cap, 1-100000. Lowering it below the live sessions ends none; new ones wait for room.',
    }),
    clearMaxSessions: t.boolean({ required: false, description: 'True: no pool cap (not with maxSessions).' }),
    defaultCredentialMode: t.field({
      type: CredentialModeEnum,
      required: false,
      description: 'Credential mode of new sessions.',
    }),
    clearDefaultCredentialMode: t.boolean({
      required: false,
      description: "True: the service's default mode (not with defaultCredentialMode).",
    }),
  }),
});

function poolResult(verb: string, types: (new (...args: never[]) => Error)[]) {
  return {
    types,
    union: { name: `${verb}PoolResult`, description: `Outcome of ${verb.toLowerCase()}Pool.` },
    result: { name: `${verb}PoolSuccess`, description: `${verb}Pool succeeded.` },
    dataField: { name: 'pool', description: 'The pool after the change (deletePool: as it was).' },
  };
}

builder.mutationField('createPool', (t) =>
  t.field({
    type: PoolRef,
    description: 'Creates a pool (operators and admins; audited as pool.create).',
    authScopes: { operator: true },
    errors: poolResult('Create', []),
    args: { input: t.arg({ type: CreatePoolInput, required: true, description: 'The new pool.' }) },
    resolve: (_root, { input }, ctx) => ctx.services.pools.create(viewerOf(ctx), input),
  }),
);

builder.mutationField('updatePool', (t) =>
  t.field({
    type: PoolRef,
    description: 'Changes a pool (operators and admins; audited as pool.update).',
    authScopes: { operator: true },
    errors: poolResult('Update', [NotFoundError, ConflictError]),
    args: {
      id: t.arg.id({ required: true, description: 'Pool id.' }),
      input: t.arg({ type: UpdatePoolInput, required: true, description: 'The changes.' }),
    },
    resolve: (_root, { id, input }, ctx) => ctx.services.pools.update(viewerOf(ctx), String(id), input),
  }),
);

builder.mutationField('deletePool', (t) =>
  t.field({
    type: PoolRef,
    description:
      'Deletes a pool and its assignments (operators and admins; audited as pool.delete). A pool with servers is a CONFLICT unless force, which takes them out of it first; their sessions go on.',
    authScopes: { operator: true },
    errors: poolResult('Delete', [NotFoundError, ConflictError]),
    args: {
      id: t.arg.id({ required: true, description: 'Pool id.' }),
      force: t.arg.boolean({ required: false, defaultValue: false, description: 'Take its servers out instead of refusing.' }),
    },
    resolve: (_root, { id, force }, ctx) => ctx.services.pools.delete(viewerOf(ctx), String(id), force ?? false),
  }),
);

builder.mutationField('setServerPool', (t) =>
  t.field({
    type: RdpServerRef,
    description:
      'Puts a server into a pool, or takes it out with poolId null (operators and admins; audited as server.pool). A server is in at most one pool; live sessions stay.',
    authScopes: { operator: true },
    errors: {
      types: [NotFoundError, ConflictError],
      union: { name: 'SetServerPoolResult', description: 'Outcome of setServerPool.' },
      result: { name: 'SetServerPoolSuccess', description: 'setServerPool succeeded.' },
      dataField: { name: 'server', description: 'The server after the change.' },
    },
    args: {
      serverId: t.arg.id({ required: true, description: 'Server id.' }),
      poolId: t.arg.id({ required: false, description: 'Pool id; null or omitted takes it out of its pool.' }),
    },
    resolve: (_root, { serverId, poolId }, ctx) =>
      ctx.services.servers.setPool(viewerOf(ctx), String(serverId), poolId == null ? null : String(poolId)),
  }),
);

const AssignInput = builder.inputType('AssignInput', {
  description: 'Who gets the use of what.',
  fields: (t) => ({
    principalType: t.field({ type: PrincipalTypeEnum, required: true, description: 'User or group.' }),
    principal: t.string({ required: true, description: 'User id (token subject) or group name, 1-255 characters.' }),
    targetType: t.field({ type: AssignmentTargetTypeEnum, required: true, description: 'Pool or server.' }),
    targetId: t.id({ required: true, description: 'Id of the pool or server (it must exist).' }),
  }),
});

builder.mutationField('assign', (t) =>
  t.field({
    type: AssignmentRef,
    description:
      'Gives a user or a group the use of a pool or a server (operators and admins; audited as assignment.create). The same principal and target twice is a CONFLICT.',
    authScopes: { operator: true },
    errors: {
      types: [NotFoundError, ConflictError],
      union: { name: 'AssignResult', description: 'Outcome of assign.' },
      result: { name: 'AssignSuccess', description: 'assign succeeded.' },
      dataField: { name: 'assignment', description: 'The new assignment.' },
    },
    args: { input: t.arg({ type: AssignInput, required: true, description: 'The assignment.' }) },
    resolve: (_root, { input }, ctx) => ctx.services.pools.assign(viewerOf(ctx), { ...input, targetId: String(input.targetId) }),
  }),
);

builder.mutationField('unassign', (t) =>
  t.field({
    type: AssignmentRef,
    description:
      'Takes an assignment away (operators and admins; audited as assignment.delete). Nothing running ends; the next connect or createSession of the user there is refused (NOT_FOUND).',
    authScopes: { operator: true },
    errors: {
      types: [NotFoundError],
      union: { name: 'UnassignResult', description: 'Outcome of unassign.' },
      result: { name: 'UnassignSuccess', description: 'unassign succeeded.' },
      dataField: { name: 'assignment', description: 'The assignment as it was.' },
    },
    args: { id: t.arg.id({ required: true, description: 'Assignment id.' }) },
    resolve: (_root, { id }, ctx) => ctx.services.pools.unassign(viewerOf(ctx), String(id)),
  }),
);

const ConnectSuccessRef = builder.objectRef<ConnectResult>('ConnectSuccess').implement({
  description: 'Where to connect: a new session, or the live one the caller already had there.',
  fields: (t) => ({
    session: t.expose('session', { type: RdpSessionRef, description: 'The session.' }),
    server: t.expose('server', { type: RdpServerRef, description: 'The server it runs on.' }),
    reconnected: t.exposeBoolean('reconnected', {
      description: 'True when this is a live session the caller already had there (nothing new was admitted).',
    }),
    connection: t.expose('connection', {
      type: ConnectionInfoRef,
      description:
        'How to connect, as createSession returns it. On a reconnect the password is null: the one-time password was shown once, at admission, and is not kept.',
    }),
    reason: t.exposeString('reason', { description: 'Why this server (or this session), as a sentence for people.' }),
  }),
});

const ConnectInput = builder.inputType('ConnectInput', {
  description: 'Where to connect: exactly one of poolId and serverId.',
  fields: (t) => ({
    poolId: t.id({ required: false, description: 'A pool assigned to the caller.' }),
    serverId: t.id({ required: false, description: 'A server the caller owns or is assigned.' }),
    credentialMode: t.field({
      type: CredentialModeEnum,
      required: false,
      description: "Mode of a new session; default the pool's defaultCredentialMode, then the service's.",
    }),
    clientInfo: t.field({ type: ClientInfoInput, required: false, description: 'About the client.' }),
  }),
});

builder.mutationField('connect', (t) =>
  t.field({
    type: ConnectSuccessRef,
    description:
      "The signed-in user's way to a desktop (audited as broker.connect). A live session of theirs in the pool (or on the server) is handed back, a DISCONNECTED one first (reconnected: true). Otherwise a new session is admitted under every cap of createSession (global, pool, server, user, host load) on the server the pool's placementPolicy picks among RUNNING servers that do not drain, on hosts that are ONLINE and not draining. A single server that drains answers ServerDrainingError. Another's pool or server answers NOT_FOUND.",
    authScopes: { authenticated: true },
    errors: {
      types: [NotFoundError, ConflictError, LimitExceededError, ServerDrainingError],
      directResult: true,
      union: { name: 'ConnectResult', description: 'Outcome of connect.' },
    },
    args: { input: t.arg({ type: ConnectInput, required: true, description: 'The target.' }) },
    resolve: (_root, { input }, ctx) =>
      ctx.services.broker.connect(
        viewerOf(ctx),
        {
          poolId: input.poolId == null ? undefined : String(input.poolId),
          serverId: input.serverId == null ? undefined : String(input.serverId),
        },
        {
          credentialMode: input.credentialMode ?? undefined,
          ...(input.clientInfo ? { clientInfo: input.clientInfo } : {}),
        },
      ),
  }),
);
