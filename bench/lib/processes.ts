import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const TASKSET = spawnSync('taskset', ['--version']).status === 0;

/** Whether processes can be pinned to cores here. */
export const canPin = TASKSET;

export interface ChildOptions {
  /** Core to pin the process to with taskset, when available. */
  cpu?: number;
  env?: Record<string, string>;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Name used in errors. */
  name: string;
}

export interface BenchChild {
  name: string;
  pid: number;
  call<T = unknown>(method: string, params?: unknown, timeoutMs?: number): Promise<T>;
  /** Asks the child to exit cleanly; kills it (by its own pid) after a grace period. */
  stop(): Promise<void>;
  /** Resident set size in bytes, from /proc. */
  rss(): number;
  /** CPU seconds (user + system) used so far, from /proc. */
  cpuSeconds(): number;
}

/** Starts `bench/<script>` under tsx with an IPC channel, pinned to a core where possible. */
export async function startChild(script: string, options: ChildOptions): Promise<BenchChild> {
  const file = fileURLToPath(new URL(`../${script}`, import.meta.url));
  const node = [...(options.nodeArgs ?? []), '--import', 'tsx', file];
  const pinned = TASKSET && options.cpu !== undefined;
  const child: ChildProcess = pinned
    ? spawn('taskset', ['-c', String(options.cpu), process.execPath, ...node], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        env: { ...process.env, ...options.env },
      })
    : spawn(process.execPath, node, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, ...options.env } });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.name}: could not start`);
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = true;
      for (const p of pending.values()) p.reject(new Error(`${options.name} exited (${code ?? signal})`));
      pending.clear();
      resolve();
    }),
  );
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${options.name} exited with ${code} before it was ready`)));
    child.on('message', (m: unknown) => {
      if (typeof m !== 'object' || m === null) return;
      if ('ready' in m) {
        resolve();
        return;
      }
      const reply = m as { id: number; result?: unknown; error?: string };
      const p = pending.get(reply.id);
      if (!p) return;
      pending.delete(reply.id);
      if (reply.error !== undefined) p.reject(new Error(`${options.name}: ${reply.error}`));
      else p.resolve(reply.result);
    });
  });
  await ready;
  return {
    name: options.name,
    pid,
    call<T>(method: string, params?: unknown, timeoutMs = 600_000): Promise<T> {
      if (exited) return Promise.reject(new Error(`${options.name} is not running`));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${options.name}.${method} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as T);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        child.send({ id, method, params: params ?? null });
      });
    },
    async stop() {
      if (exited) return;
      const grace = setTimeout(() => child.kill('SIGKILL'), 15_000);
      try {
        child.send({ id: nextId++, method: 'stop', params: null });
      } catch {
        child.kill('SIGTERM');
      }
      await exit;
      clearTimeout(grace);
    },
    cpuSeconds() {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        // utime and stime are fields 14 and 15 of the whole line, in clock ticks (USER_HZ = 100).
        return (Number(fields[11]) + Number(fields[12])) / 100;
      } catch {
        return 0;
      }
    },
    rss() {
      try {
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
        return m?.[1] ? Number(m[1]) * 1024 : 0;
      } catch {
        return 0;
      }
    },
  };
}
