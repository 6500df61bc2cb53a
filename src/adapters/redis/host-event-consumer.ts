import {
  eventStreamKey,
  HEARTBEAT_BARRIERS,
  HEARTBEAT_EVENT,
  type HostEvent,
  hostIdOfStreamKey,
  type Parsed,
  parseEventEntry,
  parseHostId,
} from '../../domain/cluster/host-protocol.js';
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
  parseEntries,
  parseStreamsReply,
  type StreamEntry,
  sleep,
  WakeableReader,
} from './host-redis.js';

export interface HostEventConsumerOptions {
  redis: HostRedisConnection;
  /** This replica's consumer name in the group. */
  replicaId: string;
  /**
   * The consumer group all API replicas share.
   * @default 'api'
   */
  group?: string;
  /**
   * Applies one event. Resolving acknowledges it (XACK); rejecting leaves it pending, to be taken
   * again (by this or another replica) once idle for claimIdleMs. It must be idempotent, keyed by
   * `event.entryId`: a replica that dies between applying and acknowledging gets the event applied
   * again by another, and a claimed event can arrive after newer ones of its host.
   */
  handle: (hostId: string, event: HostEvent) => Promise<void>;
  /**
   * An entry pending this long (its replica died, or its handler failed) is claimed (XAUTOCLAIM).
   * Keep it well above the slowest handler.
   * @default 30000
   */
  claimIdleMs?: number;
  /**
   * How often the pending entries are checked for claiming.
   * @default claimIdleMs / 2
   */
  claimIntervalMs?: number;
  /**
   * Entries read per host and call.
   * @default 100
   */
  batch?: number;
  /** An entry that is not a protocol event (wrong version, malformed): acknowledged and reported here. */
  onInvalid?: (hostId: string, entryId: string, reason: string) => void;
  log?: HostStreamLog;
}

export interface HostGroupInfo {
  hostId: string;
  /** Entries not yet delivered to the group (null when Redis cannot tell, e.g. after trimming past the group). */
  lag: number | null;
  /** Delivered and not acknowledged. */
  pending: number;
  lastDeliveredId: string;
}

export interface HostEventConsumer {
  /**
   * Creates the group on the host's stream if missing (from the start: nothing written is missed)
   * and reads it. Rejects, changing nothing, when Redis cannot be reached: call it again.
   */
  addHost(hostId: string): Promise<void>;
  removeHost(hostId: string): void;
  hosts(): string[];
  /** XINFO GROUPS of every host read, for the lag and pending metrics. */
  info(): Promise<HostGroupInfo[]>;
  start(): void;
  /** Stops reading and claiming, waits for handlers in progress, closes. */
  stop(): Promise<void>;
}

/** One step of a host's batch: apply `entry`, then acknowledge it and `superseded` in one XACK. */
export interface HostBatchStep {
  entry: StreamEntry;
  /** The entry's event, or why it is not one; null for an entry trimmed while pending. */
  parsed: Parsed<HostEvent> | null;
  /** Earlier heartbeats of the host that this one supersedes: acknowledged with it, never applied. */
  superseded: string[];
}

/**
 * The order a host's batch is applied in. Every event keeps its stream order except heartbeats:
 * only the latest of the batch is applied, moved up to just after the last `agent.hello` /
 * `agent.bye` before it (or to the front), and the earlier ones are acknowledged with it,
 * unapplied. So a backlog of slower events does not hold back the host's liveness, and n pending
 * heartbeats cost one write.
 */
export function planHostBatch(entries: StreamEntry[]): HostBatchStep[] {
  const parsed = entries.map((e) => (e.fields ? parseEventEntry(e.id, e.fields) : null));
  const type = (i: number): string | null => {
    const p = parsed[i];
    return p?.ok ? p.value.type : null;
  };
  let latest = -1;
  for (let i = entries.length - 1; i >= 0 && latest < 0; i--) if (type(i) === HEARTBEAT_EVENT) latest = i;
  if (latest < 0) return entries.map((entry, i) => ({ entry, parsed: parsed[i] ?? null, superseded: [] }));
  let at = 0;
  const superseded: string[] = [];
  for (let i = 0; i < latest; i++) {
    const t = type(i);
    if (t && HEARTBEAT_BARRIERS.has(t)) at = i + 1;
    if (t === HEARTBEAT_EVENT) superseded.push((entries[i] as StreamEntry).id);
  }
  const steps: HostBatchStep[] = [];
  for (let i = 0; i < entries.length; i++) {
    if (i === at) steps.push({ entry: entries[latest] as StreamEntry, parsed: parsed[latest] ?? null, superseded });
    if (i === latest || (i < latest && type(i) === HEARTBEAT_EVENT)) continue;
    steps.push({ entry: entries[i] as StreamEntry, parsed: parsed[i] ?? null, superseded: [] });
  }
  return steps;
}

