import { pino } from 'pino';
import { PinoPretty } from 'pino-pretty';
import { currentRequestScope } from './request-scope.js';

export type Logger = pino.Logger;

/** Loggers that already carry a request id (the per-request child in the context). */
const scopedLoggers = new WeakSet<object>();

/** A JWT (three base64url parts, the first a JSON header) anywhere in a line. */
const JWT = /eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g;

/**
 * Errors keep type, message, code and stack, and their cause: a driver error's other properties
 * can hold the document it was writing (a credential hash) or the command it sent.
 */
function serializeError(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error)) return err;
  const code = (err as { code?: unknown }).code;
  return {
    type: err.name,
    message: err.message,
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    ...(err.stack ? { stack: err.stack } : {}),
    ...(err.cause !== undefined && depth < 3 ? { cause: serializeError(err.cause, depth + 1) } : {}),
  };
}

/**
 * Structured JSON logs (or, with `pretty`, one coloured line per event for a terminal, LOG_FORMAT=pretty,
 * formatted in-process so redaction and the JWT mask apply alike). Every line written while a request or GraphQL operation runs carries its
 * requestId. Secrets never reach the output: values under secret names are redacted, errors are
 * reduced to their message, and anything shaped like a JWT is masked in the final line.
 */
export function createLogger(options: {
  level: string;
  /** Human-readable lines instead of JSON. @default false */
  pretty?: boolean;
  name?: string;
  /** Where lines go. @default stdout */
  destination?: pino.DestinationStream;
}): Logger {
  const secretNames = ['authorization', 'token', 'password', 'secret', 'credentialHash', 'cookie', 'connectionParams'];
  const settings: pino.LoggerOptions = {
    name: options.name ?? 'rdp-services-cluster',
    level: options.level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { err: (err: unknown) => serializeError(err) },
    mixin: (_obj, _level, logger) => {
      if (scopedLoggers.has(logger)) return {};
      const scope = currentRequestScope();
      return scope ? { requestId: scope.requestId } : {};
    },
    redact: {
      paths: [
        ...secretNames,
        ...secretNames.map((n) => `*.${n}`),
        ...secretNames.map((n) => `*.*.${n}`),
        'req.headers.authorization',
        'req.headers.cookie',
      ],
      censor: '[redacted]',
    },
    hooks: { streamWrite: (line: string) => line.replace(JWT, '[redacted-jwt]') },
  };
  if (options.pretty) {
    const pretty = PinoPretty({
      translateTime: 'SYS:standard',
      ignore: 'pid,hostname,name',
      colorize: options.destination ? false : process.stdout.isTTY === true,
      // Written at once: the stream has no flush() for main's exit to wait on.
      sync: true,
      ...(options.destination ? { destination: options.destination } : {}),
    });
    return pino(settings, pretty);
  }
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

/** The logger of one request: every line carries its requestId. */
export function requestLogger(logger: Logger, requestId: string): Logger {
  const child = logger.child({ requestId });
  scopedLoggers.add(child);
  return child;
}
