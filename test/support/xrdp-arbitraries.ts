import fc from 'fast-check';
import { COLOR_DEPTHS, DESKTOPS, type ServerConfiguration } from '../../src/domain/servers/server.js';
import type { InstanceIniInput, SesmanIniOptions } from '../../src/domain/xrdp/ini-render.js';
import { AUTHENTICATION_MODES, ENCRYPTION_LEVELS, LOG_LEVELS, type XrdpConfig } from '../../src/domain/xrdp/xrdp-config.js';

const PATH_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-'.split('');

/** A path segment of allowed characters that is not `..`. */
const segment = fc
  .array(fc.constantFrom(...PATH_CHARS), { minLength: 1, maxLength: 40 })
  .map((cs) => cs.join(''))
  .filter((s) => s !== '..');

/** Absolute paths the allow-list accepts: `/`, segments of [A-Za-z0-9._-], at most 255 bytes. */
export const allowedPath: fc.Arbitrary<string> = fc
  .tuple(fc.array(segment, { minLength: 0, maxLength: 12 }), fc.boolean())
  .map(([segments, trailingSlash]) => `/${segments.join('/')}${trailingSlash && segments.length > 0 ? '/' : ''}`)
  .filter((p) => p.length <= 255);

/** Every valid configuration, idleTimeout strictly below sessionTimeout. */
export const validXrdpConfig: fc.Arbitrary<XrdpConfig> = fc
  .record({
    port: fc.integer({ min: 1024, max: 65535 }),
    useTls: fc.boolean(),
    certificatePath: allowedPath,
    keyPath: allowedPath,
    logLevel: fc.constantFrom(...LOG_LEVELS),
    maxConnections: fc.integer({ min: 1, max: 1000 }),
    authentication: fc.constantFrom(...AUTHENTICATION_MODES),
    sessionTimeout: fc.integer({ min: 300, max: 86400 }),
    idleFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    encryptionLevel: fc.constantFrom(...ENCRYPTION_LEVELS),
    compression: fc.boolean(),
    bitmapCache: fc.boolean(),
    glyphCache: fc.boolean(),
    maxBitmapCacheSize: fc.integer({ min: 1_000_000, max: 100_000_000 }),
  })
  .map((r) => {
    const idleMax = Math.min(7200, r.sessionTimeout - 1);
    const idleTimeout = Math.min(idleMax, 60 + Math.floor(r.idleFraction * (idleMax - 60 + 1)));
    return {
      global: {
        port: r.port,
        useTls: r.useTls,
        certificatePath: r.certificatePath,
        keyPath: r.keyPath,
        logLevel: r.logLevel,
        maxConnections: r.maxConnections,
      },
      security: {
        authentication: r.authentication,
        sessionTimeout: r.sessionTimeout,
        idleTimeout,
        encryptionLevel: r.encryptionLevel,
      },
      performance: {
        compression: r.compression,
        bitmapCache: r.bitmapCache,
        glyphCache: r.glyphCache,
        maxBitmapCacheSize: r.maxBitmapCacheSize,
      },
    };
  });

export const serverConfiguration: fc.Arbitrary<ServerConfiguration> = fc.record({
  desktop: fc.constantFrom(...DESKTOPS),
  resolution: fc.tuple(fc.integer({ min: 200, max: 8192 }), fc.integer({ min: 200, max: 8192 })).map(([w, h]) => `${w}x${h}`),
  colorDepth: fc.constantFrom(...COLOR_DEPTHS),
  audio: fc.boolean(),
  clipboard: fc.boolean(),
  driveRedirection: fc.boolean(),
  printerRedirection: fc.boolean(),
  maxSessions: fc.integer({ min: 1, max: 1000 }),
});

/** Loopback addresses as the runtime hands them out, plus any IPv4 address. */
export const address: fc.Arbitrary<string> = fc.oneof(fc.constantFrom('127.0.0.1', '127.0.0.2', '::1', 'localhost'), fc.ipV4());

export const instanceInput: fc.Arbitrary<InstanceIniInput> = fc.record({
  port: fc.integer({ min: 1024, max: 65535 }),
  loopbackOnly: fc.boolean(),
  certificatePath: allowedPath,
  keyPath: allowedPath,
  logFile: allowedPath,
  sesmanAddress: address,
  configuration: serverConfiguration,
  config: validXrdpConfig,
});

export const sesmanOptions: fc.Arbitrary<SesmanIniOptions> = fc.record({ listenAddress: address, logFile: allowedPath });
