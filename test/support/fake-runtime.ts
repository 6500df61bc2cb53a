import type { RdpServer } from '../../src/domain/servers/server.js';
import type { RuntimeExit, ServerRuntime } from '../../src/domain/servers/server-runtime.js';
import { RuntimeFailureError, RuntimeUnavailableError } from '../../src/domain/shared/errors.js';

export type RuntimeOperation = 'checkAvailable' | 'start' | 'stop' | 'remove' | 'isRunning' | 'adopt';

export interface RuntimeCall {
  op: RuntimeOperation;
  serverId: string | null;
  /** The status of the server as the runtime was handed it. */
  status: RdpServer['status'] | null;
}

/**
 * A ServerRuntime that runs nothing. Tests set `available`, `startFailure` and `stopFailure`,
 * read `calls`, and make an instance die on its own with `crash`.
 */
export class FakeServerRuntime implements ServerRuntime {
  /** When false, checkAvailable throws RuntimeUnavailableError. */
  available = true;
  /** When set, start throws it (after recording the call). */
  startFailure: Error | null = null;
  /** When set, stop throws it (after recording the call). */
  stopFailure: Error | null = null;
  readonly calls: RuntimeCall[] = [];
  readonly running = new Set<string>();
  private readonly exitListeners: ((exit: RuntimeExit) => void)[] = [];

  async checkAvailable(): Promise<void> {
    this.record('checkAvailable', null);
    if (!this.available) throw new RuntimeUnavailableError('fake runtime: xrdp is not installed');
  }

  async start(server: RdpServer): Promise<void> {
    this.record('start', server);
    if (this.startFailure) throw this.startFailure;
    this.running.add(server.id);
  }

  async stop(server: RdpServer): Promise<void> {
    this.record('stop', server);
    if (this.stopFailure) throw this.stopFailure;
    this.running.delete(server.id);
  }

  async remove(server: RdpServer): Promise<void> {
    this.record('remove', server);
  }

  async isRunning(server: RdpServer): Promise<boolean> {
    this.record('isRunning', server);
    return this.running.has(server.id);
  }

  async adopt(server: RdpServer): Promise<boolean> {
    this.record('adopt', server);
    return this.running.has(server.id);
  }

  async reap(keep: ReadonlySet<string>): Promise<string[]> {
    const reaped = [...this.running].filter((id) => !keep.has(id));
    for (const id of reaped) this.running.delete(id);
    return reaped;
  }

  onUnexpectedExit(listener: (exit: RuntimeExit) => void): void {
    this.exitListeners.push(listener);
  }

  /** Makes a running instance exit on its own and tells every listener. */
  crash(serverId: string, message: string): void {
    this.running.delete(serverId);
    for (const listener of this.exitListeners) listener({ serverId, message });
  }

  /** The operations recorded so far, in order, as `op` or `op:serverId`. */
  operations(): string[] {
    return this.calls.map((c) => (c.serverId === null ? c.op : `${c.op}:${c.serverId}`));
  }

  static failingStart(message: string): FakeServerRuntime {
    const runtime = new FakeServerRuntime();
    runtime.startFailure = new RuntimeFailureError(message);
    return runtime;
  }

  private record(op: RuntimeOperation, server: RdpServer | null): void {
    this.calls.push({ op, serverId: server?.id ?? null, status: server?.status ?? null });
  }
}
