import { type Client, createClient } from 'graphql-ws';
import type { TypedDocumentString } from './gql/graphql';
import { LiveStatusSubscription } from './operations';

/** What people read instead of codes (and never a stack). */
const MESSAGES: Record<string, string> = {
  UNAUTHENTICATED: 'You are not signed in, or your sign-in has expired. Sign in again.',
  FORBIDDEN: 'Your role does not allow this.',
  NOT_FOUND: 'It does not exist any more, or you may not see it.',
  CONFLICT: 'That cannot be done in its current state.',
  BAD_USER_INPUT: 'Some of what you entered is not valid.',
  LIMIT_EXCEEDED: 'A limit was reached.',
  PORT_EXHAUSTED: 'No free port is left on the host.',
  RATE_LIMITED: 'Too many requests. Wait a moment and try again.',
  SERVICE_UNAVAILABLE: 'The service cannot reach its database right now. Try again shortly.',
  RUNTIME_FAILURE: 'xrdp could not do that on the host.',
  RUNTIME_UNAVAILABLE: 'This host cannot run xrdp servers.',
  INTERNAL_SERVER_ERROR: 'Something went wrong on the server.',
  NETWORK: 'The service cannot be reached. Check your connection.',
  SIGN_IN_FAILED: 'Sign-in with the identity provider did not complete. Try again.',
};

/** One problem with one input field, as BAD_USER_INPUT errors carry them (`extensions.fields`). */
export type FieldProblem = { field: string; message: string };

export class ApiError extends Error {
  constructor(
    readonly code: string,
    detail?: string,
    /** For BAD_USER_INPUT: every problem, by field path (e.g. `security.idleTimeout`). */
    readonly fields: readonly FieldProblem[] = [],
  ) {
    super(friendlyMessage(code, detail));
    this.name = 'ApiError';
  }

  /** The problem with this field, in words; undefined when there is none. */
  fieldMessage(field: string): string | undefined {
    return this.fields.find((f) => f.field === field)?.message;
  }
}

/** A code and the server's own sentence (already meant for people), in one line. */
export function friendlyMessage(code: string, detail?: string | null): string {
  const base = MESSAGES[code] ?? 'The request failed.';
  return detail && detail !== base ? `${base} (${detail})` : base;
}

const TOKEN_KEY = 'rdp-console-token';
const ID_TOKEN_KEY = 'rdp-console-id-token';

/**
 * The sign-in of this tab, in its sessionStorage: the access token the API takes and, after an
 * OpenID sign-in, the provider's ID token (only ever sent back to the provider, as the
 * id_token_hint of the sign-out). `set(null)` forgets both.
 */
export const auth = {
  get token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  get idToken(): string | null {
    return sessionStorage.getItem(ID_TOKEN_KEY);
  },
  set(token: string | null, idToken?: string) {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
    if (token && idToken) sessionStorage.setItem(ID_TOKEN_KEY, idToken);
    else sessionStorage.removeItem(ID_TOKEN_KEY);
  },
};

type GqlError = { message: string; extensions?: { code?: string; fields?: unknown } };

function fieldsOf(e: GqlError): FieldProblem[] {
  const f = e.extensions?.fields;
  if (!Array.isArray(f)) return [];
  return f.filter(
    (p): p is FieldProblem => typeof p === 'object' && p !== null && typeof p.field === 'string' && typeof p.message === 'string',
  );
}

/**
 * The operation as a trusted document: its sha256 from the generated list, never the text, so
 * a server with TRUSTED_DOCUMENTS_ONLY runs it (and only such).
 */
function operation(document: TypedDocumentString<unknown, unknown>): { query: string; extensions: Record<string, unknown> } {
  const hash = String(document.__meta__?.hash ?? '').replace(/^sha256:/, '');
  return { query: '', extensions: { persistedQuery: { version: 1, sha256Hash: hash } } };
}

export async function request<TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  ...[variables]: TVariables extends Record<string, never> ? [] : [TVariables]
): Promise<TResult> {
  let res: Response;
  try {
    res = await fetch('/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(auth.token ? { authorization: `Bearer ${auth.token}` } : {}),
      },
      body: JSON.stringify({
        extensions: operation(document as TypedDocumentString<unknown, unknown>).extensions,
        variables: variables ?? {},
      }),
    });
  } catch {
    throw new ApiError('NETWORK');
  }
  let body: { data?: TResult | null; errors?: GqlError[] };
  try {
    body = (await res.json()) as typeof body;
  } catch {
    throw new ApiError(res.status === 429 ? 'RATE_LIMITED' : 'INTERNAL_SERVER_ERROR');
  }
  const first = body.errors?.[0];
  if (first) {
    const code = first.extensions?.code ?? 'INTERNAL_SERVER_ERROR';
    throw new ApiError(code, code === 'INTERNAL_SERVER_ERROR' ? undefined : first.message, fieldsOf(first));
  }
  if (!body.data) throw new ApiError('INTERNAL_SERVER_ERROR');
  return body.data;
}

/** A mutation's result union: the success, or an Error member turned into an ApiError. */
export function unwrap<T extends { __typename?: string }>(result: T): Exclude<T, { code: string }> {
  const r = result as T & { code?: string; message?: string };
  if (typeof r.code === 'string') throw new ApiError(r.code, r.message);
  return result as Exclude<T, { code: string }>;
}

