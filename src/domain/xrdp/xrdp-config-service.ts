import { actorOf } from '../audit/audit-event.js';
import { type AuditRecorder, audited } from '../audit/audit-service.js';
import { isAdmin, isOperator, type Viewer } from '../auth/viewer.js';
import type { Clock } from '../shared/clock.js';
import { ConflictError, ForbiddenError, ValidationError } from '../shared/errors.js';
import { renderInstanceXrdpIni, renderSesmanIni, type SesmanIniOptions } from './ini-render.js';
import { DEFAULT_XRDP_CONFIG, type XrdpConfig, type XrdpConfigVersion } from './xrdp-config.js';
import { applyXrdpConfigUpdate } from './xrdp-config-input.js';
import type { XrdpConfigStore } from './xrdp-config-store.js';

/** Where the xrdp runtime reads the configuration in force when it renders an instance. */
export interface XrdpConfigProvider {
  current(): Promise<XrdpConfig>;
}

/** What is wrong with a certificate and key pair, naming the file; null when xrdp can use it. */
export type CertificatePairProblem = { file: 'certificate' | 'key'; message: string } | null;

/** Reads a certificate and its private key the way xrdp will (same user, same files). */
export interface CertificatePairChecker {
  check(certificatePath: string, keyPath: string): Promise<CertificatePairProblem>;
}

export interface XrdpConfigServiceDeps {
  store: XrdpConfigStore;
  /** Checks certificatePath/keyPath at update time, so a pair xrdp cannot use is never stored. */
  certificates: CertificatePairChecker;
  clock: Clock;
  /** Where the host sesman listens and logs; the rendered sesman.ini is checked with these. */
  sesman: SesmanIniOptions;
  /** Called after a new version is stored, e.g. to write the host files. */
  onChange?: (config: XrdpConfig, version: number) => Promise<void> | void;
  /** Records every change with the fields it changed, and refused changes. */
  audit?: AuditRecorder;
}

/** Fields whose value differs between two versions, as `section.field` with both values. */
function changedFields(before: XrdpConfig, after: XrdpConfig): { field: string; from: unknown; to: unknown }[] {
  const out: { field: string; from: unknown; to: unknown }[] = [];
  for (const section of ['global', 'security', 'performance'] as const) {
    const a = before[section] as Record<string, unknown>;
    const b = after[section] as Record<string, unknown>;
    for (const key of Object.keys(b)) {
      if (a[key] !== b[key]) out.push({ field: `${section}.${key}`, from: a[key], to: b[key] });
    }
  }
  return out;
}

/** The most versions one history read returns. */
export const MAX_XRDP_CONFIG_HISTORY = 100;

/** Version 0: what is in force before anyone changed anything. */
const INITIAL_VERSION: XrdpConfigVersion = {
  version: 0,
  config: DEFAULT_XRDP_CONFIG,
  updatedBy: 'system',
  updatedAt: new Date(0).toISOString(),
};

/** A port and paths of the kind the runtime uses, to prove a config renders into an xrdp.ini. */
const SAMPLE_INSTANCE = {
  port: 33890,
  loopbackOnly: true,
  logFile: '/var/log/xrdp/sample.log',
  sesmanAddress: '127.0.0.1',
  configuration: {
    desktop: 'xfce',
    resolution: '1920x1080',
    colorDepth: 24,
    audio: true,
    clipboard: true,
    driveRedirection: false,
    printerRedirection: false,
    maxSessions: 10,
  },
} as const;

/** The host-wide xrdp configuration: versioned, operators read it, admins change it. */
export class XrdpConfigService implements XrdpConfigProvider {
  constructor(private readonly deps: XrdpConfigServiceDeps) {
    // Fail at startup, not on the first update, when the host options cannot be rendered.
    renderSesmanIni(DEFAULT_XRDP_CONFIG, deps.sesman);
  }

  async get(viewer: Viewer): Promise<XrdpConfigVersion> {
    if (!isOperator(viewer)) throw new ForbiddenError('reading the xrdp configuration', 'operator');
    return this.latest();
  }

