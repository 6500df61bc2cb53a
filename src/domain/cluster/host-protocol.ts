import { z } from 'zod';
import { ValidationError } from '../shared/errors.js';

/**
 * The wire protocol between API replicas and host agents over Redis Streams (docs/CLUSTER-PROTOCOL.md).
 * Plain types and parse functions only: the Redis code lives in src/adapters/redis/host-*.ts.
 *
 * Every stream entry carries the protocol version `v`. A reader refuses an entry whose version it
 * does not speak (the agent answers FAILED with UNSUPPORTED_VERSION; the API skips the event and
 * reports it), so upgrade API replicas before agents when the version changes.
 */
export const HOST_PROTOCOL_VERSION = 1;

/** A host id: lower-case letters, digits and dashes, 1-63 characters, starting with a letter or digit. */
export const HOST_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The consumer group of a host's command stream; its one consumer is named after the host. */
export const AGENT_GROUP = 'agent';

/**
 * Entries kept per stream (`XADD ... MAXLEN ~ N`, so up to one macro node more: 100 entries with
 * the default `stream-node-max-entries`). Commands live seconds (their ttl), so 10,000 is far above
 * any burst an agent can have outstanding; events at a few per second keep over half an hour of
 * backlog for the API group. A command entry takes about 200 bytes, an event about 150 plus its
 * payload, so a host costs Redis roughly 2-5 MB at most (measured figures in docs/CLUSTER-PROTOCOL.md).
 */
export const COMMAND_STREAM_MAXLEN = 10_000;
export const EVENT_STREAM_MAXLEN = 10_000;

export function commandStreamKey(hostId: string): string {
  return `rdp:host:${hostId}:commands`;
}

export function eventStreamKey(hostId: string): string {
  return `rdp:host:${hostId}:events`;
}

/** The host id, or a ValidationError naming `field`. */
export function parseHostId(hostId: unknown, field = 'hostId'): string {
  if (typeof hostId !== 'string' || !HOST_ID_PATTERN.test(hostId)) {
    throw new ValidationError(field, 'must be 1-63 lower-case letters, digits or dashes, starting with a letter or digit');
  }
  return hostId;
}

/** The host a stream key belongs to, or null for a key that is not a host stream. */
export function hostIdOfStreamKey(key: string): string | null {
  const m = /^rdp:host:([a-z0-9][a-z0-9-]{0,62}):(commands|events)$/.exec(key);
  return m?.[1] ?? null;
}

/** The Redis time (ms since the epoch) at which an entry id was made: the part before the dash. */
export function entryIdTime(entryId: string): number {
  const ms = Number(entryId.slice(0, entryId.indexOf('-')));
  return Number.isSafeInteger(ms) ? ms : Number.NaN;
}

/** Who asked for a command; an AuditActor fits. `{ userId: 'system', name: 'system' }` for the service's own jobs. */
export interface HostCommandActor {
  userId: string | null;
  name: string | null;
  ip?: string | null;
}

/** A command as the agent sees it. */
export interface HostCommand {
  v: number;
  /** Chosen by the sender (a uuid); the agent's dedupe key. */
  id: string;
  type: string;
  /** The API replica that sent it and waits for the answer. */
  replica: string;
  /** Milliseconds the agent has to START it, counted from `issuedAt`. */
  ttl: number;
  actor: HostCommandActor;
  payload: unknown;
  /** The stream entry id (Redis time of the XADD, then a sequence number). */
  entryId: string;
  /** Redis time (ms) of the XADD: `entryIdTime(entryId)`. */
  issuedAt: number;
  /** `issuedAt + ttl`: past this Redis time the agent answers EXPIRED and does not run it. */
  deadline: number;
}

/** An event as the API sees it. */
export interface HostEvent {
  v: number;
  type: string;
  payload: unknown;
  /** The stream entry id: unique per host, the key for idempotent application. */
  entryId: string;
  /** Redis time (ms) the agent wrote it. */
  time: number;
}

/**
 * A heartbeat carries its host's whole current state (the time, the load then, the host's
 * description), nothing cumulative: of several pending for one host, the latest supersedes the
 * others, which are acknowledged without being applied.
 */
