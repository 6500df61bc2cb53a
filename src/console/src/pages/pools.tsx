import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, request, unwrap } from '../api';
import type { PlacementPolicy, PrincipalType } from '../gql/graphql';
import {
  AssignMutation,
  CreatePoolMutation,
  DeletePoolMutation,
  PoolQuery,
  PoolsQuery,
  SetServerPoolMutation,
  UnassignMutation,
} from '../operations';
import { navigate } from '../router';
import { Confirm, ErrorText, useQuery, when } from '../ui';

/** The problem the API named for one input field (`extensions.fields`), in words. */
const fieldProblem = (error: unknown, field: string) =>
  error instanceof ApiError ? (error.fieldMessage(field) ?? error.fieldMessage(`input.${field}`)) : undefined;

function Field(props: {
  id: string;
  label: string;
  error: unknown;
  field: string;
  children: (aria: Record<string, unknown>) => ComponentChildren;
}) {
  const err = fieldProblem(props.error, props.field);
  const aria = {
    id: props.id,
    'aria-invalid': err ? true : undefined,
    'aria-describedby': err ? `${props.id}-error` : undefined,
  };
  return (
    <div class="field" data-field={props.field}>
      <label for={props.id}>{props.label}</label>
      {props.children(aria)}
      {err && (
        <span id={`${props.id}-error`} class="field-error" data-testid="field-error">
          {props.label}: {err}
        </span>
      )}
    </div>
  );
}

