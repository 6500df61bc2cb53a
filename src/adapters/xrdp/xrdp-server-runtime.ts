import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { closeSync, constants, openSync } from 'node:fs';
import { access, chmod, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import type { RdpServer } from '../../domain/servers/server.js';
import type { RuntimeExit, ServerRuntime } from '../../domain/servers/server-runtime.js';
import { RuntimeFailureError, RuntimeUnavailableError } from '../../domain/shared/errors.js';
import { renderInstanceXrdpIni } from '../../domain/xrdp/ini-render.js';
import { DEFAULT_XRDP_CONFIG, type XrdpConfig } from '../../domain/xrdp/xrdp-config.js';
import { instancePaths } from './instance-paths.js';
import { PROTOCOL_SSL, probeRdp } from './rdp-probe.js';

const run = promisify(execFile);

export const XRDP_MISSING_MESSAGE = 'xrdp is not installed on this host (install the xrdp package)';

export interface XrdpRuntimeOptions {
  /** Path of the xrdp binary. @default /usr/sbin/xrdp */
  binary: string;
  /** Instances live in `<configPath>/servers/<id>/`. */
  configPath: string;
  /** Bind instances to 127.0.0.1 only instead of every address. @default false */
  loopbackOnly?: boolean;
  /** Common name of generated certificates. @default localhost */
  publicHost?: string;
  /** Address of the host's sesman (the session sections' ip=). @default 127.0.0.1 */
  sesmanAddress?: string;
  /** Where the current host-wide xrdp settings come from. @default DEFAULT_XRDP_CONFIG */
  config?: { current(): Promise<XrdpConfig> };
  /** Runs before each start (e.g. making sure the host's sesman is up); a failure fails the start. */
  beforeStart?: () => Promise<void>;
  /**
   * Runs with the pid (process-group leader) of each instance as soon as it is spawned, before
   * it accepts connections, and of each adopted one (resource limits); a failure fails the start.
   */
  onInstance?: (server: RdpServer, pid: number) => Promise<void>;
  /** Runs once an instance has gone, stopped or not. */
  onInstanceGone?: (serverId: string) => Promise<void>;
  /** How long a start may take to answer the RDP handshake. @default 10000 */
  readyTimeoutMs?: number;
  /** How long SIGTERM gets before SIGKILL. @default 5000 */
  stopTimeoutMs?: number;
  /** How often adopted instances (not our children) are checked (a signal-0 probe). @default 250 */
  watchIntervalMs?: number;
  openssl?: string;
}

interface Instance {
  pid: number;
  child?: ChildProcess;
  /** Set before we stop it, so its exit is not reported as a failure. */
  stopping: boolean;
  /** Exits before ready fail the start itself; only later ones are reported. */
  ready: boolean;
  exited: Promise<void>;
  watch?: NodeJS.Timeout;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A live process (not a zombie) whose command line names this instance's ini. */
async function isOurXrdp(pid: number, ini: string): Promise<boolean> {
  try {
    const [cmdline, status] = await Promise.all([
      readFile(`/proc/${pid}/cmdline`, 'utf8'),
      readFile(`/proc/${pid}/status`, 'utf8'),
    ]);
    return /\nState:\s+[^Z]/.test(`\n${status}`) && cmdline.split('\0').includes(ini);
  } catch {
    return false;
  }
}

function portAnswers(port: number, timeoutMs = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

async function tail(file: string, bytes = 4096): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    return text.slice(-bytes);
  } catch {
    return '';
  }
}

/**
 * Runs one xrdp listener per RDP server: its own directory, rendered xrdp.ini, TLS certificate
 * and log; `xrdp --nodaemon` in its own process group (daemon mode writes a host-wide pid file
 * that blocks every other instance). Ready means the port answers an X.224 Connection Request by
 * selecting TLS with the certificate we wrote. Instances outlive the control plane and are
 * adopted again when it restarts.
 */
export function createXrdpServerRuntime(options: XrdpRuntimeOptions): ServerRuntime {
  const listeners: ((exit: RuntimeExit) => void)[] = [];
  const instances = new Map<string, Instance>();
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 5000;

  async function checkAvailable(): Promise<void> {
    try {
      await access(options.binary, constants.X_OK);
    } catch {
      throw new RuntimeUnavailableError(XRDP_MISSING_MESSAGE);
    }
  }

  function reportExit(serverId: string, message: string): void {
    for (const l of listeners) l({ serverId, message });
  }

  /** Generates the instance's self-signed certificate once; the key is mode 0600. */
  async function ensureCertificate(cert: string, key: string): Promise<string> {
    try {
      await stat(key);
      return new X509Certificate(await readFile(cert)).fingerprint256;
    } catch {
      // missing or unreadable: make a new pair
    }
    const cn = (options.publicHost ?? 'localhost').replace(/[^A-Za-z0-9.-]/g, '') || 'localhost';
    await run(options.openssl ?? 'openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '825',
      '-subj',
      `/CN=${cn}`,
      '-keyout',
      key,
      '-out',
      cert,
    ]);
    await chmod(key, 0o600);
    return new X509Certificate(await readFile(cert)).fingerprint256;
  }

  function track(serverId: string, pid: number, child?: ChildProcess): Instance {
    let resolveExit: () => void = () => {};
    const exited = new Promise<void>((r) => {
      resolveExit = r;
    });
    const instance: Instance = { pid, stopping: false, ready: !child, exited, ...(child ? { child } : {}) };
    const onGone = (how: string) => {
      if (instance.watch) clearInterval(instance.watch);
      if (instances.get(serverId) === instance) instances.delete(serverId);
      resolveExit();
      if (instance.ready && !instance.stopping) {
        void options.onInstanceGone?.(serverId).catch(() => undefined);
        reportExit(serverId, `xrdp exited unexpectedly (${how})`);
      }
    };
    if (child) {
      child.once('exit', (code, signal) => onGone(signal ? `signal ${signal}` : `exit code ${code}`));
    } else {
      // Not our child (adopted after a restart): poll for it.
      instance.watch = setInterval(() => {
        if (!alive(pid)) onGone('process gone');
      }, options.watchIntervalMs ?? 250);
      instance.watch.unref();
    }
    instances.set(serverId, instance);
    return instance;
  }

  async function waitReady(server: RdpServer, instance: Instance, fingerprint: string, log: string): Promise<void> {
    const deadline = Date.now() + readyTimeoutMs;
    let gone = false;
    void instance.exited.then(() => {
      gone = true;
    });
    let last = 'no answer';
    while (Date.now() < deadline) {
      if (gone) {
        const text = await tail(log);
        if (text.includes('trans_listen_address failed')) {
          throw new RuntimeFailureError(`port ${server.port} is already in use by another process`);
        }
        const lastError = text
          .split('\n')
          .filter((l) => /\[(ERROR|CORE)/.test(l))
          .at(-1);
        throw new RuntimeFailureError(
          `xrdp exited during start${lastError ? `: ${lastError.replace(/^\[[^\]]*\]\s*/, '')}` : ''}`,
        );
      }
      try {
        const r = await probeRdp({ host: '127.0.0.1', port: server.port, timeoutMs: 1000 });
        if (r.kind === 'selected' && r.protocol === PROTOCOL_SSL && r.certificateFingerprint256 === fingerprint) return;
        last =
          r.kind === 'selected'
            ? r.protocol === PROTOCOL_SSL
              ? 'TLS with a different certificate'
              : `protocol ${r.protocol} instead of TLS (certificate not readable?)`
            : r.kind;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      await sleep(25);
    }
    throw new RuntimeFailureError(`xrdp did not become ready on port ${server.port} within ${readyTimeoutMs} ms (${last})`);
  }

  async function killGroup(instance: Instance): Promise<void> {
    instance.stopping = true;
    const signal = (sig: NodeJS.Signals) => {
      try {
        process.kill(-instance.pid, sig);
      } catch {
        try {
          process.kill(instance.pid, sig);
        } catch {
          // already gone
        }
      }
    };
    signal('SIGTERM');
    // A stopped (SIGSTOP) instance only acts on its SIGTERM once continued.
    signal('SIGCONT');
    const timedOut = await Promise.race([instance.exited.then(() => false), sleep(stopTimeoutMs).then(() => true)]);
    // Forked per-connection children share the group and keep clients connected: end them too.
    signal('SIGKILL');
    if (timedOut) await Promise.race([instance.exited, sleep(2000)]);
  }

  async function findRecorded(server: RdpServer): Promise<number | null> {
    const paths = instancePaths(options.configPath, server.id);
    try {
      const pid = Number((await readFile(`${paths.dir}/instance.pid`, 'utf8')).trim());
      if (Number.isInteger(pid) && pid > 1 && (await isOurXrdp(pid, paths.ini))) return pid;
    } catch {
      // no pid file
    }
    return null;
  }

  return {
    checkAvailable,

    async start(server) {
      await checkAvailable();
      const existing = instances.get(server.id);
      if (existing && alive(existing.pid)) throw new RuntimeFailureError('an xrdp instance for this server is already running');
      if (options.beforeStart) {
        try {
          await options.beforeStart();
        } catch (err) {
          throw new RuntimeFailureError(err instanceof Error ? err.message : String(err));
        }
      }
      if (await portAnswers(server.port)) {
        throw new RuntimeFailureError(`port ${server.port} is already in use by another process`);
      }
      const paths = instancePaths(options.configPath, server.id);
      let fingerprint: string;
      try {
        await mkdir(paths.dir, { recursive: true, mode: 0o700 });
        fingerprint = await ensureCertificate(paths.cert, paths.key);
        const ini = renderInstanceXrdpIni({
          port: server.port,
          loopbackOnly: options.loopbackOnly ?? false,
          certificatePath: paths.cert,
          keyPath: paths.key,
          logFile: paths.log,
          sesmanAddress: options.sesmanAddress ?? '127.0.0.1',
          configuration: server.configuration,
          config: options.config ? await options.config.current() : DEFAULT_XRDP_CONFIG,
        });
        await writeFile(`${paths.ini}.tmp`, ini, { mode: 0o600 });
        await rename(`${paths.ini}.tmp`, paths.ini);
      } catch (err) {
        throw new RuntimeFailureError(
          `cannot prepare ${paths.dir}: ${err instanceof Error ? err.message : String(err)} (check XRDP_CONFIG_PATH)`,
        );
      }
      const out = openSync(`${paths.dir}/xrdp.stdout`, 'a', 0o600);
      let child: ChildProcess;
      try {
        child = spawn(options.binary, ['--nodaemon', '-c', paths.ini], { detached: true, stdio: ['ignore', out, out] });
      } finally {
        closeSync(out);
      }
      if (child.pid === undefined) {
        throw new RuntimeFailureError('xrdp could not be spawned');
      }
      child.unref();
      const instance = track(server.id, child.pid, child);
      try {
        try {
          await options.onInstance?.(server, child.pid);
        } catch (err) {
          throw new RuntimeFailureError(
            `cannot apply the server's resource limits: ${err instanceof Error ? err.message : String(err)}`,
          );
        }
        await waitReady(server, instance, fingerprint, paths.log);
      } catch (err) {
        await killGroup(instance);
        await options.onInstanceGone?.(server.id).catch(() => undefined);
        throw err;
      }
      await writeFile(`${paths.dir}/instance.pid`, `${child.pid}\n`);
      instance.ready = true;
    },

    async stop(server) {
      let instance = instances.get(server.id);
      if (!instance) {
        const pid = await findRecorded(server);
        if (pid === null) {
          await options.onInstanceGone?.(server.id).catch(() => undefined);
          return;
        }
        instance = track(server.id, pid);
      }
      await killGroup(instance);
      await rm(`${instancePaths(options.configPath, server.id).dir}/instance.pid`, { force: true });
      await options.onInstanceGone?.(server.id).catch(() => undefined);
    },

    async remove(server) {
      await this.stop(server);
      await rm(instancePaths(options.configPath, server.id).dir, { recursive: true, force: true });
    },

    async isRunning(server) {
      const instance = instances.get(server.id);
      if (instance) return alive(instance.pid);
      return (await findRecorded(server)) !== null;
    },

    async adopt(server) {
      if (instances.has(server.id)) return true;
      const pid = await findRecorded(server);
      if (pid === null) return false;
      track(server.id, pid);
      // Its limits may have changed while no control plane ran; a failure is reported by the hook.
      await options.onInstance?.(server, pid).catch(() => undefined);
      return true;
    },

    async reap(keep) {
      const root = `${options.configPath}/servers`;
      let ids: string[];
      try {
        ids = await readdir(root);
      } catch {
        return [];
      }
      const stopped: string[] = [];
      for (const id of ids) {
        if (keep.has(id) || !/^[A-Za-z0-9_-]{1,128}$/.test(id)) continue;
        const server = { id } as RdpServer;
        if (instances.has(id) || (await findRecorded(server)) !== null) {
          await this.stop(server);
          stopped.push(id);
        }
      }
      return stopped;
    },

    onUnexpectedExit(listener) {
      listeners.push(listener);
    },
  };
}
