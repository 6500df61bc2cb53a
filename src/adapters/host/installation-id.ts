import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const ID = /^[0-9a-f]{16}$/;

/**
 * A random id of this installation, kept in `DATA_DIR/installation-id`: what it leaves on the
 * host (session accounts) carries it, so clean-up touches only its own, never those of another
 * installation sharing the machine. Made on first use; a damaged file is replaced.
 */
export async function loadInstallationId(dataDir: string): Promise<string> {
  const file = join(dataDir, 'installation-id');
  try {
    const text = (await readFile(file, 'utf8')).trim();
    if (ID.test(text)) return text;
  } catch {
    // first start
  }
  const id = randomBytes(8).toString('hex');
  await mkdir(dataDir, { recursive: true });
  try {
    // 'wx': two processes starting at once on a new DATA_DIR agree on the first one written.
    await writeFile(file, `${id}\n`, { mode: 0o644, flag: 'wx' });
    return id;
  } catch {
    const text = (await readFile(file, 'utf8')).trim();
    if (ID.test(text)) return text;
    await writeFile(file, `${id}\n`, { mode: 0o644 });
    return id;
  }
}