function CreatePoolForm({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [policy, setPolicy] = useState<PlacementPolicy>('BREADTH_FIRST');
  const [cap, setCap] = useState('');
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const raw = cap.trim();
    if (raw !== '' && !/^\d+$/.test(raw)) {
      setError(new ApiError('BAD_USER_INPUT', undefined, [{ field: 'maxSessions', message: 'must be a whole number' }]));
      return;
    }
    try {
      unwrap(
        (
          await request(CreatePoolMutation, {
            input: { name, description, placementPolicy: policy, ...(raw === '' ? {} : { maxSessions: Number(raw) }) },
          })
        ).createPool,
      );
      setName('');
      setDescription('');
      setCap('');
      onCreated();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form class="config" onSubmit={submit} noValidate aria-labelledby="create-pool-title">
      <h2 id="create-pool-title">New pool</h2>
      <Field id="pool-name" label="Pool name" field="name" error={error}>
        {(aria) => <input {...aria} value={name} onInput={(e) => setName(e.currentTarget.value)} />}
      </Field>
      <Field id="pool-description" label="Description" field="description" error={error}>
        {(aria) => <input {...aria} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />}
      </Field>
      <Field id="pool-policy" label="Placement policy" field="placementPolicy" error={error}>
        {(aria) => (
          <select {...aria} value={policy} onChange={(e) => setPolicy(e.currentTarget.value as PlacementPolicy)}>
            <option value="BREADTH_FIRST">Breadth first (spread sessions)</option>
            <option value="DEPTH_FIRST">Depth first (fill one server first)</option>
          </select>
        )}
      </Field>
      <Field id="pool-cap" label="Session cap (empty: none)" field="maxSessions" error={error}>
        {(aria) => <input {...aria} inputMode="numeric" value={cap} onInput={(e) => setCap(e.currentTarget.value)} />}
      </Field>
      <ErrorText error={error} />
      <div class="actions">
        <button type="submit" class="primary">
          Create pool
        </button>
      </div>
    </form>
  );
}

/** Every pool (operators and admins). */
export function PoolsPage() {
  const { data, error, reload } = useQuery(() => request(PoolsQuery));
  return (
    <section aria-labelledby="pools-title">
      <h1 id="pools-title">Pools</h1>
      <ErrorText error={error} />
      <table>
        <caption class="sr-only">Pools</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Placement</th>
            <th scope="col">Session cap</th>
            <th scope="col">Live sessions</th>
            <th scope="col">Servers</th>
          </tr>
        </thead>
        <tbody>
          {data?.pools.map((p) => (
            <tr key={p.id} data-pool={p.name}>
              <td>
                <a href={`/console/pools/${encodeURIComponent(p.id)}`}>{p.name}</a>
              </td>
              <td>{p.placementPolicy}</td>
              <td>{p.maxSessions ?? 'none'}</td>
              <td>{p.liveSessions}</td>
              <td data-testid="server-count">{p.serverCount.totalCount}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && data.pools.length === 0 && <p>No pools yet.</p>}
      <CreatePoolForm onCreated={reload} />
    </section>
  );
}

/** One pool: its servers, who may use it, and deleting it (operators and admins). */
export function PoolPage({ id }: { id: string }) {
  const { data, error, reload } = useQuery(() => request(PoolQuery, { id }), [id]);
  const [actionError, setActionError] = useState<unknown>(null);
  const [addServer, setAddServer] = useState('');
  const [principalType, setPrincipalType] = useState<PrincipalType>('USER');
  const [principal, setPrincipal] = useState('');
  const [confirmDelete, setConfirmDelete] = useState(false);
  const act = async (run: () => Promise<unknown>) => {
    setActionError(null);
    try {
      await run();
      reload();
    } catch (e) {
      setActionError(e);
    }
  };
  if (error) return <ErrorText error={error} />;
  if (!data) return <p>Loading…</p>;
  const pool = data.pool;
  if (!pool) return <p>This pool does not exist, or your role cannot open it.</p>;
  const members = pool.members.edges.map((e) => e.node);
  const candidates = data.allServers.edges.map((e) => e.node).filter((s) => s.poolId !== pool.id);
  const hasServers = members.length > 0;
  const remove = async () => {
    setConfirmDelete(false);
    setActionError(null);
    try {
      unwrap((await request(DeletePoolMutation, { id: pool.id, force: hasServers })).deletePool);
      navigate('/pools');
    } catch (e) {
      setActionError(e);
    }
  };
  return (
    <section aria-labelledby="pool-title">
      <p>
        <a href="/console/pools">All pools</a>
      </p>
      <h1 id="pool-title">Pool {pool.name}</h1>
      <p>
        {pool.description || 'No description.'} Placement {pool.placementPolicy}; session cap {pool.maxSessions ?? 'none'};{' '}
        {pool.liveSessions} live sessions. Created by {pool.createdBy} on {when(pool.createdAt)}.
      </p>
      <ErrorText error={actionError} />
      <h2>Servers</h2>
      <table>
        <caption class="sr-only">Servers in the pool</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Status</th>
            <th scope="col">Host:port</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {members.map((s) => (
            <tr key={s.id} data-server={s.name}>
              <td>
                <a href={`/console/servers/${encodeURIComponent(s.id)}`}>{s.name}</a>
              </td>
              <td>{s.status}</td>
              <td>
                {s.host}:{s.port}
              </td>
              <td>
                <button
                  type="button"
                  onClick={() =>
                    act(async () =>
                      unwrap((await request(SetServerPoolMutation, { serverId: s.id, poolId: null })).setServerPool),
                    )
                  }
                >
                  Remove<span class="sr-only"> {s.name} from the pool</span>
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {!hasServers && <p>No servers in this pool.</p>}
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (!addServer) {
            setActionError(new ApiError('BAD_USER_INPUT', 'Choose a server to add.'));
            return;
          }
          void act(async () => {
            unwrap((await request(SetServerPoolMutation, { serverId: addServer, poolId: pool.id })).setServerPool);
            setAddServer('');
          });
        }}
      >
        <label>
          Server to add{' '}
          <select value={addServer} onChange={(e) => setAddServer(e.currentTarget.value)}>
            <option value="">Choose a server…</option>
            {candidates.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
                {s.poolId ? ' (moves from another pool)' : ''}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Add server</button>
      </form>
      <h2>Who may use it</h2>
      <table>
        <caption class="sr-only">Assignments</caption>
        <thead>
          <tr>
            <th scope="col">User or group</th>
            <th scope="col">Kind</th>
            <th scope="col">Assigned</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {pool.assignments.map((a) => (
            <tr key={a.id} data-assignment={a.principal}>
              <td>{a.principal}</td>
              <td>{a.principalType === 'USER' ? 'User' : 'Group'}</td>
              <td>
                by {a.createdBy} on {when(a.createdAt)}
              </td>
              <td>
                <button
                  type="button"
                  onClick={() => act(async () => unwrap((await request(UnassignMutation, { id: a.id })).unassign))}
                >
                  Unassign<span class="sr-only"> {a.principal}</span>
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {pool.assignments.length === 0 && <p>Nobody is assigned this pool.</p>}
      <form
        class="row"
        onSubmit={(e) => {
          e.preventDefault();
          void act(async () => {
            unwrap(
              (
                await request(AssignMutation, {
                  input: { principal: principal.trim(), principalType, targetId: pool.id, targetType: 'POOL' },
                })
              ).assign,
            );
            setPrincipal('');
          });
        }}
      >
        <label>
          Assign to{' '}
          <select value={principalType} onChange={(e) => setPrincipalType(e.currentTarget.value as PrincipalType)}>
            <option value="USER">User</option>
            <option value="GROUP">Group</option>
          </select>
        </label>
        <label>
          User id or group name <input value={principal} onInput={(e) => setPrincipal(e.currentTarget.value)} />
        </label>
        <button type="submit">Assign</button>
      </form>
      <h2>Delete</h2>
      <button type="button" onClick={() => setConfirmDelete(true)}>
        Delete pool
      </button>
      <Confirm
        open={confirmDelete}
        title="Delete pool?"
        confirmLabel="Delete"
        onConfirm={remove}
        onCancel={() => setConfirmDelete(false)}
      >
        {hasServers
          ? `The pool ${pool.name} and its assignments go; its ${members.length} servers leave it and keep running, with their sessions.`
          : `The pool ${pool.name} and its assignments go.`}
      </Confirm>
    </section>
  );
}
