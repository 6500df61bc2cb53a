import { memo } from 'preact/compat';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { live, request, unwrap } from '../api';
import { Sparkline, UsageCharts } from '../charts';
import type { FleetServerFragment } from '../gql/graphql';
import {
  CreateServerMutation,
  FleetEventsSubscription,
  FleetQuery,
  RestartServerMutation,
  ServerEventsSubscription,
  ServerQuery,
  StartServerMutation,
  StopServerMutation,
  UsageSubscription,
} from '../operations';
import { Confirm, ErrorText, useQuery, when } from '../ui';
import { useWindowRows } from '../window-rows';
import { HostsSummary } from './hosts';
import { ServerConfig, ServerLogs } from './server-ops';
import { CreateSession } from './sessions';

/** What a fleet row shows, from the servers query (a user's fleet) or a fleetEvents event (an operator's). */
type FleetRowData = Pick<
  FleetServerFragment,
  'id' | 'name' | 'owner' | 'host' | 'port' | 'status' | 'statusMessage' | 'updatedAt'
> & {
  /** Live sessions (ACTIVE and DISCONNECTED). */
  sessions: number;
  /** The sample the list came with (servers query only; the rows on screen then subscribe). */
  usage?: FleetServerFragment['usage'];
  /** When the fleet event it came from happened: a later snapshot that lacks the row removes it. */
  at?: string;
};

type ActionTarget = Pick<FleetServerFragment, 'id' | 'name' | 'status' | 'port'>;
type Action = { server: ActionTarget; kind: 'start' | 'stop' | 'restart' };

const rowOf = (s: FleetServerFragment): FleetRowData => ({ ...s, sessions: s.sessions.length });

/** Every page of the fleet (100 a page, the API's most), so a user's whole fleet is in the table. */
async function loadFleet(): Promise<FleetRowData[]> {
  let after: string | undefined;
  const rows: FleetRowData[] = [];
  for (let i = 0; i < 50; i++) {
    const page = await request(FleetQuery, { first: 100, after });
    for (const e of page.servers.edges) rows.push(rowOf(e.node));
    if (!page.servers.pageInfo.hasNextPage || !page.servers.pageInfo.endCursor) break;
    after = page.servers.pageInfo.endCursor;
  }
  return rows;
}

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

/** A value that follows `value` once it has stayed the same for `ms` (scrolling settles first). */
function useSettled<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return settled;
}

type Spark = { at: string; cpu: number[]; mem: number[] };

/**
 * The last CPU and memory values of each running server: the `usage` the list came with, then
 * each sample of the `resourceUsage` subscription of the rows on screen (`watched`; a row
 * scrolled away keeps its points and picks up again when it comes back).
 */
function useSparklines(servers: readonly FleetRowData[], watched: readonly string[]) {
  const series = useRef(new Map<string, Spark>());
  const [, setTick] = useState(0);
  const redraw = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () => () => {
      if (redraw.current) clearTimeout(redraw.current);
    },
    [],
  );
  for (const s of servers) {
    if (s.usage && !series.current.has(s.id)) {
      series.current.set(s.id, {
        at: s.usage.at,
        cpu: s.usage.cpuPercent == null ? [] : [s.usage.cpuPercent],
        mem: s.usage.memoryPercent == null ? [] : [s.usage.memoryPercent],
      });
    }
  }
  useEach(watched, (subjectId) =>
    live.subscribe(UsageSubscription, { subjectId }, (d) => {
      const sample = d.resourceUsage.sample;
      if (!sample) return;
      const cur = series.current.get(subjectId) ?? { at: '', cpu: [], mem: [] };
      if (sample.at <= cur.at) return;
      const add = (xs: number[], v: number | null | undefined) => (v == null ? xs : [...xs, v].slice(-SPARK_POINTS));
      series.current.set(subjectId, {
        at: sample.at,
        cpu: add(cur.cpu, sample.cpuPercent),
        mem: add(cur.mem, sample.memoryPercent),
      });
      // Every server samples in the same round: one render for the round, not one per server.
      redraw.current ??= setTimeout(() => {
        redraw.current = null;
        setTick((n) => n + 1);
      }, 100);
    }),
  );
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
    a.sessions === b.sessions &&
    a.usage?.at === b.usage?.at
  );
}

/** A snapshot is whole once its events stop for this long; rows it did not bring are then gone. */
const SNAPSHOT_SETTLE_MS = 2000;

/**
 * The servers of the fleet table, kept live. Operators and admins: one `fleetEvents`
 * subscription, whose SNAPSHOT is the whole fleet (one read on the server) and whose events
 * follow every server, created and deleted ones included; a new snapshot (reconnect, resync)
 * drops the rows it no longer has. Users: their servers from the servers query (again on a
 * resync), and each one's `serverEvents`. Changes come in bursts (a snapshot is one event per
 * server): they are applied together, at most every 50 ms, and a row that did not change keeps
 * its object (no re-render).
 */
function useFleetRows(isOperator: boolean) {
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
  const onServerEvent = (kind: string, s: FleetServerFragment) => apply(s.id, kind === 'DELETED' ? null : rowOf(s));
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  // Users: the list, again when the live connection resyncs (what was created meanwhile).
  useEffect(() => (isOperator ? undefined : live.onState((_s, resynced) => resynced && setTick((n) => n + 1))), [isOperator]);
  useEffect(() => {
    if (isOperator) return;
    let stale = false;
    loadFleet().then(
      (list) => {
        if (stale) return;
        setRows(list);
        setError(null);
      },
      (e: unknown) => !stale && setError(e),
    );
    return () => {
      stale = true;
    };
  }, [isOperator, tick]);
  // Operators: the whole fleet from one subscription (Refresh subscribes again: a fresh snapshot).
  useEffect(() => {
    if (!isOperator) return;
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
  }, [isOperator, tick]);
  const ids = useMemo(() => (isOperator ? NO_IDS : (rows ?? []).map((r) => r.id)), [isOperator, rows]);
  useServerEvents(ids, onServerEvent);
  return {
    rows,
    error,
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
  const { rows: list, error, reload, upsert } = useFleetRows(isOperator);
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
  const onScreen = rows.items.map((i) => shown[i.index]).filter((s): s is FleetRowData => !!s);
  const running = onScreen
    .filter((s) => s.status === 'RUNNING')
    .map((s) => s.id)
    .join(',');
  const settled = useSettled(running, 200);
  const sparks = useSparklines(
    servers,
    useMemo(() => (settled ? settled.split(',') : []), [settled]),
  );
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
