import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, live, request, unwrap } from '../api';
import type { ConsoleServerLogsSubscription, ConsoleXrdpConfigVersionFragment, XrdpLogLevel } from '../gql/graphql';
import { ServerLogsSubscription, UpdateXrdpConfigMutation, XrdpConfigQuery } from '../operations';
import { ErrorText, useQuery, when } from '../ui';

/** Most lines kept on the page; older ones scroll away. */
const MAX_SHOWN_LINES = 1000;

type LogLine = ConsoleServerLogsSubscription['serverLogs']['lines'][number];

const LEVELS: { value: XrdpLogLevel | ''; label: string }[] = [
  { value: '', label: 'All levels' },
  { value: 'DEBUG', label: 'Debug and above' },
  { value: 'INFO', label: 'Info and above' },
  { value: 'WARN', label: 'Warnings and errors' },
  { value: 'ERROR', label: 'Errors only' },
];

/**
 * The last 200 lines of the server's xrdp log, then each line as xrdp writes it (the serverLogs
 * subscription, filtered by level on the server). Pausing leaves the subscription; resuming
 * starts again from its snapshot.
 */
export function ServerLogs({ serverId }: { serverId: string }) {
  const [level, setLevel] = useState<XrdpLogLevel | ''>('');
  const [paused, setPaused] = useState(false);
  const [lines, setLines] = useState<LogLine[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (paused) return;
    setError(null);
    return live.subscribe(
      ServerLogsSubscription,
      { serverId, level: level || null },
      ({ serverLogs }) => {
        setLines((shown) => {
          const next = serverLogs.kind === 'SNAPSHOT' ? serverLogs.lines : [...(shown ?? []), ...serverLogs.lines];
          return next.length > MAX_SHOWN_LINES ? next.slice(next.length - MAX_SHOWN_LINES) : next;
        });
      },
      setError,
    );
  }, [paused, serverId, level]);
  return (
    <section aria-labelledby="logs-title">
      <h2 id="logs-title">xrdp log</h2>
      <div class="row">
        <label>
          Show log lines{' '}
          <select value={level} onChange={(e) => setLevel(e.currentTarget.value as XrdpLogLevel | '')}>
            {LEVELS.map((l) => (
              <option key={l.value} value={l.value}>
                {l.label}
              </option>
            ))}
          </select>
        </label>
        <button type="button" aria-pressed={paused} onClick={() => setPaused((p) => !p)}>
          {paused ? 'Resume following' : 'Pause following'}
        </button>
      </div>
      <ErrorText error={error} />
      {lines && lines.length === 0 && <p>No log lines{level ? ' at this level' : ''} yet.</p>}
      {lines && lines.length > 0 && (
        // biome-ignore lint/a11y/noNoninteractiveTabindex: the log scrolls; keyboard users reach it to scroll.
        <div class="log" role="log" aria-label="xrdp log lines" tabIndex={0} data-testid="log">
          <ol>
            {lines.map((l, i) => (
              <li key={`${l.time}-${i}`} class={`log-${l.level}`} data-level={l.level}>
                <time dateTime={l.time}>{new Date(l.time).toLocaleTimeString()}</time> <strong>{l.level}</strong>{' '}
                {l.pid != null && <span>[{l.pid}] </span>}
                {l.message}
              </li>
            ))}
          </ol>
        </div>
      )}
    </section>
  );
}

type Config = ConsoleXrdpConfigVersionFragment['config'];