export type LiveState = 'connecting' | 'live' | 'reconnecting' | 'paused';

type Listener = (state: LiveState, resynced: boolean) => void;

/**
 * The one graphql-ws connection of the console. It retries for ever with backoff; every open
 * subscription is sent again on reconnect, and the server starts each with a SNAPSHOT, so the
 * pages resync from that (and refetch their lists on `resynced`).
 *
 * The connection can be up while the server's event bus (its Redis) is not: then no update
 * reaches any subscription. The `liveStatus` subscription says so, and the state is `paused`
 * until it says CONNECTED again; then the server sends each subscription a new SNAPSHOT (events
 * published meanwhile are lost) and the pages refetch their lists too (what was created meanwhile
 * has no subscription of its own yet). A SNAPSHOT after a subscription's first is taken as such a
 * resync as well.
 */
class Live {
  private client: Client | null = null;
  private state: LiveState = 'connecting';
  private everConnected = false;
  /** What liveStatus said last; the connection alone does not make the page live. */
  private busConnected = true;
  private readonly listeners = new Set<Listener>();
  private resyncTimer: ReturnType<typeof setTimeout> | undefined;

  /** Many subscriptions resync at once: one refetch for all of them. */
  private resyncSoon() {
    if (this.resyncTimer !== undefined) return;
    this.resyncTimer = setTimeout(() => {
      this.resyncTimer = undefined;
      if (this.state === 'live') this.set('live', true);
    }, 250);
  }

  private ensure(): Client {
    if (this.client) return this.client;
    const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/graphql`;
    const client = createClient({
      url,
      lazy: false,
      retryAttempts: Number.POSITIVE_INFINITY,
      shouldRetry: () => true,
      retryWait: async (retries) => {
        await new Promise((r) => setTimeout(r, Math.min(5000, 300 * 2 ** retries) * (0.5 + Math.random() / 2)));
      },
      connectionParams: () => (auth.token ? { authorization: `Bearer ${auth.token}` } : {}),
      on: {
        connected: () => {
          const resynced = this.everConnected;
          this.everConnected = true;
          this.set(this.busConnected ? 'live' : 'paused', resynced);
        },
        closed: () => this.set(this.everConnected ? 'reconnecting' : 'connecting', false),
        connecting: () => {
          if (this.state === 'live' || this.state === 'paused') this.set('reconnecting', false);
        },
      },
    });
    this.client = client;
    this.followBus(client);
    return client;
  }

  /** liveStatus for the life of the client (graphql-ws subscribes it again on each reconnect). */
  private followBus(client: Client) {
    client.subscribe<{ liveStatus?: { eventBus?: string } }>(
      { ...operation(LiveStatusSubscription as TypedDocumentString<unknown, unknown>), variables: {} },
      {
        next: (r) => {
          const bus = r.data?.liveStatus?.eventBus;
          if (client !== this.client || bus === undefined) return;
          this.busConnected = bus === 'CONNECTED';
          if (this.busConnected && this.state === 'paused') this.set('live', true);
          else if (!this.busConnected && this.state === 'live') this.set('paused', false);
        },
        error: () => undefined,
        complete: () => undefined,
      },
    );
  }

  private set(state: LiveState, resynced: boolean) {
    this.state = state;
    for (const l of this.listeners) l(state, resynced);
  }

  get current(): LiveState {
    return this.state;
  }

  onState(listener: Listener): () => void {
    this.ensure();
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  subscribe<TResult, TVariables>(
    document: TypedDocumentString<TResult, TVariables>,
    variables: TVariables,
    next: (data: TResult) => void,
    onError?: (err: ApiError) => void,
  ): () => void {
    let snapshots = 0;
    // A snapshot of many objects (fleetEvents) is many SNAPSHOT events with one `at`: one snapshot.
    let snapshotAt: unknown;
    return this.ensure().subscribe<TResult>(
      { ...operation(document as TypedDocumentString<unknown, unknown>), variables: variables as Record<string, unknown> },
      {
        next: (r) => {
          const event = r.data ? (Object.values(r.data)[0] as { kind?: unknown; at?: unknown } | null) : null;
          const sameSnapshot = event?.at !== undefined && event.at === snapshotAt;
          if (event?.kind === 'SNAPSHOT' && !sameSnapshot && ++snapshots > 1) this.resyncSoon();
          if (event?.kind === 'SNAPSHOT') snapshotAt = event.at;
          if (r.data) next(r.data as TResult);
          const e = r.errors?.[0] as GqlError | undefined;
          if (e) onError?.(new ApiError(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR', e.message));
        },
        error: () => undefined,
        complete: () => undefined,
      },
    );
  }

  /** After sign-in or sign-out: a new connection with the new token. */
  reset() {
    const old = this.client;
    this.client = null;
    this.everConnected = false;
    this.busConnected = true;
    void old?.dispose();
    if (this.listeners.size > 0) this.ensure();
  }
}

export const live = new Live();

/** The token's claims, for showing who is signed in (the server checks the token itself). */
export function claimsOf(token: string | null): { sub?: string; roles?: string[]; exp?: number } | null {
  if (!token) return null;
  try {
    const part = token.split('.')[1] ?? '';
    return JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as { sub?: string; roles?: string[]; exp?: number };
  } catch {
    return null;
  }
}
