import { isOperator, type Viewer } from '../auth/viewer.js';
import type { ServerService } from '../servers/server-service.js';
import type { SessionService } from '../sessions/session-service.js';
import type { Clock } from '../shared/clock.js';
import { NotFoundError } from '../shared/errors.js';
import { hostSubjectId } from './resource-collector.js';
import {
  downsample,
  MAX_POINTS,
  type ResourcePoint,
  type ResourceSample,
  type SubjectKind,
  type UsageWindow,
  WINDOW_SECONDS,
} from './resource-sample.js';
import { type ResourceSampleStore, SUMMARY_BINS } from './resource-sample-store.js';

/** History of one subject over a window, at most MAX_POINTS points, plus its newest sample. */
export interface ResourceUsage {
  subjectKind: SubjectKind;
  subjectId: string;
  window: UsageWindow;
  from: string;
  to: string;
  latest: ResourceSample | null;
  points: ResourcePoint[];
}

export interface UsageServiceDeps {
  samples: ResourceSampleStore;
  servers: ServerService;
  sessions: SessionService;
  clock: Clock;
  /** The host this replica runs on: `host` as a subject id means this one. */
  host: string;
  /** METRICS_INTERVAL: a latest sample older than three of these is not "now". */
  intervalSeconds: number;
}

/** Reading samples: who may see which subject, windows, downsampling, the current figures. */
export class UsageService {
  constructor(private readonly deps: UsageServiceDeps) {}

  /**
   * The subject an id names, if the viewer may see it: a server or session by id (owners see
   * their own, operators all), or a host (`host` for this one, `host:<name>`; operators only).
   * Hidden and missing answer alike.
   */
  async subject(viewer: Viewer, subjectId: string): Promise<{ kind: SubjectKind; id: string }> {
    if (subjectId === 'host' || subjectId.startsWith('host:')) {
      if (!isOperator(viewer)) throw new NotFoundError('subject', subjectId);
      return { kind: 'HOST', id: subjectId === 'host' ? hostSubjectId(this.deps.host) : subjectId };
    }
    const [server] = await this.deps.servers.getMany(viewer, [subjectId]);
    if (server) return { kind: 'SERVER', id: server.id };
    const [session] = await this.deps.sessions.getMany(viewer, [subjectId]);
    if (session) return { kind: 'SESSION', id: session.id };
    throw new NotFoundError('subject', subjectId);
  }

  async usage(viewer: Viewer, subjectId: string, window: UsageWindow): Promise<ResourceUsage> {
    const subject = await this.subject(viewer, subjectId);
    return this.history(subject, window);
  }

  /** The history of a subject already authorized. */
  async history(subject: { kind: SubjectKind; id: string }, window: UsageWindow): Promise<ResourceUsage> {
    const to = this.deps.clock.now();
    const from = new Date(to.getTime() - WINDOW_SECONDS[window] * 1000);
    // The coarsest stored resolution still finer than a point: raw samples for an hour, minutes
    // for 6 and 24 hours, 10 minutes for a week (8 bucket reads, 1,008 entries).
    const perPoint = WINDOW_SECONDS[window] / MAX_POINTS;
    const bin = [...SUMMARY_BINS].reverse().find((b) => b <= perPoint);
    const [points, [latest]] = await Promise.all([
      bin === undefined
        ? this.deps.samples
            .samples(subject.id, from, to)
            .then((s) => s.map(({ subjectKind: _k, subjectId: _i, ...p }) => ({ ...p, sampleCount: 1 })))
        : this.deps.samples.summaries(subject.id, from, to, bin),
      this.deps.samples.latest([subject.id]),
    ]);
    return {
      subjectKind: subject.kind,
      subjectId: subject.id,
      window,
      from: from.toISOString(),
      to: to.toISOString(),
      latest: latest ?? null,
      points: downsample(points, from, to, MAX_POINTS),
    };
  }

  /** The newest sample of each subject if it is current (three intervals), else null; batched. */
  async current(subjectIds: readonly string[]): Promise<(ResourceSample | null)[]> {
    const now = this.deps.clock.now().getTime();
    const maxAge = 3 * this.deps.intervalSeconds * 1000;
    return (await this.deps.samples.latest(subjectIds)).map((s) => (s && now - Date.parse(s.at) <= maxAge ? s : null));
  }

  /** The newest sample of a subject already authorized, whatever its age (subscription snapshots). */
  async latest(subjectId: string): Promise<ResourceSample | null> {
    return (await this.deps.samples.latest([subjectId]))[0] ?? null;
  }
}
