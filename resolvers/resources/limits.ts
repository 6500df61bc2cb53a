import type { ResourceLimits } from '../../src/domain/resources/resource-limits.js';
import type { ResourceLimitsVersion } from '../../src/domain/resources/resource-limits-store.js';
import { ConflictError } from '../../src/domain/shared/errors.js';
import { builder } from '../builder.js';
import { viewerOf } from '../viewer.js';

const GlobalLimitsRef = builder.objectRef<ResourceLimits['global']>('GlobalLimits').implement({
  description: 'Limits of the whole fleet and of each host.',
  fields: (t) => ({
    maxServers: t.exposeInt('maxServers', { description: 'Most RDP servers at once.' }),
    maxSessions: t.exposeInt('maxSessions', { description: 'Most live sessions at once.' }),
    maxTotalCpu: t.exposeInt('maxTotalCpu', { description: 'Host CPU percent above which starts and sessions are refused.' }),
    maxTotalMemory: t.exposeInt('maxTotalMemory', {
      description: 'Host memory percent above which starts and sessions are refused.',
    }),
    maxTotalDisk: t.exposeInt('maxTotalDisk', { description: 'Host disk percent (informational).' }),
  }),
});

const PerServerLimitsRef = builder.objectRef<ResourceLimits['perServer']>('PerServerLimits').implement({
  description: "Caps of each server's resources.",
  fields: (t) => ({
    maxCpu: t.exposeInt('maxCpu', {
      description:
        "CPU percent. Recorded only: not enforced and not checked against a server's cpuLimit (which binds on its own; see ServerResources.enforced).",
    }),
    maxMemoryMb: t.exposeInt('maxMemoryMb', { description: 'Largest memoryLimitMb a server may have.' }),
    maxDiskMb: t.exposeInt('maxDiskMb', { description: 'Largest diskLimitMb a server may have.' }),
    maxBandwidthMbps: t.exposeInt('maxBandwidthMbps', { description: 'Largest bandwidthMbps a server may have.' }),
  }),
});

const PerSessionLimitsRef = builder.objectRef<ResourceLimits['perSession']>('PerSessionLimits').implement({
  description: 'Caps of each session.',
  fields: (t) => ({
    maxCpu: t.exposeInt('maxCpu', {
      description:
        "Percent of the host's CPU (all cores, as session samples measure it) one logged-in session may use, within its server's cpuLimit. Enforced by a per-session cgroup where ServerResources.enforced is true; applies to sessions that log in after a change.",
    }),
    maxMemoryMb: t.exposeInt('maxMemoryMb', {
      description:
        "Memory in MB one logged-in session may use, within its server's memoryLimitMb: past it the kernel refuses (OOM-kills). Enforced where ServerResources.enforced is true; applies to sessions that log in after a change.",
    }),
    maxBandwidthMbps: t.exposeInt('maxBandwidthMbps', { description: 'Bandwidth in Mbps. Recorded only; not enforced.' }),
    maxDurationSeconds: t.exposeInt('maxDurationSeconds', { description: 'Longest a new session may last, seconds.' }),
  }),
});

const PerUserLimitsRef = builder.objectRef<ResourceLimits['perUser']>('PerUserLimits').implement({
  description: 'Caps of each user.',
  fields: (t) => ({
    maxSessions: t.exposeInt('maxSessions', { description: 'Most live sessions one user may hold.' }),
  }),
});

