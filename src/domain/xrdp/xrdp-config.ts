export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export const AUTHENTICATION_MODES = ['password', 'certificate', 'both'] as const;
export const ENCRYPTION_LEVELS = ['low', 'medium', 'high'] as const;

/** The host-wide xrdp settings (docs/DOMAIN.md, "xrdp configuration"). */
export interface XrdpConfig {
  global: {
    port: number;
    useTls: boolean;
    certificatePath: string;
    keyPath: string;
    logLevel: (typeof LOG_LEVELS)[number];
    maxConnections: number;
  };
  security: {
    authentication: (typeof AUTHENTICATION_MODES)[number];
    sessionTimeout: number;
    idleTimeout: number;
    encryptionLevel: (typeof ENCRYPTION_LEVELS)[number];
  };
  performance: {
    compression: boolean;
    bitmapCache: boolean;
    glyphCache: boolean;
    maxBitmapCacheSize: number;
  };
}

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
    certificatePath: '/etc/xrdp/cert.pem',
    keyPath: '/etc/xrdp/key.pem',
    logLevel: 'INFO',
    maxConnections: 100,
  },
  security: { authentication: 'password', sessionTimeout: 3600, idleTimeout: 1800, encryptionLevel: 'high' },
  performance: { compression: true, bitmapCache: true, glyphCache: true, maxBitmapCacheSize: 32_000_000 },
};