/** Each editable setting: its input path (as BAD_USER_INPUT names it) and how it is edited. */
const FIELDS: {
  path: string;
  label: string;
  kind: 'int' | 'bool' | 'text' | 'select';
  options?: string[];
  hint?: string;
}[] = [
  { path: 'global.logLevel', label: 'Log level', kind: 'select', options: ['DEBUG', 'INFO', 'WARN', 'ERROR'] },
  { path: 'global.maxConnections', label: 'Most sessions at once', kind: 'int', hint: '1 to 1000' },
  { path: 'global.useTls', label: 'Require TLS', kind: 'bool' },
  {
    path: 'global.certificatePath',
    label: 'Certificate path',
    kind: 'text',
    hint: 'absolute path of a PEM file; empty for generated',
  },
  { path: 'global.keyPath', label: 'Private key path', kind: 'text', hint: 'set with the certificate path' },
  { path: 'security.encryptionLevel', label: 'Minimum encryption', kind: 'select', options: ['LOW', 'MEDIUM', 'HIGH'] },
  {
    path: 'security.idleTimeout',
    label: 'Idle timeout (seconds)',
    kind: 'int',
    hint: '60 to 7200, less than the session timeout',
  },
  { path: 'security.sessionTimeout', label: 'Disconnected session kept (seconds)', kind: 'int', hint: '300 to 86400' },
  { path: 'performance.bitmapCache', label: 'Bitmap cache', kind: 'bool' },
  { path: 'performance.compression', label: 'Compression', kind: 'bool' },
];

type Value = string | number | boolean | null;

function valueAt(config: Config, path: string): Value {
  const [section, key] = path.split('.') as [keyof Config, string];
  return ((config[section] as Record<string, unknown>)[key] ?? null) as Value;
}

const shown = (v: Value) => (v === null || v === '' ? '(none)' : String(v));

/** The settings that differ between two versions. */
export function configDiff(before: Config, after: Config) {
  return FIELDS.flatMap((f) => {
    const a = valueAt(before, f.path);
    const b = valueAt(after, f.path);
    return a === b ? [] : [{ path: f.path, label: f.label, before: a, after: b }];
  });
}

const fieldId = (path: string) => `xrdp-${path.replace('.', '-')}`;

/**
 * The host's xrdp configuration (every server on the host uses it; running ones on restart):
 * an editor for admins, with each BAD_USER_INPUT problem shown on its field, and the history of
 * versions with what each changed.
 */
