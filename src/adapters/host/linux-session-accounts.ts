import { execFile, spawn } from 'node:child_process';
import { access, chmod, chown, constants, stat, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Desktop } from '../../domain/servers/server.js';
import type { SessionAccounts } from '../../domain/sessions/session-accounts.js';

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

/** EPHEMERAL session accounts with useradd/chpasswd/userdel; needs root. */
export function createLinuxSessionAccounts(options: { shell?: string } = {}): SessionAccounts {
  return {
    async create(username, password, createOptions = {}) {
      if (!EPHEMERAL_NAME.test(username)) throw new Error(`refusing to create account ${username}`);
      await run('useradd', ['--create-home', '--shell', options.shell ?? '/bin/bash', '--comment', 'rdp session', username]);
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
  };
}
