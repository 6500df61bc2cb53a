import { ConflictError } from '../../src/domain/shared/errors.js';
import {
  AUTHENTICATION_MODES,
  ENCRYPTION_LEVELS,
  LOG_LEVELS,
  NO_EFFECT_FIELDS,
  type XrdpConfig,
  type XrdpConfigVersion,
} from '../../src/domain/xrdp/xrdp-config.js';
import { MAX_XRDP_CONFIG_HISTORY } from '../../src/domain/xrdp/xrdp-config-service.js';
import { builder } from '../builder.js';
import { viewerOf } from '../viewer.js';

/** GraphQL enum values are upper case; the domain keeps xrdp's spelling. */
function upperEnum<T extends string>(values: readonly T[], describe: (v: T) => string) {
  return Object.fromEntries(values.map((v) => [v.toUpperCase(), { value: v, description: describe(v) }])) as Record<
    string,
    { value: T; description: string }
  >;
}

const LOG_LEVEL_DESCRIPTIONS: Record<(typeof LOG_LEVELS)[number], string> = {
  DEBUG: 'Everything, for troubleshooting.',
  INFO: 'Connections, logins and other normal events.',
  WARN: 'Problems xrdp recovered from, and worse.',
  ERROR: 'Failures only.',
};

export const XrdpLogLevelEnum = builder.enumType('XrdpLogLevel', {
  description: 'How much xrdp and sesman write to their logs.',
  values: upperEnum(LOG_LEVELS, (v) => LOG_LEVEL_DESCRIPTIONS[v]),
});

export const XrdpAuthenticationEnum = builder.enumType('XrdpAuthentication', {
  description: 'How users prove who they are.',
  values: upperEnum(AUTHENTICATION_MODES, (v) =>
    v === 'both' ? 'A password and a client certificate.' : `A ${v === 'password' ? 'password' : 'client certificate'}.`,
  ),
});

export const XrdpEncryptionLevelEnum = builder.enumType('XrdpEncryptionLevel', {
  description: "Minimum encryption for classic RDP security (xrdp's crypt_level).",
  values: upperEnum(ENCRYPTION_LEVELS, (v) => `crypt_level=${v}.`),
});

/** Why a field no xrdp key carries is deprecated; writes that change it are refused. */
const noEffect = (field: keyof typeof NO_EFFECT_FIELDS) =>
  `No effect: ${NO_EFFECT_FIELDS[field]}. Changing it is refused (BAD_USER_INPUT); it will be removed.`;

const XrdpGlobalConfigRef = builder.objectRef<XrdpConfig['global']>('XrdpGlobalConfig').implement({
  description: 'Listener, TLS and logging settings.',
  fields: (t) => ({
    port: t.exposeInt('port', {
      description: 'Not used: each server listens on its own port.',
      deprecationReason: noEffect('global.port'),
    }),
    useTls: t.exposeBoolean('useTls', { description: 'Require TLS (security_layer=tls) instead of negotiating.' }),
    certificatePath: t.exposeString('certificatePath', {
      nullable: true,
      description:
        'Absolute path of the PEM certificate every xrdp instance presents (xrdp.ini certificate=); null: each instance generates its own self-signed certificate.',
    }),
    keyPath: t.exposeString('keyPath', {
      nullable: true,
      description: 'Absolute path of the PEM private key of certificatePath (key_file=); null with certificatePath.',
    }),
    logLevel: t.expose('logLevel', { type: XrdpLogLevelEnum, description: 'Log level of xrdp and sesman.' }),
    maxConnections: t.exposeInt('maxConnections', { description: 'Most sessions sesman runs at once, 1-1000.' }),
  }),
});