export const HEARTBEAT_EVENT = 'agent.heartbeat';
/**
 * Events a heartbeat is never applied ahead of: they register a host or mark it OFFLINE, and a
 * heartbeat's effect (connected again or not) depends on them. Every other event (sessions,
 * logs, exits, command answers) is independent of the host's heartbeat.
 */
export const HEARTBEAT_BARRIERS: ReadonlySet<string> = new Set(['agent.hello', 'agent.bye']);

export const COMMAND_ACCEPTED = 'command.accepted';
export const COMMAND_RESULT = 'command.result';

export type CommandStatus = 'OK' | 'FAILED' | 'EXPIRED';

/** A failure the agent reports; `details` carries a domain error's own fields (entity, id, field, ...). */
export interface CommandError {
  code: string;
  message: string;
  details?: Record<string, string | number | boolean>;
}

export interface CommandAcceptedPayload {
  commandId: string;
  replica: string;
}

export interface CommandResultPayload {
  commandId: string;
  replica: string;
  status: CommandStatus;
  result?: unknown;
  error?: CommandError;
}

/**
 * Error codes of the transport itself (a handler's domain error keeps its own code):
 * INTERRUPTED - the agent had started it and crashed or stopped before it finished; its effect is unknown and it is not run again;
 * BAD_COMMAND - the entry is malformed; UNSUPPORTED_VERSION - `v` is not one this agent speaks;
 * INTERNAL - the handler threw an error without a code (the message is not meant for end users).
 */
export const TRANSPORT_ERROR_CODES = ['INTERRUPTED', 'BAD_COMMAND', 'UNSUPPORTED_VERSION', 'INTERNAL'] as const;

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Stream entry fields, as Redis returns them: [name, value, name, value, ...]. */
export type EntryFields = readonly string[];

function fieldMap(fields: EntryFields): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) m.set(fields[i] as string, fields[i + 1] as string);
  return m;
}

function jsonField(raw: string | undefined): Parsed<unknown> {
  if (raw === undefined) return { ok: false, reason: 'missing' };
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch {
    return { ok: false, reason: 'is not JSON' };
  }
}

const actorSchema = z.object({
  userId: z.string().nullable(),
  name: z.string().nullable(),
  ip: z.string().nullable().optional(),
});

const commandSchema = z.object({
  v: z.literal(HOST_PROTOCOL_VERSION),
  id: z.uuid(),
  type: z.string().min(1).max(100),
  replica: z.string().min(1).max(200),
  ttl: z.number().int().positive(),
  actor: actorSchema,
  payload: z.unknown(),
});

function issueText(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.') || 'entry'}: ${issue.message}` : 'is invalid';
}

/** Field names and values of a command entry, in XADD order. */
export function commandEntryFields(c: {
  id: string;
  type: string;
  replica: string;
  ttl: number;
  actor: HostCommandActor;
  payload: unknown;
}): string[] {
  return [
    'v',
    String(HOST_PROTOCOL_VERSION),
    'id',
    c.id,
    'type',
    c.type,
    'replica',
    c.replica,
    'ttl',
    String(c.ttl),
    'actor',
    JSON.stringify(c.actor),
    'payload',
    JSON.stringify(c.payload ?? null),
  ];
}

/**
 * A command entry, or why it is refused. `commandId` and `replica` are given with a refusal when
 * the entry had them, so the agent can still answer the sender.
 */
