import { ConflictError, RuntimeFailureError, RuntimeUnavailableError } from '../../src/domain/shared/errors.js';
import {
  XRDP_SERVICE_ACTIONS,
  XRDP_SERVICE_STATUSES,
  type XrdpServiceAction,
  type XrdpServiceInfo,
  type XrdpServiceStatus,
} from '../../src/domain/xrdp/xrdp-host.js';
import { builder } from '../builder.js';
import { viewerOf } from '../viewer.js';

const STATUS_DESCRIPTIONS: Record<XrdpServiceStatus, string> = {
  RUNNING: "The host's xrdp-sesman runs; logins can create sessions.",
  STOPPED: 'xrdp-sesman does not run; instances accept connections but logins fail.',
  ERROR: 'xrdp-sesman died or failed to start; see message.',
  NOT_INSTALLED: 'xrdp is not installed on this host.',
};

const ACTION_DESCRIPTIONS: Record<XrdpServiceAction, string> = {
  START: 'Start xrdp-sesman (a CONFLICT when it runs).',
  STOP: 'Stop xrdp-sesman and end every session it runs (a CONFLICT when it is stopped).',
  RESTART: 'Stop xrdp-sesman when it runs (ending its sessions), then start it.',
};

export const XrdpServiceStatusEnum = builder.enumType('XrdpServiceStatus', {
  description: "State of the host's xrdp service.",
  values: Object.fromEntries(XRDP_SERVICE_STATUSES.map((s) => [s, { value: s, description: STATUS_DESCRIPTIONS[s] }])) as Record<
    XrdpServiceStatus,
    { value: XrdpServiceStatus; description: string }
  >,
});

export const XrdpServiceActionEnum = builder.enumType('XrdpServiceAction', {
  description: "What to do with the host's xrdp service.",
  values: Object.fromEntries(XRDP_SERVICE_ACTIONS.map((a) => [a, { value: a, description: ACTION_DESCRIPTIONS[a] }])) as Record<
    XrdpServiceAction,
    { value: XrdpServiceAction; description: string }
  >,
});

export const XrdpServiceRef = builder.objectRef<XrdpServiceInfo>('XrdpService').implement({
  description:
    "The host's xrdp service: its one session manager (xrdp-sesman), shared by every RDP server on the host, and counts of what runs.",
  fields: (t) => ({
    status: t.expose('status', { type: XrdpServiceStatusEnum, description: 'State of xrdp-sesman.' }),
    version: t.exposeString('version', { nullable: true, description: 'The installed xrdp version (xrdp --version).' }),
    uptimeSeconds: t.exposeInt('uptimeSeconds', {
      nullable: true,
      description: 'Seconds since xrdp-sesman started, while RUNNING.',
    }),
    pid: t.exposeInt('pid', { nullable: true, description: 'Process id of xrdp-sesman, while RUNNING.' }),
    runningInstances: t.exposeInt('runningInstances', { description: 'RDP servers in status RUNNING.' }),
    liveSessions: t.exposeInt('liveSessions', {
      description: 'Sessions xrdp-sesman runs now (its X servers, connected or not).',
    }),
    message: t.exposeString('message', { nullable: true, description: 'Why the status is ERROR or NOT_INSTALLED.' }),
  }),
});

builder.queryField('xrdpService', (t) =>
  t.field({
    type: XrdpServiceRef,
    description: "Status of the host's xrdp service (operators and admins).",
    authScopes: { operator: true },
    resolve: (_root, _args, ctx) => ctx.services.xrdpHost.status(viewerOf(ctx)),
  }),
);

builder.mutationField('controlXrdpService', (t) =>
  t.field({
    type: XrdpServiceRef,
    description: "Starts, stops or restarts the host's xrdp-sesman (admins only).",
    authScopes: { admin: true },
    errors: {
      types: [ConflictError, RuntimeUnavailableError, RuntimeFailureError],
      union: { name: 'ControlXrdpServiceResult', description: 'Outcome of controlXrdpService.' },
      result: { name: 'ControlXrdpServiceSuccess', description: 'controlXrdpService succeeded.' },
      dataField: { name: 'service', description: 'The service after the action.' },
    },
    args: { action: t.arg({ type: XrdpServiceActionEnum, required: true, description: 'What to do.' }) },
    resolve: (_root, { action }, ctx) => ctx.services.xrdpHost.control(viewerOf(ctx), action),
  }),
);