/**
 * The API side of the event streams: ONE consumer group (`api`) shared by all replicas over every
 * host's `rdp:host:<id>:events`, so each event is delivered to one replica. Events of a host are
 * applied in stream order (one at a time per host, hosts in parallel), heartbeats aside (see
 * planHostBatch); the entry is acknowledged after its handler resolved. Pending entries idle for
 * claimIdleMs (a dead replica's, or ones whose handler failed) are taken over with XAUTOCLAIM by
 * whichever replica checks first.
 */
export function createHostEventConsumer(options: HostEventConsumerOptions): HostEventConsumer {
  const replicaId = options.replicaId;
  if (!replicaId || replicaId.length > 200) throw new RangeError('replicaId must be 1-200 characters');
  const group = options.group ?? 'api';
  const claimIdleMs = options.claimIdleMs ?? 30_000;
  const claimIntervalMs = options.claimIntervalMs ?? Math.max(50, Math.floor(claimIdleMs / 2));
  const batch = options.batch ?? 100;
  const log = options.log ?? noLog;
  const writer = openHostRedis(options.redis, `rdp-api-${replicaId}-events-ack`, 'writer');
  const reader = new WakeableReader(openHostRedis(options.redis, `rdp-api-${replicaId}-events`, 'reader'), writer);
  const hosts = new Set<string>();
  const inProgress = new Set<Promise<void>>();
  // Entries this replica is applying now: a claim round must not apply one a second time alongside.
  const active = new Set<string>();
  // Hosts whose events this replica is applying now. Their pending entries are not claimed by
  // this replica meanwhile: its own entries queued behind a slow one would be applied past it.
  const busy = new Map<string, number>();
  let stopping = false;
  let loop: Promise<void> | null = null;
  let claimTimer: NodeJS.Timeout | undefined;
  let claiming: Promise<void> | null = null;
  let wakeLoop: (() => void) | null = null;

  /**
   * Applies entries of one host in order (planHostBatch: the latest heartbeat early, the earlier
   * ones only acknowledged); stops at the first failure (the rest stay pending too).
   */
  async function applyAll(hostId: string, entries: StreamEntry[]): Promise<void> {
    const key = eventStreamKey(hostId);
    busy.set(hostId, (busy.get(hostId) ?? 0) + 1);
    try {
      for (const step of planHostBatch(entries)) {
        if (stopping) return;
        const mark = `${hostId} ${step.entry.id}`;
        if (active.has(mark)) continue;
        active.add(mark);
        try {
          if (!(await applyOne(hostId, key, step))) return;
        } finally {
          active.delete(mark);
        }
      }
    } finally {
      busy.set(hostId, (busy.get(hostId) ?? 1) - 1);
    }
  }

  /** False when the rest of the batch must wait (handler failed or XACK failed). */
  async function applyOne(hostId: string, key: string, { entry: e, parsed, superseded }: HostBatchStep): Promise<boolean> {
    if (parsed) {
      if (!parsed.ok) {
        options.onInvalid?.(hostId, e.id, parsed.reason);
      } else {
        try {
          await options.handle(hostId, parsed.value);
        } catch (err) {
          log('warn', 'host event handler failed; the event stays pending', { hostId, entryId: e.id, err: errorMessage(err) });
          return false;
        }
      }
    }
    try {
      await writer.call('XACK', key, group, e.id, ...superseded);
    } catch (err) {
      // Applied but not acknowledged: it will be claimed and applied again (handlers are idempotent).
      log('warn', 'host event XACK failed', { hostId, entryId: e.id, err: errorMessage(err) });
      return false;
    }
    return true;
  }

  function track(p: Promise<void>): Promise<void> {
    inProgress.add(p);
    return p.finally(() => inProgress.delete(p));
  }

  async function readLoop(): Promise<void> {
    const backoff = new Backoff();
    while (!stopping) {
      if (hosts.size === 0) {
        await new Promise<void>((resolve) => {
          wakeLoop = resolve;
        });
        wakeLoop = null;
        continue;
      }
      const keys = [...hosts].map(eventStreamKey);
      let reply: unknown;
      try {
        reply = await reader.read([
          'XREADGROUP',
          'GROUP',
          group,
          replicaId,
          'COUNT',
          batch,
          'BLOCK',
          5000,
          'STREAMS',
          ...keys,
          ...keys.map(() => '>'),
        ]);
        backoff.reset();
      } catch (err) {
        if (stopping) break;
        if (isGroupGone(err)) {
          log('warn', 'a host event stream or its group vanished; re-creating', { err: errorMessage(err) });
          await Promise.all([...hosts].map((h) => ensureGroup(writer, eventStreamKey(h), group, '0'))).catch(() => undefined);
          continue;
        }
        log('warn', 'host events read failed; retrying', { err: errorMessage(err) });
        await sleep(backoff.next());
        continue;
      }
      const work: Promise<void>[] = [];
      for (const { key, entries } of parseStreamsReply(reply)) {
        const hostId = hostIdOfStreamKey(key);
        if (hostId) work.push(track(applyAll(hostId, entries)));
      }
      await Promise.all(work);
    }
  }

  async function claimRound(): Promise<void> {
    for (const hostId of [...hosts]) {
      if (stopping) return;
      if (busy.get(hostId)) continue;
      const key = eventStreamKey(hostId);
      let cursor = '0-0';
      try {
        do {
          const reply = (await writer.call(
            'XAUTOCLAIM',
            key,
            group,
            replicaId,
            claimIdleMs,
            cursor,
            'COUNT',
            batch,
          )) as unknown[];
          cursor = typeof reply[0] === 'string' ? reply[0] : '0-0';
          const entries = Array.isArray(reply[1]) ? parseEntries(reply[1]) : [];
          if (entries.length > 0) {
            log('info', 'claimed pending host events', { hostId, count: entries.length });
            await track(applyAll(hostId, entries));
          }
        } while (cursor !== '0-0' && !stopping);
      } catch (err) {
        if (isGroupGone(err)) await ensureGroup(writer, key, group, '0').catch(() => undefined);
        else log('warn', 'claiming host events failed', { hostId, err: errorMessage(err) });
      }
    }
  }

  function scheduleClaims(): void {
    claimTimer = setTimeout(() => {
      claiming = claimRound().finally(() => {
        claiming = null;
        if (!stopping) scheduleClaims();
      });
    }, claimIntervalMs);
  }

  return {
    async addHost(hostIdIn) {
      const hostId = parseHostId(hostIdIn);
      if (hosts.has(hostId)) return;
      // From '0': events an agent wrote before any replica listened are applied too.
      await ensureGroup(writer, eventStreamKey(hostId), group, '0');
      hosts.add(hostId);
      wakeLoop?.();
      reader.changed();
    },
    removeHost(hostId) {
      if (hosts.delete(hostId)) reader.changed();
    },
    hosts: () => [...hosts],
    async info() {
      const out: HostGroupInfo[] = [];
      for (const hostId of hosts) {
        const groups = (await writer.call('XINFO', 'GROUPS', eventStreamKey(hostId))) as unknown[][];
        for (const g of groups) {
          const m = new Map<string, unknown>();
          for (let i = 0; i + 1 < g.length; i += 2) m.set(String(g[i]), g[i + 1]);
          if (m.get('name') !== group) continue;
          const lag = m.get('lag');
          out.push({
            hostId,
            lag: typeof lag === 'number' ? lag : null,
            pending: Number(m.get('pending') ?? 0),
            lastDeliveredId: String(m.get('last-delivered-id') ?? '0-0'),
          });
        }
      }
      return out;
    },
    start() {
      if (loop) throw new Error('the host event consumer is already started');
      loop = readLoop();
      scheduleClaims();
    },
    async stop() {
      stopping = true;
      clearTimeout(claimTimer);
      wakeLoop?.();
      reader.reader.disconnect();
      await loop;
      await claiming;
      await Promise.all([...inProgress]);
      await closeRedis(writer);
    },
  };
}
