import { execFile } from 'node:child_process';
import { readdir, readFile, stat, statfs } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { AT_CLKTCK, AT_PAGESZ, parseAuxv, parsePidStat } from './proc-parsers.js';
import type { ProcRecord } from './process-attribution.js';

/** Reads the /proc text of the host this process runs on. Missing files read as null. */
export class ProcReader {
  constructor(private readonly root = '/proc') {}

  text(path: string): Promise<string | null> {
    return readFile(`${this.root}/${path}`, 'utf8').catch(() => null);
  }

  /** Page size and USER_HZ from our own auxiliary vector (Linux defaults when unreadable). */
  async constants(): Promise<{ pageSize: number; clkTck: number }> {
    try {
      const aux = parseAuxv(await readFile(`${this.root}/self/auxv`));
      return { pageSize: Number(aux.get(AT_PAGESZ) ?? 4096n), clkTck: Number(aux.get(AT_CLKTCK) ?? 100n) };
    } catch {
      return { pageSize: 4096, clkTck: 100 };
    }
  }

  /** Every process: its stat, and its uid when asked (one stat(2) of its /proc directory). */
  async processes(withUid: boolean): Promise<ProcRecord[]> {
    const pids = (await readdir(this.root)).filter((n) => /^\d+$/.test(n));
    const records = await Promise.all(
      pids.map(async (pid): Promise<ProcRecord | null> => {
        const text = await this.text(`${pid}/stat`);
        const parsed = text === null ? null : parsePidStat(text);
        if (!parsed) return null;
        const uid = withUid
          ? await stat(`${this.root}/${pid}`).then(
              (s) => s.uid,
              () => null,
            )
          : null;
        return { ...parsed, uid, argv: null, display: null };
      }),
    );
    return records.filter((r): r is ProcRecord => r !== null);
  }

  async argv(pid: number): Promise<string[]> {
    return ((await this.text(`${pid}/cmdline`)) ?? '').split('\0').filter((a) => a !== '');
  }

  async environ(pid: number): Promise<string | null> {
    return this.text(`${pid}/environ`);
  }
}

/** Size and use of the filesystem holding `path` (or its nearest existing parent), in bytes. */
export async function filesystemUsage(
  path: string,
): Promise<{ totalBytes: number; usedBytes: number; availableBytes: number } | null> {
  let dir = resolve(path);
  for (;;) {
    try {
      const s = await statfs(dir);
      // As df counts: used = blocks - free; the percentage is of what non-root users could use.
      return {
        totalBytes: s.blocks * s.bsize,
        usedBytes: (s.blocks - s.bfree) * s.bsize,
        availableBytes: s.bavail * s.bsize,
      };
    } catch {
      const parent = dirname(dir);
      if (parent === dir) return null;
      dir = parent;
    }
  }
}

/** Uids of accounts: /etc/passwd first, `id -u` for accounts it does not list (LDAP, ...). */
export async function uidsOf(usernames: readonly string[], passwdPath = '/etc/passwd'): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (usernames.length === 0) return out;
  const passwd = await readFile(passwdPath, 'utf8').catch(() => '');
  for (const line of passwd.split('\n')) {
    const [name, , uid] = line.split(':');
    if (name && uid !== undefined && usernames.includes(name)) out.set(name, Number(uid));
  }
  for (const name of usernames) {
    if (out.has(name) || !/^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$/.test(name)) continue;
    const uid = await new Promise<number | null>((done) => {
      execFile('id', ['-u', '--', name], { timeout: 2000 }, (err, stdout) => {
        const n = Number(String(stdout).trim());
        done(err || !Number.isInteger(n) ? null : n);
      });
    });
    if (uid !== null) out.set(name, uid);
  }
  return out;
}

/** `ss -tinH state established` limited to the local ports; null when ss is not there. */
export function readTcpCounters(ports: readonly number[], timeoutMs = 2000): Promise<string | null> {
  if (ports.length === 0) return Promise.resolve('');
  const filter = ports.map((p) => `sport = :${p}`).join(' or ');
  return new Promise((done) => {
    execFile(
      'ss',
      ['-tinH', 'state', 'established', `( ${filter} )`],
      { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout) => done(err ? null : String(stdout)),
    );
  });
}
