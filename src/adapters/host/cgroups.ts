import { mkdir, readdir, readFile, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** CPU in cores (null: unlimited) and memory in bytes (null: unlimited). */
export interface CgroupLimits {
  cpuCores: number | null;
  memoryBytes: number | null;
}

/**
 * One cgroup hierarchy layout, v1 or v2, behind the same calls. Paths are relative to the
 * controllers' mount points (`rdp-services/<serverId>/xrdp`); they are created on demand.
 */
export interface CgroupDriver {
  readonly version: 'v1' | 'v2';
  /** The absolute directories that make up a group (one per v1 hierarchy, one for v2). */
  dirs(path: string): string[];
  exists(path: string): Promise<boolean>;
  /**
   * Creates the group and its ancestors. `forChildren`: the group will hold groups, not
   * processes (v2 then hands the cpu and memory controllers down to them).
   */
  create(path: string, options?: { forChildren?: boolean }): Promise<void>;
  /**
   * Sets limits; a CPU limit also sets the group's weight to match it (see setWeight), so under
   * contention groups share the host in proportion to their limits.
   */
  setLimits(path: string, limits: CgroupLimits): Promise<void>;
  /**
   * The group's CPU weight as that of `cores` busy processes. Without it a group, however many
   * cores it may use, competes with every other process on its level as if it were one.
   */
  setWeight(path: string, cores: number): Promise<void>;
  readLimits(path: string): Promise<CgroupLimits>;
  /** Moves processes (all their threads) into the group; returns how many moved (gone ones are skipped). */
  move(path: string, pids: readonly number[]): Promise<number>;
  /** The processes in the group itself (not its children). */
  procs(path: string): Promise<number[]>;
  /** Removes the group and its child groups; false when a process still holds one of them. */
  remove(path: string): Promise<boolean>;
}

const PERIOD_US = 100_000;
const V1_UNLIMITED_MEMORY = 9_223_372_036_854_771_712n;

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

async function readText(path: string): Promise<string | null> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return null;
  }
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

function parsePids(text: string | null): number[] {
  return (text ?? '')
    .split('\n')
    .filter((l) => /^\d+$/.test(l))
    .map(Number);
}

/** Writes one pid per write(2), as the kernel wants; a pid that has gone meanwhile is skipped. */
async function movePids(procsFiles: readonly string[], pids: readonly number[]): Promise<number> {
  let moved = 0;
  for (const pid of pids) {
    let ok = true;
    for (const file of procsFiles) {
      try {
        await writeFile(file, String(pid));
      } catch (err) {
        if (errno(err) !== 'ESRCH') throw err;
        ok = false;
        break;
      }
    }
    if (ok) moved++;
  }
  return moved;
}

/** Children first, then the group; EBUSY (a process inside) leaves it and answers false. */
async function removeTree(dir: string): Promise<boolean> {
  if (!(await isDir(dir))) return true;
  let clean = true;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory()) clean = (await removeTree(join(dir, entry.name))) && clean;
  }
  if (!clean) return false;
  // An exiting process may hold the group for a moment after it was signalled.
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      await rmdir(dir);
      return true;
    } catch (err) {
      const code = errno(err);
      if (code === 'ENOENT') return true;
      if (code !== 'EBUSY') throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return false;
}

/** v1 cpu.shares: 1024 a busy process (2 to 262144). */
const v1Shares = (cores: number) => Math.min(262_144, Math.max(2, Math.round(1024 * cores)));
/** v2 cpu.weight: 100 a busy process (1 to 10000). */
const v2Weight = (cores: number) => Math.min(10_000, Math.max(1, Math.round(100 * cores)));

function cpuQuota(cores: number): number {
  // The kernel's smallest quota is 1 ms a period.
  return Math.max(1000, Math.round(cores * PERIOD_US));
}

/**
 * cgroup v1: separate cpu and memory hierarchies (or co-mounted). CPU is CFS bandwidth
 * (cpu.cfs_quota_us / cpu.cfs_period_us), memory is memory.limit_in_bytes plus
 * memory.memsw.limit_in_bytes where swap is accounted, so swap does not stretch the limit.
 * v1 refuses a child quota above its parent's (EINVAL), so quotas are clamped both ways.
 */
