import type { IncomingMessage } from 'node:http';
import { useGraphQlJit } from '@envelop/graphql-jit';
import { type DocumentNode, Kind, OperationTypeNode } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { type GraphQLContext, schema } from '../../resolvers/index.js';
import { isMongoUnavailableError } from '../adapters/mongo/mongo-database.js';
import type { Config } from '../config/config.js';
import type { Viewer } from '../domain/auth/viewer.js';
import { UnauthenticatedError } from '../domain/shared/errors.js';
import { RATE_GROUPS, type RateGroup, type RateRule } from '../domain/shared/rate-limiter.js';
import { createAuditPlugin, createDeniedRecorder } from './audit-plugin.js';
import { clientIp } from './client-ip.js';
import type { Container } from './container.js';
import { buildContext, viewerFromHeader } from './context.js';
import { createMaskError } from './error-masking.js';
import { GRAPHIQL_DEFAULT_HEADERS, GRAPHIQL_DEFAULT_QUERY, graphiqlAssets } from './graphiql.js';
import { createOperationMetricsPlugin } from './operation-metrics-plugin.js';
import { createRateLimitPlugin } from './rate-limit-plugin.js';
import { createRequestPlugin } from './request-plugin.js';
import { currentRequestScope } from './request-scope.js';
import { createResponseCachePlugin } from './response-cache.js';
import { createSecurityPlugins } from './security-plugins.js';
import { type TrustedDocuments, trustedDocuments, trustedDocumentsPlugin } from './trusted-documents.js';
import { createVariableCostPlugin } from './variable-cost-plugin.js';
import { createVariablesPlugin } from './variables-plugin.js';

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
  /** The node request (HTTP), or the upgrade request of the socket (WebSocket). */
  req?: IncomingMessage;
}

export type AppYoga = YogaServerInstance<ServerContext, GraphQLContext>;

function isSubscription(document: DocumentNode, operationName?: string | null): boolean {
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const chosen = operationName ? operations.find((o) => o.name?.value === operationName) : operations[0];
  return chosen?.operation === OperationTypeNode.SUBSCRIPTION;
}

export function createAppYoga(
  container: Container,
  trusted: TrustedDocuments = trustedDocuments(container.config.trustedDocumentsOnly),
): AppYoga {
  const { config, logger } = container;
  const denied = createDeniedRecorder(container.audit);
  return createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    // The node:http handler enforces the body cap from Content-Length; yoga's own limit wraps every
    // body in a stream and costs about 3x on small requests (docs/STACK.md).
    maxRequestBodySize: false,
    batching: false,
    landingPage: false,
    graphiql: config.graphiql
      ? {
          title: 'RDP Services Cluster',
          subscriptionsProtocol: 'WS',
          defaultQuery: GRAPHIQL_DEFAULT_QUERY,
          headers: GRAPHIQL_DEFAULT_HEADERS,
          defaultEditorToolsVisibility: 'headers',
        }
      : false,
    // Our own copy of GraphiQL's code, served from this origin (yoga's default loads it from a CDN).
    renderGraphiQL: async (options) => (await graphiqlAssets()).render(options),
    plugins: [
      // First: a persisted operation's text must be in place before anything reads the document.
      trustedDocumentsPlugin(trusted),
      ...createSecurityPlugins({ production: config.env === 'production', graphiql: config.graphiql }),
      // Before the rate limiter: when it stops an operation, only earlier plugins see the result.
      createAuditPlugin({ denied }),
      // Before the rate limiter too, so refused operations are counted.
      createOperationMetricsPlugin(container.metrics),
      ...(config.rateLimits.enabled ? [createRateLimitPlugin({ limiter: container.rateLimiter, rules: rateRules(config) })] : []),
      // Before graphql-jit, whose own coercion errors name the wrong variable and carry no code.
      createVariablesPlugin(),
      // Page sizes given as variables count in the cost limit too (validation sees only literals).
      createVariableCostPlugin(),
      // After everything that guards, limits, counts and audits an operation: a hit only replaces execution.
      ...(container.responseCache ? [createResponseCachePlugin(container.responseCache)] : []),
      // Each document compiled once to plain JavaScript (bench/: about 3x faster on lists).
      // Not subscriptions: graphql-jit 0.8 hands a subscribe resolver the operation's variables
      // instead of the field's arguments (serverEvents(serverId: $id) saw serverId undefined).
      useGraphQlJit({}, { enableIf: (args) => !isSubscription(args.document, args.operationName) }),
      // Last: it wraps whichever executor the plugins before it chose (graphql-jit's).
      createRequestPlugin({ isUnavailable: isMongoUnavailableError }),
    ],
    logging: false,
    maskedErrors: {
      maskError: createMaskError(
        (err) => logger.error({ err }, 'unexpected error in a GraphQL operation'),
        isMongoUnavailableError,
      ),
    },
    context: async ({ request, wsViewer, req }) => {
      const ip = clientIp(req, config.service.trustProxy);
      // Over WebSocket there is no Request: the token was verified once, at connection_init.
      if (wsViewer !== undefined) return buildContext(container, wsViewer, { ip });
      const requestId = currentRequestScope()?.requestId ?? request.headers.get('x-request-id');
      let viewer: Viewer | null;
      try {
        viewer = await viewerFromHeader(container, request.headers.get('authorization'));
      } catch (err) {
        if (err instanceof UnauthenticatedError) {
          denied({
            actor: { userId: null, name: null, ip },
            action: 'auth.token',
            target: null,
            result: 'DENIED',
            details: { code: err.code, reason: err.message },
          });
        }
        throw err;
      }
      return buildContext(container, viewer, { requestId, ip });
    },
  });
}
