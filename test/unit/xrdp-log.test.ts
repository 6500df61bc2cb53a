import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { isAtLeast, parseXrdpLogLine, withContinuation, XrdpLogEntryAssembler } from '../../src/domain/xrdp/xrdp-log.js';

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

describe('XrdpLogEntryAssembler', () => {
  const entry = (second: number, message: string, level = 'INFO ') =>
    `[20261126-23:05:${String(second).padStart(2, '0')}] [${level}] [pid:9 tid:1] ${message}`;

  it('joins continuation lines to the entry before them, keeps the last one open, drops lines before any entry', () => {
    const a = new XrdpLogEntryAssembler();
    const done: unknown[] = [];
    for (const raw of ['orphan', entry(1, 'one'), '  more of one', '', '  and more\r', '', entry(2, 'two', 'ERROR')]) {
      const e = a.push(raw);
      if (e) done.push(e);
    }
    expect(done).toEqual([expect.objectContaining({ message: 'one\n  more of one\n\n  and more', pid: 9 })]);
    expect(a.open).toBe(true);
    expect(a.push('  more of two')).toBeNull();
    expect(a.close()).toEqual(expect.objectContaining({ level: 'ERROR', message: 'two\n  more of two' }));
    expect(a.open).toBe(false);
    expect(a.close()).toBeNull();
    // Continuation lines after the entry was closed: an entry of their own, its time, level and pid.
    expect(a.push('')).toBeNull();
    expect(a.open).toBe(false);
    expect(a.push('  late line')).toBeNull();
    expect(a.push('  later line')).toBeNull();
    const late = a.close();
    expect(late).toEqual({ ...parseXrdpLogLine(entry(2, 'x', 'ERROR')), message: '  late line\n  later line' });
  });

  it('withContinuation is what reading backwards joins too (same message either way)', () => {
    const one = parseXrdpLogLine(entry(1, 'one'));
    if (!one) throw new Error('not parsed');
    expect(withContinuation(one, [])).toBe(one);
    expect(withContinuation(one, ['a', '', 'b\r', '', '']).message).toBe('one\na\n\nb');
  });
});