const XrdpSecurityConfigRef = builder.objectRef<XrdpConfig['security']>('XrdpSecurityConfig').implement({
  description: 'Authentication, timeouts and encryption.',
  fields: (t) => ({
    authentication: t.expose('authentication', {
      type: XrdpAuthenticationEnum,
      description: 'Not used: xrdp authenticates by password.',
      deprecationReason: noEffect('security.authentication'),
    }),
    sessionTimeout: t.exposeInt('sessionTimeout', {
      description:
        "Seconds sesman keeps a disconnected session before ending it (sesman.ini DisconnectedTimeLimit), 300-86400. The API's own maximum session duration is SESSION_TIMEOUT.",
    }),
    idleTimeout: t.exposeInt('idleTimeout', {
      description: 'Seconds of inactivity before sesman disconnects a session (IdleTimeLimit), 60-7200.',
    }),
    encryptionLevel: t.expose('encryptionLevel', {
      type: XrdpEncryptionLevelEnum,
      description: 'Minimum classic RDP encryption level.',
    }),
  }),
});

const XrdpPerformanceConfigRef = builder.objectRef<XrdpConfig['performance']>('XrdpPerformanceConfig').implement({
  description: 'Compression and caches.',
  fields: (t) => ({
    compression: t.exposeBoolean('compression', { description: 'Bitmap and bulk compression.' }),
    bitmapCache: t.exposeBoolean('bitmapCache', { description: 'Bitmap cache.' }),
    glyphCache: t.exposeBoolean('glyphCache', {
      description: 'Not used by xrdp.',
      deprecationReason: noEffect('performance.glyphCache'),
    }),
    maxBitmapCacheSize: t.exposeInt('maxBitmapCacheSize', {
      description: 'Not used by xrdp.',
      deprecationReason: noEffect('performance.maxBitmapCacheSize'),
    }),
  }),
});

const XrdpConfigRef = builder.objectRef<XrdpConfig>('XrdpConfig').implement({
  description: 'The host-wide xrdp settings, rendered into xrdp.ini and sesman.ini.',
  fields: (t) => ({
    global: t.expose('global', { type: XrdpGlobalConfigRef, description: 'Listener, TLS and logging.' }),
    security: t.expose('security', { type: XrdpSecurityConfigRef, description: 'Authentication and timeouts.' }),
    performance: t.expose('performance', {
      type: XrdpPerformanceConfigRef,
      description: 'Compression and caches.',
    }),
  }),
});

