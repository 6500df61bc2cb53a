import { builder } from '../builder.js';
import { DesktopEnum, ServerStatusEnum } from './server-type.js';

export const ServerConfigurationInput = builder.inputType('ServerConfigurationInput', {
  description: 'Session settings; omitted fields keep their current value (or the default on create).',
  fields: (t) => ({
    desktop: t.field({ type: DesktopEnum, required: false, description: 'Desktop environment (default XFCE).' }),
    resolution: t.string({ required: false, description: 'WxH, each side 200-8192 (default 1920x1080).' }),
    colorDepth: t.int({ required: false, description: '16, 24 or 32 (default 24).' }),
    audio: t.boolean({ required: false, description: 'Audio redirection (default on).' }),
    clipboard: t.boolean({ required: false, description: 'Clipboard sharing (default on).' }),
    driveRedirection: t.boolean({ required: false, description: 'Drive redirection (default off).' }),
    printerRedirection: t.boolean({ required: false, description: 'Printer redirection (default off).' }),
    maxSessions: t.int({ required: false, description: 'Most sessions at once (default 10).' }),
  }),
});

export const ServerResourcesInput = builder.inputType('ServerResourcesInput', {
  description: 'Resource limits; omitted fields keep their current value (or the default on create).',
  fields: (t) => ({
    cpuLimit: t.float({ required: false, description: 'CPU cores, 0.1-8.0 (default 2.0).' }),
    memoryLimitMb: t.int({ required: false, description: 'MB, 512-16384, multiple of 256 (default 4096).' }),
    diskLimitMb: t.int({ required: false, description: 'MB, 1024-102400, multiple of 256 (default 20480).' }),
    bandwidthMbps: t.int({ required: false, description: 'Mbps, 100-10000 (default 1000).' }),
  }),
});

export const CreateServerInput = builder.inputType('CreateServerInput', {
  description: 'A new RDP server; its port is allocated from the port range of the host it is placed on.',
  fields: (t) => ({
    hostId: t.string({
      required: false,
      description:
        'Place it on this host (it must be ONLINE and not draining). Without it: the ONLINE, non-draining host with the most free capacity (Host.freeCapacity), ties to the lower reported load, then the lower id.',
    }),
    name: t.string({ required: true, description: 'Display name, 1-255 characters after trimming.' }),
    description: t.string({ required: false, description: 'Free text, up to 1000 characters.' }),
    ownerId: t.string({ required: false, description: 'Owner user id (operators and admins only; default the caller).' }),
    configuration: t.field({ type: ServerConfigurationInput, required: false, description: 'Session settings.' }),
    resources: t.field({ type: ServerResourcesInput, required: false, description: 'Resource limits.' }),
  }),
});

export const UpdateServerInput = builder.inputType('UpdateServerInput', {
  description:
    'Changes to a server; configuration reaches a running xrdp instance on its next restart, cpuLimit and memoryLimitMb at once (where ServerResources.enforced).',
  fields: (t) => ({
    name: t.string({ required: false, description: 'Display name, 1-255 characters after trimming.' }),
    description: t.string({ required: false, description: 'Free text, up to 1000 characters.' }),
    configuration: t.field({ type: ServerConfigurationInput, required: false, description: 'Session settings.' }),
    resources: t.field({ type: ServerResourcesInput, required: false, description: 'Resource limits.' }),
  }),
});

export const ServerFilterInput = builder.inputType('ServerFilter', {
  description: 'Narrows a server list.',
  fields: (t) => ({
    status: t.field({ type: ServerStatusEnum, required: false, description: 'Only servers in this status.' }),
    ownerId: t.string({ required: false, description: 'Only servers of this owner.' }),
  }),
});
