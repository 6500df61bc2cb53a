import { randomUUID } from 'node:crypto';
import { errorFromCommandFailure, HostCommandTimeoutError } from '../../domain/cluster/host-command-errors.js';
import {
  COMMAND_STREAM_MAXLEN,
  type CommandResultPayload,
  commandEntryFields,
  commandStreamKey,
  eventStreamKey,
  type HostCommandActor,
  hostIdOfStreamKey,
  parseCommandResponse,
  parseEventEntry,
  parseHostId,
} from '../../domain/cluster/host-protocol.js';
import { HostUnavailableError, ServiceUnavailableError, ValidationError } from '../../domain/shared/errors.js';
import { timeoutAfterPendingIo } from '../shared/timeout-after-pending-io.js';
import {
  Backoff,
  closeRedis,
  errorMessage,
  firstOutcome,
  type HostRedisConnection,
  type HostStreamLog,
  noLog,
  openHostRedis,
  parseStreamsReply,
  sleep,
  WakeableReader,
} from './host-redis.js';

export interface SendOptions {
  actor: HostCommandActor;
  /**
   * Milliseconds the agent has to START the command, from the moment Redis stores it. Past it the
   * agent answers EXPIRED and does not run it.
   * @default 5000
   */
  ttlMs?: number;
  /**
   * Milliseconds to wait for the result once the agent accepted the command.
   * @default 30000
   */
  timeoutMs?: number;
}

export interface HostCommandClientOptions {
  /** Where to connect (the API's own Redis user). */
  redis: HostRedisConnection;
  /** This API replica's id: answers name it, and only this replica reads them. */
  replicaId: string;
  /**
   * Extra time, beyond ttlMs, to wait for `command.accepted` before failing with HOST_UNAVAILABLE:
   * covers the trip of an acceptance sent just before the deadline.
   * @default 250
   */
  acceptGraceMs?: number;
  /**
   * How long a host's event stream stays watched after its last answer came, so that a burst of
   * commands to one host does not re-register it for each.
   * @default 10000
   */
  watchLingerMs?: number;
  /**
   * Approximate cap of each command stream (`XADD ... MAXLEN ~ N`).
   * @default COMMAND_STREAM_MAXLEN (10,000)
   */
  maxLen?: number;
  log?: HostStreamLog;
}

export interface HostCommandClient {
  /**
   * Sends one command and resolves with the agent's result. Rejects with HostUnavailableError
   * when the agent did not accept it within ttlMs (plus acceptGraceMs) or answered EXPIRED (it did
   * not run); with the DomainError the agent's handler threw (same class where the code is the
   * domain's) or a HostCommandFailedError; with HostCommandTimeoutError when it was accepted and
   * no result came within timeoutMs (outcome unknown); with ServiceUnavailableError when Redis
   * could not take it; with ValidationError for a bad host id, type or option.
   */
  send(hostId: string, type: string, payload: unknown, options: SendOptions): Promise<unknown>;
  /** Commands waiting for an answer. */
  pending(): number;
  /** Rejects what is still waiting (ServiceUnavailableError) and closes the connections. */
  close(): Promise<void>;
}

