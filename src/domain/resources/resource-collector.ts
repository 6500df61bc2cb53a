import type { RdpServer } from '../servers/server.js';
import type { ServerStore } from '../servers/server-store.js';
import { LIVE_STATUSES, type RdpSession } from '../sessions/session.js';
import type { SessionStore } from '../sessions/session-store.js';
import type { Clock } from '../shared/clock.js';
import type { EventPublisher } from '../shared/event-publisher.js';
import { type Cursor, MAX_PAGE_SIZE } from '../shared/page.js';
import { type AlertService, ownersOf, type SubjectInfo } from './alert-service.js';
import type { CollectorLease } from './collector-lease.js';
import type { HostProbe } from './host-probe.js';
import { RETENTION_DAYS, type ResourceFigures, type ResourceSample, type SubjectKind, slotStart } from './resource-sample.js';
import type { ResourceSampleStore } from './resource-sample-store.js';

export interface ResourceCollectorDeps {
  probe: HostProbe;
  lease: CollectorLease;
  samples: ResourceSampleStore;
  servers: ServerStore;
  sessions: SessionStore;
  alerts: AlertService;
  events: EventPublisher;
  clock: Clock;
  /** This host: servers whose `host` is this one are measured here. */
  host: string;
  /** METRICS_INTERVAL. */
  intervalSeconds: number;
  /** Told about a failed step; the next round tries again. */
  onError?: (err: unknown, step: 'lease' | 'probe' | 'store' | 'alerts' | 'prune') => void;
  /** Told after each round (logs, tests). */
  onRound?: (report: RoundReport) => void;
  /** How often the collecting replica prunes samples and alerts. @default 3600000 */
  pruneEveryMs?: number;
}

export interface RoundReport {
  at: string;
  leader: boolean;
  samples: number;
  raised: number;
  resolved: number;
}

export const hostSubjectId = (host: string) => `host:${host}`;

/** Servers whose xrdp instance should be running now. */
const MEASURED = (s: RdpServer) =>
  s.status === 'RUNNING' || (s.status === 'MAINTENANCE' && s.statusBeforeMaintenance === 'RUNNING');

/**
 * Collects every METRICS_INTERVAL seconds, at the start of each interval-aligned slot: the host,
 * each running server of this host (its xrdp process group plus its sessions) and each live
 * session with a display. Every replica measures (so its rates stay warm); the one holding the
 * lease stores the samples, publishes them, evaluates alerts and prunes. Samples carry the slot
 * start as their time, which makes a round written twice (lease handover) replace itself.
 */
export class ResourceCollector {
  private timer: NodeJS.Timeout | null = null;
  /** While standing by, the lease is tried four times an interval (see takeOver). */
  private standby: NodeJS.Timeout | null = null;
  private leading = false;
  private running: Promise<RoundReport | null> | null = null;
  private stopped = true;
  /** Once stopped for good (shutdown), start() does nothing. */
  private closed = false;
  private lastPrune = 0;
  private readonly roundListeners = new Set<(report: RoundReport) => void>();

  constructor(private readonly deps: ResourceCollectorDeps) {}

  /** Told after each round (tests wait on rounds, never on sleeps); returns the unsubscribe. */
  onRound(listener: (report: RoundReport) => void): () => void {
    this.roundListeners.add(listener);
    return () => this.roundListeners.delete(listener);
  }

  get hostSubjectId(): string {
    return hostSubjectId(this.deps.host);
  }

  start(): void {
    if (!this.stopped || this.closed) return;
    this.stopped = false;
    // A first reading at once, so the first stored round already has rates (CPU, network).
    this.running = this.targets()
      .then((t) => this.deps.probe.measure(t.probe))
      .then(
        () => null,
        (err: unknown) => {
          this.deps.onError?.(err, 'probe');
          return null;
        },
      )
      .finally(() => {
        this.running = null;
      });
    this.schedule();
    this.standby = setInterval(() => void this.takeOver(), Math.max(100, (this.deps.intervalSeconds * 1000) / 4));
    this.standby.unref();
  }

