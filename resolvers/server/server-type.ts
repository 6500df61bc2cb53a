import {
  COLOR_DEPTHS,
  DESKTOPS,
  type RdpServer,
  SERVER_STATUSES,
  type ServerConfiguration,
  type ServerDrain,
  type ServerResources,
  uptimeSeconds,
} from '../../src/domain/servers/server.js';
import type { DrainNotice } from '../../src/domain/servers/server-drain.js';
import type { ServerEvent } from '../../src/domain/servers/server-events.js';
import { builder } from '../builder.js';

const STATUS_DESCRIPTIONS: Record<(typeof SERVER_STATUSES)[number], string> = {
  STOPPED: 'Not running (the state of a new server).',
  STARTING: 'The xrdp instance is starting.',
  RUNNING: 'Accepting RDP connections.',
  STOPPING: 'The xrdp instance is stopping.',
  ERROR: 'The process died or a start failed; see statusMessage.',
  MAINTENANCE:
    'Set by an admin; hides the status it had (it comes back when maintenance ends). No new sessions; only an admin may start, stop or restart it meanwhile, and deleting it needs force.',
};

export const ServerStatusEnum = builder.enumType('ServerStatus', {
  description: 'Lifecycle of an RDP server.',
  values: Object.fromEntries(SERVER_STATUSES.map((s) => [s, { value: s, description: STATUS_DESCRIPTIONS[s] }])) as Record<
    (typeof SERVER_STATUSES)[number],
    { value: (typeof SERVER_STATUSES)[number]; description: string }
  >,
});

export const DesktopEnum = builder.enumType('Desktop', {
  description: 'Desktop environment started in each session.',
  values: Object.fromEntries(DESKTOPS.map((d) => [d.toUpperCase(), { value: d, description: `The ${d} desktop.` }])) as Record<
    string,
    { value: (typeof DESKTOPS)[number]; description: string }
  >,
});

export const ServerConfigurationRef = builder.objectRef<ServerConfiguration>('ServerConfiguration').implement({
  description: 'How sessions on the server look and what they may redirect.',
  fields: (t) => ({
    desktop: t.expose('desktop', { type: DesktopEnum, description: 'Desktop environment.' }),
    resolution: t.exposeString('resolution', { description: 'Default resolution, WxH.' }),
    colorDepth: t.exposeInt('colorDepth', { description: `Bits per pixel: ${COLOR_DEPTHS.join(', ')}.` }),
    audio: t.exposeBoolean('audio', { description: 'Audio redirection.' }),
    clipboard: t.exposeBoolean('clipboard', { description: 'Clipboard sharing.' }),
    driveRedirection: t.exposeBoolean('driveRedirection', { description: 'Client drive redirection.' }),
    printerRedirection: t.exposeBoolean('printerRedirection', { description: 'Client printer redirection.' }),
    maxSessions: t.exposeInt('maxSessions', { description: 'Most sessions this server admits at once.' }),
  }),
});

export const ServerResourcesRef = builder.objectRef<ServerResources>('ServerResources').implement({
  description:
    "Resource limits of the server. cpuLimit and memoryLimitMb bind where `enforced` is true: the server's xrdp and its sessions' processes run in a cgroup with those limits, so the kernel throttles CPU and refuses memory past them.",
  fields: (t) => ({
    cpuLimit: t.exposeFloat('cpuLimit', {
      description:
        'CPU cores, 0.1 to 8.0, for the xrdp instance and all its sessions together (a CFS quota; see `enforced`). A change reaches a running server at once.',
    }),
    memoryLimitMb: t.exposeInt('memoryLimitMb', {
      description:
        'Memory in MB, 512 to 16384, a multiple of 256, for the instance and all its sessions together: an allocation past it is refused by the kernel (the process is OOM-killed); see `enforced`. A change reaches a running server at once, and one below what it uses now is refused.',
    }),
    diskLimitMb: t.exposeInt('diskLimitMb', {
      description:
        'Disk in MB, 1024 to 102400, a multiple of 256. Checked against the per-server limits; not enforced on the host.',
    }),
    bandwidthMbps: t.exposeInt('bandwidthMbps', {
      description: 'Bandwidth in Mbps, 100 to 10000. Checked against the per-server limits; not enforced on the host.',
    }),
    enforced: t.boolean({
      description:
        'Whether cpuLimit, memoryLimitMb and the per-session CPU and memory limits bind on this host (cgroup v2, or v1, writable by the service). False where they cannot (no writable cgroup cpu and memory controllers, or the service is not root): the values are then recorded only; notEnforcedReason says why.',
      resolve: async (_r, _args, ctx) => (await ctx.services.servers.enforcementCapability()).enforced,
    }),
    enforcedBy: t.string({
      nullable: true,
      description: 'What enforces the limits (`cgroup v1` or `cgroup v2`); null when nothing does.',
      resolve: async (_r, _args, ctx) => (await ctx.services.servers.enforcementCapability()).mechanism,
    }),
    notEnforcedReason: t.string({
      nullable: true,
      description: 'Why the limits do not bind on this host; null when they do.',
      resolve: async (_r, _args, ctx) => (await ctx.services.servers.enforcementCapability()).reason,
    }),
  }),
});

export const DrainOriginEnum = builder.enumType('DrainOrigin', {
  description: 'What started a drain.',
  values: {
    SERVER: { description: 'drainServer on this server.' },
    HOST: { description: "Its host's drain with a deadline (setHostDrain); it ends with the host's drain." },
  } as const,
});

