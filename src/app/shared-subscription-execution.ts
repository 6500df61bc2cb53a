import { createSourceEventStream, type DocumentNode, type ExecutionArgs, type ExecutionResult, execute } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../../resolvers/index.js';
import { visibilityKey } from '../domain/auth/viewer.js';

type MaybePromise<T> = T | Promise<T>;

const documentIds = new WeakMap<DocumentNode, number>();
let nextDocumentId = 1;

function documentId(document: DocumentNode): number {
  let id = documentIds.get(document);
  if (id === undefined) {
    id = nextDocumentId++;
    documentIds.set(document, id);
  }
  return id;
}

/**
 * Results per event object, per (document, operation, variables, visibility). An event published
 * once reaches every subscriber as the same object (in-process, and through Redis where the event
 * target parses each message once), so the WeakMap entry lives exactly as long as the event does.
 */
const results = new WeakMap<object, Map<string, MaybePromise<ExecutionResult>>>();

function mapAsyncIterable<T, U>(source: AsyncIterable<T>, map: (value: T) => MaybePromise<U>): AsyncIterableIterator<U> {
  const iterator = source[Symbol.asyncIterator]();
  return {
    async next() {
      const step = await iterator.next();
      return step.done ? { done: true, value: undefined } : { done: false, value: await map(step.value) };
    },
    async return() {
      await iterator.return?.();
      return { done: true, value: undefined };
    },
    async throw(error: unknown) {
      if (iterator.throw) {
        const step = await iterator.throw(error);
        return step.done ? { done: true, value: undefined } : { done: false, value: await map(step.value) };
      }
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

async function sharedSubscribe(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in source)) return source;
  const context = args.contextValue as Partial<GraphQLContext> | undefined;
  const key = [
    documentId(args.document),
    args.operationName ?? '',
    JSON.stringify(args.variableValues ?? {}),
    visibilityKey(context?.viewer ?? null),
  ].join('\u0000');
  return mapAsyncIterable(source, (event: unknown) => {
    if (typeof event !== 'object' || event === null) return execute({ ...args, rootValue: event });
    let byKey = results.get(event);
    if (!byKey) {
      byKey = new Map();
      results.set(event, byKey);
    }
    let result = byKey.get(key);
    if (!result) {
      result = execute({ ...args, rootValue: event });
      byKey.set(key, result);
    }
    return result;
  });
}

/**
 * One execution per event for all subscribers of the same document, variables and visibility
 * (visibilityKey): 10,000 subscribers to one server's stream cost one execution of an event, not
 * 10,000. The subscribe resolver still runs per subscriber (authorization, snapshot); only the
 * mapping of a shared event to its result is shared, and the result is never mutated downstream
 * (masking builds a new result when there are errors).
 */
export function useSharedSubscriptionExecution(): Plugin {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(sharedSubscribe);
    },
  };
}
