import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { request, unwrap } from '../api';
import { ConnectPoolMutation, CreateSessionMutation, MyPoolsQuery, SessionsQuery, TerminateSessionMutation } from '../operations';
import { Confirm, ErrorText, useQuery, when } from '../ui';

type Connection = { host: string; port: number; username: string; password?: string | null; expiresAt: string; rdpFile: string };

/** How to connect: the .rdp file to download and the one-time password, shown once (gone on reload). */
export function ConnectionCard({ conn, children }: { conn: Connection; children?: ComponentChildren }) {
  const [copied, setCopied] = useState(false);
  const [href, setHref] = useState<string | null>(null);
  useEffect(() => {
    const url = URL.createObjectURL(new Blob([conn.rdpFile], { type: 'application/x-rdp' }));
    setHref(url);
    setCopied(false);
    return () => URL.revokeObjectURL(url);
  }, [conn]);
  const copy = async () => {
    if (!conn.password) return;
    await navigator.clipboard.writeText(conn.password).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  };
  return (
    <div class="card" data-testid="connection">
      {children}
      <p>
        Connect to{' '}
        <strong>
          {conn.host}:{conn.port}
        </strong>{' '}
        as <strong>{conn.username}</strong> (password valid until {when(conn.expiresAt)}).
      </p>
      {href && (
        <a class="button" href={href} download={`${conn.username}.rdp`}>
          Download .rdp file
        </a>
      )}
      {conn.password && (
        <p>
          One-time password, shown only now: <code data-testid="password">{conn.password}</code>{' '}
          <button type="button" onClick={copy}>
            {copied ? 'Copied' : 'Copy password'}
          </button>
        </p>
      )}
    </div>
  );
}

/** Connect: a new session on this server and how to reach it. */
export function CreateSession({ serverId }: { serverId: string }) {
  const [conn, setConn] = useState<Connection | null>(null);
  const [error, setError] = useState<unknown>(null);
  const create = async () => {
    setError(null);
    try {
      const r = unwrap((await request(CreateSessionMutation, { serverId })).createSession);
      if ('connection' in r) setConn(r.connection);
    } catch (e) {
      setError(e);
    }
  };
  return (
    <div class="connect">
      <button type="button" class="primary" onClick={create}>
        New desktop session
      </button>
      <ErrorText error={error} />
      {conn && <ConnectionCard conn={conn} />}
    </div>
  );
}

type PoolConnect = { reason: string; reconnected: boolean; server: { name: string }; connection: Connection };

/** The pools assigned to the signed-in user (or a group of theirs), each with Connect (the broker picks the server). */
function MyPools({ onConnected }: { onConnected: () => void }) {
  const { data, error } = useQuery(() => request(MyPoolsQuery));
  const [result, setResult] = useState<{ poolId: string; r: PoolConnect } | null>(null);
  const [connectError, setConnectError] = useState<{ poolId: string; error: unknown } | null>(null);
  const assigned = new Set(data?.viewer.assignments.filter((a) => a.targetType === 'POOL').map((a) => a.targetId) ?? []);
  const pools = data?.pools.filter((p) => assigned.has(p.id)) ?? [];
  const connect = async (poolId: string) => {
    setConnectError(null);
    setResult(null);
    try {
      const r = unwrap((await request(ConnectPoolMutation, { poolId })).connect);
      if ('connection' in r) setResult({ poolId, r });
      onConnected();
    } catch (e) {
      setConnectError({ poolId, error: e });
    }
  };
  return (
    <section aria-labelledby="my-pools-title">
      <h2 id="my-pools-title">My pools</h2>
      <ErrorText error={error} />
      {data && pools.length === 0 && <p>No pool is assigned to you.</p>}
      <ul class="pools">
        {pools.map((p) => (
          <li key={p.id} data-pool={p.name}>
            <strong>{p.name}</strong>
            {p.description ? ` — ${p.description}` : ''}{' '}
            <button type="button" class="primary" onClick={() => connect(p.id)}>
              Connect<span class="sr-only"> to {p.name}</span>
            </button>
            {connectError?.poolId === p.id && <ErrorText error={connectError.error} />}
            {result?.poolId === p.id && (
              <ConnectionCard conn={result.r.connection}>
                <p data-testid="reason">
                  {result.r.reconnected ? 'Your session is still there' : 'A new session'} on {result.r.server.name}:{' '}
                  {result.r.reason}
                </p>
              </ConnectionCard>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function SessionsPage() {
  const { data, error, reload } = useQuery(() => request(SessionsQuery, { first: 100 }));
  const [pending, setPending] = useState<{ id: string; username: string } | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const terminate = async () => {
    const s = pending;
    setPending(null);
    if (!s) return;
    try {
      unwrap((await request(TerminateSessionMutation, { id: s.id })).terminateSession);
      reload();
    } catch (e) {
      setActionError(e);
    }
  };
  return (
    <section aria-labelledby="sessions-title">
      <h1 id="sessions-title">My desktops</h1>
      <ErrorText error={error} />
      <ErrorText error={actionError} />
      <MyPools onConnected={reload} />
      <h2>Sessions</h2>
      <table>
        <caption class="sr-only">Sessions</caption>
        <thead>
          <tr>
            <th scope="col">Account</th>
            <th scope="col">Server</th>
            <th scope="col">Status</th>
            <th scope="col">Created</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {data?.sessions.edges.map(({ node: s }) => (
            <tr key={s.id}>
              <td>{s.username}</td>
              <td>
                <a href={`/console/servers/${encodeURIComponent(s.serverId)}`}>{s.server?.name ?? s.serverId}</a>
              </td>
              <td>{s.status}</td>
              <td>{when(s.createdAt)}</td>
              <td>
                {s.status !== 'TERMINATED' && (
                  <button type="button" onClick={() => setPending({ id: s.id, username: s.username })}>
                    Terminate<span class="sr-only"> {s.username}</span>
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Confirm
        open={pending !== null}
        title="Terminate session?"
        confirmLabel="Terminate"
        onConfirm={terminate}
        onCancel={() => setPending(null)}
      >
        The desktop of {pending?.username} closes and unsaved work is lost.
      </Confirm>
    </section>
  );
}
