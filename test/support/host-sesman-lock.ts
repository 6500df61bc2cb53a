import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';

const LOCK_DIR = '/tmp/rdp-services-test-host-sesman.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * There is one sesman port per host (xrdp reads it from /etc/xrdp/sesman.ini), so test files that
 * run the host sesman take turns. Resolves with the release function; a lock whose owner died is
 * taken over.
 */
export async function lockHostSesman(timeoutMs = 110_000): Promise<() => Promise<void>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(LOCK_DIR);
      await writeFile(`${LOCK_DIR}/owner`, String(process.pid));
      return async () => {
        await rm(LOCK_DIR, { recursive: true, force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number((await readFile(`${LOCK_DIR}/owner`, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(owner) && owner > 0 && !alive(owner)) {
      await rm(LOCK_DIR, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`host sesman lock ${LOCK_DIR} held by pid ${owner} for too long`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
