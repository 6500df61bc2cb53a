import { readFileSync } from 'node:fs';
import { type Config, loadConfig } from './config.js';
import { readOrCreateDevSecret } from './dev-secret.js';

/** Walks up from this file to package.json: src/config under tsx, dist/src/config when built. */
export function packageVersion(): string {
  for (const up of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'rdp-services-cluster') return pkg.version ?? '0.0.0';
    } catch {
      // try the next level
    }
  }
  return '0.0.0';
}

/** Loads the configuration of this process from its environment. */
export function loadProcessConfig(overrides: Record<string, string | undefined> = {}): Config {
  const env = { ...process.env, ...overrides };
  return loadConfig(env, {
    version: packageVersion(),
    devSecret: () => readOrCreateDevSecret(env.DATA_DIR || '.data'),
  });
}
