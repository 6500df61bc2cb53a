import { accessSync, constants } from 'node:fs';

const required = process.env.REQUIRE_REAL_SERVICES === '1';

/**
 * The path of a command-line tool the deployment tests run (promtool, prometheus, shellcheck), or
 * undefined with the reason printed when it is not installed. Under REQUIRE_REAL_SERVICES=1 (set by
 * .ci/run, whose scripts/test-services.sh start installs them) a missing tool is a failure.
 */
export function tool(name: string, paths: string[]): string | undefined {
  const dirs = (process.env.PATH ?? '').split(':').filter(Boolean);
  for (const candidate of [...paths, ...dirs.map((d) => `${d}/${name}`)]) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  const reason = `${name} is not installed (Debian: apt-get install ${name === 'shellcheck' ? 'shellcheck' : 'prometheus'}; or run scripts/test-services.sh start)`;
  if (required) throw new Error(`REQUIRE_REAL_SERVICES=1 but ${reason}`);
  console.warn(`SKIPPED: ${reason}`);
  return undefined;
}
