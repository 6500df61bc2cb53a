import { useEffect, useState } from 'preact/hooks';
import { live, request, unwrap } from '../api';
import { AlertEventsSubscription, AlertsQuery, AuditQuery, LimitsQuery, ResolveAlertMutation } from '../operations';
import { ErrorText, useQuery, when } from '../ui';

export function AlertsPage() {
  const { data, error, reload } = useQuery(() => request(AlertsQuery));
  const [actionError, setActionError] = useState<unknown>(null);
  // Live: a raised or resolved alert reloads the list (the snapshot at subscribe is already shown).
  useEffect(
    () =>
      live.subscribe(AlertEventsSubscription, {}, (d) => {
        if (d.alertEvents.kind !== 'SNAPSHOT') reload();
      }),
    [],
  );
  const resolve = async (id: string) => {
    try {
      unwrap((await request(ResolveAlertMutation, { id })).resolveAlert);
      reload();
    } catch (e) {
      setActionError(e);
    }
  };
  const alerts = data?.alerts.edges.map((e) => e.node) ?? [];
  return (
    <section aria-labelledby="alerts-title">
      <h1 id="alerts-title">Alerts</h1>
      <ErrorText error={error} />
      <ErrorText error={actionError} />
      {data && alerts.length === 0 && <p>No alerts.</p>}
      <ul>
        {alerts.map((a) => (
          <li key={a.id}>
            <strong>{a.severity}</strong> {a.resource}: {a.message} ({when(a.createdAt)}){' '}
            {a.resolved ? (
              'resolved'
            ) : (
              <button type="button" onClick={() => resolve(a.id)}>
                Resolve
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function AuditPage() {
  const [action, setAction] = useState('');
  const { data, error } = useQuery(() => request(AuditQuery, { action: action || null }), [action]);
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <label>
        Action <input value={action} onChange={(e) => setAction(e.currentTarget.value)} placeholder="e.g. server.start" />
      </label>
      <ErrorText error={error} />
      <table>
        <caption class="sr-only">Audit events</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Result</th>
          </tr>
        </thead>
        <tbody>
          {data?.auditEvents.edges.map(({ node: e }) => (
            <tr key={e.id}>
              <td>{when(e.time)}</td>
              <td>{e.actor.userId ?? `anonymous (${e.actor.ip ?? '?'})`}</td>
              <td>{e.action}</td>
              <td>{e.target ? `${e.target.type} ${e.target.name ?? e.target.id ?? ''}` : '—'}</td>
              <td>{e.result}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function LimitsPage() {
  const { data, error } = useQuery(() => request(LimitsQuery));
  const l = data?.resourceLimits;
  return (
    <section aria-labelledby="limits-title">
      <h1 id="limits-title">Limits</h1>
      <ErrorText error={error} />
      {l && (
        <dl>
          <dt>Servers in total</dt>
          <dd>{l.global.maxServers}</dd>
          <dt>Sessions in total</dt>
          <dd>{l.global.maxSessions}</dd>
          <dt>Sessions per user</dt>
          <dd>{l.perUser.maxSessions}</dd>
          <dt>Version</dt>
          <dd>
            {l.version}, by {l.updatedBy} at {when(l.updatedAt)}
          </dd>
        </dl>
      )}
    </section>
  );
}
