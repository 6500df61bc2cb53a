import { HOST_STATUSES, type Host, type HostCapacity, type HostUsage, type PortRange } from '../../src/domain/hosts/host.js';
import { type HostRefusal, PLACEMENT_REASONS, PlacementError } from '../../src/domain/hosts/host-errors.js';
import type { HostEvent } from '../../src/domain/hosts/host-events.js';
import type { HostLoad } from '../../src/domain/hosts/host-placement.js';
import { builder } from '../builder.js';
import type { GraphQLContext } from '../context.js';
import { ErrorInterface } from '../errors.js';

const STATUS_DESCRIPTIONS: Record<(typeof HOST_STATUSES)[number], string> = {
  ONLINE: 'Heartbeating and not draining: new servers and sessions may be placed here.',
  OFFLINE: 'No heartbeat for 3 heartbeat intervals (draining or not); its servers are kept and shown, nothing new goes here.',
  DRAINING: 'Online, but an admin set drain: running servers and sessions continue, nothing new goes here.',
};

export const HostStatusEnum = builder.enumType('HostStatus', {
  description: 'Whether a host takes new servers and sessions.',
  values: Object.fromEntries(HOST_STATUSES.map((s) => [s, { value: s, description: STATUS_DESCRIPTIONS[s] }])) as Record<
    (typeof HOST_STATUSES)[number],
    { value: (typeof HOST_STATUSES)[number]; description: string }
  >,
});

const HostLabelRef = builder.objectRef<{ key: string; value: string }>('HostLabel').implement({
  description: 'A key=value label the agent reports for its host (e.g. zone=eu-1a).',
  fields: (t) => ({
    key: t.exposeString('key', { description: 'Label key.' }),
    value: t.exposeString('value', { description: 'Label value (may be empty).' }),
  }),
});

const PortRangeRef = builder.objectRef<PortRange>('PortRange').implement({
  description: 'The RDP ports a host hands to its servers (3389 never).',
  fields: (t) => ({
    from: t.exposeInt('from', { description: 'First port.' }),
    to: t.exposeInt('to', { description: 'Last port.' }),
  }),
});

const HostCapacityRef = builder.objectRef<HostCapacity>('HostCapacity').implement({
  description: 'What a host can take, as its agent reports it.',
  fields: (t) => ({
    maxServers: t.exposeInt('maxServers', {
      description: 'Most servers placed on the host at once; enforced exactly (with its number of free ports).',
    }),
    cpuCount: t.exposeInt('cpuCount', { description: 'CPU cores. Informational: placement does not reserve CPU.' }),
    memoryMb: t.exposeInt('memoryMb', { description: 'Memory in MB. Informational: placement does not reserve memory.' }),
  }),
});

const HostUsageRef = builder.objectRef<HostUsage>('HostUsage').implement({
  description: 'The load the host reported with its latest heartbeat.',
  fields: (t) => ({
    cpuPercent: t.exposeFloat('cpuPercent', { description: 'CPU use of the whole host, 0-100.' }),
    memoryPercent: t.exposeFloat('memoryPercent', { description: 'Memory use of the whole host, 0-100.' }),
    at: t.expose('at', { type: 'DateTime', description: 'When it was measured.' }),
  }),
});

/** One count per host and operation, however many of its load fields are selected. */
const loads = new WeakMap<GraphQLContext, Map<string, Promise<HostLoad>>>();
function loadOf(host: Host, ctx: GraphQLContext): Promise<HostLoad> {
  let byHost = loads.get(ctx);
  if (!byHost) {
    byHost = new Map();
    loads.set(ctx, byHost);
  }
  let load = byHost.get(host.id);
  if (!load) {
    load = ctx.services.hosts.load(host);
    byHost.set(host.id, load);
  }
  return load;
}

