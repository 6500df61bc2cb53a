import { useEffect, useState } from 'preact/hooks';

/** Paths under /console/ (and / itself), with the History API: every page has its own URL. */
export function usePath(): string {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const update = () => setPath(currentPath());
    addEventListener('popstate', update);
    addEventListener('console:navigate', update);
    return () => {
      removeEventListener('popstate', update);
      removeEventListener('console:navigate', update);
    };
  }, []);
  return path;
}

function currentPath(): string {
  const p = location.pathname.replace(/^\/console/, '').replace(/\/+$/, '');
  return p === '' ? '/' : p;
}

export function navigate(to: string) {
  history.pushState(null, '', `/console${to === '/' ? '/' : to}`);
  dispatchEvent(new Event('console:navigate'));
}

/** Same-origin links go through the router; modified clicks open as the browser would. */
export function onLinkClick(e: MouseEvent) {
  const a = (e.target as Element | null)?.closest('a');
  if (!a || a.target || a.hasAttribute('download') || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith('/console')) return;
  e.preventDefault();
  navigate(url.pathname.replace(/^\/console/, '') || '/');
}
