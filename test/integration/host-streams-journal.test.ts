import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CommandJournal } from '../../src/adapters/redis/host-command-journal.js';

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

describe('the agent command journal on disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rdp-host-journal-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('survives a reopen, ignores a torn last line, and compaction keeps the unfinished and the newest finished', async () => {
    const j = await CommandJournal.open(dir, 3);
    await j.started(id(0));
    for (let n = 1; n <= 6; n++) {
      await j.started(id(n));
      await j.done({ commandId: id(n), replica: 'r1', status: 'OK', result: n });
    }
    await j.close();
    // A power cut in the middle of a line.
    appendFileSync(join(dir, 'commands.journal'), `done ${id(7)} {"commandId":"${id(7)}","repl`);

    const again = await CommandJournal.open(dir, 3);
    try {
      expect(again.get(id(0))).toEqual({ state: 'started' });
      expect(again.get(id(7))).toBeUndefined();
      expect([1, 2, 3].map((n) => again.get(id(n)))).toEqual([undefined, undefined, undefined]);
      expect(again.get(id(6))).toEqual({ state: 'done', reply: { commandId: id(6), replica: 'r1', status: 'OK', result: 6 } });
      // Rewritten: one line each for 0 (started) and 4-6 (done), the torn line gone.
      const lines = readFileSync(join(dir, 'commands.journal'), 'utf8').split('\n').filter(Boolean);
      expect(lines.map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual([
        `started ${id(0)}`,
        `done ${id(4)}`,
        `done ${id(5)}`,
        `done ${id(6)}`,
      ]);
      // Appends go on after the compaction.
      await again.started(id(8));
    } finally {
      await again.close();
    }
    expect(readFileSync(join(dir, 'commands.journal'), 'utf8')).toContain(`started ${id(8)}\n`);
  });
});
