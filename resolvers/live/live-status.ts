import { Repeater } from 'graphql-yoga';
import type { BusStatus } from '../../src/domain/shared/event-publisher.js';
import { builder } from '../builder.js';

export const EventBusStateEnum = builder.enumType('EventBusState', {
  description: "The replica's link to the event bus that carries every live update.",
  values: {
    CONNECTED: {
      value: 'CONNECTED',
      description: 'Events of every replica reach this one: subscriptions are complete.',
    },
    RECONNECTING: {
      value: 'RECONNECTING',
      description:
        'The bus (Redis) is away: no event reaches the subscriptions of this replica, from any replica, and what changes meanwhile is not sent. They stay open; on the change back to CONNECTED each one that starts with a SNAPSHOT sends a new one.',
    },
  },
});

export const LiveStatusRef = builder.objectRef<BusStatus>('LiveStatus').implement({
  description: 'Whether the live updates of this connection are complete (liveStatus).',
  fields: (t) => ({
    eventBus: t.field({
      type: EventBusStateEnum,
      description: "The replica's link to the event bus.",
      resolve: (s) => (s.connected ? 'CONNECTED' : 'RECONNECTING'),
    }),
    crossReplica: t.exposeBoolean('crossReplica', {
      description: 'Whether the bus spans replicas (Redis); false in-process (no REDIS_URL), where it is always CONNECTED.',
    }),
    since: t.field({
      type: 'DateTime',
      description: 'When eventBus last changed (or the replica started).',
      resolve: (s) => s.since,
    }),
  }),
});

builder.subscriptionField('liveStatus', (t) =>
  t.field({
    type: LiveStatusRef,
    description:
      'The state of the live updates of this replica now, then each change: a client shows its views as live only while eventBus is CONNECTED. While it is RECONNECTING (its Redis is away) the WebSocket and every subscription stay open but no event reaches them, from any replica; when it is CONNECTED again, each subscription that starts with a SNAPSHOT sends a new one (what changed meanwhile), and a client should also read its lists again (what was created meanwhile has no subscription of its own). Never ends while the connection lasts. Any signed-in caller.',
    authScopes: { authenticated: true },
    subscribe: (_root, _args, ctx) =>
      new Repeater<BusStatus>(async (push, stop) => {
        const unsubscribe = ctx.events.onStatus((s) => void push(s));
        await push(ctx.events.status());
        await stop;
        unsubscribe();
      }),
    resolve: (status) => status,
  }),
);
