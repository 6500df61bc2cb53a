import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hostSesmanIni, readSesmanPort } from '../../src/adapters/xrdp/sesman-supervisor.js';
import { DEFAULT_XRDP_CONFIG } from '../../src/domain/xrdp/xrdp-config.js';

describe('the host sesman.ini', () => {
  it('takes ListenPort from the [Globals] of the system sesman.ini, 3350 when missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sesman-ini-'));
    try {
      const file = join(dir, 'sesman.ini');
      writeFileSync(file, '[Xvnc]\nListenPort=1\n[Globals]\r\nListenAddress=127.0.0.1\r\n ListenPort = 3399\r\n');
      expect(await readSesmanPort(file)).toBe(3399);
      writeFileSync(file, '[Globals]\nListenAddress=127.0.0.1\n');
      expect(await readSesmanPort(file)).toBe(3350);
      expect(await readSesmanPort(join(dir, 'missing.ini'))).toBe(3350);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('renders the shared document with that port, the log file and process ids in log lines', () => {
    const ini = hostSesmanIni(DEFAULT_XRDP_CONFIG, '127.0.0.1', '/var/log/xrdp/xrdp-sesman.log', 3399);
    expect(ini).toContain('[Globals]\nListenAddress=127.0.0.1\nListenPort=3399\n');
    expect(ini).toMatch(/\[Logging\]\nLogFile=\/var\/log\/xrdp\/xrdp-sesman\.log\n(.+\n)*EnableProcessId=true\n/);
    expect(ini).toContain('EnableUserWindowManager=true');
  });

  it('never logs less than INFO, where logins and sessions are reported', () => {
    const quiet = { ...DEFAULT_XRDP_CONFIG, global: { ...DEFAULT_XRDP_CONFIG.global, logLevel: 'ERROR' as const } };
    expect(hostSesmanIni(quiet, '127.0.0.1', '/l.log', 3350)).toContain('\nLogLevel=INFO\n');
    const verbose = { ...DEFAULT_XRDP_CONFIG, global: { ...DEFAULT_XRDP_CONFIG.global, logLevel: 'DEBUG' as const } };
    expect(hostSesmanIni(verbose, '127.0.0.1', '/l.log', 3350)).toContain('\nLogLevel=DEBUG\n');
  });
});
