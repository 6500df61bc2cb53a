import {
  AGENT_GROUP,
  COMMAND_ACCEPTED,
  COMMAND_RESULT,
  type CommandResultPayload,
  commandErrorOf,
  commandStreamKey,
  type HostCommand,
  parseCommandEntry,
  parseHostId,
} from '../../domain/cluster/host-protocol.js';
import { CommandJournal } from './host-command-journal.js';
import { type AgentEventPublisher, createAgentEventPublisher } from './host-event-publisher.js';
import {
  Backoff,
  closeRedis,
  ensureGroup,
  errorMessage,
  type HostRedisConnection,
  type HostStreamLog,
  isGroupGone,
  noLog,
  openHostRedis,
  parseStreamsReply,
  type StreamEntry,
  sleep,
} from './host-redis.js';

export interface AgentCommandConsumerOptions {
  /** The agent's own Redis user (see host-acl.ts): a URL with user and password, or ioredis options. */
  redis: HostRedisConnection;
  hostId: string;
  /** A directory only this agent uses; it keeps the command journal (`commands.journal`). */
  stateDir: string;
  /**
   * Runs one command. Its value is sent back as the result (it must survive JSON); an error with
   * a string `code` (a DomainError) keeps its code, message and primitive fields, any other error
   * becomes code INTERNAL.
   */
  handle: (command: HostCommand) => Promise<unknown>;
  /**
   * Commands run at the same time; more wait in Redis (unread) until one finishes.
   * @default 32
   */
  concurrency?: number;
  /**
   * How long one blocking read waits (only bounds how often an idle agent polls).
   * @default 5000
   */
  blockMs?: number;
  /**
   * Approximate cap of the event stream the answers go to.
   * @default EVENT_STREAM_MAXLEN
   */
  eventMaxLen?: number;
  /**
   * Finished commands remembered for dedupe.
   * @default 10000
   */
  journalKeep?: number;
  log?: HostStreamLog;
}

export interface AgentCommandConsumer {
  /**
   * Opens the journal, connects (waiting for Redis as long as it takes), creates the group if
   * missing, then answers its own pending entries (those delivered before a crash) and reads new
   * commands until `stop`. Resolves once the group exists; rejects if the journal cannot be opened.
   */
  start(): Promise<void>;
  /** Stops reading, waits for running commands to be answered, closes. */
  stop(): Promise<void>;
  /** The event stream writer the answers use; the agent may publish its own events through it. */
  readonly events: AgentEventPublisher;
  /** Commands running now. */
  running(): number;
}

/**
 * The agent's side of `rdp:host:<hostId>:commands`: consumer group `agent`, consumer `<hostId>`.
 *
 * Per command, in this order: dedupe against the journal and against the commands running now;
 * EXPIRED (not run) if the Redis time is past `deadline`; `started` made durable; `command.accepted`
 * sent; the handler runs; `done` made durable; `command.result` sent; XACK. A crash anywhere
 * leaves the entry pending, and the next start answers it from the journal: a finished command gets
 * its stored result again, one that had started gets FAILED/INTERRUPTED and is not run again, one
 * that had not started runs (if still before its deadline). So no command ever runs twice.
 */
