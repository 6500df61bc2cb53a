import { useState } from 'preact/hooks';
import { ApiError } from '../api';
import { ErrorText } from '../ui';

/**
 * Development sign-in: POST /console/dev-token mints a token with the development secret. The
 * route exists only outside production; there, the answer is 404 and this says so.
 */
export function SignInPage({ onSignedIn }: { onSignedIn: (token: string) => void }) {
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
      if (res.status === 404) throw new ApiError('FORBIDDEN', 'development sign-in is off on this service');
      const body = (await res.json()) as { token?: string; error?: string };
      if (!res.ok || !body.token) throw new ApiError('BAD_USER_INPUT', body.error);
      onSignedIn(body.token);
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError('NETWORK'));
    }
  };
  return (
    <section class="sign-in" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Sign in</h1>
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
    </section>
  );
}