  /** Stops the rounds, waits for one in flight and gives the lease up. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.standby) clearInterval(this.standby);
    this.timer = null;
    this.standby = null;
    await this.running?.catch(() => null);
    await this.deps.lease.release().catch((err: unknown) => this.deps.onError?.(err, 'lease'));
  }

  /** One round now (also what the timer runs). Null when a round is already in flight. */
  async round(): Promise<RoundReport | null> {
    if (this.running) return null;
    this.running = this.collect().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Removes samples older than 7 days and resolved alerts past their retention. */
  async prune(): Promise<number> {
    const before = new Date(this.deps.clock.now().getTime() - RETENTION_DAYS * 86_400_000);
    const removed = await this.deps.samples.prune(before);
    await this.deps.alerts.prune();
    return removed;
  }

  /**
   * A standby that gets the lease between rounds (the holder died: its lease expired after 1.5
   * intervals) collects at once instead of at the next slot, so a dead collector is replaced
   * within 2 intervals of its death: at most 1.5 for the expiry plus a quarter for the next try.
   */
  private async takeOver(): Promise<void> {
    if (this.stopped || this.leading || this.running) return;
    try {
      if (await this.deps.lease.acquire()) await this.round();
    } catch (err) {
      this.deps.onError?.(err, 'lease');
    }
  }

  private reported(report: RoundReport): void {
    this.leading = report.leader;
    this.deps.onRound?.(report);
    for (const listener of this.roundListeners) listener(report);
  }

  private schedule(): void {
    if (this.stopped) return;
    const ms = this.deps.intervalSeconds * 1000;
    const now = this.deps.clock.now().getTime();
    // A little after the slot starts, so clocks a few ms apart still agree on the slot.
    const wait = Math.floor(now / ms) * ms + ms + 25 - now;
    this.timer = setTimeout(() => {
      void this.round().finally(() => this.schedule());
    }, wait);
    this.timer.unref();
  }

  private async collect(): Promise<RoundReport> {
    const at = slotStart(this.deps.clock.now().getTime(), this.deps.intervalSeconds).toISOString();
    const report: RoundReport = { at, leader: false, samples: 0, raised: 0, resolved: 0 };
    let leader: boolean;
    try {
      leader = await this.deps.lease.acquire();
    } catch (err) {
      // No lease service: collect anyway; the writes are idempotent per slot.
      this.deps.onError?.(err, 'lease');
      leader = true;
    }
    report.leader = leader;
    let servers: RdpServer[];
    let sessions: RdpSession[];
    let measured: Awaited<ReturnType<HostProbe['measure']>>;
    try {
      const targets = await this.targets();
      servers = targets.servers;
      sessions = targets.sessions;
      measured = await this.deps.probe.measure(targets.probe);
    } catch (err) {
      this.deps.onError?.(err, 'probe');
      this.reported(report);
      return report;
    }
    if (!leader) {
      this.reported(report);
      return report;
    }

    const samples: ResourceSample[] = [];
    const info = new Map<string, SubjectInfo>();
    const add = (kind: SubjectKind, id: string, figures: ResourceFigures, subject: SubjectInfo) => {
      samples.push({ subjectKind: kind, subjectId: id, at, ...figures });
      info.set(id, subject);
    };
    add('HOST', this.hostSubjectId, measured.host, { kind: 'HOST', name: this.deps.host, visibleTo: [] });
    for (const s of servers) {
      const figures = measured.servers.get(s.id);
      if (figures) add('SERVER', s.id, figures, { kind: 'SERVER', name: s.name, visibleTo: ownersOf(s) });
    }
    for (const s of sessions) {
      const figures = measured.sessions.get(s.id);
      if (figures) add('SESSION', s.id, figures, { kind: 'SESSION', name: s.username, visibleTo: ownersOf(s) });
    }
    try {
      await this.deps.samples.append(samples);
    } catch (err) {
      this.deps.onError?.(err, 'store');
      this.reported(report);
      return report;
    }
    report.samples = samples.length;
    for (const sample of samples) this.deps.events.publish('resource:sample', sample.subjectId, { kind: 'SAMPLE', sample });
    // The fleet list's sparklines: the round's server samples in one message (fleetUsage).
    const bySample = new Map(samples.map((sample) => [sample.subjectId, sample]));
    this.deps.events.publish('fleet:usage', 'all', {
      at,
      host: this.deps.host,
      samples: servers.flatMap((s) => {
        const sample = bySample.get(s.id);
        return sample ? [{ server: { id: s.id, owner: s.owner, createdBy: s.createdBy, poolId: s.poolId }, sample }] : [];
      }),
    });
    try {
      const outcome = await this.deps.alerts.evaluate(samples, info);
      report.raised = outcome.raised;
      report.resolved = outcome.resolved;
    } catch (err) {
      this.deps.onError?.(err, 'alerts');
    }
    const now = this.deps.clock.now().getTime();
    if (now - this.lastPrune >= (this.deps.pruneEveryMs ?? 3_600_000)) {
      this.lastPrune = now;
      await this.prune().catch((err: unknown) => this.deps.onError?.(err, 'prune'));
    }
    this.reported(report);
    return report;
  }

  /** Running servers of this host and their live sessions with a display. */
  private async targets() {
    const servers = await this.runningServers();
    const live = await this.deps.sessions.findByServerIds(
      servers.map((s) => s.id),
      LIVE_STATUSES,
    );
    const sessions = live.filter((s) => s.display !== null);
    return {
      servers,
      sessions,
      probe: {
        servers: servers.map((s) => ({ id: s.id, port: s.port })),
        sessions: sessions.map((s) => ({ id: s.id, serverId: s.serverId, username: s.username, display: s.display ?? 0 })),
      },
    };
  }

  private async runningServers(): Promise<RdpServer[]> {
    const out: RdpServer[] = [];
    for (const status of ['RUNNING', 'MAINTENANCE'] as const) {
      let after: Cursor | undefined;
      while (true) {
        const page = await this.deps.servers.list({ status }, MAX_PAGE_SIZE, after);
        out.push(...page.items.filter((s) => s.host === this.deps.host && MEASURED(s)));
        const last = page.items.at(-1);
        if (!page.hasNextPage || !last) break;
        after = last;
      }
    }
    return out;
  }
}
