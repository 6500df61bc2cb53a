import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  AT_CLKTCK,
  AT_PAGESZ,
  envValue,
  parseAuxv,
  parseCpuTimes,
  parseMeminfo,
  parseNetDev,
  parsePidStat,
  parseSsTcpInfo,
  parseUptime,
} from '../../src/adapters/host/proc-parsers.js';
import { cpuTicksSince, instancePids, type ProcRecord, sessionPids } from '../../src/adapters/host/process-attribution.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/proc/${name}`, import.meta.url), 'utf8');

describe('parsers of recorded /proc text', () => {
  it('/proc/stat: total is every tick of every CPU but guest (already in user); idle adds iowait', () => {
    // Recorded: "cpu  580379 0 84782 384503 2988 0 3443 530 0 0"
    expect(parseCpuTimes(fixture('stat.txt'))).toEqual({
      total: 580379 + 0 + 84782 + 384503 + 2988 + 0 + 3443 + 530,
      idle: 384503 + 2988,
    });
    expect(parseCpuTimes('cpu0 1 2 3 4\n')).toBeNull();
    expect(parseCpuTimes('cpu  1 2 3 x\n')).toBeNull();
  });

  it('/proc/meminfo: MemTotal and MemAvailable in kB; an estimate where MemAvailable is missing', () => {
    expect(parseMeminfo(fixture('meminfo.txt'))).toEqual({ totalKb: 24684092, availableKb: 22780480 });
    expect(parseMeminfo('MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 10 kB\nCached: 40 kB\n')).toEqual({
      totalKb: 1000,
      availableKb: 150,
    });
    expect(parseMeminfo('MemFree: 100 kB\n')).toBeNull();
  });

  it('/proc/net/dev: received and sent bytes summed over the interfaces except loopback', () => {
    // Recorded: lo 3727865893/3727865893, ifb0 and ifb1 zero, eth0 rx 565935992 tx 1808242.
    expect(parseNetDev(fixture('net-dev.txt'))).toEqual({ rxBytes: 565935992, txBytes: 1808242 });
    expect(parseNetDev(fixture('net-dev.txt'), () => false)).toEqual({
      rxBytes: 565935992 + 3727865893,
      txBytes: 1808242 + 3727865893,
    });
  });

  it('/proc/<pid>/stat: fields after the comm, which may hold spaces and parentheses', () => {
    expect(parsePidStat(fixture('pid-stat-init.txt'))).toEqual({
      pid: 1,
      comm: 'process_api',
      state: 'S',
      ppid: 0,
      pgid: 0,
      cpuTicks: 519 + 3141,
      startTicks: 31,
      rssPages: 4265,
    });
    const odd = '4242 (a (b) c) R 10 4242 4242 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 900 1000 55 0';
    expect(parsePidStat(odd)).toMatchObject({ pid: 4242, comm: 'a (b) c', state: 'R', ppid: 10, pgid: 4242, cpuTicks: 10 });
    expect(parsePidStat('garbage')).toBeNull();
  });

  it('/proc/uptime and /proc/self/auxv (page size and USER_HZ)', () => {
    expect(parseUptime(fixture('uptime.txt'))).toBeGreaterThan(0);
    const aux = parseAuxv(readFileSync(new URL('../fixtures/proc/auxv.bin', import.meta.url)));
    expect(aux.get(AT_PAGESZ)).toBe(4096n);
    expect(aux.get(AT_CLKTCK)).toBe(100n);
  });

  it('ss -tinH: per-socket byte counters, IPv4 and IPv6, acked preferred to sent; none when the kernel gives none', () => {
    expect(parseSsTcpInfo(fixture('ss-tin-rdp.txt'))).toEqual([
      { localPort: 25000, key: '127.0.0.1:25000 127.0.0.1:50880', bytesIn: 48211, bytesOut: 190342 },
      { localPort: 25000, key: '[::ffff:10.0.0.5]:25000 [::ffff:10.0.0.9]:61000', bytesIn: 2000, bytesOut: 1000 },
      { localPort: 25001, key: '127.0.0.1:25001 127.0.0.1:50990', bytesIn: 0, bytesOut: 0 },
    ]);
    expect(parseSsTcpInfo(fixture('ss-tin.txt'))[0]).toEqual({
      localPort: 36862,
      key: '127.0.0.1:36862 127.0.0.1:4369',
      bytesIn: 6,
      bytesOut: 22,
    });
    // With a State column (no state filter).
    expect(parseSsTcpInfo('ESTAB 0 0 1.2.3.4:25000 5.6.7.8:1000\n\t bytes_received:5\n')).toEqual([
      { localPort: 25000, key: '1.2.3.4:25000 5.6.7.8:1000', bytesIn: 5, bytesOut: 0 },
    ]);
  });

  it('environ: one variable of a NUL-separated block', () => {
    expect(envValue('HOME=/home/u\0DISPLAY=:10\0X=1', 'DISPLAY')).toBe(':10');
    expect(envValue('HOME=/home/u\0', 'DISPLAY')).toBeNull();
  });
});

