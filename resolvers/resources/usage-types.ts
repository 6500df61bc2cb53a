import type { ResourceSampleEvent } from '../../src/domain/resources/resource-events.js';
import {
  type ResourceFigures,
  type ResourcePoint,
  type ResourceSample,
  SUBJECT_KINDS,
  type SubjectKind,
  USAGE_WINDOWS,
  type UsageWindow,
} from '../../src/domain/resources/resource-sample.js';
import type { ResourceUsage } from '../../src/domain/resources/usage-service.js';
import { builder } from '../builder.js';

const SUBJECT_DESCRIPTIONS: Record<SubjectKind, string> = {
  HOST: 'A host running RDP servers (subject id `host:<name>`).',
  SERVER: 'An RDP server: its xrdp processes and its sessions.',
  SESSION: "A session's processes: X server, window manager and what runs in it.",
};

export const SubjectKindEnum = builder.enumType('SubjectKind', {
  description: 'What a resource sample or alert is about.',
  values: Object.fromEntries(SUBJECT_KINDS.map((k) => [k, { value: k, description: SUBJECT_DESCRIPTIONS[k] }])) as Record<
    SubjectKind,
    { value: SubjectKind; description: string }
  >,
});

const WINDOW_DESCRIPTIONS: Record<UsageWindow, string> = {
  H1: 'The last hour (raw samples, averaged into at most 300 points).',
  H6: 'The last 6 hours (per-minute averages, at most 300 points).',
  H24: 'The last 24 hours (per-minute averages, at most 300 points).',
  D7: 'The last 7 days (per-minute averages, at most 300 points).',
};

export const UsageWindowEnum = builder.enumType('UsageWindow', {
  description: 'How far back resource history goes.',
  values: Object.fromEntries(USAGE_WINDOWS.map((w) => [w, { value: w, description: WINDOW_DESCRIPTIONS[w] }])) as Record<
    UsageWindow,
    { value: UsageWindow; description: string }
  >,
});

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

/** The figures every sample and point has; null where they cannot be measured. */
function figureFields<P extends ResourceFigures>(t: PothosSchemaTypes.ObjectFieldBuilder<Types, P>) {
  const float = (name: keyof ResourceFigures, description: string) =>
    t.float({ nullable: true, description, resolve: (f) => f[name] });
  return {
    cpuPercent: float('cpuPercent', 'CPU in use, percent of all CPUs of the host (null on the first round).'),
    memoryPercent: float('memoryPercent', 'Memory in use (resident), percent of host memory.'),
    memoryUsedMb: float('memoryUsedMb', 'Memory in use, MB (resident set for servers and sessions).'),
    memoryTotalMb: float('memoryTotalMb', 'Memory of the host, MB.'),
    diskPercent: float('diskPercent', 'Use of the filesystem holding the data (host only; null for servers and sessions).'),
    diskUsedMb: float('diskUsedMb', 'Disk in use, MB (host only).'),
    diskTotalMb: float('diskTotalMb', 'Size of that filesystem, MB (host only).'),
    networkInKbps: float(
      'networkInKbps',
      "Inbound kbit/s: the host's interfaces (loopback excluded), or a server's RDP connections; null for sessions.",
    ),
    networkOutKbps: float('networkOutKbps', 'Outbound kbit/s, as networkInKbps.'),
  };
}

export const ResourceSampleRef = builder.objectRef<ResourceSample>('ResourceSample').implement({
  description: 'One measurement of a host, server or session, taken every METRICS_INTERVAL seconds.',
  fields: (t) => ({
    subjectKind: t.expose('subjectKind', { type: SubjectKindEnum, description: 'What was measured.' }),
    subjectId: t.exposeID('subjectId', { description: 'Server id, session id or `host:<name>`.' }),
    at: t.expose('at', { type: 'DateTime', description: 'Start of the collection interval it belongs to.' }),
    ...figureFields(t),
  }),
});

export const ResourcePointRef = builder.objectRef<ResourcePoint>('ResourcePoint').implement({
  description: 'A point of resource history: the average of the samples from `at` until the next point.',
  fields: (t) => ({
    at: t.expose('at', { type: 'DateTime', description: 'Time of the first sample it averages.' }),
    sampleCount: t.exposeInt('sampleCount', { description: 'How many samples it averages.' }),
    ...figureFields(t),
  }),
});

export const ResourceUsageRef = builder.objectRef<ResourceUsage>('ResourceUsage').implement({
  description: 'Resource history of one subject over a window, downsampled to at most 300 points, with its latest sample.',
  fields: (t) => ({
    subjectKind: t.expose('subjectKind', { type: SubjectKindEnum, description: 'What was measured.' }),
    subjectId: t.exposeID('subjectId', { description: 'Server id, session id or `host:<name>`.' }),
    window: t.expose('window', { type: UsageWindowEnum, description: 'The window asked for.' }),
    from: t.expose('from', { type: 'DateTime', description: 'Start of the window.' }),
    to: t.expose('to', { type: 'DateTime', description: 'End of the window (now).' }),
    latest: t.expose('latest', {
      type: ResourceSampleRef,
      nullable: true,
      description: 'The newest sample, whatever its age; null when there is none.',
    }),
    points: t.expose('points', {
      type: [ResourcePointRef],
      description: 'History, oldest first, at most 300 points.',
    }),
  }),
});

/** What the resourceUsage subscription sends: the live event itself, or a snapshot. */
export type ResourceUsageEventShape = ResourceSampleEvent | { kind: 'SNAPSHOT'; sample: ResourceSample | null };

export const ResourceUsageEventKindEnum = builder.enumType('ResourceUsageEventKind', {
  description: 'Why a resourceUsage message was sent.',
  values: {
    SNAPSHOT: { description: 'The newest sample when the subscription started (or resynced); may be null.' },
    SAMPLE: { description: 'A new sample.' },
  } as const,
});

export const ResourceUsageEventRef = builder.objectRef<ResourceUsageEventShape>('ResourceUsageEvent').implement({
  description: 'A sample of one subject, sent live.',
  fields: (t) => ({
    kind: t.expose('kind', { type: ResourceUsageEventKindEnum, description: 'Snapshot or new sample.' }),
    sample: t.expose('sample', {
      type: ResourceSampleRef,
      nullable: true,
      description: 'The sample; null only in a snapshot of a subject not measured yet.',
    }),
  }),
});
