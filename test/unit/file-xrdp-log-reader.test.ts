import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileXrdpLogReader, readRecentLines } from '../../src/adapters/xrdp/file-xrdp-log-reader.js';
import { instancePaths } from '../../src/adapters/xrdp/instance-paths.js';
import { ValidationError } from '../../src/domain/shared/errors.js';
import { XrdpLogService } from '../../src/domain/xrdp/xrdp-log-service.js';

const line = (i: number, level = 'INFO ') =>
  `[20261126-23:04:${String(i % 60).padStart(2, '0')}] [${level}] [pid:7 tid:1] message ${i}`;

describe('FileXrdpLogReader', () => {
  let dir: string;
  const id = '0b6f3a52-9a55-4f55-9c1f-8a3b1d1f6a10';
  beforeAll(async () => {
    process.env.TZ = 'UTC';
    dir = await mkdtemp(join(tmpdir(), 'logs-'));
    const paths = instancePaths(dir, id);
    await mkdir(paths.dir, { recursive: true });
    const rows: string[] = [];
    for (let i = 0; i < 20_000; i++) rows.push(line(i, i % 100 === 0 ? 'ERROR' : i % 10 === 0 ? 'WARN ' : 'INFO '));
    rows.splice(19_998, 0, 'a continuation of message 19997');
    await writeFile(paths.log, `${rows.join('\n')}\n`);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('returns the last N lines oldest first, from the end of a large file', async () => {
    const got = await new FileXrdpLogReader({ configPath: dir }).readRecent(id, 3, 'TRACE');
    expect(got.map((l) => l.message)).toEqual([
      'message 19997\na continuation of message 19997',
      'message 19998',
      'message 19999',
    ]);
    expect(got[2]).toEqual({ time: '2026-11-26T23:04:19.000Z', level: 'INFO', message: 'message 19999', pid: 7 });
  });

  it('filters to a level and more severe', async () => {
    const reader = new FileXrdpLogReader({ configPath: dir });
    const warn = await reader.readRecent(id, 3, 'WARN');
    expect(warn.map((l) => `${l.level} ${l.message}`)).toEqual([
      'WARN message 19970',
      'WARN message 19980',
      'WARN message 19990',
    ]);
    const errors = await reader.readRecent(id, 1000, 'ERROR');
    expect(errors).toHaveLength(200);
    expect(errors[0]?.message).toBe('message 0');
  });

  it('reads a missing log as empty and stops at the scan limit', async () => {
    expect(
      await new FileXrdpLogReader({ configPath: dir }).readRecent('c3c1d9e2-0000-4000-8000-000000000000', 10, 'TRACE'),
    ).toEqual([]);
    const limited = await readRecentLines(instancePaths(dir, id).log, 1000, 'ERROR', 64 * 1024);
    expect(limited.length).toBeLessThan(20);
  });

  it('XrdpLogService refuses last outside 0..1000 as BAD_USER_INPUT', async () => {
    const service = new XrdpLogService(new FileXrdpLogReader({ configPath: dir }));
    await expect(service.serverLogs(id, 1001)).rejects.toBeInstanceOf(ValidationError);
    await expect(service.serverLogs(id, -1)).rejects.toMatchObject({ code: 'BAD_USER_INPUT', field: 'last' });
    expect(await service.serverLogs(id, 0)).toEqual([]);
    expect(await service.serverLogs(id, 1000)).toHaveLength(1000);
  });
});
