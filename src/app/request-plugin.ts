import { handleStreamOrSingleExecutionResult, isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../../resolvers/index.js';
import { isUnexpected, reportOnce } from './error-masking.js';
import { runInRequestScope } from './request-scope.js';

/**
 * Runs each operation inside its request scope, so every log line written while it executes
 * (services, adapters, container callbacks) carries its requestId, on HTTP and WebSocket alike;
 * subscription streams are pulled inside it too. Errors that will be masked are logged here,
 * before masking, with the operation's request id (the masking step has no context).
 */
export function createRequestPlugin(options: { isUnavailable: (error: unknown) => boolean }): Plugin<GraphQLContext> {
  const logUnexpected = (ctx: GraphQLContext, errors: readonly unknown[] | undefined) => {
    for (const error of errors ?? []) {
      if (!isUnexpected(error, options.isUnavailable)) continue;
      const path = (error as { path?: unknown }).path;
      reportOnce(error instanceof Error && 'originalError' in error && error.originalError ? error.originalError : error, (err) =>
        ctx.log.error({ err, path }, 'unexpected error in a GraphQL operation'),
      );
    }
  };
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const ctx = args.contextValue;
      const scope = { requestId: ctx.requestId };
      setExecuteFn((a) => runInRequestScope(scope, () => executeFn(a)));
      return {
        onExecuteDone: (payload) =>
          handleStreamOrSingleExecutionResult(payload, ({ result }) => logUnexpected(ctx, result.errors)),
      };
    },
    onSubscribe({ args, subscribeFn, setSubscribeFn }) {
      const ctx = args.contextValue;
      const scope = { requestId: ctx.requestId };
      setSubscribeFn((a) => runInRequestScope(scope, () => subscribeFn(a)));
      return {
        onSubscribeResult: ({ result, setResult }) => {
          if (!isAsyncIterable(result)) {
            logUnexpected(ctx, result.errors);
            return;
          }
          const it = result[Symbol.asyncIterator]();
          // A plain iterator, not an async generator: return() must not wait for a pending next().
          const scoped: AsyncIterableIterator<typeof result extends AsyncIterable<infer R> ? R : never> = {
            next: () =>
              runInRequestScope(scope, async () => {
                const step = await it.next();
                if (!step.done) logUnexpected(ctx, step.value.errors);
                return step;
              }),
            return: () =>
              runInRequestScope(scope, async () => (await it.return?.()) ?? { done: true as const, value: undefined }),
            throw: (e?: unknown) => runInRequestScope(scope, () => (it.throw ? it.throw(e) : Promise.reject(e))),
            [Symbol.asyncIterator]() {
              return scoped;
            },
          };
          setResult(scoped);
        },
      };
    },
  };
}