export const ResourceLimitsRef = builder.objectRef<ResourceLimitsVersion>('ResourceLimits').implement({
  description: 'The resource limits document the servers and sessions areas obey at admission; versioned.',
  fields: (t) => ({
    global: t.field({ type: GlobalLimitsRef, description: 'Fleet and host limits.', resolve: (v) => v.limits.global }),
    perServer: t.field({ type: PerServerLimitsRef, description: 'Per-server caps.', resolve: (v) => v.limits.perServer }),
    perSession: t.field({ type: PerSessionLimitsRef, description: 'Per-session caps.', resolve: (v) => v.limits.perSession }),
    perUser: t.field({ type: PerUserLimitsRef, description: 'Per-user caps.', resolve: (v) => v.limits.perUser }),
    version: t.exposeInt('version', { description: '0 while the defaults from the environment apply; +1 on every change.' }),
    updatedBy: t.exposeString('updatedBy', { description: 'User id of the last change (`system` for the defaults).' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When it last changed.' }),
  }),
});

const GlobalLimitsInput = builder.inputType('GlobalLimitsInput', {
  description: 'Fleet and host limits; omitted fields keep their value.',
  fields: (t) => ({
    maxServers: t.int({ required: false, description: '1-100000.' }),
    maxSessions: t.int({ required: false, description: '1-100000.' }),
    maxTotalCpu: t.int({ required: false, description: 'Percent, 1-100.' }),
    maxTotalMemory: t.int({ required: false, description: 'Percent, 1-100.' }),
    maxTotalDisk: t.int({ required: false, description: 'Percent, 1-100.' }),
  }),
});

const PerServerLimitsInput = builder.inputType('PerServerLimitsInput', {
  description: 'Per-server caps; omitted fields keep their value.',
  fields: (t) => ({
    maxCpu: t.int({ required: false, description: 'Percent, 1-100.' }),
    maxMemoryMb: t.int({ required: false, description: '512-16384.' }),
    maxDiskMb: t.int({ required: false, description: '1024-102400.' }),
    maxBandwidthMbps: t.int({ required: false, description: '100-10000.' }),
  }),
});

const PerSessionLimitsInput = builder.inputType('PerSessionLimitsInput', {
  description: 'Per-session caps; omitted fields keep their value.',
  fields: (t) => ({
    maxCpu: t.int({ required: false, description: 'Percent, 1-100.' }),
    maxMemoryMb: t.int({ required: false, description: '256-16384.' }),
    maxBandwidthMbps: t.int({ required: false, description: '1-10000.' }),
    maxDurationSeconds: t.int({ required: false, description: '300-86400.' }),
  }),
});

const PerUserLimitsInput = builder.inputType('PerUserLimitsInput', {
  description: 'Per-user caps; omitted fields keep their value.',
  fields: (t) => ({ maxSessions: t.int({ required: false, description: '1-100000.' }) }),
});

const UpdateResourceLimitsInput = builder.inputType('UpdateResourceLimitsInput', {
  description: 'Changes to the resource limits: any subset of the fields.',
  fields: (t) => ({
    global: t.field({ type: GlobalLimitsInput, required: false, description: 'Fleet and host limits.' }),
    perServer: t.field({ type: PerServerLimitsInput, required: false, description: 'Per-server caps.' }),
    perSession: t.field({ type: PerSessionLimitsInput, required: false, description: 'Per-session caps.' }),
    perUser: t.field({ type: PerUserLimitsInput, required: false, description: 'Per-user caps.' }),
    expectedVersion: t.int({
      required: false,
      description: 'The version the change is based on; a CONFLICT when the document changed since.',
    }),
  }),
});

builder.queryField('resourceLimits', (t) =>
  t.field({
    type: ResourceLimitsRef,
    description: 'The resource limits in force (operators and admins).',
    authScopes: { operator: true },
    resolve: (_root, _args, ctx) => ctx.services.limits.read(viewerOf(ctx)),
  }),
);

builder.mutationField('updateResourceLimits', (t) =>
  t.field({
    type: ResourceLimitsRef,
    description: 'Changes the resource limits (admins only, audited); new starts and sessions obey them at once.',
    authScopes: { admin: true },
    errors: {
      types: [ConflictError],
      union: { name: 'UpdateResourceLimitsResult', description: 'Outcome of updateResourceLimits.' },
      result: { name: 'UpdateResourceLimitsSuccess', description: 'updateResourceLimits succeeded.' },
      dataField: { name: 'limits', description: 'The limits after the change.' },
    },
    args: { input: t.arg({ type: UpdateResourceLimitsInput, required: true, description: 'The changes.' }) },
    resolve: (_root, { input }, ctx) => {
      const { expectedVersion, ...changes } = input;
      return ctx.services.limits.update(viewerOf(ctx), changes, expectedVersion ?? undefined);
    },
  }),
);
