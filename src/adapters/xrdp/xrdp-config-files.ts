import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderSesmanIni, type SesmanIniOptions } from '../../domain/xrdp/ini-render.js';
import type { XrdpConfig } from '../../domain/xrdp/xrdp-config.js';

export interface XrdpConfigFilesOptions {
  /** Directory the host files are written to (created when missing). */
  dir: string;
  sesman: SesmanIniOptions;
}

/** Writes a file whole or not at all: a reader never sees half of it, a crash leaves the old one. */
export async function writeFileAtomically(path: string, text: string, mode = 0o644): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, text, { mode });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Renders the host files of an xrdp configuration into `dir` (today: sesman.ini). */
export function createXrdpConfigFileWriter(options: XrdpConfigFilesOptions): (config: XrdpConfig) => Promise<void> {
  return async (config) => {
    const text = renderSesmanIni(config, options.sesman);
    await mkdir(options.dir, { recursive: true, mode: 0o755 });
    await writeFileAtomically(join(options.dir, 'sesman.ini'), text);
  };
}
