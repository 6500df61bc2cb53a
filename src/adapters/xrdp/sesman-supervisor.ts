import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ConflictError, RuntimeFailureError, RuntimeUnavailableError } from '../../domain/shared/errors.js';
import { type IniDocument, renderIni, sesmanIniDocument } from '../../domain/xrdp/ini-render.js';
import type { XrdpConfig } from '../../domain/xrdp/xrdp-config.js';
import { type SesmanState, type SesmanSupervisor, XRDP_NOT_INSTALLED_MESSAGE } from '../../domain/xrdp/xrdp-host.js';
import { isAlive, listeningSockets, listProcs, pidsHoldingSockets, readProc } from './procfs.js';

export interface SesmanSupervisorOptions {
  /** The xrdp binary; `xrdp --version` gives the version. @default /usr/sbin/xrdp */
  xrdpBinary: string;
  /** @default xrdp-sesman next to xrdpBinary */
  sesmanBinary?: string;
  /** Where sesman.ini, its state file and its stdout (Xvnc writes there) go. */
  dir: string;
  /** sesman's log file (absolute). */
  logFile: string;
  /** `ListenAddress=`. 127.0.0.1 is what xrdp instances use (`ip=`); sesman binds it as ::1. @default 127.0.0.1 */
  listenAddress?: string;
  /** xrdp reads sesman's port from this fixed file; ours must listen on the same. @default /etc/xrdp/sesman.ini */
  systemIni?: string;
  /** A daemon-mode sesman (a system service) writes it; while it exists, no sesman starts. @default /run/xrdp/xrdp-sesman.pid */
  systemPidFile?: string;
  /** The xrdp configuration in force (session limits, log level). */
  config: () => Promise<XrdpConfig>;
  /** @default 5000 */
  startTimeoutMs?: number;
  /** @default 5000 */
  stopTimeoutMs?: number;
  /** Called when a sesman we started dies without being stopped. */
  onUnexpectedExit?: (message: string) => void;
}

/** Persisted next to sesman.ini, so a restarted service adopts the sesman it left running. */
interface StateFile {
  pid: number | null;
  startedAt: string | null;
  error: string | null;
}

export interface HostSesman extends SesmanSupervisor {
  /** Starts sesman unless it runs already (for instance starts); throws as start does otherwise. */
  ensureRunning(): Promise<void>;
  readonly iniPath: string;
  readonly logFile: string;
}

const DEFAULT_PORT = 3350;
const X_SERVERS = new Set(['Xvnc', 'Xorg', 'Xvfb']);

/** `ListenPort` of the [Globals] section of an ini file; the default when missing. */
export async function readSesmanPort(path: string): Promise<number> {
  const text = await readFile(path, 'utf8').catch(() => '');
  let section = '';
  for (const raw of text.split(/\r?\n|\r/)) {
    const line = raw.trim();
    const s = /^\[([^\]]*)\]/.exec(line);
    if (s) {
      section = (s[1] ?? '').trim().toLowerCase();
      continue;
    }
    const m = /^ListenPort\s*=\s*(\d+)/i.exec(line);
    if (section === 'globals' && m) {
      const port = Number(m[1]);
      if (port > 0 && port < 65536) return port;
    }
  }
  return DEFAULT_PORT;
}

