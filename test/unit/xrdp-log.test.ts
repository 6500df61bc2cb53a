import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { isAtLeast, parseXrdpLogLine } from '../../src/domain/xrdp/xrdp-log.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/xrdp/${name}`, import.meta.url), 'utf8');
const originalTz = process.env.TZ;

describe('parseXrdpLogLine', () => {
  afterEach(() => {
    if (originalTz === undefined) delete process.env.TZ;
    else process.env.TZ = originalTz;
  });

  it('reads a line as docs/XRDP.md records it: padded level, local time to UTC, message', () => {
    process.env.TZ = 'Asia/Kolkata'; // UTC+05:30, no daylight saving
    expect(parseXrdpLogLine('[20261126-23:05:42] [INFO ] login successful for user rdptest on display 10')).toEqual({
      time: '2026-11-26T17:35:42.000Z',
      level: 'INFO',
      message: 'login successful for user rdptest on display 10',
    });
  });

  it('takes the time as the machine local time (UTC here)', () => {
    process.env.TZ = 'UTC';
    expect(parseXrdpLogLine('[20260101-00:00:07] [ERROR] trans_listen_address failed')?.time).toBe('2026-01-01T00:00:07.000Z');
  });

  it('reads every level xrdp writes, padded to five characters', () => {
    const levels = ['[CORE ]', '[ERROR]', '[WARN ]', '[INFO ]', '[DEBUG]', '[TRACE]'].map(
      (l) => parseXrdpLogLine(`[20261126-23:04:17] ${l} x`)?.level,
    );
    expect(levels).toEqual(['CORE', 'ERROR', 'WARN', 'INFO', 'DEBUG', 'TRACE']);
  });

  it('splits off the process id that EnableProcessId=true adds', () => {
    const line = parseXrdpLogLine(
      '[20261126-23:05:46] [ERROR] [pid:26471 tid:140704341641024] Sending [ITU T.125] DisconnectProviderUltimatum failed',
    );
    expect(line).toMatchObject({ level: 'ERROR', pid: 26471, message: 'Sending [ITU T.125] DisconnectProviderUltimatum failed' });
  });

  it('keeps a message with brackets, colons and trailing spaces as written, and drops a CR', () => {
    expect(parseXrdpLogLine('[20261126-23:03:35] [CORE ] It looks like xrdp is already running.\r')?.message).toBe(
      'It looks like xrdp is already running.',
    );
    expect(parseXrdpLogLine('[20261126-23:04:25] [INFO ] Xvnc :10 -dpi 96  ')?.message).toBe('Xvnc :10 -dpi 96  ');
  });

  it('refuses what is not an xrdp line, or a date that does not exist', () => {
    for (const bad of [
      '',
      'Xvnc TigerVNC 1.12.0 - built Jan  6 2023',
      '[2026-11-26 23:04:17] [INFO ] x',
      '[20261126-23:04:17] [NOTICE] x',
      '[20260231-10:00:00] [INFO ] February has no 31st',
      '[20261126-25:00:00] [INFO ] no hour 25',
    ]) {
      expect(parseXrdpLogLine(bad), bad).toBeNull();
    }
  });

  it('parses every line of the recorded instance and sesman logs', () => {
    for (const name of ['xrdp-instance-log.txt', 'xrdp-sesman-log.txt']) {
      const lines = fixture(name).trimEnd().split('\n');
      expect(lines.map(parseXrdpLogLine).filter((l) => l === null)).toEqual([]);
    }
  });
});

describe('isAtLeast', () => {
  it('orders CORE > ERROR > WARN > INFO > DEBUG > TRACE', () => {
    expect(isAtLeast('ERROR', 'WARN')).toBe(true);
    expect(isAtLeast('WARN', 'WARN')).toBe(true);
    expect(isAtLeast('INFO', 'WARN')).toBe(false);
    expect(isAtLeast('CORE', 'ERROR')).toBe(true);
    expect(isAtLeast('TRACE', 'DEBUG')).toBe(false);
  });
});
