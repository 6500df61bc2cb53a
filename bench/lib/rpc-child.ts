/**
 * The child side of the bench's process protocol: the parent calls methods by name over Node's
 * IPC channel and gets `{ id, result }` or `{ id, error }` back. `stop` always exits cleanly, so
 * `--cpu-prof` gets to write its profile.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

export type Handlers = Record<string, (params: unknown) => unknown>;

let profiler: Session | undefined;

/**
 * CPU profiling of the measured phase only (not start-up, seeding or connecting), through the
 * inspector: every bench child answers profileStart and profileStop({ path }).
 */
const profiling: Handlers = {
  async profileStart() {
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.setSamplingInterval', { interval: 200 });
    await profiler.post('Profiler.start');
  },
  async profileStop(params) {
    if (!profiler) throw new Error('profileStart was not called');
    const { profile } = await profiler.post('Profiler.stop');
    profiler.disconnect();
    profiler = undefined;
    const path = (params as { path: string }).path;
    writeFileSync(path, JSON.stringify(profile));
    return path;
  },
};

interface Call {
  id: number;
  method: string;
  params: unknown;
}

function isCall(m: unknown): m is Call {
  return typeof m === 'object' && m !== null && 'id' in m && 'method' in m;
}

export function serveRpc(handlers: Handlers, onStop: () => Promise<void> = async () => undefined): void {
  const send = process.send?.bind(process);
  if (!send) throw new Error('a bench child must be started with an IPC channel');
  process.on('message', (message: unknown) => {
    if (!isCall(message)) return;
    const { id, method, params } = message;
    if (method === 'stop') {
      onStop()
        .catch((err: unknown) => console.error('stop failed', err))
        .finally(() => send({ id, result: null }, () => process.exit(0)));
      return;
    }
    const handler = handlers[method] ?? profiling[method];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown method ${method}`);
        return handler(params);
      })
      .then(
        (result) => send({ id, result: result ?? null }),
        (err: unknown) => send({ id, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      );
  });
  // The parent going away must not leave load or servers running.
  process.on('disconnect', () => process.exit(0));
  send({ ready: true });
}
