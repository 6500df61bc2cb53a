import type { FleetUsageView, FleetViewEvent } from '../../src/domain/fleet/fleet-events.js';
import { builder } from '../builder.js';
import { ResourceSampleRef } from '../resources/usage-types.js';
import { RdpServerRef } from '../server/server-type.js';

export const FleetEventKindEnum = builder.enumType('FleetEventKind', {
  description: 'What happened to an object of the fleet.',
  values: {
    SNAPSHOT: { description: 'Its state when the subscription started, or again after events may have been lost.' },
    CREATED: { description: 'It was created.' },
    UPDATED: {
      description:
        "Its settings changed, or its drain started, reached its deadline or was cancelled (see the server's `draining`).",
    },
    STATUS_CHANGED: { description: 'Its status changed.' },
    DELETED: { description: 'It was deleted (the object as it last was).' },
    SESSIONS_CHANGED: {
      description: 'Its live sessions changed: one was admitted, connected, disconnected or ended; the counts are new.',
    },
  } as const,
});

export const FleetSubjectEnum = builder.enumType('FleetSubject', {
  description: 'The kind of object a fleet event is about; more kinds (pools) may be added, so clients skip unknown ones.',
  values: { SERVER: { description: 'An RDP server: `server` is set.' } } as const,
});

export const FleetEventRef = builder.objectRef<FleetViewEvent>('FleetEvent').implement({
  description: 'A change to an object of the fleet, for a console that lists them.',
  fields: (t) => ({
    kind: t.expose('kind', { type: FleetEventKindEnum, description: 'What happened.' }),
    subject: t.expose('subject', { type: FleetSubjectEnum, description: 'What it happened to.' }),
    server: t.field({
      type: RdpServerRef,
      nullable: true,
      description: 'The server after the change (subject SERVER); null for other subjects.',
      resolve: (e) => (e.subject === 'SERVER' ? e.server : null),
    }),
    activeSessions: t.exposeInt('activeSessions', { description: 'ACTIVE sessions of the server now; 0 once DELETED.' }),
    disconnectedSessions: t.exposeInt('disconnectedSessions', {
      description: 'DISCONNECTED sessions of the server now; 0 once DELETED.',
    }),
    at: t.expose('at', { type: 'DateTime', description: 'When it happened.' }),
  }),
});

export const FleetUsageKindEnum = builder.enumType('FleetUsageKind', {
  description: 'Why a fleetUsage message was sent.',
  values: {
    SNAPSHOT: {
      description:
        'The newest current sample of each server when the subscription started, or again after samples may have been lost.',
    },
    ROUND: { description: "A collection round's samples (one host's round in a cluster)." },
  } as const,
});

export const FleetUsageEventRef = builder.objectRef<FleetUsageView>('FleetUsageEvent').implement({
  description: 'Resource samples of the servers a caller may see, one message per collection round.',
  fields: (t) => ({
    kind: t.expose('kind', { type: FleetUsageKindEnum, description: 'Snapshot or a new round.' }),
    at: t.expose('at', { type: 'DateTime', description: 'The round (its interval start), or when the snapshot was read.' }),
    samples: t.expose('samples', {
      type: [ResourceSampleRef],
      description: 'One sample per server (subjectId is the server id); servers not measured are left out.',
    }),
  }),
});