export const HostRef = builder.objectRef<Host>('Host').implement({
  description:
    'An RDP host: a machine whose agent runs the xrdp instances of the servers placed on it. Visible to operators and admins.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Host id (HOST_ID of its agent): 1-63 lowercase letters, digits or hyphens.' }),
    name: t.exposeString('name', { description: 'Display name the agent reports (its machine name by default).' }),
    labels: t.field({
      type: [HostLabelRef],
      description: 'Labels the agent reports, by key.',
      resolve: (h) =>
        Object.entries(h.labels)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([key, value]) => ({ key, value })),
    }),
    status: t.field({
      type: HostStatusEnum,
      description: 'ONLINE, OFFLINE or DRAINING, as of now.',
      resolve: (h, _args, ctx) => ctx.services.hosts.statusOf(h),
    }),
    draining: t.exposeBoolean('draining', {
      description: 'Set by an admin (setHostDrain); stays set while the host is OFFLINE.',
    }),
    drainDeadline: t.field({
      type: 'DateTime',
      nullable: true,
      description:
        'The deadline of its drain (setHostDrain with deadline): its servers drain with it and end their sessions then. Null when draining without one, or not draining.',
      resolve: (h) => h.drainDeadline?.deadline ?? null,
    }),
    drainStopsServers: t.boolean({
      description: "Whether its servers stop at the drain's deadline (setHostDrain stopServers).",
      resolve: (h) => h.drainDeadline?.stopServers ?? false,
    }),
    lastHeartbeatAt: t.expose('lastHeartbeatAt', {
      type: 'DateTime',
      nullable: true,
      description: 'The latest heartbeat (or registration) of its agent.',
    }),
    agentVersion: t.exposeString('agentVersion', { description: 'Version of the agent that last registered.' }),
    rdpAddress: t.exposeString('rdpAddress', {
      description: 'What RDP clients connect to for servers placed on this host (copied to each new server as `host`).',
    }),
    portRange: t.expose('portRange', { type: PortRangeRef, description: 'Ports of its servers.' }),
    capacity: t.expose('capacity', { type: HostCapacityRef, description: 'What it can take.' }),
    usage: t.expose('usage', {
      type: HostUsageRef,
      nullable: true,
      description: 'The load reported with the latest heartbeat; null until one carried a reading.',
    }),
    serverCount: t.int({
      description: 'Servers placed on the host (each holds one of its ports), creations in progress included.',
      resolve: async (h, _args, ctx) => (await loadOf(h, ctx)).servers,
    }),
    freeCapacity: t.int({
      description:
        'Servers it can still take: min(capacity.maxServers, usable ports) minus serverCount. Placement without a hostId picks the ONLINE host with the most.',
      resolve: async (h, _args, ctx) => (await loadOf(h, ctx)).free,
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When its agent first registered.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the record last changed.' }),
  }),
});

export const HostEventKindEnum = builder.enumType('HostEventKind', {
  description: 'What happened to a host.',
  values: {
    SNAPSHOT: { description: 'The state when the subscription started (or after a resync).' },
    REGISTERED: { description: 'Its agent registered for the first time.' },
    UPDATED: { description: 'Its agent registered again and reported different facts (name, labels, ports, capacity...).' },
    STATUS_CHANGED: { description: 'It came online, went OFFLINE, or its drain flag changed.' },
    HEARTBEAT: { description: 'A heartbeat: new lastHeartbeatAt and usage.' },
  } as const,
});

export type HostEventShape = Omit<HostEvent, 'kind' | 'status'> & { kind: HostEvent['kind'] | 'SNAPSHOT' };

export const HostEventRef = builder.objectRef<HostEventShape>('HostEvent').implement({
  description: 'A change to one host.',
  fields: (t) => ({
    kind: t.expose('kind', { type: HostEventKindEnum, description: 'What happened.' }),
    host: t.expose('host', { type: HostRef, description: 'The host after the change.' }),
    at: t.expose('at', { type: 'DateTime', description: 'When it happened.' }),
  }),
});

const PlacementReasonEnum = builder.enumType('PlacementReason', {
  description: 'Why a host could not take a new server.',
  values: Object.fromEntries(
    PLACEMENT_REASONS.map((r) => [
      r,
      {
        value: r,
        description: {
          OFFLINE: 'No heartbeat for 3 heartbeat intervals.',
          DRAINING: 'An admin set drain on it.',
          PORTS_EXHAUSTED: 'Every port of its range is held by a server.',
          AT_CAPACITY: 'It has capacity.maxServers servers.',
        }[r],
      },
    ]),
  ) as Record<(typeof PLACEMENT_REASONS)[number], { value: (typeof PLACEMENT_REASONS)[number]; description: string }>,
});

const HostRefusalRef = builder.objectRef<HostRefusal>('HostRefusal').implement({
  description: 'One host placement considered, and why it could not take the server.',
  fields: (t) => ({
    hostId: t.exposeString('hostId', { description: 'The host.' }),
    reason: t.expose('reason', { type: PlacementReasonEnum, description: 'Why not, for programs.' }),
    detail: t.exposeString('detail', { description: 'Why not, for people, with the figures.' }),
  }),
});

builder.objectType(PlacementError, {
  name: 'PlacementError',
  description:
    'No host could take the new server: every host considered (the one named by hostId, or every registered host), each with its reason. Empty when no host is registered.',
  interfaces: [ErrorInterface],
  isTypeOf: (v) => v instanceof PlacementError,
  fields: (t) => ({
    hosts: t.field({ type: [HostRefusalRef], description: 'Each host considered, by id.', resolve: (e) => [...e.hosts] }),
  }),
});
