import { ServiceUnavailableError } from '../../domain/shared/errors.js';
import { isMongoUnavailableError } from './mongo-database.js';

/**
 * Wraps a store so that, to the domain, an unreachable database is one error: every method
 * fails at once with ServiceUnavailableError while the driver's monitor cannot reach the server
 * (so a request's follow-up operations and clean-ups do not each wait for server selection),
 * and a driver "cannot reach" error becomes the same error.
 */
export function guardUnavailable<T extends object>(store: T, isReachable: () => boolean): T {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (!isReachable()) return Promise.reject(new ServiceUnavailableError());
        const result: unknown = value.apply(target, args);
        if (!(result instanceof Promise)) return result;
        return result.catch((err: unknown) => {
          throw isMongoUnavailableError(err) ? new ServiceUnavailableError() : err;
        });
      };
    },
  });
}