/** The host sesman.ini: the shared renderer's document, with the system port and process ids in log lines. */
export function hostSesmanIni(config: XrdpConfig, listenAddress: string, logFile: string, port: number): string {
  const doc: IniDocument = sesmanIniDocument(config, { listenAddress, logFile }).map((section) => {
    if (section.name === 'Globals') {
      return { ...section, entries: section.entries.map(([k, v]) => [k, k === 'ListenPort' ? String(port) : v] as const) };
    }
    if (section.name === 'Logging') {
      // Session events are read from INFO lines, so the file log never gets quieter than INFO;
      // the pid tells apart the session children that share the log (see the session tracker).
      const entries = section.entries
        .filter(([k]) => k !== 'EnableProcessId')
        .map(([k, v]) => [k, k === 'LogLevel' && (v === 'WARN' || v === 'ERROR') ? 'INFO' : v] as const);
      return { ...section, entries: [...entries, ['EnableProcessId', 'true'] as const] };
    }
    return section;
  });
  return renderIni(doc);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function lastLines(path: string, n: number): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.trim().split('\n').slice(-n).join(' | ');
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

/**
 * Runs the host's one xrdp-sesman: `xrdp-sesman --nodaemon -c <dir>/sesman.ini`, detached in its
 * own process group. Sessions (X server, window manager, chansrv) are forked into that group, so
 * the group is also how live sessions are counted and how stop ends them.
 */
export function createSesmanSupervisor(options: SesmanSupervisorOptions): HostSesman {
  const sesmanBinary = options.sesmanBinary ?? join(dirname(options.xrdpBinary), 'xrdp-sesman');
  const listenAddress = options.listenAddress ?? '127.0.0.1';
  const systemIni = options.systemIni ?? '/etc/xrdp/sesman.ini';
  const systemPidFile = options.systemPidFile ?? '/run/xrdp/xrdp-sesman.pid';
  const startTimeoutMs = options.startTimeoutMs ?? 5000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 5000;
  const iniPath = join(options.dir, 'sesman.ini');
  const statePath = join(options.dir, 'sesman.state.json');
  const outPath = join(options.dir, 'sesman.out');
  /** Pids we signalled on purpose: their exit is no failure, whenever it is reported. */
  const stopped = new Set<number>();
  let version: string | null | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  /** One control action at a time. */
  function serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  }

  async function installed(): Promise<boolean> {
    try {
      await access(options.xrdpBinary, constants.X_OK);
      await access(sesmanBinary, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }

  async function readVersion(): Promise<string | null> {
    if (version !== undefined) return version;
    version = await new Promise<string | null>((resolve) => {
      execFile(options.xrdpBinary, ['--version'], { timeout: 3000 }, (err, stdout) => {
        resolve(err ? null : (/xrdp\s+(\S+)/.exec(stdout)?.[1] ?? null));
      });
    });
    return version;
  }

  async function readState(): Promise<StateFile> {
    try {
      const parsed = JSON.parse(await readFile(statePath, 'utf8')) as Partial<StateFile>;
      return {
        pid: typeof parsed.pid === 'number' ? parsed.pid : null,
        startedAt: typeof parsed.startedAt === 'string' ? parsed.startedAt : null,
        error: typeof parsed.error === 'string' ? parsed.error : null,
      };
    } catch {
      return { pid: null, startedAt: null, error: null };
    }
  }

  async function writeState(state: StateFile): Promise<void> {
    await mkdir(options.dir, { recursive: true });
    await writeFile(statePath, `${JSON.stringify(state)}\n`);
  }

  /** Our sesman: alive, not a zombie, and still the program with our ini (pids get reused). */
  async function isOurs(pid: number): Promise<boolean> {
    const p = await readProc(pid);
    if (!p || p.state === 'Z' || p.state === 'X') return false;
    return basename(p.argv[0] ?? '') === basename(sesmanBinary) && p.argv.includes(iniPath);
  }

  async function currentPid(): Promise<{ pid: number | null; state: StateFile }> {
    const state = await readState();
    if (state.pid !== null && (await isOurs(state.pid))) return { pid: state.pid, state };
    if (state.pid !== null) {
      // It died while nobody was stopping it (e.g. while this service was down).
      const died: StateFile = { pid: null, startedAt: null, error: `xrdp-sesman (pid ${state.pid}) is no longer running` };
      await writeState(died).catch(() => undefined);
      return { pid: null, state: died };
    }
    return { pid: null, state };
  }

  async function countSessions(pgid: number): Promise<number> {
    const procs = await listProcs();
    return procs.filter((p) => p.pgid === pgid && p.state !== 'Z' && X_SERVERS.has(basename(p.argv[0] ?? p.comm))).length;
  }

  async function state(): Promise<SesmanState> {
    const isInstalled = await installed();
    const { pid, state: saved } = await currentPid();
    return {
      installed: isInstalled,
      version: isInstalled ? await readVersion() : null,
      pid,
      startedAt: pid === null ? null : saved.startedAt,
      error: pid === null ? saved.error : null,
      liveSessions: pid === null ? 0 : await countSessions(pid),
    };
  }

  async function systemSesmanProblem(): Promise<string | null> {
    let text: string;
    try {
      text = await readFile(systemPidFile, 'utf8');
    } catch {
      return null;
    }
    const pid = Number(text.trim());
    const alive = Number.isInteger(pid) && pid > 0 && (await isAlive(pid));
    return alive
      ? `a system xrdp-sesman (pid ${pid}) holds ${systemPidFile}; stop it first (e.g. systemctl stop xrdp-sesman xrdp), then start again`
      : `${systemPidFile} is left over from an xrdp-sesman that is no longer running (pid ${text.trim() || '?'}); xrdp-sesman refuses to start while it exists: delete it, then start again`;
  }

  async function portHolders(port: number): Promise<string | null> {
    const sockets = await listeningSockets(port);
    if (sockets.length === 0) return null;
    const pids = await pidsHoldingSockets(sockets.map((s) => s.inode));
    const names = await Promise.all(pids.map(async (p) => `${(await readProc(p))?.comm ?? '?'} (pid ${p})`));
    return `port ${port} is already in use on this host by ${names.join(', ') || 'another process'}; xrdp finds sesman only on that port (ListenPort of ${systemIni}), so stop that process first`;
  }

  async function waitListening(pid: number, port: number, exited: () => string | null): Promise<void> {
    const deadline = Date.now() + startTimeoutMs;
    while (Date.now() < deadline) {
      const gone = exited();
      if (gone !== null) {
        const log = await lastLines(options.logFile, 5);
        throw new RuntimeFailureError(`xrdp-sesman ${gone} during start${log ? `: ${log}` : ''}`);
      }
      const sockets = await listeningSockets(port);
      if (sockets.length > 0 && (await pidsHoldingSockets(sockets.map((s) => s.inode))).includes(pid)) return;
      await delay(20);
    }
    stopped.add(pid);
    killGroup(pid, 'SIGKILL');
    throw new RuntimeFailureError(`xrdp-sesman did not listen on port ${port} within ${startTimeoutMs} ms`);
  }

  async function start(): Promise<void> {
    if (!(await installed())) throw new RuntimeUnavailableError(XRDP_NOT_INSTALLED_MESSAGE);
    const { pid: running } = await currentPid();
    if (running !== null) throw new ConflictError(`xrdp-sesman is already running (pid ${running})`);
    const system = await systemSesmanProblem();
    if (system) throw new ConflictError(system);
    const port = await readSesmanPort(systemIni);
    const taken = await portHolders(port);
    if (taken) throw new ConflictError(taken);

    const ini = hostSesmanIni(await options.config(), listenAddress, options.logFile, port);
    await mkdir(options.dir, { recursive: true, mode: 0o755 });
    await mkdir(dirname(options.logFile), { recursive: true });
    await writeFile(iniPath, ini, { mode: 0o644 });
    const out = await open(outPath, 'w');
    let proc: ChildProcess;
    let spawned: Promise<Error | null>;
    try {
      proc = spawn(sesmanBinary, ['--nodaemon', '-c', iniPath], { detached: true, stdio: ['ignore', out.fd, out.fd] });
      // Listen before the next await: 'spawn' fires on a later tick and would be missed.
      spawned = new Promise<Error | null>((resolve) => {
        proc.once('spawn', () => resolve(null));
        proc.once('error', (err) => resolve(err));
      });
    } finally {
      await out.close();
    }
    const spawnError = await spawned;
    if (spawnError || proc.pid === undefined) {
      throw new RuntimeFailureError(`could not run ${sesmanBinary}: ${spawnError?.message ?? 'no pid'}`);
    }
    const pid = proc.pid;
    let exit: string | null = null;
    let up = false;
    proc.once('exit', (code, signal) => {
      exit = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      if (stopped.has(pid) || !up) return; // a failed start reports itself
      const message = `xrdp-sesman (pid ${pid}) ${exit} unexpectedly`;
      void (async () => {
        if ((await readState()).pid === pid) await writeState({ pid: null, startedAt: null, error: message });
        options.onUnexpectedExit?.(message);
      })().catch(() => undefined);
    });
    proc.unref();
    const startedAt = new Date().toISOString();
    try {
      await waitListening(pid, port, () => exit);
    } catch (err) {
      await writeState({ pid: null, startedAt: null, error: err instanceof Error ? err.message : String(err) });
      throw err;
    }
    up = true;
    await writeState({ pid, startedAt, error: null });
  }

  async function waitGone(pid: number, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (!(await isAlive(pid))) return true;
      await delay(20);
    }
    return !(await isAlive(pid));
  }

  async function groupEmpty(pgid: number, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    do {
      const members = (await listProcs()).filter((p) => p.pgid === pgid && p.state !== 'Z');
      if (members.length === 0) return true;
      await delay(25);
    } while (Date.now() < deadline);
    return false;
  }

  async function stop(): Promise<void> {
    const { pid } = await currentPid();
    if (pid === null) throw new ConflictError('xrdp-sesman is not running');
    stopped.add(pid);
    // The whole group: sesman and every session it forked (window managers, X servers, chansrv).
    killGroup(pid, 'SIGTERM');
    if (!(await waitGone(pid, stopTimeoutMs))) killGroup(pid, 'SIGKILL');
    if (!(await groupEmpty(pid, 2000))) killGroup(pid, 'SIGKILL');
    await waitGone(pid, 1000);
    await writeState({ pid: null, startedAt: null, error: null });
  }

  return {
    iniPath,
    logFile: options.logFile,
    state,
    start: () => serialized(start),
    stop: () => serialized(stop),
    ensureRunning: () =>
      serialized(async () => {
        if ((await currentPid()).pid === null) await start();
      }),
  };
}
