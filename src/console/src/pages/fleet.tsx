import { memo } from 'preact/compat';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { live, request, unwrap } from '../api';
import { Sparkline, UsageCharts } from '../charts';
import type { FleetServerFragment } from '../gql/graphql';
import {
  CreateServerMutation,
  FleetEventsSubscription,
  FleetUsageSubscription,
  RestartServerMutation,
  ServerEventsSubscription,
  ServerQuery,
  StartServerMutation,
  StopServerMutation,
} from '../operations';
import { Confirm, ErrorText, useQuery, when } from '../ui';
import { useWindowRows } from '../window-rows';
import { HostsSummary } from './hosts';
import { ServerConfig, ServerLogs } from './server-ops';
import { CreateSession } from './sessions';

/** What a fleet row shows, from a fleetEvents event (or a server a mutation returned). */
type FleetRowData = Pick<
  FleetServerFragment,
  'id' | 'name' | 'owner' | 'host' | 'port' | 'status' | 'statusMessage' | 'updatedAt'
> & {
  /** Live sessions (ACTIVE and DISCONNECTED). */
  sessions: number;
  /** When the fleet event it came from happened: a later snapshot that lacks the row removes it. */
  at?: string;
};

type ActionTarget = Pick<FleetServerFragment, 'id' | 'name' | 'status' | 'port'>;
type Action = { server: ActionTarget; kind: 'start' | 'stop' | 'restart' };

const rowOf = ({ usage: _usage, ...s }: FleetServerFragment): FleetRowData => ({ ...s, sessions: s.sessions.length });

const SPARK_POINTS = 30;

/**
 * One subscription per id, kept in step with `ids`: a new id subscribes, a gone one stops, and
 * the others are left alone (no resubscribe, so no fresh SNAPSHOT for every row on each change).
 */
function useEach(ids: readonly string[], subscribe: (id: string) => () => void) {
  const open = useRef(new Map<string, () => void>());
  const latest = useRef(subscribe);
  latest.current = subscribe;
  const key = ids.join(',');
  useEffect(() => {
    const want = new Set(ids);
    for (const [id, stop] of open.current) {
      if (want.has(id)) continue;
      stop();
      open.current.delete(id);
    }
    for (const id of want) if (!open.current.has(id)) open.current.set(id, latest.current(id));
  }, [key]);
  useEffect(
    () => () => {
      for (const stop of open.current.values()) stop();
      open.current.clear();
    },
    [],
  );
}

type Spark = { at: string; cpu: number[]; mem: number[] };

/**
 * The last CPU and memory values of every server the viewer may see, from one `fleetUsage`
 * subscription: its SNAPSHOT (the newest samples), then one message per collection round with
 * every server's sample. Kept per server id whether its row is on screen or not (a row scrolled
 * back shows the points it missed); one render per round, and only rows whose values changed
 * render again (FleetRow is memoized on its arrays).
 */
function useSparklines(resubscribe: number) {
  const series = useRef(new Map<string, Spark>());
  const [, setTick] = useState(0);
  useEffect(() => {
    const add = (xs: number[], v: number | null | undefined) => (v == null ? xs : [...xs, v].slice(-SPARK_POINTS));
    return live.subscribe(FleetUsageSubscription, {}, (d) => {
      let changed = false;
      for (const sample of d.fleetUsage.samples) {
        const cur = series.current.get(sample.subjectId) ?? { at: '', cpu: [], mem: [] };
        if (sample.at <= cur.at) continue;
        series.current.set(sample.subjectId, {
          at: sample.at,
          cpu: add(cur.cpu, sample.cpuPercent),
          mem: add(cur.mem, sample.memoryPercent),
        });
        changed = true;
      }
      if (changed) setTick((n) => n + 1);
    });
  }, [resubscribe]);
  return series.current;
}

/** Each server's events over the one connection: STARTING → RUNNING shows as it happens. */
function useServerEvents(ids: readonly string[], onEvent: (kind: string, s: FleetServerFragment) => void) {
  useEach(ids, (serverId) =>
    live.subscribe(ServerEventsSubscription, { serverId }, (d) => onEvent(d.serverEvents.kind, d.serverEvents.server)),
  );
}

const NO_IDS: string[] = [];

/** What a row shows; an event that changes none of it leaves the row alone. */
function sameRow(a: FleetRowData, b: FleetRowData): boolean {
  return (
    a.status === b.status &&
    a.statusMessage === b.statusMessage &&
    a.updatedAt === b.updatedAt &&
    a.name === b.name &&
    a.host === b.host &&
    a.port === b.port &&
    a.owner === b.owner &&
    a.sessions === b.sessions
  );
}

