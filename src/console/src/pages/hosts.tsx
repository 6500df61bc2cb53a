import { useEffect, useState } from 'preact/hooks';
import { live, request, unwrap } from '../api';
import { UsageCharts } from '../charts';
import type { ConsoleHostFragment } from '../gql/graphql';
import { HostEventsSubscription, HostQuery, HostsQuery, SetHostDrainMutation } from '../operations';
import { Confirm, ErrorText, useQuery, when } from '../ui';

/** The subject of a host's resource samples (its collector names them by its RDP address). */
export const hostSubject = (h: { rdpAddress: string }) => `host:${h.rdpAddress}`;

const pct = (v: number | null | undefined) => (v == null ? '—' : `${Math.round(v)}%`);

/** Every host, kept current by `hostEvents` (heartbeats, status and drain changes). */
function useHosts() {
  const q = useQuery(() => request(HostsQuery));
  useEffect(
    () =>
      live.subscribe(HostEventsSubscription, {}, (d) => {
        const h = d.hostEvents.host;
        q.setData((cur) => {
          if (!cur) return cur;
          const hosts = cur.hosts.some((x) => x.id === h.id) ? cur.hosts.map((x) => (x.id === h.id ? h : x)) : [...cur.hosts, h];
          return { hosts };
        });
      }),
    [],
  );
  return q;
}

function HostsTable({ hosts }: { hosts: ConsoleHostFragment[] }) {
  return (
    <table>
      <caption class="sr-only">Hosts</caption>
      <thead>
        <tr>
          <th scope="col">Host</th>
          <th scope="col">Status</th>
          <th scope="col">Labels</th>
          <th scope="col">Servers</th>
          <th scope="col">CPU</th>
          <th scope="col">Memory</th>
        </tr>
      </thead>
      <tbody>
        {hosts.map((h) => (
          <tr key={h.id} data-host={h.id}>
            <td>
              <a href={`/console/hosts/${encodeURIComponent(h.id)}`}>{h.name}</a> <small>({h.id})</small>
            </td>
            <td>
              <span class={`status status-${h.status}`} data-testid="host-status">
                {h.status}
              </span>
            </td>
            <td>{h.labels.map((l) => `${l.key}=${l.value}`).join(', ') || '—'}</td>
            <td>
              {h.serverCount} of {h.capacity.maxServers} ({h.freeCapacity} free)
            </td>
            <td>{pct(h.usage?.cpuPercent)}</td>
            <td>{pct(h.usage?.memoryPercent)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The hosts on the fleet page (operators and admins). */
export function HostsSummary() {
  const { data, error } = useHosts();
  return (
    <>
      <h2>
        <a href="/console/hosts">Hosts</a>
      </h2>
      <ErrorText error={error} />
      {data && <HostsTable hosts={data.hosts} />}
    </>
  );
}

export function HostsPage() {
  const { data, error } = useHosts();
  return (
    <section aria-labelledby="hosts-title">
      <h1 id="hosts-title">Hosts</h1>
      <ErrorText error={error} />
      {!data && !error && <p>Loading…</p>}
      {data && data.hosts.length === 0 && <p>No host has registered.</p>}
      {data && data.hosts.length > 0 && <HostsTable hosts={data.hosts} />}
    </section>
  );
}

export function HostPage({ id, isAdmin }: { id: string; isAdmin: boolean }) {
  const { data, setData, error } = useQuery(() => request(HostQuery, { id }), [id]);
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);
  useEffect(
    () =>
      live.subscribe(HostEventsSubscription, { hostId: id }, (d) =>
        setData((cur) => (cur?.host ? { host: { ...cur.host, ...d.hostEvents.host } } : cur)),
      ),
    [id],
  );
  const host = data?.host;
  if (error) return <ErrorText error={error} />;
  if (!data) return <p>Loading…</p>;
  if (!host) return <p>No host with this id has registered.</p>;
  const drain = !host.draining;
  const confirm = async () => {
    setAsking(false);
    setBusy(true);
    setActionError(null);
    try {
      const r = unwrap((await request(SetHostDrainMutation, { hostId: host.id, drain })).setHostDrain);
      if ('host' in r) setData((cur) => (cur?.host ? { host: { ...cur.host, ...r.host } } : cur));
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="host-title">
      <h1 id="host-title">Host {host.name}</h1>
      <dl>
        <dt>Status</dt>
        <dd>
          <span class={`status status-${host.status}`} data-testid="host-status">
            {host.status}
          </span>
          {host.draining && ' (draining: no new servers or sessions)'}
        </dd>
        <dt>Id</dt>
        <dd>{host.id}</dd>
        <dt>RDP address</dt>
        <dd>
          {host.rdpAddress}, ports {host.portRange.from}-{host.portRange.to}
        </dd>
        <dt>Labels</dt>
        <dd>{host.labels.map((l) => `${l.key}=${l.value}`).join(', ') || 'none'}</dd>
        <dt>Capacity</dt>
        <dd>
          {host.capacity.cpuCount} CPUs, {host.capacity.memoryMb} MB memory, at most {host.capacity.maxServers} servers
        </dd>
        <dt>Servers</dt>
        <dd>
          {host.serverCount} placed, room for {host.freeCapacity} more
        </dd>
        <dt>Usage</dt>
        <dd data-testid="host-usage">
          CPU {pct(host.usage?.cpuPercent)}, memory {pct(host.usage?.memoryPercent)}
        </dd>
        <dt>Last heartbeat</dt>
        <dd>{when(host.lastHeartbeatAt)}</dd>
        <dt>Agent</dt>
        <dd>{host.agentVersion}</dd>
      </dl>
      {isAdmin && (
        <button type="button" disabled={busy} onClick={() => setAsking(true)}>
          {drain ? 'Drain host' : 'End drain'}
        </button>
      )}
      {busy && <span role="status"> Saving…</span>}
      <ErrorText error={actionError} />
      <h2>Resource usage</h2>
      <UsageCharts subjectId={hostSubject(host)} />
      <h2>Servers on this host</h2>
      <ul>
        {host.servers.edges.map(({ node: s }) => (
          <li key={s.id}>
            <a href={`/console/servers/${encodeURIComponent(s.id)}`}>{s.name}</a> — {s.status}, port {s.port}
          </li>
        ))}
      </ul>
      <Confirm
        open={asking}
        title={drain ? 'Drain host?' : 'End drain?'}
        confirmLabel={drain ? 'Drain' : 'End drain'}
        onConfirm={confirm}
        onCancel={() => setAsking(false)}
      >
        {drain
          ? `${host.name} will take no new servers or sessions. Running servers and sessions continue.`
          : `${host.name} will take new servers and sessions again.`}
      </Confirm>
    </section>
  );
}