interface Waiting {
  hostId: string;
  commandId: string;
  accepted: boolean;
  /** From acceptance to result. */
  timeoutMs: number;
  /** Cancels the pending accept or result timeout (see timeoutAfterPendingIo). */
  cancelTimer: (() => void) | undefined;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

interface Watched {
  /** The last event entry id seen (XREAD returns what comes after it). */
  cursor: string;
  waiting: number;
  lastUsed: number;
}

function positiveInt(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new ValidationError(field, 'must be a positive integer (ms)');
  return value;
}

/**
 * The API side of commands. One writer connection (XADD, and CLIENT UNBLOCK for the reader) and
 * one reader that follows, with a plain XREAD (no group), the event streams of every host this
 * replica waits on: answers carry `replica` and only the issuing replica acts on them, so the
 * round trip is API → Redis → agent → Redis → API. Before the first command to a host the reader's
 * cursor is set to that stream's last entry (XREVRANGE), then the command is written, so its
 * answer cannot be missed; while a host stays watched later commands cost one XADD.
 */
export function createHostCommandClient(options: HostCommandClientOptions): HostCommandClient {
  const replicaId = options.replicaId;
  if (!replicaId || replicaId.length > 200) throw new ValidationError('replicaId', 'must be 1-200 characters');
  const acceptGraceMs = options.acceptGraceMs ?? 250;
  const lingerMs = options.watchLingerMs ?? 10_000;
  const maxLen = options.maxLen ?? COMMAND_STREAM_MAXLEN;
  const log = options.log ?? noLog;
  const writer = openHostRedis(options.redis, `rdp-api-${replicaId}-commands`, 'command-writer');
  const reader = new WakeableReader(openHostRedis(options.redis, `rdp-api-${replicaId}-answers`, 'reader'), writer);
  const watched = new Map<string, Watched>();
  const waiting = new Map<string, Waiting>();
  let closed = false;
  let wakeLoop: (() => void) | null = null;

  function settle(w: Waiting, outcome: { value: unknown } | { error: Error }): void {
    if (!waiting.delete(w.commandId)) return;
    w.cancelTimer?.();
    const host = watched.get(w.hostId);
    if (host) {
      host.waiting--;
      host.lastUsed = Date.now();
    }
    if ('error' in outcome) w.reject(outcome.error);
    else w.resolve(outcome.value);
  }

  function onResult(r: CommandResultPayload): void {
    const w = waiting.get(r.commandId);
    if (!w) return;
    if (r.status === 'OK') settle(w, { value: r.result ?? null });
    else if (r.status === 'EXPIRED') {
      settle(w, { error: new HostUnavailableError(w.hostId, 'its agent did not start the command before its deadline') });
    } else {
      const error = r.error ?? { code: 'INTERNAL', message: 'failed without an error' };
      settle(w, { error: errorFromCommandFailure(w.hostId, w.commandId, error) });
    }
  }

  async function readLoop(): Promise<void> {
    const backoff = new Backoff();
    while (!closed) {
      const now = Date.now();
      for (const [hostId, h] of watched) {
        if (h.waiting <= 0 && now - h.lastUsed > lingerMs) watched.delete(hostId);
      }
      if (watched.size === 0) {
        await new Promise<void>((resolve) => {
          wakeLoop = resolve;
        });
        wakeLoop = null;
        continue;
      }
      const hosts = [...watched.keys()];
      const args = [
        'XREAD',
        'COUNT',
        1000,
        'BLOCK',
        // Wake up now and then to drop hosts past their linger time.
        Math.max(lingerMs, 1000),
        'STREAMS',
        ...hosts.map(eventStreamKey),
        ...hosts.map((h) => watched.get(h)?.cursor ?? '$'),
      ];
      let reply: unknown;
      try {
        reply = await reader.read(args);
        backoff.reset();
      } catch (err) {
        if (closed) break;
        log('warn', 'command answers read failed; retrying', { replicaId, err: errorMessage(err) });
        await sleep(backoff.next());
        continue;
      }
      for (const { key, entries } of parseStreamsReply(reply)) {
        const hostId = hostIdOfStreamKey(key);
        const h = hostId ? watched.get(hostId) : undefined;
        for (const e of entries) {
          if (h) h.cursor = e.id;
          if (!e.fields) continue;
          const event = parseEventEntry(e.id, e.fields);
          if (!event.ok) continue;
          const response = parseCommandResponse(event.value);
          if (!response || response.value.replica !== replicaId) continue;
          const w = waiting.get(response.value.commandId);
          if (!w) continue;
          if (response.type === 'result') onResult(response.value);
          else if (!w.accepted) {
            w.accepted = true;
            w.cancelTimer?.();
            w.cancelTimer = timeoutAfterPendingIo(w.timeoutMs, () =>
              settle(w, { error: new HostCommandTimeoutError(w.hostId, w.commandId, w.timeoutMs) }),
            );
          }
        }
      }
    }
  }

  const loop = readLoop();

  /** Starts watching the host's events from their current end, before anything is sent there. */
  async function watch(hostId: string): Promise<void> {
    const existing = watched.get(hostId);
    if (existing) {
      existing.waiting++;
      return;
    }
    const last = (await writer.call('XREVRANGE', eventStreamKey(hostId), '+', '-', 'COUNT', 1)) as unknown[];
    const lastId = Array.isArray(last[0]) && typeof last[0][0] === 'string' ? last[0][0] : '0-0';
    // Another send to the same host may have registered it meanwhile; its cursor is older, keep it.
    const again = watched.get(hostId);
    if (again) {
      again.waiting++;
      return;
    }
    watched.set(hostId, { cursor: lastId, waiting: 1, lastUsed: Date.now() });
    wakeLoop?.();
    reader.changed();
  }

  return {
    async send(hostIdIn, type, payload, sendOptions) {
      const hostId = parseHostId(hostIdIn);
      if (typeof type !== 'string' || type.length < 1 || type.length > 100)
        throw new ValidationError('type', 'must be 1-100 characters');
      const ttlMs = positiveInt(sendOptions.ttlMs ?? 5000, 'ttlMs');
      const timeoutMs = positiveInt(sendOptions.timeoutMs ?? 30_000, 'timeoutMs');
      if (closed) throw new ServiceUnavailableError('the command client is closed');
      // Only a connection attempt under way is waited for (bounded by the ttl); a lost one fails at once.
      await firstOutcome(writer, ttlMs);
      const commandId = randomUUID();
      let fields: string[];
      try {
        fields = commandEntryFields({ id: commandId, type, replica: replicaId, ttl: ttlMs, actor: sendOptions.actor, payload });
      } catch {
        throw new ValidationError('payload', 'must be JSON-serializable');
      }
      try {
        await watch(hostId);
      } catch (err) {
        throw new ServiceUnavailableError(`cannot reach Redis to send a command to host ${hostId}: ${errorMessage(err)}`);
      }
      return new Promise<unknown>((resolve, reject) => {
        const w: Waiting = { hostId, commandId, accepted: false, timeoutMs, cancelTimer: undefined, resolve, reject };
        waiting.set(commandId, w);
        writer.call('XADD', commandStreamKey(hostId), 'MAXLEN', '~', maxLen, '*', ...fields).then(
          () => {
            // The entry's id (its deadline's start) is no later than this reply, so the agent's
            // deadline has passed when this timer fires, give or take the clocks' drift. An
            // acceptance already received but not yet read (this process was stalled) wins: the
            // agent runs what it took, so calling it unavailable would be false.
            if (w.accepted || !waiting.has(commandId)) return;
            w.cancelTimer = timeoutAfterPendingIo(ttlMs + acceptGraceMs, () =>
              settle(w, { error: new HostUnavailableError(hostId, `its agent did not take the command within ${ttlMs} ms`) }),
            );
          },
          (err: unknown) => {
            // Nothing is queued or resent: refused at once when disconnected. Only a reply lost
            // to a timeout (Redis stalled 5 s) can hide an entry that was stored.
            settle(w, {
              error: new ServiceUnavailableError(
                `could not send a command to host ${hostId} through Redis: ${errorMessage(err)}`,
              ),
            });
          },
        );
      });
    },
    pending: () => waiting.size,
    async close() {
      closed = true;
      for (const w of [...waiting.values()]) settle(w, { error: new ServiceUnavailableError('the command client closed') });
      wakeLoop?.();
      reader.reader.disconnect();
      await loop;
      await closeRedis(writer);
    },
  };
}