/** A snapshot is whole once its events stop for this long; rows it did not bring are then gone. */
const SNAPSHOT_SETTLE_MS = 2000;

/**
 * The servers of the fleet table, kept live by one `fleetEvents` subscription for every role:
 * its SNAPSHOT is every server the viewer may see (the whole fleet for operators and admins, a
 * user's own and assigned servers otherwise; one read on the server) and its events follow those
 * servers, created and deleted ones included; a new snapshot (reconnect, resync) drops the rows
 * it no longer has. Changes come in bursts (a snapshot is one event per server): they are applied
 * together, at most every 50 ms, and a row that did not change keeps its object (no re-render).
 */
function useFleetRows() {
  const [rows, setRows] = useState<FleetRowData[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  const pending = useRef(new Map<string, FleetRowData | null>());
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const flush = () => {
    timer.current = null;
    const batch = pending.current;
    pending.current = new Map();
    setRows((current) => {
      const out: FleetRowData[] = [];
      let changed = current === null;
      for (const row of current ?? []) {
        if (!batch.has(row.id)) {
          out.push(row);
          continue;
        }
        const next = batch.get(row.id) ?? null;
        batch.delete(row.id);
        if (next === null) {
          changed = true;
          continue;
        }
        const same = sameRow(row, next);
        if (same && (!next.at || next.at === row.at)) {
          out.push(row);
          continue;
        }
        // A snapshot re-dates an unchanged row too (a new object only then), so the sweep after it keeps the row.
        out.push(same ? { ...row, at: next.at } : next);
        changed = true;
      }
      for (const row of batch.values()) {
        if (!row) continue;
        out.push(row);
        changed = true;
      }
      return changed ? out : current;
    });
  };
  const apply = (id: string, row: FleetRowData | null) => {
    pending.current.set(id, row);
    timer.current ??= setTimeout(flush, 50);
  };
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  // The fleet from one subscription (Refresh subscribes again: a fresh snapshot).
  useEffect(() => {
    let settle: ReturnType<typeof setTimeout> | undefined;
    // An empty fleet sends no snapshot at all: the table is empty rather than loading for ever.
    const empty = setTimeout(() => setRows((r) => r ?? []), SNAPSHOT_SETTLE_MS);
    const stop = live.subscribe(
      FleetEventsSubscription,
      {},
      (d) => {
        const e = d.fleetEvents;
        if (!e.server) return;
        if (e.kind === 'DELETED') return apply(e.server.id, null);
        apply(e.server.id, { ...e.server, sessions: e.activeSessions + e.disconnectedSessions, at: e.at });
        if (e.kind !== 'SNAPSHOT') return;
        clearTimeout(settle);
        settle = setTimeout(() => setRows((r) => r?.filter((row) => !row.at || row.at >= e.at) ?? r), SNAPSHOT_SETTLE_MS);
      },
      (err) => setError(err),
    );
    return () => {
      stop();
      clearTimeout(settle);
      clearTimeout(empty);
    };
  }, [tick]);
  return {
    rows,
    error,
    tick,
    reload: () => setTick((n) => n + 1),
    /** A server a mutation returned: shown at once, events then follow it. */
    upsert: (s: FleetServerFragment) => apply(s.id, rowOf(s)),
  };
}

function ServerActions({ server, onAction }: { server: ActionTarget; onAction: (a: Action) => void }) {
  const canStart = server.status === 'STOPPED' || server.status === 'ERROR';
  const canStop = server.status === 'RUNNING' || server.status === 'STARTING';
  return (
    <>
      {server.status === 'RUNNING' && (
        <button type="button" onClick={() => onAction({ server, kind: 'restart' })}>
          Restart<span class="sr-only"> {server.name}</span>
        </button>
      )}
      {canStart && (
        <button type="button" onClick={() => onAction({ server, kind: 'start' })}>
          Start<span class="sr-only"> {server.name}</span>
        </button>
      )}
      {canStop && (
        <button type="button" onClick={() => onAction({ server, kind: 'stop' })}>
          Stop<span class="sr-only"> {server.name}</span>
        </button>
      )}
    </>
  );
}

/** The confirmation and the call for a start or stop; the row then follows the live events. */
function useServerAction(onServer: (s: FleetServerFragment) => void) {
  const [pending, setPending] = useState<Action | null>(null);
  const [error, setError] = useState<unknown>(null);
  const run = async () => {
    const a = pending;
    setPending(null);
    if (!a) return;
    setError(null);
    try {
      const r =
        a.kind === 'start'
          ? unwrap((await request(StartServerMutation, { id: a.server.id })).startServer)
          : a.kind === 'restart'
            ? unwrap((await request(RestartServerMutation, { id: a.server.id })).restartServer)
            : unwrap((await request(StopServerMutation, { id: a.server.id })).stopServer);
      if ('server' in r && r.server) onServer(r.server);
    } catch (e) {
      setError(e);
    }
  };
  const kind = pending?.kind ?? 'start';
  const verb = { start: 'Start', stop: 'Stop', restart: 'Restart' }[kind];
  const dialog = (
    <Confirm
      open={pending !== null}
      title={`${verb} server?`}
      confirmLabel={verb}
      onConfirm={run}
      onCancel={() => setPending(null)}
    >
      {kind === 'stop'
        ? `Stopping ${pending?.server.name ?? ''} ends every session on it.`
        : kind === 'restart'
          ? `Restarting ${pending?.server.name ?? ''} ends every session on it, then starts it again on port ${pending?.server.port ?? ''}.`
          : `Start ${pending?.server.name ?? ''} on port ${pending?.server.port ?? ''}?`}
    </Confirm>
  );
  return { ask: setPending, dialog, error };
}

const NONE: number[] = [];
const NO_ROWS: FleetRowData[] = [];

/** The text the filter matches, once per server object (a keystroke does not rebuild 500 strings). */
const haystacks = new WeakMap<FleetRowData, string>();
function haystack(s: FleetRowData): string {
  let h = haystacks.get(s);
  if (h === undefined) {
    h = `${s.name} ${s.owner} ${s.status}`.toLowerCase();
    haystacks.set(s, h);
  }
  return h;
}

/** One server's row; re-rendered only when its server or its sparkline values change. */
const FleetRow = memo(function FleetRow({
  server: s,
  index,
  cpu,
  mem,
  measure,
  onAction,
}: {
  server: FleetRowData;
  index: number;
  cpu: number[];
  mem: number[];
  measure: (el: HTMLElement | null) => void;
  onAction: (a: Action) => void;
}) {
  return (
    <tr data-server={s.name} data-index={index} aria-rowindex={index + 2} ref={measure}>
      <td>
        <a href={`/console/servers/${encodeURIComponent(s.id)}`}>{s.name}</a>
      </td>
      <td>
        <span class={`status status-${s.status}`} data-testid="status">
          {s.status}
        </span>
        {s.statusMessage && <small> {s.statusMessage}</small>}
      </td>
      <td>
        {s.host}:{s.port}
      </td>
      <td>{s.sessions}</td>
      <td>
        <Sparkline label="CPU" values={cpu} />
      </td>
      <td>
        <Sparkline label="Memory" values={mem} />
      </td>
      <td>{s.owner}</td>
      <td>
        <ServerActions server={s} onAction={onAction} />
      </td>
    </tr>
  );
});

/** The hosts above the table, left alone by the table's keystrokes and events. */
const Hosts = memo(HostsSummary);

/** A row's height before it is measured (one line of text and a button). */
const ROW_ESTIMATE = 45;
const COLUMNS = 8;

export function FleetPage({ isOperator = false }: { isOperator?: boolean }) {
  const { rows: list, error, reload, upsert, tick } = useFleetRows();
  const [filter, setFilter] = useState('');
  const [name, setName] = useState('');
  const [createError, setCreateError] = useState<unknown>(null);
  const servers = list ?? NO_ROWS;
  const action = useServerAction(upsert);
  const create = async (e: Event) => {
    e.preventDefault();
    setCreateError(null);
    try {
      const r = unwrap((await request(CreateServerMutation, { name })).createServer);
      if ('server' in r) upsert(r.server);
      setName('');
    } catch (err) {
      setCreateError(err);
    }
  };
  const needle = filter.toLowerCase();
  const shown = useMemo(() => (needle ? servers.filter((s) => haystack(s).includes(needle)) : servers), [servers, needle]);
  // Only the rows on screen are in the page: 500 servers cost what 30 do.
  const body = useRef<HTMLTableSectionElement>(null);
  const rows = useWindowRows({
    count: shown.length,
    body,
    estimateSize: ROW_ESTIMATE,
    getKey: (i) => shown[i]?.id ?? String(i),
  });
  const sparks = useSparklines(tick);
  return (
    <section aria-labelledby="fleet-title">
      <h1 id="fleet-title">Fleet</h1>
      <ErrorText error={error} />
      {isOperator && <Hosts />}
      <h2>Servers</h2>
      <form class="row" onSubmit={create}>
        <label>
          New server name <input value={name} onInput={(e) => setName(e.currentTarget.value)} required maxLength={255} />
        </label>
        <button type="submit">Create server</button>
        <button type="button" onClick={reload}>
          Refresh
        </button>
      </form>
      <ErrorText error={createError} />
      <ErrorText error={action.error} />
      <label>
        Filter <input type="search" value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
      </label>
      <p data-testid="fleet-count">{list ? `${servers.length} servers, ${shown.length} shown` : 'Loading…'}</p>
      <table data-testid="fleet-table" aria-rowcount={shown.length + 1}>
        <caption class="sr-only">Servers</caption>
        <thead>
          <tr aria-rowindex={1}>
            <th scope="col">Name</th>
            <th scope="col">Status</th>
            <th scope="col">Host:port</th>
            <th scope="col">Sessions</th>
            <th scope="col">CPU</th>
            <th scope="col">Memory</th>
            <th scope="col">Owner</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody ref={body}>
          {rows.before > 0 && (
            // biome-ignore lint/a11y/noAriaHiddenOnFocusable: a spacer row (nothing in it to focus), the height of the rows left out
            <tr class="spacer" aria-hidden="true" style={{ height: `${rows.before}px` }}>
              <td colSpan={COLUMNS} />
            </tr>
          )}
          {rows.items.map((item) => {
            const s = shown[item.index];
            if (!s) return null;
            return (
              <FleetRow
                key={s.id}
                server={s}
                index={item.index}
                cpu={sparks.get(s.id)?.cpu ?? NONE}
                mem={sparks.get(s.id)?.mem ?? NONE}
                measure={rows.measure}
                onAction={action.ask}
              />
            );
          })}
          {rows.after > 0 && (
            // biome-ignore lint/a11y/noAriaHiddenOnFocusable: a spacer row (nothing in it to focus), the height of the rows left out
            <tr class="spacer" aria-hidden="true" style={{ height: `${rows.after}px` }}>
              <td colSpan={COLUMNS} />
            </tr>
          )}
        </tbody>
      </table>
      {action.dialog}
    </section>
  );
}

export function ServerPage({ id, isOperator = false, isAdmin = false }: { id: string; isOperator?: boolean; isAdmin?: boolean }) {
  const { data, setData, error } = useQuery(() => request(ServerQuery, { id }), [id]);
  const server = data?.server;
  useServerEvents(server ? [id] : NO_IDS, (_kind, s) =>
    setData((d) => (d?.server ? { server: { ...d.server, ...s, sessions: d.server.sessions } } : d)),
  );
  const action = useServerAction((s) =>
    setData((d) => (d?.server ? { server: { ...d.server, ...s, sessions: d.server.sessions } } : d)),
  );
  if (error) return <ErrorText error={error} />;
  if (!data) return <p>Loading…</p>;
  if (!server) return <p>This server does not exist, or you may not see it.</p>;
  return (
    <section aria-labelledby="server-title">
      <h1 id="server-title">{server.name}</h1>
      <dl>
        <dt>Status</dt>
        <dd>
          <span class={`status status-${server.status}`} data-testid="status">
            {server.status}
          </span>{' '}
          {server.statusMessage}
        </dd>
        <dt>Address</dt>
        <dd>
          {server.host}:{server.port}
        </dd>
        <dt>Owner</dt>
        <dd>{server.owner}</dd>
        <dt>Created</dt>
        <dd>{when(server.createdAt)}</dd>
        <dt>Last started</dt>
        <dd>{when(server.lastStartedAt)}</dd>
      </dl>
      <ServerActions server={server} onAction={action.ask} />
      <ErrorText error={action.error} />
      <h2>Sessions</h2>
      <ul>
        {server.sessions.map((s) => (
          <li key={s.id}>
            {s.username} — {s.status} (since {when(s.createdAt)}){' '}
            <a href={`/console/sessions/${encodeURIComponent(s.id)}`}>
              Usage<span class="sr-only"> of the session of {s.username}</span>
            </a>
          </li>
        ))}
      </ul>
      {server.status === 'RUNNING' && <CreateSession serverId={server.id} />}
      <h2>Resource usage</h2>
      <UsageCharts subjectId={server.id} />
      <ServerLogs serverId={server.id} />
      {isOperator && <ServerConfig canEdit={isAdmin} />}
      {action.dialog}
    </section>
  );
}
