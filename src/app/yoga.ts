import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { type GraphQLContext, schema } from '../../resolvers/index.js';
import type { Config } from '../config/config.js';
import type { Viewer } from '../domain/auth/viewer.js';
import { RATE_GROUPS, type RateGroup, type RateRule } from '../domain/shared/rate-limiter.js';
import type { Container } from './container.js';
import { buildContext, viewerFromHeader } from './context.js';
import { createMaskError } from './error-masking.js';
import { createRateLimitPlugin } from './rate-limit-plugin.js';
import { createSecurityPlugins } from './security-plugins.js';

function rateRules(config: Config): Record<RateGroup, RateRule> {
  return Object.fromEntries(
    RATE_GROUPS.map((g) => [
      g,
      { ratePerMinute: config.rateLimits.perMinute[g], burst: config.rateLimits.burstFactor * config.rateLimits.perMinute[g] },
    ]),
  ) as Record<RateGroup, RateRule>;
}

/** What the HTTP and WebSocket paths hand yoga before the context is built. */
export interface ServerContext {
  /** Set by the WebSocket path, which verified the token at connection_init. */
  wsViewer?: Viewer | null;
}

export type AppYoga = YogaServerInstance<ServerContext, GraphQLContext>;

export function createAppYoga(container: Container): AppYoga {
  const { config, logger } = container;
  return createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    // The node:http handler enforces the body cap from Content-Length; yoga's own limit wraps every
    // body in a stream and costs about 3x on small requests (STACK-NOTES.md).
    maxRequestBodySize: false,
    batching: false,
    landingPage: false,
    graphiql: config.graphiql ? { title: 'RDP Services Cluster', subscriptionsProtocol: 'WS' } : false,
    plugins: [
      ...createSecurityPlugins({ production: config.env === 'production' }),
      ...(config.rateLimits.enabled ? [createRateLimitPlugin({ limiter: container.rateLimiter, rules: rateRules(config) })] : []),
    ],
    logging: false,
    maskedErrors: {
      maskError: createMaskError((err) => logger.error({ err }, 'unexpected error in a GraphQL operation')),
    },
    context: async ({ request, wsViewer }) => {
      // Over WebSocket there is no Request: the token was verified once, at connection_init.
      if (wsViewer !== undefined) return buildContext(container, wsViewer);
      const viewer = await viewerFromHeader(container, request.headers.get('authorization'));
      return buildContext(container, viewer, request.headers.get('x-request-id'));
    },
  });
}