  /** Newest first, at most `limit` (1-100); version 0 (the defaults) is not stored. */
  async history(viewer: Viewer, limit: number): Promise<XrdpConfigVersion[]> {
    if (!isOperator(viewer)) throw new ForbiddenError('reading the xrdp configuration', 'operator');
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_XRDP_CONFIG_HISTORY) {
      throw new ValidationError('last', `must be between 1 and ${MAX_XRDP_CONFIG_HISTORY}`);
    }
    return this.deps.store.list(limit);
  }

  async current(): Promise<XrdpConfig> {
    return (await this.latest()).config;
  }

  /**
   * Validates the change against the latest version, checks that the result renders, and stores
   * it as the next version. A concurrent update that took that number first is a CONFLICT; the
   * caller may retry, which applies its change on top of the winner's.
   */
  async update(viewer: Viewer, input: unknown): Promise<XrdpConfigVersion> {
    let before: XrdpConfig | null = null;
    return audited(
      this.deps.audit,
      { actor: actorOf(viewer), action: 'xrdp.config.update', target: { type: 'xrdp_config', id: null, name: null } },
      () =>
        this.updateUnaudited(viewer, input, (latest) => {
          before = latest;
        }),
      (next) => ({
        target: { type: 'xrdp_config', id: String(next.version), name: `version ${next.version}` },
        details: { version: next.version, changes: before ? changedFields(before, next.config) : [] },
      }),
    );
  }

  private async updateUnaudited(viewer: Viewer, input: unknown, seen: (latest: XrdpConfig) => void): Promise<XrdpConfigVersion> {
    if (!isAdmin(viewer)) throw new ForbiddenError('changing the xrdp configuration', 'admin');
    const latest = await this.latest();
    seen(latest.config);
    const config = applyXrdpConfigUpdate(latest.config, input);
    this.renderHostFiles(config);
    const { certificatePath, keyPath } = config.global;
    if (certificatePath !== latest.config.global.certificatePath || keyPath !== latest.config.global.keyPath) {
      await this.checkCertificate(certificatePath, keyPath);
    }
    const next: XrdpConfigVersion = {
      version: latest.version + 1,
      config,
      updatedBy: viewer.userId,
      updatedAt: this.deps.clock.now().toISOString(),
    };
    if (!(await this.deps.store.insert(next))) {
      throw new ConflictError(`xrdp configuration version ${next.version} was written by another request; reload and retry`);
    }
    await this.deps.onChange?.(config, next.version);
    return next;
  }

  /** Both paths or neither; set, both readable PEM, and the key must be the certificate's. */
  private async checkCertificate(certificatePath: string | null, keyPath: string | null): Promise<void> {
    if (certificatePath === null && keyPath === null) return;
    if (certificatePath === null) {
      throw new ValidationError('global.certificatePath', 'is required with keyPath (the certificate of that key)');
    }
    if (keyPath === null) {
      throw new ValidationError('global.keyPath', 'is required with certificatePath (the private key of that certificate)');
    }
    const problem = await this.deps.certificates.check(certificatePath, keyPath);
    if (problem) {
      throw new ValidationError(problem.file === 'certificate' ? 'global.certificatePath' : 'global.keyPath', problem.message);
    }
  }

  /** Renders what this config reaches, so a config that cannot be written is never stored. */
  private renderHostFiles(config: XrdpConfig): void {
    renderSesmanIni(config, this.deps.sesman);
    renderInstanceXrdpIni({
      ...SAMPLE_INSTANCE,
      certificatePath: config.global.certificatePath ?? '/var/lib/rdp/servers/sample/cert.pem',
      keyPath: config.global.keyPath ?? '/var/lib/rdp/servers/sample/key.pem',
      config,
    });
  }

  private async latest(): Promise<XrdpConfigVersion> {
    return (await this.deps.store.latest()) ?? structuredClone(INITIAL_VERSION);
  }
}
