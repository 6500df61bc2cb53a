import { appendFile, mkdtemp, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogTailer, type LogTailer } from '../../src/adapters/xrdp/log-tailer.js';

async function waitFor(predicate: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('createLogTailer', () => {
  let dir: string;
  let tailer: LogTailer | undefined;
  let got: string[];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tailer-'));
    got = [];
  });
  afterEach(async () => {
    await tailer?.stop();
    tailer = undefined;
    await rm(dir, { recursive: true, force: true });
  });
  const start = (path: string, from?: number | 'end', extra: { maxLineBytes?: number; pollIntervalMs?: number } = {}) => {
    tailer = createLogTailer({ path, from, onLine: (l) => got.push(l), ...extra });
    return tailer;
  };

  it('starts at the end by default and delivers each complete line once, a partial line when completed', async () => {
    const path = join(dir, 'a.log');
    await writeFile(path, 'old 1\nold 2\n');
    await start(path).ready;
    await appendFile(path, 'new 1\nnew ');
    await waitFor(() => got.length === 1);
    await appendFile(path, '2\r\n');
    await waitFor(() => got.length === 2);
    expect(got).toEqual(['new 1', 'new 2']);
  });

  it('starts at a given offset', async () => {
    const path = join(dir, 'a.log');
    await writeFile(path, 'one\ntwo\nthree\n');
    await start(path, 4).ready;
    expect(got).toEqual(['two', 'three']);
  });

  it('waits for a file that does not exist yet (nor its directory) and reads it from its start', async () => {
    const path = join(dir, 'later', 'x.log');
    await start(path, 'end', { pollIntervalMs: 50 }).ready;
    await new Promise((r) => setTimeout(r, 60));
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'later'));
    await writeFile(path, 'first\nsecond\n');
    await waitFor(() => got.length === 2);
    expect(got).toEqual(['first', 'second']);
  });

  it('reads from 0 again after truncation', async () => {
    const path = join(dir, 'a.log');
    await writeFile(path, 'aaaaaaaaaaaaaaaa\n');
    await start(path).ready;
    await truncate(path, 0);
    await appendFile(path, 'after truncate\n');
    await waitFor(() => got.includes('after truncate'));
    expect(got).toEqual(['after truncate']);
  });

  it('follows rotation: drains the old file, then reads the new one from its start', async () => {
    const path = join(dir, 'a.log');
    await writeFile(path, '');
    await start(path).ready;
    await appendFile(path, 'before\n');
    await rename(path, `${path}.1`);
    await writeFile(path, 'fresh 1\nfresh 2\n');
    await waitFor(() => got.length === 3);
    expect(got).toEqual(['before', 'fresh 1', 'fresh 2']);
  });

  it('cuts an overlong line and keeps memory bounded, then goes on with the next line', async () => {
    const path = join(dir, 'a.log');
    await writeFile(path, '');
    await start(path, 'end', { maxLineBytes: 10 }).ready;
    await appendFile(path, `${'x'.repeat(100_000)}\nshort\n`);
    await waitFor(() => got.length === 2);
    expect(got).toEqual(['x'.repeat(10), 'short']);
  });

  it('delivers nothing after stop()', async () => {
    const path = join(dir, 'a.log');
    await writeFile(path, '');
    await start(path, 'end', { pollIntervalMs: 20 }).ready;
    await tailer?.stop();
    await appendFile(path, 'late\n');
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toEqual([]);
  });
});