export const ServerDrainRef = builder.objectRef<ServerDrain>('ServerDrain').implement({
  description:
    'A drain of a server: from its start no new sessions are admitted there; ACTIVE sessions get DRAIN_NOTICE events counting down; at the deadline the sessions left are ended (reason DRAINED) and, with stopServer, the server stops. It lasts until cancelServerDrain, after the deadline too.',
  fields: (t) => ({
    origin: t.expose('origin', { type: DrainOriginEnum, description: 'What started it.' }),
    deadline: t.expose('deadline', { type: 'DateTime', description: 'When the sessions left are ended.' }),
    stopServer: t.exposeBoolean('stopServer', { description: 'Whether the server stops at the deadline.' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', description: 'When it started (or was rescheduled).' }),
    startedBy: t.exposeString('startedBy', {
      description: 'User id of who started it (for a HOST drain: the admin who drained the host).',
    }),
    completedAt: t.expose('completedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When the deadline action finished (sessions ended, server stopped); null before.',
    }),
  }),
});

export const DrainNoticeRef = builder.objectRef<DrainNotice>('DrainNotice').implement({
  description: "A drain's countdown, carried by the drain kinds of serverEvents and sessionEvents.",
  fields: (t) => ({
    serverId: t.exposeID('serverId', { description: 'The draining server.' }),
    deadline: t.expose('deadline', { type: 'DateTime', description: 'When its sessions are ended.' }),
    secondsLeft: t.exposeInt('secondsLeft', { description: 'Whole seconds from the event to the deadline (0 at and after it).' }),
    stopServer: t.exposeBoolean('stopServer', { description: 'Whether the server stops at the deadline.' }),
  }),
});

export const RdpServerRef = builder.objectRef<RdpServer>('RdpServer').implement({
  description: 'One xrdp instance on a host.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'UUID of the server.' }),
    name: t.exposeString('name', { description: 'Display name, 1-255 characters.' }),
    description: t.exposeString('description', { description: 'Free text, up to 1000 characters.' }),
    owner: t.exposeString('owner', { description: 'User id of the owner.' }),
    createdBy: t.exposeString('createdBy', { description: 'User id of the creator.' }),
    status: t.expose('status', { type: ServerStatusEnum, description: 'Lifecycle status.' }),
    statusMessage: t.exposeString('statusMessage', {
      nullable: true,
      description: 'Why the server is in ERROR, when it is.',
    }),
    hostId: t.exposeString('hostId', {
      description: 'Id of the host the server is placed on (see `placement`); servers from before hosts existed are on HOST_ID.',
    }),
    host: t.exposeString('host', { description: 'Host name RDP clients connect to (the rdpAddress of its host at creation).' }),
    port: t.exposeInt('port', {
      description: 'RDP port on its host, allocated at creation and kept for life; unique per host, not across hosts.',
    }),
    configuration: t.expose('configuration', { type: ServerConfigurationRef, description: 'Session settings.' }),
    resources: t.expose('resources', { type: ServerResourcesRef, description: 'Resource limits.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was created.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When it last changed.' }),
    lastStartedAt: t.expose('lastStartedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When it last started.',
    }),
    lastStoppedAt: t.expose('lastStoppedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When it last stopped.',
    }),
    draining: t.boolean({
      description: 'Whether the server drains: no new sessions are admitted (SERVER_DRAINING), whatever its status; see `drain`.',
      resolve: (s) => s.drain !== null,
    }),
    drainDeadline: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'While it drains: when its sessions are (or were) ended.',
      resolve: (s) => s.drain?.deadline ?? null,
    }),
    drain: t.expose('drain', {
      type: ServerDrainRef,
      nullable: true,
      description: 'The drain in force, null when none.',
    }),
    uptimeSeconds: t.int({
      nullable: true,
      description: 'Seconds since the last start, while RUNNING.',
      resolve: (s) => uptimeSeconds(s, new Date()),
    }),
  }),
});

export const ServerEventKindEnum = builder.enumType('ServerEventKind', {
  description: 'What happened to a server.',
  values: {
    SNAPSHOT: { description: 'The state when the subscription started.' },
    CREATED: { description: 'The server was created.' },
    UPDATED: { description: 'Its settings changed.' },
    STATUS_CHANGED: { description: 'Its status changed.' },
    DELETED: { description: 'It was deleted; the stream ends.' },
    DRAIN_STARTED: { description: 'A drain started or was rescheduled (`drain` has the countdown).' },
    DRAIN_NOTICE: { description: 'A countdown step of its drain (DRAIN_NOTICE_SECONDS; `drain` has the seconds left).' },
    DRAINED: { description: "Its drain's deadline came: the sessions left were ended (and, with stopServer, it stopped)." },
    DRAIN_CANCELLED: { description: 'Its drain was cancelled: it takes new sessions again.' },
  } as const,
});

export type ServerEventShape = Omit<ServerEvent, 'kind'> & { kind: ServerEvent['kind'] | 'SNAPSHOT' };

export const ServerEventRef = builder.objectRef<ServerEventShape>('ServerEvent').implement({
  description: 'A change to one server.',
  fields: (t) => ({
    kind: t.expose('kind', { type: ServerEventKindEnum, description: 'What happened.' }),
    server: t.expose('server', { type: RdpServerRef, description: 'The server as it is after the change.' }),
    at: t.expose('at', { type: 'DateTime', description: 'When it happened.' }),
    drain: t.field({
      type: DrainNoticeRef,
      nullable: true,
      description: 'The countdown, on DRAIN_STARTED, DRAIN_NOTICE, DRAINED and DRAIN_CANCELLED; null otherwise.',
      resolve: (e) => e.drain ?? null,
    }),
  }),
});
