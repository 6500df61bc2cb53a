import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { cpus, freemem, totalmem } from 'node:os';
import { join } from 'node:path';
import { loadInstallationId } from '../../adapters/host/installation-id.js';
import { createProcHostProbe } from '../../adapters/host/proc-host-probe.js';
import type { AgentConfig } from '../../config/agent-config.js';
import type { HostDescription, HostEventMap, HostEventType } from '../../domain/cluster/host-messages.js';
import type { RdpServer } from '../../domain/servers/server.js';
import type { EventPublisher } from '../../domain/shared/event-publisher.js';
import { DEFAULT_XRDP_CONFIG, type XrdpConfig } from '../../domain/xrdp/xrdp-config.js';
import type { Logger } from '../logger.js';
import { createLocalHost, type LocalHost } from '../wiring/local-host.js';
import { createHostCommandHandler, createLogFollowLeases, type XrdpConfigHolder } from './host-command-handler.js';

/** How the agent hears commands and reports events (Redis Streams in production). */
export interface AgentTransport {
  /** Starts running commands with `handle`; each command runs at most once. */
  serve(handle: (type: string, payload: unknown) => Promise<unknown>): Promise<void>;
  publish<T extends HostEventType>(type: T, payload: HostEventMap[T]): Promise<void>;
  close(): Promise<void>;
}

export interface RunningAgent {
  host: LocalHost;
  /** Stops serving; the host's xrdp instances and sessions keep running. */
  stop(): Promise<void>;
}

/** The xrdp configuration in force, kept in the state dir so a restarted agent starts sesman with it. */
async function configHolder(stateDir: string): Promise<XrdpConfigHolder> {
  const file = join(stateDir, 'xrdp-config.json');
  let current: XrdpConfig = DEFAULT_XRDP_CONFIG;
  try {
    current = JSON.parse(await readFile(file, 'utf8')) as XrdpConfig;
  } catch {
    // first run: the defaults until the first start carries the fleet's configuration
  }
  return {
    current: async () => current,
    set(config) {
      current = config;
      void writeFile(`${file}.tmp`, JSON.stringify(config))
        .then(() => rename(`${file}.tmp`, file))
        .catch(() => undefined);
    },
  };
}

/** CPU busy share of all cores since the previous call, from os.cpus() counters. */
function cpuMeter(): () => number | null {
  let last: { busy: number; total: number } | null = null;
  return () => {
    let busy = 0;
    let total = 0;
    for (const c of cpus()) {
      const t = c.times.user + c.times.nice + c.times.sys + c.times.irq + c.times.idle;
      total += t;
      busy += t - c.times.idle;
    }
    const prev = last;
    last = { busy, total };
    if (!prev || total <= prev.total) return null;
    return Math.round(((busy - prev.busy) / (total - prev.total)) * 1000) / 10;
  };
}

/**
 * The host agent: runs xrdp, sesman, session accounts and the probe of this host for the API
 * replicas. At start it adopts the instances an earlier run left (they outlive the agent, so an
 * update of the agent or of the API ends no session) and reports them in its hello; then it
 * heartbeats, answers commands and reports what xrdp does.
 */
export async function runAgent(config: AgentConfig, logger: Logger, transport: AgentTransport): Promise<RunningAgent> {
  await mkdir(config.stateDir, { recursive: true, mode: 0o700 });
  const xrdp = await configHolder(config.stateDir);
  const installationId = process.getuid?.() === 0 ? await loadInstallationId(config.stateDir) : undefined;
  const host = createLocalHost(config.xrdp, logger, xrdp, installationId ? { installationId } : {});
  const probe = createProcHostProbe({ configPath: config.xrdp.configPath, dataDir: config.dataDir });
  const description: HostDescription = {
    hostId: config.hostId,
    name: config.name,
    labels: config.labels,
    agentVersion: config.version,
    rdpAddress: config.xrdp.publicHost,
    portRange: config.xrdp.portRange,
    capacity: { maxServers: config.maxServers, cpuCount: cpus().length, memoryMb: Math.round(totalmem() / 1048576) },
    heartbeatIntervalSeconds: config.heartbeatIntervalSeconds,
  };
  const publish = <T extends HostEventType>(type: T, payload: HostEventMap[T]) =>
    transport.publish(type, payload).catch((err: unknown) => logger.warn({ err, type }, 'could not report an event'));

  const instances: string[] = [];
  const ids = await readdir(join(config.xrdp.configPath, 'servers')).catch(() => [] as string[]);
  for (const id of ids.filter((i) => /^[A-Za-z0-9_-]{1,128}$/.test(i))) {
    if (await host.runtime.adopt({ id } as RdpServer)) instances.push(id);
  }
  host.runtime.onUnexpectedExit((exit) => void publish('runtime.exit', exit));
  const sessionEvents: EventPublisher = {
    publish: (topic, _id, payload) => {
      if (topic === 'xrdp:session-event') void publish('xrdp.session', payload as HostEventMap['xrdp.session']);
    },
  };
  const watcher = host.watchSessions(sessionEvents, (e) =>
    logger.info({ serverId: e.serverId, kind: e.kind, display: e.display }, 'xrdp session event'),
  );

  const activity = host.watchActivity((reports, measuredAt) =>
    reports.length > 0 ? publish('session.activity', { reports, measuredAt: measuredAt.toISOString() }) : undefined,
  );

  const logLeases = createLogFollowLeases(host, (payload) => void publish('xrdp.log', payload));
  await transport.serve(createHostCommandHandler(host, probe, xrdp, logLeases));
  await publish('agent.hello', { host: description, inventory: { instances }, at: new Date().toISOString() });
  logger.info({ adopted: instances.length }, 'host agent serving');

  const cpu = cpuMeter();
  cpu();
  const beat = setInterval(() => {
    const total = totalmem();
    void publish('agent.heartbeat', {
      host: description,
      usage: { cpuPercent: cpu(), memoryPercent: Math.round((1 - freemem() / total) * 1000) / 10 },
      at: new Date().toISOString(),
    });
  }, config.heartbeatIntervalSeconds * 1000);
  beat.unref();

  return {
    host,
    async stop() {
      clearInterval(beat);
      await publish('agent.bye', { at: new Date().toISOString() });
      logLeases.stop();
      await watcher?.stop();
      await activity?.stop();
      await transport.close();
    },
  };
}
