import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, request, unwrap } from '../api';
import type { ConsolePoolFragment, CredentialMode, PlacementPolicy, PrincipalType, UpdatePoolInput } from '../gql/graphql';
import {
  AssignMutation,
  CreatePoolMutation,
  DeletePoolMutation,
  PoolQuery,
  PoolsQuery,
  SetServerPoolMutation,
  UnassignMutation,
  UpdatePoolMutation,
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

/**
 * A session cap as typed: empty is none (null); a whole number, even out of range, goes to the
 * API, which says what is wrong with it on the field; anything else is refused here, in words.
 */
function parseCap(raw: string): number | null {
  const text = raw.trim();
  if (text === '') return null;
  if (!/^-?\d+$/.test(text)) {
    throw new ApiError('BAD_USER_INPUT', undefined, [{ field: 'maxSessions', message: 'must be a whole number' }]);
  }
  return Number(text);
}

/** What the pool forms edit, as typed (cap: text; mode: '' is the service's default). */
type PoolSettings = { name: string; description: string; policy: PlacementPolicy; cap: string; mode: CredentialMode | '' };

const NEW_POOL: PoolSettings = { name: '', description: '', policy: 'BREADTH_FIRST', cap: '', mode: '' };

type EditablePool = Pick<
  ConsolePoolFragment,
  'id' | 'name' | 'description' | 'placementPolicy' | 'maxSessions' | 'defaultCredentialMode'
>;

const settingsOf = (pool: EditablePool): PoolSettings => ({
  name: pool.name,
  description: pool.description,
  policy: pool.placementPolicy,
  cap: pool.maxSessions == null ? '' : String(pool.maxSessions),
  mode: pool.defaultCredentialMode ?? '',
});

/**
 * The settings of a pool: creating one, or changing one. `save` stores them and answers with what
 * the form shows next and a confirmation; each BAD_USER_INPUT problem is shown on its field.
 */
function PoolSettingsForm(props: {
  idPrefix: string;
  title: string;
  submitLabel: string;
  initial: PoolSettings;
  save: (values: PoolSettings) => Promise<{ next: PoolSettings; message: string }>;
}) {
  const [values, setValues] = useState(props.initial);
  const [error, setError] = useState<unknown>(null);
  const [outcome, setOutcome] = useState<string | null>(null);
  const set = (change: Partial<PoolSettings>) => setValues((v) => ({ ...v, ...change }));
  const id = (name: string) => `${props.idPrefix}-${name}`;
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setOutcome(null);
    try {
      const { next, message } = await props.save(values);
      setValues(next);
      setOutcome(message);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form class="config" onSubmit={submit} noValidate aria-labelledby={id('title')}>
      <h2 id={id('title')}>{props.title}</h2>
      <Field id={id('name')} label="Pool name" field="name" error={error}>
        {(aria) => <input {...aria} value={values.name} onInput={(e) => set({ name: e.currentTarget.value })} />}
      </Field>
      <Field id={id('description')} label="Description" field="description" error={error}>
        {(aria) => <input {...aria} value={values.description} onInput={(e) => set({ description: e.currentTarget.value })} />}
      </Field>
      <Field id={id('policy')} label="Placement policy" field="placementPolicy" error={error}>
        {(aria) => (
          <select {...aria} value={values.policy} onChange={(e) => set({ policy: e.currentTarget.value as PlacementPolicy })}>
            <option value="BREADTH_FIRST">Breadth first (spread sessions)</option>
            <option value="DEPTH_FIRST">Depth first (fill one server first)</option>
          </select>
        )}
      </Field>
      <Field id={id('cap')} label="Session cap (empty: none)" field="maxSessions" error={error}>
        {(aria) => (
          <input {...aria} inputMode="numeric" value={values.cap} onInput={(e) => set({ cap: e.currentTarget.value })} />
        )}
      </Field>
      <Field id={id('mode')} label="Credential mode of new sessions" field="defaultCredentialMode" error={error}>
        {(aria) => (
          <select {...aria} value={values.mode} onChange={(e) => set({ mode: e.currentTarget.value as CredentialMode | '' })}>
            <option value="">The service's default</option>
            <option value="EPHEMERAL">An account made for the session, with a one-time password</option>
            <option value="HOST_ACCOUNT">The user's own account on the host</option>
          </select>
        )}
      </Field>
      <ErrorText error={error} />
      <p role="status" data-testid={id('saved')}>
        {outcome}
      </p>
      <div class="actions">
        <button type="submit" class="primary">
          {props.submitLabel}
        </button>
      </div>
    </form>
  );
}

function CreatePoolForm({ onCreated }: { onCreated: () => void }) {
  return (
    <PoolSettingsForm
      idPrefix="pool"
      title="New pool"
      submitLabel="Create pool"
      initial={NEW_POOL}
      save={async (v) => {
        const maxSessions = parseCap(v.cap);
        const { pool } = unwrap(
          (
            await request(CreatePoolMutation, {
              input: {
                name: v.name,
                description: v.description,
                placementPolicy: v.policy,
                ...(maxSessions === null ? {} : { maxSessions }),
                ...(v.mode === '' ? {} : { defaultCredentialMode: v.mode }),
              },
            })
          ).createPool,
        );
        onCreated();
        return { next: NEW_POOL, message: `Created pool ${pool.name}.` };
      }}
    />
  );
}

/**
 * What changed between the pool and the form, as updatePool's input: only the changed fields;
 * an emptied cap or credential mode clears it.
 */
function poolChanges(pool: EditablePool, form: PoolSettings): UpdatePoolInput {
  const input: UpdatePoolInput = {};
  if (form.name !== pool.name) input.name = form.name;
  if (form.description !== pool.description) input.description = form.description;
  if (form.policy !== pool.placementPolicy) input.placementPolicy = form.policy;
  const cap = parseCap(form.cap);
  if (cap === null && pool.maxSessions != null) input.clearMaxSessions = true;
  if (cap !== null && cap !== pool.maxSessions) input.maxSessions = cap;
  if (form.mode === '' && pool.defaultCredentialMode != null) input.clearDefaultCredentialMode = true;
  if (form.mode !== '' && form.mode !== pool.defaultCredentialMode) input.defaultCredentialMode = form.mode;
  return input;
}

/** Changes a pool's settings (operators and admins: only they open a pool's page). */
function EditPoolForm({ pool, onSaved }: { pool: EditablePool; onSaved: (saved: ConsolePoolFragment) => void }) {
  return (
    <PoolSettingsForm
      idPrefix="edit-pool"
      title="Settings"
      submitLabel="Save pool"
      initial={settingsOf(pool)}
      save={async (v) => {
        const input = poolChanges(pool, v);
        if (Object.keys(input).length === 0) return { next: v, message: 'Nothing changed, so nothing was saved.' };
        const { pool: saved } = unwrap((await request(UpdatePoolMutation, { id: pool.id, input })).updatePool);
        onSaved(saved);
        return { next: settingsOf(saved), message: `Saved the settings of pool ${saved.name}.` };
      }}
    />
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
  const { data, setData, error, reload } = useQuery(() => request(PoolQuery, { id }), [id]);
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
      <EditPoolForm
        pool={pool}
        onSaved={(saved) => {
          // The page shows what was stored at once (the form compares against it next time).
          setData((d) => (d?.pool ? { ...d, pool: { ...d.pool, ...saved } } : d));
          reload();
        }}
      />
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
