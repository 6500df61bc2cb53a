import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createLinuxSessionAccounts } from '../../src/adapters/host/linux-session-accounts.js';
import { MemorySessionStore } from '../../src/adapters/memory/memory-session-store.js';
import { lockAccountsMadeHere, removeOrphanAccounts } from '../../src/domain/sessions/account-cleanup.js';
import type { RdpSession } from '../../src/domain/sessions/session.js';

const isRoot = process.getuid?.() === 0;
const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const name = () => `rdp-${hex(4)}`;

function passwd(username: string): string | undefined {
  return readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${username}:`));
}

function shadowHash(username: string): string | undefined {
  return readFileSync('/etc/shadow', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${username}:`))
    ?.split(':')[1];
}

/** A pid that ran and exited: the creator of an orphan. */
function deadCreator(): string {
  const r = spawnSync('sh', ['-c', 'echo $$; cut -d" " -f22 /proc/$$/stat'], { encoding: 'utf8' });
  const [pid, ticks] = r.stdout.trim().split('\n');
  return `${pid}.${ticks}`;
}

function liveSession(username: string): RdpSession {
  const now = new Date().toISOString();
  return {
    id: `s-${hex(4)}`,
    serverId: 'srv',
    owner: 'alice',
    createdBy: 'alice',
    status: 'ACTIVE',
    terminationReason: null,
    clientInfo: {} as RdpSession['clientInfo'],
    credentialMode: 'EPHEMERAL',
    username,
    credentialHash: null,
    credentialExpiresAt: now,
    credentialDeadline: null,
    display: null,
    slots: { global: 0, server: 0, user: 0 },
    createdAt: now,
    connectedAt: null,
    lastActivityAt: now,
    terminatedAt: null,
    idleDeadline: null,
    sessionDeadline: new Date(Date.now() + 3_600_000).toISOString(),
    version: 1,
  };
}

describe.skipIf(!isRoot)('session accounts are marked per installation; clean-up touches only its own (real useradd)', () => {
  const made: string[] = [];
  const useradd = (username: string, comment: string) => {
    execFileSync('useradd', ['--comment', comment, username]);
    made.push(username);
    return username;
  };
  afterAll(() => {
    for (const u of made) spawnSync('userdel', ['--remove', '--force', u]);
  });

  it('listOwn, removeOrphanAccounts and lockAccountsMadeHere act on this installation’s accounts only', async () => {
    const id = hex(8);
    const accounts = createLinuxSessionAccounts({ installationId: id });
    const mine = name();
    made.push(mine);
    await accounts.create(mine, `P-${hex(8)}`);
    expect(passwd(mine)).toMatch(new RegExp(`:rdp-session ${id} ${process.pid}\\.\\d+:`));

    const orphan = useradd(name(), `rdp-session ${id} ${deadCreator()}`);
    const orphanInUse = useradd(name(), `rdp-session ${id} ${deadCreator()}`);
    const otherInstallation = useradd(name(), `rdp-session ${hex(8)} ${deadCreator()}`);
    const unmarked = useradd(name(), 'rdp session');

    const own = await accounts.listOwn();
    expect(own.sort((a, b) => a.username.localeCompare(b.username))).toEqual(
      [
        { username: mine, creatorRunning: true, createdHere: true },
        { username: orphan, creatorRunning: false, createdHere: false },
        { username: orphanInUse, creatorRunning: false, createdHere: false },
      ].sort((a, b) => a.username.localeCompare(b.username)),
    );
    expect(await createLinuxSessionAccounts({ installationId: hex(8) }).listOwn()).toEqual([]);

    const store = new MemorySessionStore();
    await store.insert(liveSession(orphanInUse));
    const r = await removeOrphanAccounts(store, accounts);
    expect(r).toEqual({ removed: [orphan], failed: [] });
    expect(passwd(orphan)).toBeUndefined();
    for (const kept of [mine, orphanInUse, otherInstallation, unmarked]) expect(passwd(kept), kept).toBeDefined();

    expect(shadowHash(mine)).toMatch(/^[^!*]/);
    const others = [orphanInUse, otherInstallation, unmarked];
    const before = others.map(shadowHash);
    expect(await lockAccountsMadeHere(accounts)).toEqual([mine]);
    expect(shadowHash(mine)).toMatch(/^!/);
    expect(others.map(shadowHash)).toEqual(before);
  });
});
