import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PortReservation } from '../../src/adapters/host/local-port-reservation.js';
import { TEST_SECRET } from '../support/app-harness.js';
import { waitFor } from '../support/net.js';

const root = new URL('../..', import.meta.url).pathname;
const isRoot = process.getuid?.() === 0;
const haveIp = (() => {
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/**
 * ip_local_port_range and ip_local_reserved_ports belong to a network namespace: every write here
 * goes to a namespace this test creates and deletes, never to the machine's own.
 */
describe.skipIf(!isRoot || !haveIp)(
  'reserving RDP_PORT_RANGE against the ephemeral ports (real kernel, own network namespace)',
  () => {
    const ns = `rdp-ports-${process.pid}`;
    const inNs = (...cmd: string[]) => execFileSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8' }).trim();
    const sysctl = (name: string, value?: string) =>
      value === undefined
        ? inNs('sysctl', '-n', `net.ipv4.${name}`).replace(/\s+/g, ' ')
        : inNs('sysctl', '-q', '-w', `net.ipv4.${name}=${value}`);
    const probe = (args: string[], asUser?: string) => {
      const cmd = [process.execPath, '--import', 'tsx', 'test/support/reserve-ports-probe.ts', ...args];
      const out = execFileSync(
        'ip',
        ['netns', 'exec', ns, ...(asUser ? ['setpriv', `--reuid=${asUser}`, `--regid=${asUser}`, '--clear-groups'] : []), ...cmd],
        {
          cwd: root,
          encoding: 'utf8',
          env: { PATH: process.env.PATH ?? '', HOME: tmpdir() },
        },
      );
      return JSON.parse(out.trim().split('\n').pop() ?? '') as { result: PortReservation; localPorts: number[] };
    };
    const machineReserved = execFileSync('sysctl', ['-n', 'net.ipv4.ip_local_reserved_ports'], { encoding: 'utf8' });

    beforeAll(() => {
      execFileSync('ip', ['netns', 'add', ns]);
      inNs('ip', 'link', 'set', 'lo', 'up');
    });
    afterAll(() => {
      execFileSync('ip', ['netns', 'delete', ns]);
      // The machine's own setting was never touched.
      expect(execFileSync('sysctl', ['-n', 'net.ipv4.ip_local_reserved_ports'], { encoding: 'utf8' })).toBe(machineReserved);
    });

    it('appends the range to what is reserved, and outgoing connections then never take one of its ports', async () => {
      // Ephemeral ports 33890-33899 only, of which the RDP range takes 33890-33894: five open
      // connections must get exactly the other five (by chance: 1 in 252).
      sysctl('ip_local_port_range', '33890 33899');
      sysctl('ip_local_reserved_ports', '40000-40005,50000');
      const first = probe(['33890', '33894', '5']);
      expect(first.result).toEqual({
        outcome: 'reserved',
        ephemeral: { from: 33890, to: 33899 },
        reserved: '33890-33894,40000-40005,50000',
      });
      expect(sysctl('ip_local_reserved_ports')).toBe('33890-33894,40000-40005,50000');
      expect(first.localPorts.sort()).toEqual([33895, 33896, 33897, 33898, 33899]);
      // A second start finds it reserved and writes nothing.
      expect(probe(['33890', '33894']).result).toMatchObject({ outcome: 'already-reserved' });
      expect(sysctl('ip_local_reserved_ports')).toBe('33890-33894,40000-40005,50000');
    });

    it('writes nothing when the range lies outside the ephemeral ports', () => {
      sysctl('ip_local_port_range', '40000 50000');
      sysctl('ip_local_reserved_ports', '');
      expect(probe(['33890', '33999']).result).toEqual({ outcome: 'outside-ephemeral', ephemeral: { from: 40000, to: 50000 } });
      expect(sysctl('ip_local_reserved_ports')).toBe('');
    });

    it('reports not-reserved with the reason when the process may not write the setting', () => {
      sysctl('ip_local_port_range', '32768 60999');
      sysctl('ip_local_reserved_ports', '50000');
      const { result } = probe(['33890', '33999'], '65534');
      expect(result).toMatchObject({ outcome: 'not-reserved', ephemeral: { from: 32768, to: 60999 }, reserved: '50000' });
      expect(result.outcome === 'not-reserved' && result.reason).toMatch(/EACCES|EPERM|permission/i);
      expect(sysctl('ip_local_reserved_ports')).toBe('50000');
    });

    it('the real process reserves the range at start when it runs xrdp, and says so in its log', async () => {
      sysctl('ip_local_port_range', '32768 60999');
      sysctl('ip_local_reserved_ports', '50000');
      const dir = mkdtempSync(join(tmpdir(), 'rdp-ports-main-'));
      // The reservation is made by a process that has an xrdp binary; this one never runs it (no
      // server is started), so a stand-in keeps the test off the host's xrdp and sesman.
      const xrdp = join(dir, 'xrdp');
      writeFileSync(xrdp, '#!/bin/sh\nexit 1\n', { mode: 0o755 });
      const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', 'src/app/main.ts'], {
        cwd: root,
        env: {
          PATH: process.env.PATH ?? '',
          NODE_ENV: 'test',
          SERVICE_HOST: '127.0.0.1',
          SERVICE_PORT: '8090',
          JWT_SECRET: TEST_SECRET,
          DATA_DIR: join(dir, 'data'),
          XRDP_CONFIG_PATH: join(dir, 'xrdp'),
          XRDP_LOG_PATH: join(dir, 'log'),
          XRDP_BINARY: xrdp,
          RDP_PORT_RANGE: '34000-34099',
          SHUTDOWN_DRAIN_SECONDS: '0',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      try {
        await waitFor(async () => out.includes('"listening'), 30_000, 'the listening line');
        const lines = out
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { msg: string; reserved?: string });
        expect(lines.find((l) => l.msg.startsWith('reserved RDP_PORT_RANGE 34000-34099'))?.reserved).toBe('34000-34099,50000');
        expect(sysctl('ip_local_reserved_ports')).toBe('34000-34099,50000');
      } finally {
        child.kill('SIGTERM');
        expect(await exited).toBe(0);
        rmSync(dir, { recursive: true, force: true });
      }
    }, 60_000);
  },
);
