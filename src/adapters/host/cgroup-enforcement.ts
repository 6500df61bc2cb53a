import { rmdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type {
  EnforcementCapability,
  ResourceEnforcement,
  SessionConfinement,
} from '../../domain/servers/resource-enforcement.js';
import type { RdpServer } from '../../domain/servers/server.js';
import { type CgroupDetection, type CgroupLimits, detectCgroups } from './cgroups.js';
import { envValue } from './proc-parsers.js';
import { ProcReader, uidsOf } from './proc-reader.js';
import { instancePids, isLive, type ProcRecord, sessionPids } from './process-attribution.js';

const MB = 1024 * 1024;
const ID = /^[A-Za-z0-9_-]{1,128}$/;

export interface CgroupEnforcementOptions {
  /** Where every server's group goes, relative to the controllers' mounts. @default rdp-services */
  parent?: string;
  /** @default detectCgroups({ parent }) */
  detect?: () => Promise<CgroupDetection>;
  /** CPUs of the host, for perSession.maxCpu (a percent of them). @default os.availableParallelism() */
  hostCpus?: number;
  /**
   * After a session's first move, its processes are looked for again this many ms later: a
   * window manager still starting may fork after the first pass. @default [1000, 3000]
   */
  rescanMs?: number[];
  /**
   * Where session and release failures go: those calls do not throw (a session that logged in
   * stays logged in). Server confinement throws instead, failing the start.
   */
  onError?: (err: unknown, what: string) => void;
  reader?: ProcReader;
}

/**
 * The resource limits as cgroups on this host:
 *
 *   <parent>/<serverId>               cpuLimit and memoryLimitMb of the server (xrdp + sessions)
 *   <parent>/<serverId>/xrdp          the instance's process group (listener + connection children)
 *   <parent>/<serverId>/session-<id>  a session's X server, window manager and descendants, under
 *                                     perSession.maxCpu / maxMemoryMb (and its server's limits)
 *
 * Sessions are forked by the host's shared sesman, outside the instance's group, so they are
 * moved in when xrdp reports their login; what they start afterwards inherits the group.
 */
export function createCgroupEnforcement(
  options: CgroupEnforcementOptions = {},
): ResourceEnforcement & { close(): Promise<void> } {
  const parent = options.parent ?? 'rdp-services';
  const reader = options.reader ?? new ProcReader();
  const hostCpus = options.hostCpus ?? availableParallelism();
  const rescanMs = options.rescanMs ?? [1000, 3000];
  let detected: Promise<CgroupDetection> | undefined;
  const rescans = new Map<string, NodeJS.Timeout[]>();
  /**
   * The limits each confined session asked for, by server: v1 clamps a session's quota to its
   * server's, so when the server's is raised again the session gets back what it asked for.
   */
  const sessionLimits = new Map<string, Map<string, CgroupLimits>>();

  const detect = () => {
    detected ??= (options.detect ?? (() => detectCgroups({ parent })))().then(async (d) => {
      // All servers together weigh as much as the host has cores, not as one process.
      await d.driver?.setWeight(parent, hostCpus).catch((err: unknown) => options.onError?.(err, `weighting ${parent}`));
      return d;
    });
    return detected;
  };
  const serverPath = (serverId: string) => `${parent}/${checkId(serverId)}`;
  const sessionPath = (serverId: string, sessionId: string) => `${serverPath(serverId)}/session-${checkId(sessionId)}`;

  function checkId(id: string): string {
    if (!ID.test(id)) throw new Error(`not a usable id for a cgroup name: ${JSON.stringify(id)}`);
    return id;
  }

  async function processes(withUid: boolean): Promise<ProcRecord[]> {
    return reader.processes(withUid);
  }

  async function sessionProcesses(username: string, display: number): Promise<number[]> {
    const uid = (await uidsOf([username])).get(username);
    if (uid === undefined) return [];
    const procs = await processes(true);
    await Promise.all(
      procs.map(async (p) => {
        if (!isLive(p) || p.uid !== uid) return;
        if (p.comm === 'Xvnc' || p.comm === 'Xorg') p.argv = await reader.argv(p.pid);
        const environ = await reader.environ(p.pid);
        p.display = environ === null ? null : envValue(environ, 'DISPLAY');
      }),
    );
    return [...sessionPids(procs, { uid, display })];
  }

  function cancelRescans(key: string): void {
    for (const t of rescans.get(key) ?? []) clearTimeout(t);
    rescans.delete(key);
  }

  return {
    async capability(): Promise<EnforcementCapability> {
      const d = await detect();
      return d.driver
        ? { enforced: true, mechanism: `cgroup ${d.driver.version}`, reason: null }
        : { enforced: false, mechanism: null, reason: d.reason };
    },

    async confineServer(server: RdpServer, pid: number) {
      const { driver } = await detect();
      if (!driver) return;
      const path = serverPath(server.id);
      await driver.create(path, { forChildren: true });
      await driver.setLimits(path, {
        cpuCores: server.resources.cpuLimit,
        memoryBytes: server.resources.memoryLimitMb * MB,
      });
      await driver.create(`${path}/xrdp`);
      const members = instancePids(await processes(false), pid);
      await driver.move(`${path}/xrdp`, members.size > 0 ? [...members] : [pid]);
    },

    async updateServer(server: RdpServer) {
      const { driver } = await detect();
      if (!driver) return;
      const path = serverPath(server.id);
      if (!(await driver.exists(path))) return;
      await driver.setLimits(path, {
        cpuCores: server.resources.cpuLimit,
        memoryBytes: server.resources.memoryLimitMb * MB,
      });
      for (const [sessionId, limits] of sessionLimits.get(server.id) ?? []) {
        const session = sessionPath(server.id, sessionId);
        if (await driver.exists(session)) await driver.setLimits(session, limits);
      }
    },

    async releaseServer(serverId: string) {
      try {
        const { driver } = await detect();
        if (!driver) return;
        for (const key of [...rescans.keys()]) if (key.startsWith(`${serverId}/`)) cancelRescans(key);
        sessionLimits.delete(serverId);
        if (!(await driver.remove(serverPath(serverId)))) throw new Error('a process still runs in it');
      } catch (err) {
        options.onError?.(err, `removing the cgroup of server ${serverId}`);
      }
    },

    async confineSession(session: SessionConfinement) {
      await confineSession(session).catch((err: unknown) =>
        options.onError?.(err, `moving the processes of session ${session.sessionId} into its cgroup`),
      );
    },

    /**
     * On shutdown: the parent goes when no server group is left in it (instances that outlive the
     * control plane keep theirs, and so the parent).
     */
    async close() {
      for (const t of rescans.values()) for (const timer of t) clearTimeout(timer);
      rescans.clear();
      if (!detected) return;
      const { driver } = await detected;
      for (const dir of driver?.dirs(parent) ?? []) await rmdir(dir).catch(() => undefined);
    },

    async releaseSession(serverId: string, sessionId: string) {
      try {
        const { driver } = await detect();
        if (!driver) return;
        cancelRescans(`${serverId}/${sessionId}`);
        sessionLimits.get(serverId)?.delete(sessionId);
        if (!(await driver.remove(sessionPath(serverId, sessionId)))) throw new Error('a process still runs in it');
      } catch (err) {
        options.onError?.(err, `removing the cgroup of session ${sessionId}`);
      }
    },
  };

  async function confineSession(session: SessionConfinement): Promise<void> {
    const { driver } = await detect();
    if (!driver) return;
    const server = serverPath(session.serverId);
    // A server that is not confined (its start predates enforcement) leaves its sessions alone.
    if (!(await driver.exists(server))) return;
    const path = sessionPath(session.serverId, session.sessionId);
    await driver.create(path);
    const limits = { cpuCores: (session.cpuPercent / 100) * hostCpus, memoryBytes: session.memoryMb * MB };
    await driver.setLimits(path, limits);
    const ofServer = sessionLimits.get(session.serverId) ?? new Map<string, CgroupLimits>();
    sessionLimits.set(session.serverId, ofServer);
    ofServer.set(session.sessionId, limits);
    const pass = async () => driver.move(path, await sessionProcesses(session.username, session.display));
    await pass();
    const key = `${session.serverId}/${session.sessionId}`;
    cancelRescans(key);
    rescans.set(
      key,
      rescanMs.map((ms) => {
        const t = setTimeout(() => {
          void driver
            .exists(path)
            .then((exists) => (exists ? pass() : 0))
            .catch((err: unknown) => options.onError?.(err, `moving the processes of session ${session.sessionId}`));
        }, ms);
        t.unref();
        return t;
      }),
    );
  }
}
