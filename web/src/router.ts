import { useEffect, useState } from 'react';

/**
 * `/portal/<installationId>/<page>[/<item>]`: the URL names the installation, since one email can
 * refer in several; `item` names what a page shows (the ask of `ask/<askId>`).
 */
export interface Route {
  installationId: string;
  page: string;
  item: string | null;
}

export function parseRoute(pathname: string): Route | null {
  const match = /^\/portal\/([^/]+)\/?([^/]*)\/?([^/]*)/.exec(pathname);
  if (!match) return null;
  return {
    installationId: decodeURIComponent(match[1]!),
    page: match[2] || 'referrals',
    item: match[3] ? decodeURIComponent(match[3]) : null,
  };
}

export const pathOf = (installationId: string, page: string) => `/portal/${encodeURIComponent(installationId)}/${page}`;

export function navigate(path: string): void {
  window.history.pushState(null, '', path);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

export function useRoute(): Route | null {
  const [route, setRoute] = useState(() => parseRoute(window.location.pathname));
  useEffect(() => {
    const update = () => setRoute(parseRoute(window.location.pathname));
    window.addEventListener('popstate', update);
    return () => window.removeEventListener('popstate', update);
  }, []);
  return route;
}
