import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCgroupEnforcement } from '../../src/adapters/host/cgroup-enforcement.js';
import { type CgroupDriver, createCgroupV2Driver, detectCgroups, parseMountinfo } from '../../src/adapters/host/cgroups.js';
import {
  allocateInGroup,
  burner,
  cgroupsOf,
  coresUsed,
  favourInTests,
  kill,
  realCgroups,
  uniqueParent,
} from '../support/cgroup-tools.js';

const parent = uniqueParent('driver');
const driver = await realCgroups(parent);
const MB = 1024 * 1024;

describe.skipIf(!driver)('cgroup driver on the real kernel', () => {
  const d = driver as CgroupDriver;
  const children: ChildProcess[] = [];

  beforeAll(() => favourInTests(d, parent));
  afterEach(() => {
    for (const c of children.splice(0)) kill(c);
  });
  afterAll(async () => {
    await new Promise((r) => setTimeout(r, 100));
    expect(await d.remove(parent)).toBe(true);
    for (const dir of d.dirs(parent)) expect(existsSync(dir)).toBe(false);
  });

  it('a burner in a group limited to 0.2 cores gets no more than that; the same burner unconfined gets far more', async () => {
    await d.create(`${parent}/limited`);
    await d.setLimits(`${parent}/limited`, { cpuCores: 0.2, memoryBytes: null });
    await d.create(`${parent}/free`);
    const limited = burner();
    const free = burner();
    children.push(limited, free);
    expect(await d.move(`${parent}/limited`, [limited.pid as number])).toBe(1);
    await d.move(`${parent}/free`, [free.pid as number]);
    expect(await d.procs(`${parent}/limited`)).toEqual([limited.pid]);

    const [confined, unconfined] = await coresUsed([limited.pid as number, free.pid as number]);
    expect(confined).toBeLessThanOrEqual(0.3);
    expect(unconfined).toBeGreaterThanOrEqual(0.7);
    kill(limited);
    kill(free);
    await new Promise((r) => setTimeout(r, 100));
    expect(await d.remove(`${parent}/limited`)).toBe(true);
    expect(await d.remove(`${parent}/free`)).toBe(true);
  });

  it('the kernel OOM-kills an allocation past the memory limit; one below it completes', async () => {
    await d.create(`${parent}/mem`);
    await d.setLimits(`${parent}/mem`, { cpuCores: null, memoryBytes: 128 * MB });
    expect(await d.readLimits(`${parent}/mem`)).toEqual({ cpuCores: null, memoryBytes: 128 * MB });

    const over = await allocateInGroup(d.dirs(`${parent}/mem`), 256);
    expect(over).toMatchObject({ signal: 'SIGKILL', stdout: '' });
    const under = await allocateInGroup(d.dirs(`${parent}/mem`), 32);
    expect(under).toMatchObject({ code: 0, stdout: 'allocated\n' });
    expect(await d.remove(`${parent}/mem`)).toBe(true);
  });

  it('a child group stays within its parent: its CPU is clamped to the parent, and lowering the parent lowers it', async () => {
    await d.create(`${parent}/server`, { forChildren: true });
    await d.setLimits(`${parent}/server`, { cpuCores: 0.5, memoryBytes: 512 * MB });
    await d.create(`${parent}/server/session`);
    await d.setLimits(`${parent}/server/session`, { cpuCores: 1, memoryBytes: 256 * MB });
    const inside = await d.readLimits(`${parent}/server/session`);
    expect(inside.memoryBytes).toBe(256 * MB);
    // v1 refuses a child quota above its parent's: the driver clamps it (v2 nests without it).
    if (d.version === 'v1') expect(inside.cpuCores).toBe(0.5);
    await d.setLimits(`${parent}/server`, { cpuCores: 0.25, memoryBytes: 512 * MB });
    expect((await d.readLimits(`${parent}/server`)).cpuCores).toBe(0.25);
    // Its weight follows its CPU: a quarter of a busy process's.
    if (d.version === 'v1')
      expect(readFileSync(join(d.dirs(`${parent}/server`)[0] ?? '', 'cpu.shares'), 'utf8').trim()).toBe('256');
    if (d.version === 'v1') expect((await d.readLimits(`${parent}/server/session`)).cpuCores).toBe(0.25);
    expect(await d.remove(`${parent}/server`)).toBe(true);
    expect(await d.exists(`${parent}/server`)).toBe(false);
  });

  it('a group a process still runs in is not removed (false), and is once the process has gone', async () => {
    await d.create(`${parent}/busy`);
    const p = burner();
    children.push(p);
    await d.move(`${parent}/busy`, [p.pid as number]);
    await d.setLimits(`${parent}/busy`, { cpuCores: 0.1, memoryBytes: null });
    expect(await d.remove(`${parent}/busy`)).toBe(false);
    kill(p);
    await new Promise<void>((r) => p.once('exit', () => r()));
    expect(await d.remove(`${parent}/busy`)).toBe(true);
  });

  it('the enforcement adapter puts a whole process group in <parent>/<server>/xrdp under the server limits and removes it on release', async () => {
    const enforcement = createCgroupEnforcement({ parent });
    expect(await enforcement.capability()).toEqual({ enforced: true, mechanism: `cgroup ${d.version}`, reason: null });
    const leader = burner();
    children.push(leader);
    const server = { id: 'srv-1', resources: { cpuLimit: 0.3, memoryLimitMb: 512, diskLimitMb: 1024, bandwidthMbps: 100 } };
    await enforcement.confineServer(server as never, leader.pid as number);
    expect(await d.readLimits(`${parent}/srv-1`)).toEqual({ cpuCores: 0.3, memoryBytes: 512 * MB });
    const where = cgroupsOf(leader.pid as number);
    const expected = `/${parent}/srv-1/xrdp`;
    expect(d.version === 'v1' ? [where.get('cpu'), where.get('memory')] : [where.get('')]).toEqual(
      d.version === 'v1' ? [expected, expected] : [expected],
    );
    await enforcement.updateServer({ ...server, resources: { ...server.resources, cpuLimit: 1.5 } } as never);
    expect((await d.readLimits(`${parent}/srv-1`)).cpuCores).toBe(1.5);
    kill(leader);
    await new Promise<void>((r) => leader.once('exit', () => r()));
    await enforcement.releaseServer('srv-1');
    expect(await d.exists(`${parent}/srv-1`)).toBe(false);
    // Ids become directory names: anything but a plain id is refused.
    await expect(enforcement.confineServer({ ...server, id: '../escape' } as never, 1)).rejects.toThrow(/not a usable id/);
  });
});