export function createAgentCommandConsumer(options: AgentCommandConsumerOptions): AgentCommandConsumer {
  const hostId = parseHostId(options.hostId);
  const key = commandStreamKey(hostId);
  const concurrency = options.concurrency ?? 32;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be a positive integer');
  const blockMs = options.blockMs ?? 5000;
  const log = options.log ?? noLog;
  const reader = openHostRedis(options.redis, `rdp-agent-${hostId}-commands`, 'reader');
  const writer = openHostRedis(options.redis, `rdp-agent-${hostId}-writer`, 'writer');
  const events = createAgentEventPublisher({
    hostId,
    redis: writer,
    ...(options.eventMaxLen !== undefined ? { maxLen: options.eventMaxLen } : {}),
  });
  let journal: CommandJournal | null = null;
  let stopping = false;
  let loop: Promise<void> | null = null;
  const inFlight = new Set<string>();
  const tasks = new Set<Promise<void>>();
  let slotFreed: (() => void) | null = null;

  /** Retries a Redis write until it succeeds or the consumer stops (the entry then stays pending). */
  async function persist<T>(what: string, write: () => Promise<T>): Promise<T | undefined> {
    const backoff = new Backoff();
    for (;;) {
      try {
        return await write();
      } catch (err) {
        if (stopping) return undefined;
        log('warn', 'agent stream write failed; retrying', { hostId, what, err: errorMessage(err) });
        await sleep(backoff.next());
      }
    }
  }

  async function reply(entryId: string, payload: CommandResultPayload): Promise<void> {
    const sent = await persist('command.result', () => events.publish(COMMAND_RESULT, payload));
    if (sent === undefined) return;
    await persist('xack', () => writer.call('XACK', key, AGENT_GROUP, entryId));
  }

  async function process(entry: StreamEntry, j: CommandJournal): Promise<void> {
    if (entry.fields === null) {
      // Trimmed while pending: nothing left to answer.
      await persist('xack', () => writer.call('XACK', key, AGENT_GROUP, entry.id));
      return;
    }
    const parsed = parseCommandEntry(entry.id, entry.fields);
    if (!parsed.ok) {
      log('warn', 'agent refused a command entry', { hostId, entryId: entry.id, reason: parsed.reason });
      if (parsed.commandId && parsed.replica) {
        await reply(entry.id, {
          commandId: parsed.commandId,
          replica: parsed.replica,
          status: 'FAILED',
          error: { code: parsed.code, message: parsed.reason },
        });
      } else {
        await persist('xack', () => writer.call('XACK', key, AGENT_GROUP, entry.id));
      }
      return;
    }
    const command = parsed.value;
    const base = { commandId: command.id, replica: command.replica };
    if (inFlight.has(command.id)) {
      // The same command sent twice while it runs: its one run answers.
      await persist('xack', () => writer.call('XACK', key, AGENT_GROUP, entry.id));
      return;
    }
    const known = j.get(command.id);
    if (known?.state === 'done') {
      await reply(entry.id, { ...known.reply, replica: command.replica });
      return;
    }
    if (known?.state === 'started') {
      const interrupted: CommandResultPayload = {
        ...base,
        status: 'FAILED',
        error: { code: 'INTERRUPTED', message: 'the agent stopped while running this command; it was not run again' },
      };
      await j.done(interrupted);
      await reply(entry.id, interrupted);
      return;
    }
    if (events.redisNow() > command.deadline) {
      await reply(entry.id, { ...base, status: 'EXPIRED' });
      return;
    }
    inFlight.add(command.id);
    try {
      await j.started(command.id);
      await persist('command.accepted', () => events.publish(COMMAND_ACCEPTED, base));
      let outcome: CommandResultPayload;
      try {
        const result = await options.handle(command);
        // A value JSON cannot carry would fail every write of the reply: fail the command instead.
        const json = result === undefined ? undefined : JSON.stringify(result);
        outcome = { ...base, status: 'OK', ...(json !== undefined ? { result: JSON.parse(json) as unknown } : {}) };
      } catch (err) {
        outcome = { ...base, status: 'FAILED', error: commandErrorOf(err) };
      }
      await j.done(outcome);
      await reply(entry.id, outcome);
    } finally {
      inFlight.delete(command.id);
    }
  }

  function launch(entry: StreamEntry, j: CommandJournal): void {
    const task = process(entry, j)
      .catch((err: unknown) => {
        // The journal could not be written: leave the entry pending for the next start.
        log('error', 'agent could not process a command', { hostId, entryId: entry.id, err: errorMessage(err) });
      })
      .finally(() => {
        tasks.delete(task);
        slotFreed?.();
      });
    tasks.add(task);
  }

  async function freeSlots(): Promise<number> {
    while (tasks.size >= concurrency && !stopping) {
      await new Promise<void>((resolve) => {
        slotFreed = resolve;
      });
      slotFreed = null;
    }
    return concurrency - tasks.size;
  }

  async function readLoop(j: CommandJournal): Promise<void> {
    const backoff = new Backoff();
    // '0' first: what was delivered to this consumer before and never acknowledged.
    let cursor = '0';
    while (!stopping) {
      const count = await freeSlots();
      if (stopping) break;
      let reply: unknown;
      try {
        reply =
          cursor === '>'
            ? await reader.call('XREADGROUP', 'GROUP', AGENT_GROUP, hostId, 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', key, '>')
            : await reader.call('XREADGROUP', 'GROUP', AGENT_GROUP, hostId, 'COUNT', count, 'STREAMS', key, cursor);
        backoff.reset();
      } catch (err) {
        if (stopping) break;
        if (isGroupGone(err)) {
          log('warn', 'agent command stream or group vanished; re-creating it', { hostId, err: errorMessage(err) });
          await ensureGroup(writer, key, AGENT_GROUP, '0').catch(() => undefined);
          continue;
        }
        log('warn', 'agent command read failed; retrying', { hostId, err: errorMessage(err) });
        await sleep(backoff.next());
        continue;
      }
      const entries = parseStreamsReply(reply)[0]?.entries ?? [];
      if (cursor !== '>') {
        const last = entries.at(-1);
        if (!last) {
          cursor = '>';
          continue;
        }
        cursor = last.id;
        // Pending entries are answered one batch at a time, before any new command.
        for (const e of entries) launch(e, j);
        await Promise.all([...tasks]);
        continue;
      }
      for (const e of entries) launch(e, j);
    }
  }

  return {
    events,
    running: () => inFlight.size,
    start() {
      if (loop) throw new Error('the command consumer is already started');
      let ready!: () => void;
      const started = new Promise<void>((resolve) => {
        ready = resolve;
      });
      loop = (async () => {
        const j = await CommandJournal.open(options.stateDir, options.journalKeep);
        journal = j;
        // Redis may come later than the agent: wait for it rather than fail.
        const backoff = new Backoff();
        while (!stopping) {
          try {
            await events.syncClock();
            await ensureGroup(writer, key, AGENT_GROUP, '0');
            break;
          } catch (err) {
            log('warn', 'agent cannot reach its command stream yet; retrying', { hostId, err: errorMessage(err) });
            await sleep(backoff.next());
          }
        }
        ready();
        await readLoop(j);
      })();
      return Promise.race([started, loop]);
    },
    async stop() {
      stopping = true;
      slotFreed?.();
      // Ends a blocked read at once (the loop sees `stopping`).
      reader.disconnect();
      await loop;
      await Promise.all([...tasks]);
      await journal?.close();
      await closeRedis(writer);
    },
  };
}