const proc = (p: Partial<ProcRecord> & { pid: number }): ProcRecord => ({
  comm: 'sh',
  state: 'S',
  ppid: 1,
  pgid: p.pid,
  cpuTicks: 0,
  startTicks: 0,
  rssPages: 0,
  uid: 0,
  argv: null,
  display: null,
  ...p,
});

describe('which processes belong to a server and to a session', () => {
  // A host as xrdp 0.9.21 leaves it: the instance (group 100) with a connection child, the
  // main sesman (200) with one session process (201) that started Xvnc, the window manager and
  // chansrv; a program of the user that daemonized (DISPLAY kept); another user's session.
  const procs: ProcRecord[] = [
    proc({ pid: 100, comm: 'xrdp', ppid: 1, pgid: 100 }),
    proc({ pid: 101, comm: 'xrdp', ppid: 100, pgid: 100 }),
    proc({ pid: 102, comm: 'xrdp', ppid: 100, pgid: 100, state: 'Z' }),
    proc({ pid: 200, comm: 'xrdp-sesman', ppid: 1, pgid: 200 }),
    proc({ pid: 201, comm: 'xrdp-sesman', ppid: 200, pgid: 200 }),
    proc({ pid: 202, comm: 'Xvnc', ppid: 201, pgid: 202, uid: 1001, argv: ['Xvnc', ':10', '-auth', '.Xauthority'] }),
    proc({ pid: 203, comm: 'startwm.sh', ppid: 201, pgid: 203, uid: 1001, display: ':10.0' }),
    proc({ pid: 204, comm: 'xterm', ppid: 203, pgid: 203, uid: 1001, display: ':10.0' }),
    proc({ pid: 205, comm: 'sh', ppid: 203, pgid: 203, uid: 1001, display: ':10.0' }),
    proc({ pid: 206, comm: 'xrdp-chansrv', ppid: 201, pgid: 206, uid: 1001, display: ':10.0' }),
    proc({ pid: 207, comm: 'agent', ppid: 1, pgid: 207, uid: 1001, display: ':10' }),
    proc({ pid: 208, comm: 'agent', ppid: 1, pgid: 208, uid: 1001, display: ':11' }),
    proc({ pid: 301, comm: 'xrdp-sesman', ppid: 200, pgid: 200 }),
    proc({ pid: 302, comm: 'Xvnc', ppid: 301, pgid: 302, uid: 1002, argv: ['Xvnc', ':11'] }),
    proc({ pid: 303, comm: 'startwm.sh', ppid: 301, pgid: 303, uid: 1002, display: ':11' }),
  ];

  it("a server is its instance's process group, zombies left out", () => {
    expect([...instancePids(procs, 100)].sort()).toEqual([100, 101]);
    // A recorded pid that is not a group leader (reused) counts nothing.
    expect(instancePids(procs, 101).size).toBe(0);
    expect(instancePids(procs, 999).size).toBe(0);
  });

  it("a session is sesman's session process and everything under it, plus the account's programs on its display", () => {
    expect([...sessionPids(procs, { uid: 1001, display: 10 })].sort()).toEqual([201, 202, 203, 204, 205, 206, 207]);
    expect([...sessionPids(procs, { uid: 1002, display: 11 })].sort()).toEqual([301, 302, 303]);
    // The display of another account, or a display without an X server of the account: nothing of theirs.
    expect([...sessionPids(procs, { uid: 1001, display: 11 })]).toEqual([208]);
    expect(sessionPids(procs, { uid: 1003, display: 10 }).size).toBe(0);
  });

  it('never takes the main sesman (every session) when the X server hangs off it directly', () => {
    const direct = [
      proc({ pid: 200, comm: 'xrdp-sesman', ppid: 1 }),
      proc({ pid: 202, comm: 'Xvnc', ppid: 200, uid: 1001, argv: ['Xvnc', ':10'] }),
      proc({ pid: 302, comm: 'Xvnc', ppid: 200, uid: 1002, argv: ['Xvnc', ':11'] }),
    ];
    expect([...sessionPids(direct, { uid: 1001, display: 10 })]).toEqual([202]);
  });

  it('CPU since the previous round: a difference, the whole life of a newcomer, nothing without a basis', () => {
    const previous = new Map([[10, { startTicks: 500, cpuTicks: 40 }]]);
    expect(cpuTicksSince(proc({ pid: 10, startTicks: 500, cpuTicks: 55 }), previous, 1000)).toBe(15);
    // Same pid, another process (started after the previous round): all of it is new.
    expect(cpuTicksSince(proc({ pid: 10, startTicks: 1200, cpuTicks: 7 }), previous, 1000)).toBe(7);
    expect(cpuTicksSince(proc({ pid: 11, startTicks: 1001, cpuTicks: 9 }), previous, 1000)).toBe(9);
    expect(cpuTicksSince(proc({ pid: 12, startTicks: 900, cpuTicks: 9 }), previous, 1000)).toBe(0);
    expect(cpuTicksSince(proc({ pid: 11, startTicks: 1001, cpuTicks: 9 }), previous, null)).toBe(0);
  });
});
