import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api';
import { type OidcSettings, type SignInConfig, signInConfig } from '../sign-in-config';

/** The OpenID code (oauth4webapi) is fetched when it is needed, not with the first page. */
const oidc = () => import('../oidc');

import { ErrorText } from '../ui';

type SignedIn = (token: string, returnTo?: string, idToken?: string) => void;

/**
 * After this tab has forgotten its tokens: where the sign-out goes on. With an OpenID provider
 * that has an end_session_endpoint, to the provider (RP-initiated logout), which ends its own
 * session and sends the browser back to the signed-out page; otherwise straight to that page,
 * with what it should say.
 */
export async function signOutAtProvider(idToken: string | null): Promise<{ leaveTo: string } | { notice: string }> {
  const config = await signInConfig().catch(() => null);
  if (config?.signIn !== 'oidc') return { notice: SIGNED_OUT };
  const host = new URL(config.oidc.issuer).host;
  try {
    const leaveTo = await (await oidc()).endSessionUrl(config.oidc, idToken);
    if (leaveTo) return { leaveTo };
    return { notice: `${SIGNED_OUT} ${host} offers no sign-out, so it may sign you in again without asking.` };
  } catch {
    return { notice: `${SIGNED_OUT} ${host} did not answer, so it may sign you in again without asking.` };
  }
}

/** What the signed-out page says when there is nothing more to say. */
export const SIGNED_OUT = 'You are signed out.';

/**
 * Signing in as the service is configured (/console/config.json): with the OpenID provider
 * (authorization code + PKCE), or, in development with no provider, the development sign-in.
 */
export function SignInPage({
  onSignedIn,
  returnTo,
  notice,
}: {
  onSignedIn: SignedIn;
  returnTo: string;
  /** Said first (after a sign-out). */
  notice?: string | undefined;
}) {
  const [config, setConfig] = useState<SignInConfig | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    signInConfig().then(setConfig, setError);
  }, []);
  return (
    <section class="sign-in" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Sign in</h1>
      {notice && (
        <p role="status" data-testid="signed-out">
          {notice}
        </p>
      )}
      {config?.signIn === 'oidc' && <OidcSignIn settings={config.oidc} returnTo={returnTo} />}
      {config?.signIn === 'development' && <DevSignIn onSignedIn={onSignedIn} />}
      {config?.signIn === 'none' && (
        <p>
          This service has no sign-in page configured. Set OIDC_ISSUER and OIDC_CLIENT_ID to sign in with your identity provider
          (see the README, "Sign in").
        </p>
      )}
      <ErrorText error={error} />
    </section>
  );
}

function OidcSignIn({ settings, returnTo }: { settings: OidcSettings; returnTo: string }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const go = async () => {
    setError(null);
    setBusy(true);
    try {
      await (await oidc()).startSignIn(settings, returnTo);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <>
      <p>You sign in with your organisation's identity provider at {new URL(settings.issuer).host}.</p>
      <button type="button" class="primary" onClick={go} disabled={busy}>
        Sign in with {new URL(settings.issuer).host}
      </button>
      <ErrorText error={error} />
    </>
  );
}

/**
 * Development sign-in: POST /console/dev-token mints a token with the development secret. The
 * route exists only outside production and without an OpenID provider.
 */
function DevSignIn({ onSignedIn }: { onSignedIn: SignedIn }) {
  const [sub, setSub] = useState('alice');
  const [role, setRole] = useState('user');
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const res = await fetch('/console/dev-token', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sub, roles: [role] }),
      });
      if (res.status === 404 || res.status === 405) {
        throw new ApiError('FORBIDDEN', 'development sign-in is off on this service');
      }
      const body = (await res.json()) as { token?: string; error?: string };
      if (!res.ok || !body.token) throw new ApiError('BAD_USER_INPUT', body.error);
      onSignedIn(body.token);
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError('NETWORK'));
    }
  };
  return (
    <>
      <p>Development sign-in: a token signed with this service's development secret.</p>
      <form onSubmit={submit}>
        <label>
          User id <input name="sub" value={sub} onInput={(e) => setSub(e.currentTarget.value)} required />
        </label>
        <label>
          Role{' '}
          <select name="role" value={role} onChange={(e) => setRole(e.currentTarget.value)}>
            <option value="user">user</option>
            <option value="operator">operator</option>
            <option value="admin">admin</option>
          </select>
        </label>
        <button type="submit" class="primary">
          Sign in
        </button>
      </form>
      <ErrorText error={error} />
    </>
  );
}

/** /console/callback: where the identity provider sends the browser back with a code. */
export function CallbackPage({ onSignedIn }: { onSignedIn: SignedIn }) {
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let done = false;
    (async () => {
      const config = await signInConfig();
      if (config.signIn !== 'oidc')
        throw new ApiError('SIGN_IN_FAILED', 'this service does not sign in with an identity provider');
      const { token, idToken, returnTo } = await (await oidc()).finishSignIn(config.oidc);
      if (!done) onSignedIn(token, returnTo, idToken);
    })().catch((err: unknown) => {
      if (!done) setError(err);
    });
    return () => {
      done = true;
    };
  }, []);
  return (
    <section class="sign-in" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Signing in…</h1>
      <ErrorText error={error} />
      {error ? (
        <p>
          <a href="/console/">Back to sign-in</a>
        </p>
      ) : null}
    </section>
  );
}
