import { builder } from '../builder.js';
import { CredentialModeEnum, SessionStatusEnum } from './session-type.js';

export const ClientInfoInput = builder.inputType('ClientInfoInput', {
  description: 'What the client says about itself.',
  fields: (t) => ({
    clientName: t.string({ required: false, description: 'Client name, up to 255 characters.' }),
    clientVersion: t.string({ required: false, description: 'Client version, up to 50 characters.' }),
    clientIp: t.string({ required: false, description: 'Client IPv4 or IPv6 address.' }),
    resolution: t.string({ required: false, description: 'WxH, each side 200-8192.' }),
    colorDepth: t.int({ required: false, description: '16, 24 or 32.' }),
  }),
});

export const CreateSessionInput = builder.inputType('CreateSessionInput', {
  description: 'A request to be admitted onto a running server.',
  fields: (t) => ({
    serverId: t.id({ required: true, description: 'Server to admit onto.' }),
    clientInfo: t.field({ type: ClientInfoInput, required: false, description: 'About the client.' }),
    credentialMode: t.field({
      type: CredentialModeEnum,
      required: false,
      description: 'How to log in (default EPHEMERAL when the service runs as root, else HOST_ACCOUNT).',
    }),
  }),
});

export const SessionFilterInput = builder.inputType('SessionFilter', {
  description: 'Narrows a session list.',
  fields: (t) => ({
    serverId: t.id({ required: false, description: 'Only sessions on this server.' }),
    userId: t.string({ required: false, description: 'Only sessions of this user.' }),
    status: t.field({ type: SessionStatusEnum, required: false, description: 'Only sessions in this status.' }),
  }),
});
