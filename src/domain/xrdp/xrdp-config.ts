export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export const AUTHENTICATION_MODES = ['password', 'certificate', 'both'] as const;
export const ENCRYPTION_LEVELS = ['low', 'medium', 'high'] as const;

/** The host-wide xrdp settings (docs/DOMAIN.md, "xrdp configuration"). */
export interface XrdpConfig {
  global: {
    /** @deprecated No xrdp key: each server listens on its own port from RDP_PORT_RANGE. Kept readable; changes are refused. */
    port: number;
    useTls: boolean;
    /**
     * The TLS certificate every instance presents (xrdp.ini `certificate=`), with keyPath its
     * private key (`key_file=`); both null: each instance generates its own self-signed pair.
     */
    certificatePath: string | null;
    keyPath: string | null;
    logLevel: (typeof LOG_LEVELS)[number];
    maxConnections: number;
  };
  security: {
    /** @deprecated xrdp 0.9.21 authenticates by password only (PAM); no key selects client certificates. Changes are refused. */
    authentication: (typeof AUTHENTICATION_MODES)[number];
    sessionTimeout: number;
    idleTimeout: number;
    encryptionLevel: (typeof ENCRYPTION_LEVELS)[number];
  };
  performance: {
    compression: boolean;
    bitmapCache: boolean;
    /** @deprecated xrdp 0.9.21 has no glyph cache key (the client's capabilities decide). Changes are refused. */
    glyphCache: boolean;
    /** @deprecated xrdp 0.9.21 has no cache size key (the client's capabilities decide). Changes are refused. */
    maxBitmapCacheSize: number;
  };
}

/**
 * Fields that no xrdp 0.9.21 key carries, with why: readable (deprecated in the schema), but an
 * update that changes one is refused, so no change is ever accepted that does nothing.
 */
export const NO_EFFECT_FIELDS = {
  'global.port': 'each server listens on its own port from RDP_PORT_RANGE; there is no host-wide RDP port',
  'security.authentication': 'xrdp 0.9.21 authenticates users by password (PAM) only; it has no client certificate login',
  'performance.glyphCache': 'xrdp 0.9.21 has no setting for the glyph cache; the client negotiates it',
  'performance.maxBitmapCacheSize': 'xrdp 0.9.21 has no setting for the bitmap cache size; the client negotiates it',
} as const;

/** One stored version; every update makes a new one. */
export interface XrdpConfigVersion {
  version: number;
  config: XrdpConfig;
  updatedBy: string;
  updatedAt: string;
}

export const DEFAULT_XRDP_CONFIG: XrdpConfig = {
  global: {
    port: 3389,
    useTls: true,
    certificatePath: null,
    keyPath: null,
    logLevel: 'INFO',
    maxConnections: 100,
  },
  security: { authentication: 'password', sessionTimeout: 3600, idleTimeout: 1800, encryptionLevel: 'high' },
  performance: { compression: true, bitmapCache: true, glyphCache: true, maxBitmapCacheSize: 32_000_000 },
};
