import { ServerDrainingError } from '../src/domain/servers/server-drain.js';
import {
  ConflictError,
  LimitExceededError,
  NotFoundError,
  PortExhaustedError,
  RuntimeFailureError,
  RuntimeUnavailableError,
} from '../src/domain/shared/errors.js';
import { builder } from './builder.js';

/** The interface every expected failure in a result union implements. */
export const ErrorInterface = builder.interfaceRef<Error & { code: string }>('Error').implement({
  description: 'An expected failure, returned as a member of a result union.',
  fields: (t) => ({
    message: t.exposeString('message', { description: 'What went wrong, for people.' }),
    code: t.exposeString('code', { description: 'What went wrong, for programs (e.g. NOT_FOUND).' }),
  }),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  description: 'The object does not exist or is not visible to the caller.',
  interfaces: [ErrorInterface],
  isTypeOf: (v) => v instanceof NotFoundError,
  fields: (t) => ({
    entity: t.exposeString('entity', { description: 'The kind of object, e.g. server.' }),
    id: t.exposeString('id', { description: 'The id that was asked for.' }),
  }),
});

builder.objectType(ConflictError, {
  name: 'ConflictError',
  description: 'The request contradicts the current state of the object.',
  interfaces: [ErrorInterface],
  isTypeOf: (v) => v instanceof ConflictError,
});

builder.objectType(LimitExceededError, {
  name: 'LimitExceededError',
  description: 'A configured cap would be exceeded; the message names the cap and what changes it (also in `setting`).',
  interfaces: [ErrorInterface],
  isTypeOf: (v) => v instanceof LimitExceededError,
  fields: (t) => ({
    limit: t.exposeString('limit', { description: 'Which cap, e.g. maxServers.' }),
    max: t.exposeInt('max', { description: 'The cap in force.' }),
    setting: t.exposeString('setting', {
      nullable: true,
      description:
        'What changes the cap: the updateResourceLimits or updateServer field, and the environment variable behind its default.',
    }),
  }),
});

builder.objectType(PortExhaustedError, {
  name: 'PortExhaustedError',
  description: 'Every RDP port of the configured range is in use.',
  interfaces: [ErrorInterface],
  isTypeOf: (v) => v instanceof PortExhaustedError,
  fields: (t) => ({
    host: t.exposeString('host', { description: 'The host whose range is full.' }),
    from: t.exposeInt('from', { description: 'First port of the range.' }),
    to: t.exposeInt('to', { description: 'Last port of the range.' }),
  }),
});

builder.objectType(RuntimeUnavailableError, {
  name: 'RuntimeUnavailableError',
  description: 'This host cannot run RDP servers (e.g. xrdp is not installed).',
  interfaces: [ErrorInterface],
  isTypeOf: (v) => v instanceof RuntimeUnavailableError,
});

builder.objectType(RuntimeFailureError, {
  name: 'RuntimeFailureError',
  description: 'The RDP server process failed to start or stop.',
  interfaces: [ErrorInterface],
  isTypeOf: (v) => v instanceof RuntimeFailureError,
});

builder.objectType(ServerDrainingError, {
  name: 'ServerDrainingError',
  description:
    'The server drains (drainServer, or its host drains with a deadline): it admits no new sessions until the drain is cancelled.',
  interfaces: [ErrorInterface],
  isTypeOf: (v) => v instanceof ServerDrainingError,
  fields: (t) => ({
    serverId: t.exposeID('serverId', { description: 'The draining server.' }),
    deadline: t.expose('deadline', { type: 'DateTime', description: "The drain's deadline." }),
  }),
});

export const NOT_FOUND = [NotFoundError];
export const LIFECYCLE_ERRORS = [NotFoundError, ConflictError, RuntimeUnavailableError, RuntimeFailureError];
export const CREATE_SERVER_ERRORS = [LimitExceededError, PortExhaustedError];