const XrdpConfigVersionRef = builder.objectRef<XrdpConfigVersion>('XrdpConfigVersion').implement({
  description: 'One version of the xrdp configuration; every change makes a new one.',
  fields: (t) => ({
    version: t.exposeInt('version', { description: 'Version number; 0 is the built-in defaults.' }),
    config: t.expose('config', { type: XrdpConfigRef, description: 'The settings of this version.' }),
    updatedBy: t.exposeString('updatedBy', { description: 'User id of who made this version (system for version 0).' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When this version was made.' }),
  }),
});

const XrdpGlobalConfigInput = builder.inputType('XrdpGlobalConfigInput', {
  description: 'Listener, TLS and logging changes; omitted fields keep their value.',
  fields: (t) => ({
    port: t.int({
      required: false,
      description: 'Not used; only its current value is accepted.',
      deprecationReason: noEffect('global.port'),
    }),
    useTls: t.boolean({ required: false, description: 'Require TLS.' }),
    certificatePath: t.string({
      required: false,
      description:
        'PEM certificate for every instance: an absolute path of letters, digits, ., _, - and /, at most 255 bytes, no .. segment. Set with keyPath; both are read at once and must be readable by the service, PEM, and match (else BAD_USER_INPUT naming the field). Instances started afterwards present it. The empty string (for both) goes back to generated certificates.',
    }),
    keyPath: t.string({
      required: false,
      description: 'Unencrypted PEM private key of certificatePath, with the same path rules; the empty string clears it.',
    }),
    logLevel: t.field({ type: XrdpLogLevelEnum, required: false, description: 'Log level.' }),
    maxConnections: t.int({ required: false, description: 'Most sessions at once, 1-1000.' }),
  }),
});

const XrdpSecurityConfigInput = builder.inputType('XrdpSecurityConfigInput', {
  description: 'Authentication, timeout and encryption changes; omitted fields keep their value.',
  fields: (t) => ({
    authentication: t.field({
      type: XrdpAuthenticationEnum,
      required: false,
      description: 'Not used; only its current value is accepted.',
      deprecationReason: noEffect('security.authentication'),
    }),
    sessionTimeout: t.int({ required: false, description: 'Seconds, 300-86400.' }),
    idleTimeout: t.int({ required: false, description: 'Seconds, 60-7200, less than sessionTimeout.' }),
    encryptionLevel: t.field({ type: XrdpEncryptionLevelEnum, required: false, description: 'Minimum encryption level.' }),
  }),
});

const XrdpPerformanceConfigInput = builder.inputType('XrdpPerformanceConfigInput', {
  description: 'Compression and cache changes; omitted fields keep their value.',
  fields: (t) => ({
    compression: t.boolean({ required: false, description: 'Bitmap and bulk compression.' }),
    bitmapCache: t.boolean({ required: false, description: 'Bitmap cache.' }),
    glyphCache: t.boolean({
      required: false,
      description: 'Not used; only its current value is accepted.',
      deprecationReason: noEffect('performance.glyphCache'),
    }),
    maxBitmapCacheSize: t.int({
      required: false,
      description: 'Not used; only its current value is accepted.',
      deprecationReason: noEffect('performance.maxBitmapCacheSize'),
    }),
  }),
});

const UpdateXrdpConfigInput = builder.inputType('UpdateXrdpConfigInput', {
  description: 'Changes to the xrdp configuration, applied over the latest version; running instances get them on restart.',
  fields: (t) => ({
    global: t.field({ type: XrdpGlobalConfigInput, required: false, description: 'Listener, TLS and logging.' }),
    security: t.field({ type: XrdpSecurityConfigInput, required: false, description: 'Authentication and timeouts.' }),
    performance: t.field({ type: XrdpPerformanceConfigInput, required: false, description: 'Compression and caches.' }),
  }),
});

builder.queryField('xrdpConfig', (t) =>
  t.field({
    type: XrdpConfigVersionRef,
    description: 'The xrdp configuration in force (operators and admins).',
    authScopes: { operator: true },
    resolve: (_root, _args, ctx) => ctx.services.xrdpConfig.get(viewerOf(ctx)),
  }),
);

builder.queryField('xrdpConfigHistory', (t) =>
  t.field({
    type: [XrdpConfigVersionRef],
    description: 'Stored versions of the xrdp configuration, newest first (operators and admins).',
    authScopes: { operator: true },
    args: {
      last: t.arg.int({
        required: false,
        defaultValue: 20,
        description: `How many versions, 1-${MAX_XRDP_CONFIG_HISTORY} (default 20).`,
      }),
    },
    resolve: (_root, { last }, ctx) => ctx.services.xrdpConfig.history(viewerOf(ctx), last ?? 20),
  }),
);

builder.mutationField('updateXrdpConfig', (t) =>
  t.field({
    type: XrdpConfigVersionRef,
    description: 'Stores a new version of the xrdp configuration (admins only).',
    authScopes: { admin: true },
    errors: {
      types: [ConflictError],
      union: { name: 'UpdateXrdpConfigResult', description: 'Outcome of updateXrdpConfig.' },
      result: { name: 'UpdateXrdpConfigSuccess', description: 'updateXrdpConfig succeeded.' },
      dataField: { name: 'config', description: 'The new version.' },
    },
    args: { input: t.arg({ type: UpdateXrdpConfigInput, required: true, description: 'The changes.' }) },
    resolve: (_root, { input }, ctx) => ctx.services.xrdpConfig.update(viewerOf(ctx), input),
  }),
);
