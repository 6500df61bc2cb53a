import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandResultPayload } from '../../domain/cluster/host-protocol.js';
import { GroupCommit, type Settled } from '../mongo/group-commit.js';

export type JournalState = { state: 'started' } | { state: 'done'; reply: CommandResultPayload };

const FILE = 'commands.journal';

/**
 * The agent's durable record of the commands it ran, by command id, so that a command delivered
 * again (after a crash, or sent twice) never runs twice. One line per step, appended and fsync'd
 * before the step counts: `started <id>` before the handler runs, `done <id> <json reply>` after.
 * Concurrent appends share one write and one fdatasync (group commit), so 1,000 commands in flight
 * cost a handful of syncs, not 2,000.
 *
 * A torn last line (power cut mid-write) is ignored: its step had not been synced, so it had not
 * counted. On open, and whenever it has grown past twice `keep` records, the file is rewritten
 * with the unfinished commands and the last `keep` finished ones (older commands are long past
 * their deadline and acknowledged, so Redis delivers them no more).
 */
export class CommandJournal {
  private readonly states = new Map<string, JournalState>();
  private lines = 0;
  private readonly appends = new GroupCommit<string, void>((batch) => this.writeBatch(batch));

  private constructor(
    private readonly path: string,
    private fd: Awaited<ReturnType<typeof open>>,
    private readonly keep: number,
  ) {}

  static async open(stateDir: string, keep = 10_000): Promise<CommandJournal> {
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    const path = join(stateDir, FILE);
    const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    const journal = new CommandJournal(path, await open(path, 'a', 0o600), keep);
    for (const line of text.split('\n')) journal.apply(line);
    await journal.compact();
    return journal;
  }

  get(commandId: string): JournalState | undefined {
    return this.states.get(commandId);
  }

  /** Durable once resolved: the handler may run. */
  started(commandId: string): Promise<void> {
    this.states.set(commandId, { state: 'started' });
    return this.appends.submit(`started ${commandId}\n`);
  }

  /** Durable once resolved: the reply may be sent and the entry acknowledged. */
  done(reply: CommandResultPayload): Promise<void> {
    this.states.set(reply.commandId, { state: 'done', reply });
    return this.appends.submit(`done ${reply.commandId} ${JSON.stringify(reply)}\n`);
  }

  async close(): Promise<void> {
    await this.appends.submit('');
    await this.fd.close();
  }

  private apply(line: string): void {
    if (line.startsWith('started ')) {
      const id = line.slice(8).trim();
      if (id && !this.states.has(id)) this.states.set(id, { state: 'started' });
      this.lines++;
      return;
    }
    if (line.startsWith('done ')) {
      const space = line.indexOf(' ', 5);
      if (space < 0) return;
      try {
        const reply = JSON.parse(line.slice(space + 1)) as CommandResultPayload;
        // Re-insert so that the Map's order is the order of completion (compaction keeps the newest).
        this.states.delete(reply.commandId);
        this.states.set(reply.commandId, { state: 'done', reply });
        this.lines++;
      } catch {
        // A torn last line.
      }
    }
  }

  private async writeBatch(batch: string[]): Promise<Settled<void>[]> {
    const text = batch.join('');
    if (text) {
      await this.fd.write(text);
      await this.fd.datasync();
      this.lines += batch.length;
    }
    if (this.lines > 2 * this.keep + 1000) await this.compact();
    return batch.map(() => ({ ok: true, value: undefined }));
  }

  /** Rewrites the file (temp file, fsync, rename, fsync of the directory) with what must be kept. */
  private async compact(): Promise<void> {
    const done = [...this.states].filter(([, s]) => s.state === 'done');
    const drop = new Set(done.slice(0, Math.max(0, done.length - this.keep)).map(([id]) => id));
    for (const id of drop) this.states.delete(id);
    const lines = [...this.states].map(([id, s]) =>
      s.state === 'started' ? `started ${id}\n` : `done ${id} ${JSON.stringify(s.reply)}\n`,
    );
    const tmp = `${this.path}.tmp`;
    const out = await open(tmp, 'w', 0o600);
    try {
      await out.write(lines.join(''));
      await out.sync();
    } finally {
      await out.close();
    }
    await rename(tmp, this.path);
    const dir = await open(join(this.path, '..'), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    await this.fd.close();
    this.fd = await open(this.path, 'a', 0o600);
    this.lines = lines.length;
  }
}
