import { request } from '../api';
import { UsageCharts } from '../charts';
import { SessionQuery } from '../operations';
import { ErrorText, useQuery, when } from '../ui';

/** One session's CPU and memory (sessions have no network figures of their own). */
export function SessionUsagePage({ id }: { id: string }) {
  const { data, error } = useQuery(() => request(SessionQuery, { id }), [id]);
  if (error) return <ErrorText error={error} />;
  if (!data) return <p>Loading…</p>;
  const s = data.session;
  if (!s) return <p>This session does not exist, or you may not see it.</p>;
  return (
    <section aria-labelledby="session-title">
      <h1 id="session-title">
        Session of {s.username} on {s.server?.name ?? s.serverId}
      </h1>
      <p>
        {s.status}, since {when(s.createdAt)}.{' '}
        <a href={`/console/servers/${encodeURIComponent(s.serverId)}`}>Back to the server</a>
      </p>
      <h2>Resource usage</h2>
      <UsageCharts subjectId={s.id} network={false} />
    </section>
  );
}
