import { memo } from 'preact/compat';
import { useEffect, useRef, useState } from 'preact/hooks';
import { live, request, unwrap } from '../api';
import { Sparkline, UsageCharts } from '../charts';
import type { ConsoleFleetQuery, FleetServerFragment } from '../gql/graphql';
import {
  CreateServerMutation,
  FleetQuery,
  RestartServerMutation,
  ServerEventsSubscription,
  ServerQuery,
  StartServerMutation,
  StopServerMutation,
  UsageSubscription,
} from '../operations';
import { Confirm, ErrorText, useQuery, when } from '../ui';
import { HostsSummary } from './hosts';
import { ServerConfig, ServerLogs } from './server-ops';
import { CreateSession } from './sessions';

type Action = { server: FleetServerFragment; kind: 'start' | 'stop' | 'restart' };

/** Every page of the fleet (100 a page, the API's most), so a large fleet is all in the table. */
async function loadFleet(): Promise<ConsoleFleetQuery> {
  let after: string | undefined;
  let all: ConsoleFleetQuery | null = null;
  for (let i = 0; i < 50; i++) {
    const page = await request(FleetQuery, { first: 100, after });
    all = all ? { servers: { ...page.servers, edges: [...all.servers.edges, ...page.servers.edges] } } : page;
    if (!page.servers.pageInfo.hasNextPage || !page.servers.pageInfo.endCursor) break;
    after = page.servers.pageInfo.endCursor;
  }
  return all as ConsoleFleetQuery;
}

const SPARK_POINTS = 30;

/**
 * The last CPU and memory values of each running server: the `usage` the list came with, then
 * each sample of the `resourceUsage` subscription (one per running server, over the one socket).
 */
function useSparklines(servers: FleetServerFragment[]) {
  const series = useRef(new Map<string, { at: string; cpu: number[]; mem: number[] }>());
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
  const running = servers.filter((s) => s.status === 'RUNNING').map((s) => s.id);
  const key = running.join(',');
  useEffect(() => {
    const stops = running.map((subjectId) =>
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
    return () => {
      for (const stop of stops) stop();
    };
  }, [key]);
  return series.current;
}

/** Each server's events over the one connection: STARTING → RUNNING shows as it happens. */
function useServerEvents(ids: string[], onServer: (s: FleetServerFragment) => void) {
  const key = ids.join(',');
  useEffect(() => {
    const stops = ids.map((serverId) =>
      live.subscribe(ServerEventsSubscription, { serverId }, (d) => onServer(d.serverEvents.server)),
    );
    return () => {
      for (const stop of stops) stop();
    };
  }, [key]);
}

function ServerActions({ server, onAction }: { server: FleetServerFragment; onAction: (a: Action) => void }) {
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

/** What a row shows; an event that changes none of it leaves the row alone. */
function sameRow(a: FleetServerFragment, b: FleetServerFragment): boolean {
  return (
    a.status === b.status &&
    a.statusMessage === b.statusMessage &&
    a.updatedAt === b.updatedAt &&
    a.name === b.name &&
    a.host === b.host &&
    a.port === b.port &&
    a.owner === b.owner &&
    a.sessions.length === b.sessions.length &&
    a.usage?.at === b.usage?.at
  );
}

/** One server's row; re-rendered only when its server or its sparkline values change. */
const FleetRow = memo(function FleetRow({
  server: s,
  cpu,
  mem,
  onAction,
}: {
  server: FleetServerFragment;
  cpu: number[];
  mem: number[];
  onAction: (a: Action) => void;
}) {
  return (
    <tr data-server={s.name}>
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
      <td>{s.sessions.length}</td>
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

export function FleetPage({ isOperator = false }: { isOperator?: boolean }) {
  const { data, setData, error, reload } = useQuery(loadFleet);
  const [filter, setFilter] = useState('');
  const [name, setName] = useState('');
  const [createError, setCreateError] = useState<unknown>(null);
  const servers = data?.servers.edges.map((e) => e.node) ?? [];
  // Events arrive in bursts (a SNAPSHOT per server on every (re)subscribe): they are applied
  // together, at most every 50 ms, and a row that did not change keeps its object (no re-render).
  const pending = useRef(new Map<string, FleetServerFragment>());
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const flush = () => {
    timer.current = null;
    const batch = pending.current;
    pending.current = new Map();
    setData((d) => {
      if (!d) return d;
      let changed = false;
      const edges = d.servers.edges.map((e) => {
        const next = batch.get(e.node.id);
        if (!next) return e;
        batch.delete(e.node.id);
        if (sameRow(e.node, next)) return e;
        changed = true;
        return { node: next };
      });
      for (const node of batch.values()) {
        edges.push({ node });
        changed = true;
      }
      return changed ? { servers: { ...d.servers, edges } } : d;
    });
  };
  const upsert = (s: FleetServerFragment) => {
    pending.current.set(s.id, s);
    timer.current ??= setTimeout(flush, 50);
  };
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  useServerEvents(
    servers.map((s) => s.id),
    upsert,
  );
  const sparks = useSparklines(servers);
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
  const shown = servers.filter((s) => `${s.name} ${s.owner} ${s.status}`.toLowerCase().includes(filter.toLowerCase()));
  return (
    <section aria-labelledby="fleet-title">
      <h1 id="fleet-title">Fleet</h1>
      <ErrorText error={error} />
      {isOperator && <HostsSummary />}
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
      <p data-testid="fleet-count">{data ? `${data.servers.totalCount} servers, ${shown.length} shown` : 'Loading…'}</p>
      <table>
        <caption class="sr-only">Servers</caption>
        <thead>
          <tr>
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
        <tbody>
          {shown.map((s) => (
            <FleetRow
              key={s.id}
              server={s}
              cpu={sparks.get(s.id)?.cpu ?? NONE}
              mem={sparks.get(s.id)?.mem ?? NONE}
              onAction={action.ask}
            />
          ))}
        </tbody>
      </table>
      {action.dialog}
    </section>
  );
}

export function ServerPage({ id, isOperator = false, isAdmin = false }: { id: string; isOperator?: boolean; isAdmin?: boolean }) {
  const { data, setData, error } = useQuery(() => request(ServerQuery, { id }), [id]);
  const server = data?.server;
  useServerEvents(server ? [id] : [], (s) =>
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