export function ServerConfig({ canEdit }: { canEdit: boolean }) {
  const { data, error, reload } = useQuery(() => request(XrdpConfigQuery));
  const [draft, setDraft] = useState<Record<string, Value>>({});
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saved, setSaved] = useState<number | null>(null);
  const [compare, setCompare] = useState<number | null>(null);
  // Every version this page has seen (the current one too): version 0, the built-in defaults,
  // is not in the stored history, but a page open since then can still diff against it.
  const seen = useRef(new Map<number, ConsoleXrdpConfigVersionFragment>());
  if (data) for (const v of [data.xrdpConfig, ...data.xrdpConfigHistory]) seen.current.set(v.version, v);
  if (error) return <ErrorText error={error} />;
  if (!data) return <p>Loading the xrdp configuration…</p>;
  const current = data.xrdpConfig;
  const value = (path: string) => (path in draft ? (draft[path] ?? null) : valueAt(current.config, path));
  const problem = (path: string) =>
    saveError instanceof ApiError
      ? saveError.fields.find((f) => f.field === path || f.field === `input.${path}`)?.message
      : undefined;
  const save = async (e: Event) => {
    e.preventDefault();
    setSaveError(null);
    setSaved(null);
    const input: Record<string, Record<string, Value>> = {};
    for (const [path, v] of Object.entries(draft)) {
      if (v === valueAt(current.config, path)) continue;
      const [section, key] = path.split('.') as [string, string];
      input[section] = { ...input[section], [key]: v };
    }
    try {
      const r = unwrap((await request(UpdateXrdpConfigMutation, { input })).updateXrdpConfig);
      if ('config' in r) setSaved(r.config.version);
      setDraft({});
      reload();
    } catch (err) {
      setSaveError(err);
    }
  };
  const history = data.xrdpConfigHistory;
  const selected = history.find((v) => v.version === compare);
  const previous = selected
    ? [...seen.current.values()].filter((v) => v.version < selected.version).sort((a, b) => b.version - a.version)[0]
    : undefined;
  return (
    <section aria-labelledby="config-title">
      <h2 id="config-title">xrdp configuration (version {current.version})</h2>
      <p>
        One configuration for every server on this host; running servers take a change when they restart. Last changed by{' '}
        {current.updatedBy} on {when(current.updatedAt)}.
      </p>
      <form class="config" onSubmit={save} noValidate>
        {FIELDS.map((f) => {
          const id = fieldId(f.path);
          const err = problem(f.path);
          const v = value(f.path);
          const describedBy = [f.hint ? `${id}-hint` : '', err ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
          const set = (nv: Value) => setDraft((d) => ({ ...d, [f.path]: nv }));
          return (
            <div class="field" key={f.path} data-field={f.path}>
              <label for={id}>{f.label}</label>
              {f.kind === 'bool' ? (
                <input
                  id={id}
                  type="checkbox"
                  checked={v === true}
                  disabled={!canEdit}
                  aria-invalid={err ? true : undefined}
                  aria-describedby={describedBy}
                  onChange={(e) => set(e.currentTarget.checked)}
                />
              ) : f.kind === 'select' ? (
                <select
                  id={id}
                  value={String(v ?? '')}
                  disabled={!canEdit}
                  aria-invalid={err ? true : undefined}
                  aria-describedby={describedBy}
                  onChange={(e) => set(e.currentTarget.value)}
                >
                  {f.options?.map((o) => (
                    <option key={o} value={o}>
                      {o}
                    </option>
                  ))}
                </select>
              ) : (
                <input
                  id={id}
                  type="text"
                  inputMode={f.kind === 'int' ? 'numeric' : undefined}
                  value={v === null ? '' : String(v)}
                  readOnly={!canEdit}
                  aria-invalid={err ? true : undefined}
                  aria-describedby={describedBy}
                  onInput={(e) => {
                    const raw = e.currentTarget.value;
                    // A number field that is not a whole number is sent as is, for the API to refuse in words.
                    set(f.kind === 'int' ? (/^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw) : raw);
                  }}
                />
              )}
              {f.hint && (
                <small id={`${id}-hint`} class="hint">
                  {f.hint}
                </small>
              )}
              {err && (
                <span id={`${id}-error`} class="field-error" data-testid="field-error">
                  {f.label}: {err}
                </span>
              )}
            </div>
          );
        })}
        {canEdit ? (
          <div class="actions">
            <button type="submit" class="primary">
              Save configuration
            </button>
            <button type="button" onClick={() => setDraft({})}>
              Discard changes
            </button>
          </div>
        ) : (
          <p>Only admins change the xrdp configuration.</p>
        )}
      </form>
      <ErrorText error={saveError} />
      {saved !== null && <p role="status">Saved as version {saved}.</p>}
      <h3>History</h3>
      <table>
        <caption class="sr-only">Versions of the xrdp configuration, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">When</th>
            <th scope="col">By</th>
            <th scope="col">Changes</th>
          </tr>
        </thead>
        <tbody>
          {history.map((v) => (
            <tr key={v.version} data-version={v.version}>
              <td>{v.version}</td>
              <td>{when(v.updatedAt)}</td>
              <td>{v.updatedBy}</td>
              <td>
                {v.version > 0 && (
                  <button type="button" aria-pressed={compare === v.version} onClick={() => setCompare(v.version)}>
                    Show changes<span class="sr-only"> of version {v.version}</span>
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {selected && (
        <ConfigDiff
          title={previous ? `Version ${previous.version} → ${selected.version}` : `Version ${selected.version}`}
          before={previous?.config ?? null}
          after={selected.config}
        />
      )}
    </section>
  );
}

function ConfigDiff({ title, before, after }: { title: string; before: Config | null; after: Config }) {
  const rows = before ? configDiff(before, after) : [];
  return (
    <div class="diff" data-testid="config-diff">
      <h4>{title}</h4>
      {!before && <p>The version before it is not in the history shown (the built-in defaults, version 0, are not stored).</p>}
      {before && rows.length === 0 && <p>No setting changed.</p>}
      {rows.length > 0 && (
        <table>
          <caption class="sr-only">Settings changed</caption>
          <thead>
            <tr>
              <th scope="col">Setting</th>
              <th scope="col">Before</th>
              <th scope="col">After</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.path} data-setting={r.path}>
                <th scope="row">{r.label}</th>
                <td>
                  <del>{shown(r.before)}</del>
                </td>
                <td>
                  <ins>{shown(r.after)}</ins>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