export function parseCommandEntry(
  entryId: string,
  fields: EntryFields,
):
  | { ok: true; value: HostCommand }
  | { ok: false; code: 'BAD_COMMAND' | 'UNSUPPORTED_VERSION'; reason: string; commandId?: string; replica?: string } {
  const m = fieldMap(fields);
  const idRaw = m.get('id');
  const replicaRaw = m.get('replica');
  const commandId = idRaw !== undefined && z.uuid().safeParse(idRaw).success ? idRaw : undefined;
  const who = { ...(commandId ? { commandId } : {}), ...(replicaRaw ? { replica: replicaRaw } : {}) };
  const v = Number(m.get('v'));
  if (v !== HOST_PROTOCOL_VERSION) {
    return {
      ok: false,
      code: 'UNSUPPORTED_VERSION',
      reason: `protocol version ${m.get('v') ?? '(none)'}; this agent speaks ${HOST_PROTOCOL_VERSION}`,
      ...who,
    };
  }
  const actor = jsonField(m.get('actor'));
  const payload = jsonField(m.get('payload'));
  if (!actor.ok) return { ok: false, code: 'BAD_COMMAND', reason: `actor ${actor.reason}`, ...who };
  if (!payload.ok) return { ok: false, code: 'BAD_COMMAND', reason: `payload ${payload.reason}`, ...who };
  const r = commandSchema.safeParse({
    v,
    id: idRaw,
    type: m.get('type'),
    replica: replicaRaw,
    ttl: Number(m.get('ttl')),
    actor: actor.value,
    payload: payload.value,
  });
  if (!r.success) return { ok: false, code: 'BAD_COMMAND', reason: issueText(r.error), ...who };
  const issuedAt = entryIdTime(entryId);
  return { ok: true, value: { ...r.data, entryId, issuedAt, deadline: issuedAt + r.data.ttl } };
}

/** Field names and values of an event entry, in XADD order. */
export function eventEntryFields(type: string, payload: unknown): string[] {
  return ['v', String(HOST_PROTOCOL_VERSION), 'type', type, 'payload', JSON.stringify(payload ?? null)];
}

export function parseEventEntry(entryId: string, fields: EntryFields): Parsed<HostEvent> {
  const m = fieldMap(fields);
  const v = Number(m.get('v'));
  if (v !== HOST_PROTOCOL_VERSION) {
    return { ok: false, reason: `protocol version ${m.get('v') ?? '(none)'}; this replica speaks ${HOST_PROTOCOL_VERSION}` };
  }
  const type = m.get('type');
  if (!type) return { ok: false, reason: 'type: missing' };
  const payload = jsonField(m.get('payload'));
  if (!payload.ok) return { ok: false, reason: `payload ${payload.reason}` };
  return { ok: true, value: { v, type, payload: payload.value, entryId, time: entryIdTime(entryId) } };
}

const errorSchema = z.object({
  code: z.string().min(1),
  message: z.string(),
  details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});

const acceptedSchema = z.object({ commandId: z.string().min(1), replica: z.string().min(1) });

const resultSchema = z.object({
  commandId: z.string().min(1),
  replica: z.string().min(1),
  status: z.enum(['OK', 'FAILED', 'EXPIRED']),
  result: z.unknown().optional(),
  error: errorSchema.optional(),
});

/** The command response an event carries, or null for any other event (or a malformed response). */
export function parseCommandResponse(
  event: HostEvent,
): { type: 'accepted'; value: CommandAcceptedPayload } | { type: 'result'; value: CommandResultPayload } | null {
  if (event.type === COMMAND_ACCEPTED) {
    const r = acceptedSchema.safeParse(event.payload);
    return r.success ? { type: 'accepted', value: r.data } : null;
  }
  if (event.type === COMMAND_RESULT) {
    const r = resultSchema.safeParse(event.payload);
    if (!r.success) return null;
    const { result, error, ...rest } = r.data;
    return {
      type: 'result',
      value: { ...rest, ...(result !== undefined ? { result } : {}), ...(error ? { error: stripUndefined(error) } : {}) },
    };
  }
  return null;
}

function stripUndefined(e: z.output<typeof errorSchema>): CommandError {
  return { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) };
}

/** What a handler's failure becomes on the wire: a coded error keeps code, message and its primitive fields. */
export function commandErrorOf(err: unknown): CommandError {
  if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    if (typeof code === 'string' && code.length > 0) {
      const details: Record<string, string | number | boolean> = {};
      for (const [k, val] of Object.entries(err)) {
        if (k === 'code' || k === 'message' || k === 'name' || k === 'stack') continue;
        if (typeof val === 'string' || typeof val === 'number' || typeof val === 'boolean') details[k] = val;
      }
      return { code, message: err.message, ...(Object.keys(details).length > 0 ? { details } : {}) };
    }
    return { code: 'INTERNAL', message: err.message };
  }
  return { code: 'INTERNAL', message: String(err) };
}