export function createCgroupV1Driver(mounts: { cpu: string; memory: string }): CgroupDriver {
  const cpuDir = (path: string) => join(mounts.cpu, path);
  const memDir = (path: string) => join(mounts.memory, path);
  const dirs = (path: string) => [...new Set([cpuDir(path), memDir(path)])];

  async function quotaOf(dir: string): Promise<number | null> {
    const q = Number(await readText(join(dir, 'cpu.cfs_quota_us')));
    const p = Number(await readText(join(dir, 'cpu.cfs_period_us')));
    return Number.isFinite(q) && q > 0 && p > 0 ? q / p : null;
  }

  async function setQuota(dir: string, cores: number | null): Promise<void> {
    let quota = cores === null ? -1 : cpuQuota(cores);
    // Within the parent's quota (the kernel refuses more).
    if (dir !== mounts.cpu) {
      const parent = await quotaOf(join(dir, '..'));
      if (parent !== null) quota = quota === -1 ? -1 : Math.min(quota, Math.round(parent * PERIOD_US));
    }
    // Children above the new quota would make the write fail: bring them down first.
    if (quota !== -1) {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        if (!entry.isDirectory()) continue;
        const child = join(dir, entry.name);
        const current = await quotaOf(child);
        if (current !== null && Math.round(current * PERIOD_US) > quota) await setQuota(child, quota / PERIOD_US);
      }
    }
    await writeFile(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
    await writeFile(join(dir, 'cpu.cfs_quota_us'), String(quota));
  }

  async function setMemory(dir: string, bytes: number | null): Promise<void> {
    const value = bytes === null ? '-1' : String(bytes);
    const memsw = join(dir, 'memory.memsw.limit_in_bytes');
    const hasMemsw = (await readText(memsw)) !== null;
    if (!hasMemsw) {
      await writeFile(join(dir, 'memory.limit_in_bytes'), value);
      return;
    }
    // memsw may never be below the memory limit: raise it first, lower it last.
    const currentMemsw = BigInt((await readText(memsw)) ?? '0');
    const target = bytes === null ? V1_UNLIMITED_MEMORY : BigInt(bytes);
    if (target > currentMemsw) {
      await writeFile(memsw, value);
      await writeFile(join(dir, 'memory.limit_in_bytes'), value);
    } else {
      await writeFile(join(dir, 'memory.limit_in_bytes'), value);
      await writeFile(memsw, value);
    }
  }

  return {
    version: 'v1',
    dirs,
    exists: async (path) => (await isDir(cpuDir(path))) && (await isDir(memDir(path))),
    async create(path) {
      for (const dir of dirs(path)) await mkdir(dir, { recursive: true });
    },
    async setLimits(path, limits) {
      await setQuota(cpuDir(path), limits.cpuCores);
      if (limits.cpuCores !== null) await writeFile(join(cpuDir(path), 'cpu.shares'), String(v1Shares(limits.cpuCores)));
      await setMemory(memDir(path), limits.memoryBytes);
    },
    async setWeight(path, cores) {
      await writeFile(join(cpuDir(path), 'cpu.shares'), String(v1Shares(cores)));
    },
    async readLimits(path) {
      const bytes = BigInt((await readText(join(memDir(path), 'memory.limit_in_bytes'))) ?? '-1');
      return {
        cpuCores: await quotaOf(cpuDir(path)),
        memoryBytes: bytes < 0n || bytes >= V1_UNLIMITED_MEMORY ? null : Number(bytes),
      };
    },
    move: (path, pids) =>
      movePids(
        dirs(path).map((d) => join(d, 'cgroup.procs')),
        pids,
      ),
    async procs(path) {
      const all = new Set<number>();
      for (const dir of dirs(path)) for (const pid of parsePids(await readText(join(dir, 'cgroup.procs')))) all.add(pid);
      return [...all];
    },
    async remove(path) {
      let clean = true;
      for (const dir of dirs(path)) clean = (await removeTree(dir)) && clean;
      return clean;
    },
  };
}

/**
 * cgroup v2: one hierarchy. Limits are cpu.max and memory.max (memory.swap.max 0 where swap is
 * accounted). Controllers reach a group only through every ancestor's cgroup.subtree_control,
 * and a group that hands them down holds no processes ("no internal processes"): servers hold
 * their instance in an `xrdp` leaf beside their sessions' leaves.
 */