describe('where limits cannot be enforced, detection says why', () => {
  it('not root, no controllers mounted, or a read-only hierarchy each give a reason and no driver', async () => {
    expect(await detectCgroups({ isRoot: false })).toEqual({
      driver: null,
      reason: 'the service does not run as root, so it cannot manage cgroups',
    });
    const dir = mkdtempSync(join(tmpdir(), 'cg-detect-'));
    try {
      const mountinfo = join(dir, 'mountinfo');
      writeFileSync(mountinfo, '25 1 0:22 / /sys rw - sysfs sysfs rw\n');
      expect(await detectCgroups({ isRoot: true, mountinfo })).toMatchObject({
        driver: null,
        reason: expect.stringMatching(/no cgroup hierarchy with the cpu and memory controllers/),
      });
      // A v1 layout whose directories cannot be created (a file stands where the mount should be).
      writeFileSync(join(dir, 'cpu'), '');
      writeFileSync(
        mountinfo,
        `30 25 0:26 / ${dir}/cpu/x rw - cgroup cgroup rw,cpu,cpuacct\n31 25 0:27 / ${dir}/cpu/x rw - cgroup cgroup rw,memory\n`,
      );
      const refused = await detectCgroups({ isRoot: true, mountinfo });
      expect(refused.driver).toBeNull();
      expect(refused.reason).toMatch(/cgroup v1 is mounted but the service cannot create rdp-services/);
      const enforcement = createCgroupEnforcement({ detect: async () => refused });
      expect(await enforcement.capability()).toEqual({ enforced: false, mechanism: null, reason: refused.reason });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('mountinfo lines are read with their octal escapes and super options', () => {
    expect(parseMountinfo('40 30 0:35 / /sys/fs/cgroup/my\\040cpu rw,nosuid shared:5 - cgroup cgroup rw,cpu,cpuacct\n')).toEqual([
      { point: '/sys/fs/cgroup/my cpu', type: 'cgroup', superOptions: ['rw', 'cpu', 'cpuacct'] },
    ]);
  });
});

describe('the cgroup v2 layout (files only: this host mounts the controllers as v1)', () => {
  it('hands cpu and memory down every ancestor, keeps leaves free of subtree_control, and writes cpu.max / memory.max', async () => {
    const mount = mkdtempSync(join(tmpdir(), 'cg-v2-'));
    try {
      const v2 = createCgroupV2Driver(mount);
      await v2.create('rdp/srv', { forChildren: true });
      await v2.create('rdp/srv/xrdp');
      for (const dir of [mount, join(mount, 'rdp'), join(mount, 'rdp/srv')]) {
        expect(readFileSync(join(dir, 'cgroup.subtree_control'), 'utf8')).toBe('+cpu +memory');
      }
      expect(existsSync(join(mount, 'rdp/srv/xrdp/cgroup.subtree_control'))).toBe(false);
      await v2.setLimits('rdp/srv', { cpuCores: 0.2, memoryBytes: 512 * MB });
      expect(readFileSync(join(mount, 'rdp/srv/cpu.max'), 'utf8')).toBe('20000 100000');
      expect(readFileSync(join(mount, 'rdp/srv/memory.max'), 'utf8')).toBe(String(512 * MB));
      expect(await v2.readLimits('rdp/srv')).toEqual({ cpuCores: 0.2, memoryBytes: 512 * MB });
      // Where swap is accounted, it may not stretch the memory limit.
      writeFileSync(join(mount, 'rdp/srv/memory.swap.max'), 'max');
      await v2.setLimits('rdp/srv', { cpuCores: null, memoryBytes: 256 * MB });
      expect(readFileSync(join(mount, 'rdp/srv/memory.swap.max'), 'utf8')).toBe('0');
      expect(await v2.readLimits('rdp/srv')).toEqual({ cpuCores: null, memoryBytes: 256 * MB });
      // v2 would OOM-kill to get below a lower memory.max: one below what is held is refused first.
      writeFileSync(join(mount, 'rdp/srv/memory.stat'), `anon ${300 * MB}\nfile 0\n`);
      await expect(v2.setLimits('rdp/srv', { cpuCores: 1, memoryBytes: 256 * MB })).rejects.toThrow(
        'EBUSY: its processes hold 300 MB, more than 256 MB',
      );
      expect(await v2.readLimits('rdp/srv')).toEqual({ cpuCores: null, memoryBytes: 256 * MB });
      mkdirSync(join(mount, 'rdp/srv/session-1'));
      writeFileSync(join(mount, 'rdp/srv/session-1/cgroup.procs'), '');
      expect(await v2.move('rdp/srv/session-1', [4242])).toBe(1);
      expect(await v2.procs('rdp/srv/session-1')).toEqual([4242]);
    } finally {
      rmSync(mount, { recursive: true, force: true });
    }
  });
});
