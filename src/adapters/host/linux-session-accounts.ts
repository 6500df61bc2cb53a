import { execFile, spawn } from 'node:child_process';
import { access, chmod, chown, constants, readFile, stat, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Desktop } from '../../domain/servers/server.js';
import type { OwnAccount, SessionAccounts } from '../../domain/sessions/session-accounts.js';
import { parsePidStat } from './proc-parsers.js';

const run = promisify(execFile);

/** Only names this adapter makes are ever touched: a real user's account can never be removed. */
const EPHEMERAL_NAME = /^rdp-[0-9a-f]{8}$/;

function chpasswd(username: string, password: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // The password goes through stdin, never argv (visible in /proc) or the environment.
    const child = spawn('chpasswd', [], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`chpasswd failed: ${err.trim()}`))));
    child.stdin.end(`${username}:${password}\n`);
  });
}

/** What starts each desktop; the first one installed wins, then a terminal, then xrdp's default. */
const DESKTOP_COMMANDS: Record<Desktop, string[]> = {
  xfce: ['/usr/bin/startxfce4'],
  gnome: ['/usr/bin/gnome-session'],
  kde: ['/usr/bin/startplasma-x11', '/usr/bin/startkde'],
  lxde: ['/usr/bin/startlxde'],
};
const FALLBACKS = ['/usr/bin/xterm', '/usr/bin/x-terminal-emulator'];

async function firstExecutable(paths: string[]): Promise<string | null> {
  for (const p of paths) {
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return null;
}

/**
 * Writes ~/startwm.sh (sesman runs it with EnableUserWindowManager=true), so the session starts
 * the server's desktop directly instead of /etc/X11/Xsession, which also leaves an ssh-agent
 * behind. Without any candidate installed, xrdp's default applies.
 */
async function writeStartScript(username: string, desktop: Desktop | undefined): Promise<void> {
  const command = await firstExecutable([...(desktop ? DESKTOP_COMMANDS[desktop] : []), ...FALLBACKS]);
  if (!command) return;
  const home = `/home/${username}`;
  const file = `${home}/startwm.sh`;
  await writeFile(file, `#!/bin/sh\nexec ${command}\n`, { mode: 0o755 });
  const { uid, gid } = await stat(home);
  await chown(file, uid, gid);
  await chmod(file, 0o755);
}

/**
 * The comment (GECOS) of an account we make: the installation id, and the process that made it
 * as `pid.starttime` (a pid alone is reused). No ':' (the passwd separator) and no ','.
 */
const MARK = /^rdp-session ([0-9a-f]{16}) (\d+)\.(\d+)$/;

/** The start time (ticks since boot) of a process, or null when it is not running. */
async function startTicks(pid: number | 'self'): Promise<number | null> {
  try {
    const st = parsePidStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
    return st && st.state !== 'Z' ? st.startTicks : null;
  } catch {
    return null;
  }
}

export interface LinuxSessionAccountsOptions {
  /** Marks every account made, so listOwn finds this installation's accounts and no one else's. */
  installationId: string;
  shell?: string;
  /** @default /etc/passwd */
  passwdFile?: string;
}

/** EPHEMERAL session accounts with useradd/chpasswd/userdel; needs root. */
export function createLinuxSessionAccounts(options: LinuxSessionAccountsOptions): SessionAccounts {
  if (!/^[0-9a-f]{16}$/.test(options.installationId)) throw new Error('installationId must be 16 hex digits');
  let self: Promise<string> | undefined;
  const creator = () => {
    self ??= startTicks('self').then((ticks) => `${process.pid}.${ticks ?? 0}`);
    return self;
  };
  return {
    async create(username, password, createOptions = {}) {
      if (!EPHEMERAL_NAME.test(username)) throw new Error(`refusing to create account ${username}`);
      const comment = `rdp-session ${options.installationId} ${await creator()}`;
      await run('useradd', ['--create-home', '--shell', options.shell ?? '/bin/bash', '--comment', comment, username]);
      try {
        await chpasswd(username, password);
        await writeStartScript(username, createOptions.desktop);
      } catch (err) {
        await run('userdel', ['--remove', username]).catch(() => undefined);
        throw err;
      }
    },
    async lock(username) {
      if (!EPHEMERAL_NAME.test(username)) throw new Error(`refusing to lock account ${username}`);
      try {
        // A '!' before the hash: pam_unix (xrdp's sesman authenticates with PAM) refuses the password.
        await run('usermod', ['--lock', username]);
      } catch (err) {
        // exit 6: no such user; an ended session's account is gone, which locks it too
        if ((err as { code?: number }).code !== 6) throw err;
      }
    },
    async unlock(username) {
      if (!EPHEMERAL_NAME.test(username)) throw new Error(`refusing to unlock account ${username}`);
      try {
        // Removes the '!' usermod --lock put before the hash; a hash without one stays as it is.
        await run('usermod', ['--unlock', username]);
      } catch (err) {
        // exit 6: no such user (the session ended; nothing to unlock)
        if ((err as { code?: number }).code !== 6) throw err;
      }
    },
    async setPassword(username, password) {
      if (!EPHEMERAL_NAME.test(username)) throw new Error(`refusing to set the password of account ${username}`);
      // chpasswd writes a fresh hash without the '!' of usermod --lock: the lock goes with the old one.
      await chpasswd(username, password);
    },
    async exists(username) {
      try {
        await run('getent', ['passwd', username]);
        return true;
      } catch (err) {
        // exit 2: no such key in the database
        if ((err as { code?: number }).code === 2) return false;
        throw err;
      }
    },
    async remove(username) {
      if (!EPHEMERAL_NAME.test(username)) throw new Error(`refusing to remove account ${username}`);
      await run('pkill', ['-KILL', '-u', username]).catch(() => undefined);
      try {
        await run('userdel', ['--remove', '--force', username]);
      } catch (err) {
        // exit 6: no such user, which is what we want
        if ((err as { code?: number }).code !== 6) throw err;
      }
    },
    async listOwn() {
      const text = await readFile(options.passwdFile ?? '/etc/passwd', 'utf8');
      const me = await creator();
      const out: OwnAccount[] = [];
      for (const line of text.split('\n')) {
        const [username = '', , , , comment = ''] = line.split(':');
        const mark = MARK.exec(comment);
        if (!EPHEMERAL_NAME.test(username) || !mark || mark[1] !== options.installationId) continue;
        const [, , pid, ticks] = mark;
        const createdHere = `${pid}.${ticks}` === me;
        const creatorRunning = createdHere || (await startTicks(Number(pid))) === Number(ticks);
        out.push({ username, creatorRunning, createdHere });
      }
      return out;
    },
  };
}
