import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CgroupDriver, detectCgroups } from '../../src/adapters/host/cgroups.js';

/** The driver the product would use here, on a test-only parent; skips (or fails in CI) without one. */
export async function realCgroups(parent: string): Promise<CgroupDriver | null> {
  const found = await detectCgroups({ parent });
  if (found.driver) return found.driver;
  const reason = `cgroup limits: skipped, ${found.reason}`;
  if (process.env.REQUIRE_REAL_SERVICES === '1') throw new Error(`REQUIRE_REAL_SERVICES=1 but ${reason}`);
  console.warn(`SKIPPED ${reason}`);
  return null;
}

export const uniqueParent = (what: string) => `rdp-services-test-${what}-${process.pid}-${Date.now().toString(36)}`;

/** utime + stime of a process in seconds (USER_HZ is 100 on Linux). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU cores each process used over the window, measured side by side from /proc/<pid>/stat. */
export async function coresUsed(pids: readonly number[], windowMs = 2000): Promise<number[]> {
  const before = pids.map(cpuSeconds);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, windowMs));
  const seconds = (performance.now() - t0) / 1000;
  return pids.map((pid, i) => (cpuSeconds(pid) - (before[i] ?? 0)) / seconds);
}

/** A shell busy loop. Killed by the caller. */
export function burner(): ChildProcess {
  return spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore', detached: true });
}

/**
 * A process that joins the group's directories before it starts, then allocates `mb` MB and
 * touches every page; resolves with how it ended (a kernel OOM kill is signal SIGKILL).
 */
export function allocateInGroup(
  dirs: readonly string[],
  mb: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> {
  const join_ = dirs.map((d) => `echo $$ > ${join(d, 'cgroup.procs')}`).join(' && ');
  const script = `const a=[];for(let i=0;i<${Math.ceil(mb / 8)};i++){a.push(Buffer.alloc(8<<20,1))}console.log('allocated')`;
  const child = spawn('sh', ['-c', `${join_} && exec node -e "${script}"`], { stdio: ['ignore', 'pipe', 'ignore'] });
  let stdout = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stdout })));
}

/** Where a process is, per hierarchy: `cpu` -> `/rdp-services/x/xrdp`, `` (v2) -> ... */
export function cgroupsOf(pid: number): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
    const [, controllers, path] = line.split(':');
    if (controllers === undefined || path === undefined) continue;
    for (const c of controllers.split(',')) out.set(c, path);
  }
  return out;
}

/**
 * On cgroup v1 the CPU a group gets under load also depends on its weight against everything
 * else on the host; the tests give their parent a large one so what they measure is the quota,
 * not how busy the machine is.
 */
export function favourInTests(driver: CgroupDriver, parent: string): void {
  if (driver.version !== 'v1') return;
  for (const dir of driver.dirs(parent)) {
    try {
      writeFileSync(join(dir, 'cpu.shares'), '262144');
    } catch {
      // not the cpu hierarchy
    }
  }
}

export function kill(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // gone
  }
}