export function createCgroupV2Driver(mount: string): CgroupDriver {
  const dir = (path: string) => join(mount, path);

  async function enableControllers(at: string): Promise<void> {
    const enabled = ((await readText(join(at, 'cgroup.subtree_control'))) ?? '').split(/\s+/);
    const missing = ['cpu', 'memory'].filter((c) => !enabled.includes(c));
    if (missing.length > 0) await writeFile(join(at, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '));
  }

  return {
    version: 'v2',
    dirs: (path) => [dir(path)],
    exists: (path) => isDir(dir(path)),
    async create(path, options = {}) {
      const parts = path.split('/').filter((p) => p !== '');
      let at = mount;
      await enableControllers(at);
      for (const [i, part] of parts.entries()) {
        at = join(at, part);
        await mkdir(at, { recursive: true });
        if (i < parts.length - 1 || options.forChildren) await enableControllers(at);
      }
    },
    async setLimits(path, limits) {
      // v1 refuses a memory limit it cannot reclaim down to (EBUSY); v2 would OOM-kill instead,
      // so a limit below what the group's processes hold (anonymous memory, no swap) is refused.
      if (limits.memoryBytes !== null) {
        const stat = (await readText(join(dir(path), 'memory.stat'))) ?? '';
        const anon = Number(/^anon (\d+)$/m.exec(stat)?.[1] ?? 0);
        if (anon > limits.memoryBytes) {
          const mb = (b: number) => Math.round(b / 1024 / 1024);
          throw new Error(`EBUSY: its processes hold ${mb(anon)} MB, more than ${mb(limits.memoryBytes)} MB`);
        }
      }
      await writeFile(
        join(dir(path), 'cpu.max'),
        limits.cpuCores === null ? `max ${PERIOD_US}` : `${cpuQuota(limits.cpuCores)} ${PERIOD_US}`,
      );
      if (limits.cpuCores !== null) await writeFile(join(dir(path), 'cpu.weight'), String(v2Weight(limits.cpuCores)));
      await writeFile(join(dir(path), 'memory.max'), limits.memoryBytes === null ? 'max' : String(limits.memoryBytes));
      const swap = join(dir(path), 'memory.swap.max');
      if ((await readText(swap)) !== null) await writeFile(swap, limits.memoryBytes === null ? 'max' : '0');
    },
    async readLimits(path) {
      const [quota, period] = ((await readText(join(dir(path), 'cpu.max'))) ?? 'max').split(' ');
      const memory = (await readText(join(dir(path), 'memory.max'))) ?? 'max';
      return {
        cpuCores: quota === 'max' || quota === undefined ? null : Number(quota) / Number(period ?? PERIOD_US),
        memoryBytes: memory === 'max' ? null : Number(memory),
      };
    },
    async setWeight(path, cores) {
      await writeFile(join(dir(path), 'cpu.weight'), String(v2Weight(cores)));
    },
    move: (path, pids) => movePids([join(dir(path), 'cgroup.procs')], pids),
    procs: async (path) => parsePids(await readText(join(dir(path), 'cgroup.procs'))),
    remove: (path) => removeTree(dir(path)),
  };
}

export type CgroupDetection = { driver: CgroupDriver; reason: null } | { driver: null; reason: string };

interface Mount {
  point: string;
  type: string;
  superOptions: string[];
}

/** /proc/self/mountinfo: `id parent dev root point options [optional...] - type source superoptions`. */
export function parseMountinfo(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const point = left.split(' ')[4];
    const [type, , superOptions] = right.split(' ');
    if (point === undefined || type === undefined) continue;
    // Octal escapes (\040 for a space) as the kernel writes them.
    const unescaped = point.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
    out.push({ point: unescaped, type, superOptions: (superOptions ?? '').split(',') });
  }
  return out;
}

export interface DetectOptions {
  /** The group every server's group goes under, relative to the mounts. @default rdp-services */
  parent?: string;
  /** @default /proc/self/mountinfo */
  mountinfo?: string;
  /** @default process.getuid() === 0 */
  isRoot?: boolean;
}

/**
 * Finds cgroup v2 with the cpu and memory controllers available, else v1 hierarchies holding
 * them, and proves them writable by creating the parent group. Says why when neither works.
 */
export async function detectCgroups(options: DetectOptions = {}): Promise<CgroupDetection> {
  const parent = options.parent ?? 'rdp-services';
  if (!(options.isRoot ?? process.getuid?.() === 0)) {
    return { driver: null, reason: 'the service does not run as root, so it cannot manage cgroups' };
  }
  const text = await readText(options.mountinfo ?? '/proc/self/mountinfo');
  if (text === null) return { driver: null, reason: 'cannot read /proc/self/mountinfo' };
  const mounts = parseMountinfo(text);
  let driver: CgroupDriver | null = null;
  for (const m of mounts.filter((x) => x.type === 'cgroup2')) {
    const controllers = ((await readText(join(m.point, 'cgroup.controllers'))) ?? '').split(/\s+/);
    if (controllers.includes('cpu') && controllers.includes('memory')) {
      driver = createCgroupV2Driver(m.point);
      break;
    }
  }
  if (!driver) {
    const v1 = mounts.filter((x) => x.type === 'cgroup');
    const cpu = v1.find((x) => x.superOptions.includes('cpu'));
    const memory = v1.find((x) => x.superOptions.includes('memory'));
    if (cpu && memory) driver = createCgroupV1Driver({ cpu: cpu.point, memory: memory.point });
    else {
      return {
        driver: null,
        reason: 'no cgroup hierarchy with the cpu and memory controllers is mounted (neither v2 nor v1)',
      };
    }
  }
  try {
    await driver.create(parent, { forChildren: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return {
      driver: null,
      reason: `cgroup ${driver.version} is mounted but the service cannot create ${parent} in it (${e.code ?? e.message}); it needs a writable cgroup filesystem${driver.version === 'v2' ? ' with the cpu and memory controllers delegated' : ''}`,
    };
  }
  return { driver, reason: null };
}
