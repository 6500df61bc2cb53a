import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { CACHED_KINDS, GENERATIONS_KEY } from '../../src/app/cache-generations.js';
import { tool } from '../support/tools.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const fakeBin = fileURLToPath(new URL('../fixtures/fake-docker/', import.meta.url));
const OPS_SCRIPTS = ['deploy.sh', 'rolling-update.sh', 'backup.sh', 'restore.sh'];
const allScripts = readdirSync(join(repo, 'scripts')).filter((f) => f.endsWith('.sh'));

describe('scripts/*.sh', () => {
  const shellcheck = tool('shellcheck', ['/usr/bin/shellcheck']);

  it.skipIf(!shellcheck)('pass shellcheck', () => {
    const r = spawnSync(
      shellcheck ?? 'shellcheck',
      // -x follows the shared helpers they source (scripts/lib/ops.sh).
      ['-x', ...allScripts.map((f) => `scripts/${f}`), 'scripts/lib/ops.sh'],
      { cwd: repo, encoding: 'utf8' },
    );
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  });

  it('are executable bash with set -euo pipefail', () => {
    for (const file of allScripts) {
      const text = readFileSync(join(repo, 'scripts', file), 'utf8');
      expect(text.split('\n')[0], file).toBe('#!/usr/bin/env bash');
      expect(text, file).toMatch(/^set -euo pipefail$/m);
      expect(statSync(join(repo, 'scripts', file)).mode & 0o111, `${file} is executable`).not.toBe(0);
    }
  });

  it.each([...OPS_SCRIPTS, 'test-services.sh'])('%s --help prints its usage; a wrong option exits 2 with the usage', (file) => {
    const help = spawnSync('bash', [join(repo, 'scripts', file), '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: /);
    const bad = spawnSync('bash', [join(repo, 'scripts', file), '--no-such-option'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/Usage: /);
  });
});

/** A throwaway copy of the repository's layout: scripts/<name>, a fake docker on PATH, its state. */
interface Sandbox {
  root: string;
  state: string;
  run(script: string, args: string[], env?: Record<string, string>): { status: number | null; stdout: string; stderr: string };
  calls(): string[];
  write(file: string, text: string): void;
  read(file: string): string;
}

const sandboxes: string[] = [];
afterEach(() => {
  for (const dir of sandboxes.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function sandbox(script: string): Sandbox {
  const root = mkdtempSync(join(tmpdir(), 'rdp-ops-'));
  sandboxes.push(root);
  mkdirSync(join(root, 'scripts'));
  copyFileSync(join(repo, 'scripts', script), join(root, 'scripts', script));
  mkdirSync(join(root, 'scripts', 'lib'));
  copyFileSync(join(repo, 'scripts', 'lib', 'ops.sh'), join(root, 'scripts', 'lib', 'ops.sh'));
  const state = join(root, '.fake-docker');
  mkdirSync(state);
  return {
    root,
    state,
    run(name, args, env = {}) {
      const r = spawnSync('bash', [join(root, 'scripts', name), ...args], {
        encoding: 'utf8',
        input: '',
        env: { ...process.env, PATH: `${fakeBin}:${process.env.PATH ?? ''}`, FAKE_DOCKER_STATE: state, BACKUP_DIR: '', ...env },
        timeout: 20_000,
      });
      return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    },
    calls: () => (existsSync(join(state, 'calls')) ? readFileSync(join(state, 'calls'), 'utf8').trim().split('\n') : []),
    write: (file, text) => writeFileSync(join(state, file), text),
    read: (file) => readFileSync(join(state, file), 'utf8'),
  };
}

const GOOD_ENV =
  'JWT_SECRET=0123456789abcdef0123456789abcdef0123\nGRAFANA_ADMIN_PASSWORD=s3cret\nRDP_PUBLIC_HOST=rdp.example.net\nRDP_PORT_RANGE=33890-33999\n' +
  'AGENT_HOST_ID=host-a\nAGENT_REDIS_PASSWORD=Zm9vYmFyYmF6cXV4_-0123456789\n';

describe('deploy.sh (against a fake docker)', () => {
  const deploy = () => {
    const s = sandbox('deploy.sh');
    s.write('services', 'api\nagent\nmongo\nredis\nprometheus\ngrafana\n');
    for (const svc of ['api', 'agent', 'mongo', 'redis', 'prometheus', 'grafana']) s.write(`ps-${svc}`, `${svc}1\n`);
    return s;
  };

  it('refuses to start without .env, naming the file to copy', () => {
    const r = deploy().run('deploy.sh', []);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no \.env .*cp \.env\.example \.env/);
  });

  it('lists every problem of .env at once: the placeholder secret and the missing Grafana password', () => {
    const s = deploy();
    writeFileSync(join(s.root, '.env'), 'JWT_SECRET=CHANGE_ME\nGRAFANA_ADMIN_PASSWORD=\n');
    const r = s.run('deploy.sh', []);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/JWT_SECRET is not set/);
    expect(r.stderr).toMatch(/GRAFANA_ADMIN_PASSWORD is not set/);
    expect(s.calls().filter((c) => c.startsWith('compose up'))).toEqual([]);
  });

  it("refuses the agent's placeholder Redis password and a bad host id, before touching docker", () => {
    const s = deploy();
    const env = (id: string, password: string) =>
      GOOD_ENV.replace(/^AGENT_HOST_ID=.*$/m, `AGENT_HOST_ID=${id}`).replace(
        /^AGENT_REDIS_PASSWORD=.*$/m,
        `AGENT_REDIS_PASSWORD=${password}`,
      );
    const cases: [string, string, RegExp[]][] = [
      ['host-a', 'CHANGE_ME', [/AGENT_REDIS_PASSWORD is not set \(generate one: openssl rand -hex 32\)/]],
      ['host-a', '', [/AGENT_REDIS_PASSWORD is not set/]],
      ['host-a', 'short-1234', [/AGENT_REDIS_PASSWORD must be at least 16 of A-Z a-z 0-9 _ -/]],
      ['host-a', 'has@and:in/it-0123456789', [/AGENT_REDIS_PASSWORD must be at least 16/]],
      ['Host_A', 'CHANGE_ME', [/AGENT_HOST_ID 'Host_A' must be 1-63 of a-z 0-9 -/, /AGENT_REDIS_PASSWORD is not set/]],
      ['', 'Zm9vYmFyYmF6cXV4_-0123456789', [/AGENT_HOST_ID '' must be/]],
    ];
    for (const [id, password, problems] of cases) {
      writeFileSync(join(s.root, '.env'), env(id, password));
      const r = s.run('deploy.sh', []);
      expect(r.status, `${id} ${password}`).toBe(1);
      for (const problem of problems) expect(r.stderr, `${id} ${password}`).toMatch(problem);
    }
    expect(s.calls().filter((c) => c.startsWith('compose'))).toEqual([]);
  });

  it('starts the databases first, waits for them, then the rest, checks the URLs and prints them', () => {
    const s = deploy();
    writeFileSync(join(s.root, '.env'), GOOD_ENV);
    const r = s.run('deploy.sh', []);
    expect(r.status, r.stderr).toBe(0);
    const ups = s.calls().filter((c) => /^compose (build|up)/.test(c));
    expect(ups).toEqual(['compose build', 'compose up -d mongo redis', 'compose up -d']);
    expect(r.stdout).toContain('http://localhost:8090/graphql');
    expect(r.stdout).toContain('rdp.example.net, ports 33890-33999');
  });

  it('fails naming the service that is unhealthy, with its health output and logs', () => {
    const s = deploy();
    writeFileSync(join(s.root, '.env'), GOOD_ENV);
    s.write('health-api1', 'unhealthy');
    const r = s.run('deploy.sh', ['--no-build']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/api is unhealthy/);
    expect(r.stderr).toContain('health check output of api1');
    expect(s.calls()).not.toContain('compose build');
  });
});

describe('rolling-update.sh (against a fake docker)', () => {
  const update = (running: string[], opts: { ports?: string; mounts?: string; newHealth?: string[] } = {}) => {
    const s = sandbox('rolling-update.sh');
    s.write('services', 'api\nmongo\n');
    s.write('ps-api', `${running.join('\n')}\n`);
    s.write('ports', opts.ports ?? '');
    s.write('mounts', opts.mounts ?? '');
    s.write('new-health', opts.newHealth ? `${opts.newHealth.join('\n')}\n` : '');
    return s;
  };
  const recreations = (s: Sandbox) => s.calls().filter((c) => c.includes('--force-recreate')).length;

  it('replaces a service with fixed host ports in place and keeps the new container when healthy', () => {
    const s = update(['old1'], { ports: '8090 33890-33999 ' });
    const r = s.run('rolling-update.sh', ['api']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/replacing api in place: it publishes fixed host ports \(8090 33890-33999\)/);
    expect(s.calls()).toContain('compose build api');
    expect(recreations(s)).toBe(1);
    expect(s.calls().some((c) => c.startsWith('image tag'))).toBe(false);
    expect(s.read('ps-api').trim()).toBe('new1');
  });

  it('rolls back to the previous image when the replacement is unhealthy', () => {
    const s = update(['old1'], { ports: '8090 ', newHealth: ['unhealthy', 'healthy'] });
    const r = s.run('rolling-update.sh', ['api']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/rolled back to the previous image, which is healthy/);
    expect(s.calls()).toContain('image tag sha256:old rdp-services-cluster-xrdp-host');
    expect(recreations(s)).toBe(2);
  });

  it('says so when the rollback is not healthy either', () => {
    const s = update(['old1'], { ports: '8090 ', newHealth: ['unhealthy', 'unhealthy'] });
    const r = s.run('rolling-update.sh', ['api']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/rollback is not healthy either/);
  });

  it('never runs two copies of a service with named volumes (a second mongod on the same data)', () => {
    const s = update(['old1'], { mounts: 'mongo-data ' });
    const r = s.run('rolling-update.sh', ['api']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/it mounts named volumes \(mongo-data\)/);
    expect(s.calls().some((c) => c.includes('--scale'))).toBe(false);
  });

  it('overlaps a service that can run twice: one new container per old one, each healthy before the old one stops', () => {
    const s = update(['old1', 'old2']);
    const r = s.run('rolling-update.sh', ['api']);
    expect(r.status, r.stderr).toBe(0);
    const steps = s.calls().filter((c) => /--scale|^stop|^rm/.test(c));
    expect(steps).toEqual([
      'compose up -d --no-deps --no-recreate --no-build --scale api=3 api',
      'stop -t 30 old1',
      'rm old1',
      'compose up -d --no-deps --no-recreate --no-build --scale api=3 api',
      'stop -t 30 old2',
      'rm old2',
      'compose up -d --no-deps --no-recreate --no-build --scale api=2 api',
    ]);
    expect(s.read('ps-api').trim().split('\n')).toEqual(['new1', 'new2']);
  });

  it('removes an unhealthy overlapping container and leaves the old ones running', () => {
    const s = update(['old1'], { newHealth: ['unhealthy'] });
    const r = s.run('rolling-update.sh', ['api']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/removed it; the old containers keep running/);
    expect(s.calls()).toContain('rm -f new1');
    expect(s.read('ps-api').trim()).toBe('old1');
  });

  it("updating api says nothing about sessions; updating agent warns that it ends this host's sessions", () => {
    const api = update(['old1'], { ports: '8090 ' });
    const r = api.run('rolling-update.sh', ['api']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/session/);
    const s = sandbox('rolling-update.sh');
    s.write('services', 'api\nagent\n');
    s.write('ps-agent', 'old1\n');
    s.write('ports', '33890-33999 ');
    s.write('mounts', 'xrdp-config ');
    s.write('new-health', '');
    const a = s.run('rolling-update.sh', ['agent']);
    expect(a.status, a.stderr).toBe(0);
    expect(a.stderr).toMatch(/warning: recreating agent ends every RDP session on this host \(drain it first/);
    expect(a.stderr).toMatch(/replacing agent in place: it publishes fixed host ports \(33890-33999\)/);
  });

  it('refuses a service the compose files do not define, and needs exactly one', () => {
    expect(update(['old1']).run('rolling-update.sh', ['nope']).stderr).toMatch(/no service 'nope'/);
    expect(update(['old1']).run('rolling-update.sh', []).status).toBe(2);
    expect(update(['old1']).run('rolling-update.sh', ['api', 'mongo']).status).toBe(2);
  });
});

describe('backup.sh and restore.sh (against a fake docker)', () => {
  const DAY = 86_400_000;
  const setup = () => {
    const s = sandbox('backup.sh');
    copyFileSync(join(repo, 'scripts', 'restore.sh'), join(s.root, 'scripts', 'restore.sh'));
    s.write('ps-mongo', 'mongo1\n');
    s.write('ps-api', 'api1\n');
    const dir = join(s.root, 'backups');
    mkdirSync(dir);
    const aged = (name: string, days: number) => {
      writeFileSync(join(dir, name), name.endsWith('.gz') ? '' : 'x');
      const t = new Date(Date.now() - days * DAY);
      utimesSync(join(dir, name), t, t);
    };
    aged('lucid_rdp-20200101T000000Z.archive.gz', 8);
    aged('lucid_rdp-20200103T000000Z.archive.gz', 6);
    aged('otherdb-20200101T000000Z.archive.gz', 30);
    aged('notes.txt', 30);
    return { s, dir };
  };

  it('writes a complete gzip archive from the mongo service and deletes only its own archives older than 7 days', () => {
    const { s, dir } = setup();
    const r = s.run('backup.sh', []);
    expect(r.status, r.stderr).toBe(0);
    const files = readdirSync(dir).sort();
    const made = files.find((f) => /^lucid_rdp-\d{8}T\d{6}Z\.archive\.gz$/.test(f) && !f.startsWith('lucid_rdp-2020'));
    expect(made).toBeDefined();
    expect(gunzipSync(readFileSync(join(dir, made ?? ''))).toString()).toBe('fake dump');
    expect(statSync(join(dir, made ?? '')).mode & 0o777).toBe(0o600);
    expect(files).not.toContain('lucid_rdp-20200101T000000Z.archive.gz');
    expect(files).toEqual(
      expect.arrayContaining(['lucid_rdp-20200103T000000Z.archive.gz', 'otherdb-20200101T000000Z.archive.gz', 'notes.txt']),
    );
    expect(files.filter((f) => f.startsWith('.'))).toEqual([]);
    expect(s.calls()).toContain('compose exec -T mongo mongodump --db=lucid_rdp --archive --gzip --quiet');
  });

  it('keeps everything, and leaves no partial file, when mongodump fails', () => {
    const { s, dir } = setup();
    s.write('mongodump-fails', '');
    const before = readdirSync(dir).sort();
    const r = s.run('backup.sh', []);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/mongodump in the mongo container failed/);
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it('says when the mongo service is not running', () => {
    const { s } = setup();
    s.write('ps-mongo', '');
    const r = s.run('backup.sh', []);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/the mongo service is not running/);
  });

  it('restore.sh restores the newest archive with the API stopped around it, and can target another database', () => {
    const { s, dir } = setup();
    expect(s.run('backup.sh', []).status).toBe(0);
    const r = s.run('restore.sh', ['latest', '--yes', '--drop', '--to-db', 'lucid_rdp_check', '--stop-api']);
    expect(r.status, r.stderr).toBe(0);
    const calls = s.calls().filter((c) => /^compose (stop|start|exec -T mongo mongorestore)/.test(c));
    expect(calls).toEqual([
      'compose stop api',
      'compose exec -T mongo mongorestore --archive --gzip --nsInclude=lucid_rdp.* --nsFrom=lucid_rdp.* --nsTo=lucid_rdp_check.* --drop',
      'compose start api',
    ]);
    expect(r.stderr).toMatch(new RegExp(`restored ${dir}/lucid_rdp-\\d{8}T\\d{6}Z\\.archive\\.gz into lucid_rdp_check`));
  });

  it('restore.sh into the live database moves every response cache generation in the redis service; says what to do when it cannot', () => {
    const { s } = setup();
    expect(s.run('backup.sh', []).status).toBe(0);
    const redisCalls = () => s.calls().filter((c) => c.includes('redis-cli'));
    // The redis service is not running: nothing to move (replicas without Redis serve no cached answer).
    const noRedis = s.run('restore.sh', ['latest', '--yes', '--drop']);
    expect(noRedis.status, noRedis.stderr).toBe(0);
    expect(noRedis.stderr).toMatch(/the redis service is not running, so no generation was moved/);
    expect(redisCalls()).toEqual([]);

    s.write('ps-redis', 'redis1\n');
    const moved = s.run('restore.sh', ['latest', '--yes', '--drop']);
    expect(moved.status, moved.stderr).toBe(0);
    // The key and kinds are the API's (src/app/cache-generations.ts).
    expect(redisCalls()).toEqual([
      `compose exec -T redis redis-cli EVAL for _, k in ipairs(ARGV) do redis.call("HINCRBY", KEYS[1], k, 1) end 1 ${GENERATIONS_KEY} ${CACHED_KINDS.join(' ')}`,
    ]);
    expect(moved.stderr).toMatch(/response cache: moved the generations of servers sessions pools assignments/);
    // The move comes after the restore.
    const calls = s.calls();
    expect(calls.findIndex((c) => c.includes('redis-cli'))).toBeGreaterThan(calls.findIndex((c) => c.includes('mongorestore')));

    s.write('redis-cli-fails', '');
    const failed = s.run('restore.sh', ['latest', '--yes', '--drop', '--stop-api']);
    expect(failed.status).toBe(3);
    expect(failed.stderr).toMatch(/restored .* into lucid_rdp/);
    expect(failed.stderr).toMatch(/could not move the generations .* restart them, or run redis-cli HINCRBY/);
    expect(s.calls().at(-1)).toBe('compose start api');

    // Restored beside the live data: no move.
    const before = redisCalls().length;
    expect(s.run('restore.sh', ['latest', '--yes', '--to-db', 'lucid_rdp_check']).status).toBe(0);
    expect(redisCalls()).toHaveLength(before);
  });

  it('restore.sh will not run unconfirmed without a terminal, nor from a damaged archive', () => {
    const { s, dir } = setup();
    expect(s.run('backup.sh', []).status).toBe(0);
    const unconfirmed = s.run('restore.sh', ['latest']);
    expect(unconfirmed.status).toBe(2);
    expect(unconfirmed.stderr).toMatch(/pass --yes/);
    writeFileSync(join(dir, 'broken.archive.gz'), 'not gzip');
    const broken = s.run('restore.sh', [join(dir, 'broken.archive.gz'), '--yes']);
    expect(broken.status).toBe(1);
    expect(broken.stderr).toMatch(/not a valid gzip archive/);
    expect(s.calls().some((c) => c.includes('mongorestore'))).toBe(false);
  });
});
