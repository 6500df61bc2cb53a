import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
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

/** EPHEMERAL session accounts with useradd/chpasswd/userdel; needs root. */
export function createLinuxSessionAccounts(options: { shell?: string } = {}): SessionAccounts {
  return {
    async create(username, password) {
      if (!EPHEMERAL_NAME.test(username)) throw new Error(`refusing to create account ${username}`);
      await run('useradd', ['--create-home', '--shell', options.shell ?? '/bin/bash', '--comment', 'rdp session', username]);
      try {
        await chpasswd(username, password);
      } catch (err) {
        await run('userdel', ['--remove', username]).catch(() => undefined);
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
  };
}
