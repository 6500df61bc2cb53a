/**
 * The bench's own FerretDB and Redis on free loopback ports with scratch directories, so P3 and
 * P4 neither share a database server with test runs nor inherit their data. Falls back to
 * BENCH_MONGODB_URI / BENCH_REDIS_URL (or the usual 127.0.0.1 ports) when the binaries are absent.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../test/support/net.js';

export interface BenchServices {
  mongoUri: string;
  redisUrl: string;
  /** What runs where, for the report. */
  description: string;
  stop(): Promise<void>;
}

async function waitForPort(port: number, child: ChildProcess, name: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not listen on ${port} within ${timeoutMs} ms`);
}

function ferretBinary(): string | null {
  try {
    const gopath = execFileSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).trim().split(':')[0] ?? '';
    const bin = join(gopath, 'bin', 'ferretdb');
    return existsSync(bin) ? bin : null;
  } catch {
    return existsSync('/root/go/bin/ferretdb') ? '/root/go/bin/ferretdb' : null;
  }
}

function redisBinary(): string | null {
  for (const p of ['/usr/bin/redis-server', '/usr/local/bin/redis-server']) if (existsSync(p)) return p;
  return null;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export async function startBenchServices(): Promise<BenchServices> {
  const children: ChildProcess[] = [];
  const dirs: string[] = [];
  const parts: string[] = [];
  let mongoUri = process.env.BENCH_MONGODB_URI ?? 'mongodb://127.0.0.1:27017/bench';
  let redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  try {
    const ferret = process.env.BENCH_MONGODB_URI ? null : ferretBinary();
    if (ferret) {
      // On tmpfs where there is one: the bench measures the service, not SQLite's fsync on this
      // machine's disk (FerretDB commits each write; on /tmp here that was ~20 ms a write).
      const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'rdp-bench-ferret-'));
      dirs.push(dir);
      mkdirSync(join(dir, 'data'));
      mkdirSync(join(dir, 'state'));
      const [port, debug] = [await freePort(), await freePort()];
      const child = spawn(
        ferret,
        [
          '--handler=sqlite',
          `--sqlite-url=file:${dir}/data/`,
          `--listen-addr=127.0.0.1:${port}`,
          '--telemetry=disable',
          `--debug-addr=127.0.0.1:${debug}`,
          `--state-dir=${dir}/state`,
          '--log-level=error',
        ],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      );
      children.push(child);
      await waitForPort(port, child, 'ferretdb');
      mongoUri = `mongodb://127.0.0.1:${port}/bench`;
      parts.push(`own FerretDB (SQLite in ${dir}) on 127.0.0.1:${port}`);
    } else {
      parts.push(`FerretDB/MongoDB at ${mongoUri}`);
    }
    const redis = process.env.BENCH_REDIS_URL ? null : redisBinary();
    if (redis) {
      const port = await freePort();
      const child = spawn(redis, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      children.push(child);
      await waitForPort(port, child, 'redis-server');
      redisUrl = `redis://127.0.0.1:${port}`;
      parts.push(`own redis-server on 127.0.0.1:${port}`);
    } else {
      parts.push(`Redis at ${redisUrl}`);
    }
  } catch (err) {
    for (const c of children) await stopChild(c);
    throw err;
  }
  return {
    mongoUri,
    redisUrl,
    description: parts.join('; '),
    async stop() {
      for (const c of children) await stopChild(c);
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
}
