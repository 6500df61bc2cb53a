import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { auth, claimsOf, type LiveState, live } from './api';
import { AlertsPage, AuditPage, LimitsPage } from './pages/admin';
import { FleetPage, ServerPage } from './pages/fleet';
import { HostPage, HostsPage } from './pages/hosts';
import { PoolPage, PoolsPage } from './pages/pools';
import { SessionUsagePage } from './pages/session-usage';
import { SessionsPage } from './pages/sessions';
import { CallbackPage, SIGNED_OUT, SignInPage, signOutAtProvider } from './pages/sign-in';
import { navigate, onLinkClick, usePath } from './router';

function LiveIndicator() {
  const [state, setState] = useState<LiveState>(live.current);
  useEffect(() => live.onState((s) => setState(s)), []);
  const text = {
    live: 'Live',
    connecting: 'Connecting…',
    reconnecting: 'Reconnecting…',
    paused: 'Live updates paused — reconnecting to the event bus',
  }[state];
  return (
    <span class={`live live-${state}`} role="status" aria-live="polite" data-testid="live-indicator" data-state={state}>
      {text}
    </span>
  );
}

function App() {
  const path = usePath();
  const [token, setToken] = useState(() => {
    // An expired token is no sign-in: the page asks for a new one instead of failing every request.
    const exp = claimsOf(auth.token)?.exp;
    if (exp !== undefined && exp * 1000 <= Date.now()) auth.set(null);
    return auth.token;
  });
  const claims = claimsOf(token);
  const roles = claims?.roles ?? [];
  const isAdmin = roles.includes('admin');
  const isOperator = isAdmin || roles.includes('operator');
  const [signingOut, setSigningOut] = useState(false);
  const [signedOutNotice, setSignedOutNotice] = useState<string>();
  /** Forgets the tokens here first, then ends the provider's session too when there is one. */
  const signOut = async () => {
    const idToken = auth.idToken;
    auth.set(null);
    live.reset();
    setToken(null);
    setSigningOut(true);
    const next = await signOutAtProvider(idToken);
    if ('leaveTo' in next) {
      location.assign(next.leaveTo);
      return;
    }
    setSignedOutNotice(next.notice);
    setSigningOut(false);
    navigate('/signed-out');
  };
  const onSignedIn = (t: string, returnTo = '/', idToken?: string) => {
    auth.set(t, idToken);
    live.reset();
    setToken(t);
    // Only a path of this console: never a URL elsewhere taken from the round trip.
    const to = returnTo.startsWith('/') && !returnTo.startsWith('//') ? returnTo : '/';
    history.replaceState(null, '', `/console${to === '/' ? '/' : to}`);
    dispatchEvent(new Event('console:navigate'));
  };
  if (path === '/callback') {
    return (
      <main id="main">
        <CallbackPage onSignedIn={onSignedIn} />
      </main>
    );
  }
  if (signingOut) {
    return (
      <main id="main">
        <section class="sign-in" aria-labelledby="sign-in-title">
          <h1 id="sign-in-title">Signing out…</h1>
        </section>
      </main>
    );
  }
  if (!token || path === '/sign-in' || path === '/signed-out') {
    const signedOut = path === '/signed-out';
    return (
      <main id="main">
        <SignInPage
          onSignedIn={onSignedIn}
          returnTo={path === '/sign-in' || signedOut ? '/' : path}
          notice={signedOut ? (signedOutNotice ?? SIGNED_OUT) : undefined}
        />
      </main>
    );
  }
  let page = <FleetPage isOperator={isOperator} />;
  const server = /^\/servers\/([^/]+)$/.exec(path);
  const host = /^\/hosts\/([^/]+)$/.exec(path);
  const session = /^\/sessions\/([^/]+)$/.exec(path);
  const pool = /^\/pools\/([^/]+)$/.exec(path);
  if (server?.[1]) page = <ServerPage id={decodeURIComponent(server[1])} isOperator={isOperator} isAdmin={isAdmin} />;
  else if (host?.[1] && isOperator) page = <HostPage id={decodeURIComponent(host[1])} isAdmin={isAdmin} />;
  else if (path === '/hosts' && isOperator) page = <HostsPage />;
  else if (pool?.[1] && isOperator) page = <PoolPage id={decodeURIComponent(pool[1])} />;
  else if (path === '/pools' && isOperator) page = <PoolsPage />;
  else if (session?.[1]) page = <SessionUsagePage id={decodeURIComponent(session[1])} />;
  else if (path === '/sessions') page = <SessionsPage />;
  else if (path === '/alerts') page = <AlertsPage />;
  else if (path === '/audit' && isOperator) page = <AuditPage />;
  else if (path === '/limits' && isAdmin) page = <LimitsPage />;
  else if (path !== '/' && path !== '/fleet') page = <p>This page does not exist, or your role cannot open it.</p>;
  return (
    <>
      <header>
        <a class="brand" href="/console/">
          RDP Services Cluster
        </a>
        <nav aria-label="Main">
          <a href="/console/fleet">Fleet</a>
          {isOperator && <a href="/console/hosts">Hosts</a>}
          {isOperator && <a href="/console/pools">Pools</a>}
          <a href="/console/sessions">My desktops</a>
          <a href="/console/alerts">Alerts</a>
          {isOperator && <a href="/console/audit">Audit log</a>}
          {isAdmin && <a href="/console/limits">Limits</a>}
        </nav>
        <LiveIndicator />
        <span class="who">
          {claims?.sub} ({roles.join(', ')})
        </span>
        <button type="button" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <main id="main">{page}</main>
    </>
  );
}

const root = document.getElementById('app');
if (root) {
  root.addEventListener('click', onLinkClick);
  render(<App />, root);
}
