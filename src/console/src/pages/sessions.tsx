import { useEffect, useState } from 'preact/hooks';
import { request, unwrap } from '../api';
import { CreateSessionMutation, SessionsQuery, TerminateSessionMutation } from '../operations';
import { Confirm, ErrorText, useQuery, when } from '../ui';

type Connection = { host: string; port: number; username: string; password?: string | null; expiresAt: string; rdpFile: string };

/** Connect: the .rdp file to download and the one-time password, shown once (gone on reload). */
export function CreateSession({ serverId }: { serverId: string }) {
  const [conn, setConn] = useState<Connection | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [copied, setCopied] = useState(false);
  const [href, setHref] = useState<string | null>(null);
  useEffect(() => {
    if (!conn) return undefined;
    const url = URL.createObjectURL(new Blob([conn.rdpFile], { type: 'application/x-rdp' }));
    setHref(url);
    return () => URL.revokeObjectURL(url);
  }, [conn]);
  const create = async () => {
    setError(null);
    try {
      const r = unwrap((await request(CreateSessionMutation, { serverId })).createSession);
      if ('connection' in r) setConn(r.connection);
    } catch (e) {
      setError(e);
    }
  };
  const copy = async () => {
    if (!conn?.password) return;
    await navigator.clipboard.writeText(conn.password).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  };
  return (
    <div class="connect">
      <button type="button" class="primary" onClick={create}>
        New desktop session
      </button>
      <ErrorText error={error} />
      {conn && (
        <div class="card" data-testid="connection">
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
      )}
    </div>
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
