import { useEffect, useState } from 'react';

/**
 * `/console/<installationId>[/<page>[/<item>]][?query]`: the URL names the installation the console
 * runs, the page, what the page shows (a referral, a payout run), and a list's search.
 */
export interface ConsoleRoute {
  page: string;
  item: string | null;
  search: URLSearchParams;
}

export function consoleInstallation(pathname: string): string | null {
  const match = /^\/console\/([^/]+)/.exec(pathname);
  return match ? decodeURIComponent(match[1]!) : null;
}

export function parseConsoleRoute(pathname: string, search: string): ConsoleRoute {
  const match = /^\/console\/[^/]+\/?([^/]*)\/?([^/]*)/.exec(pathname);
  return { page: match?.[1] ?? '', item: match?.[2] ? decodeURIComponent(match[2]) : null, search: new URLSearchParams(search) };
}

export const consolePath = (installationId: string, page: string, item?: string) =>
  `/console/${encodeURIComponent(installationId)}${page ? `/${page}` : ''}${item ? `/${encodeURIComponent(item)}` : ''}`;

export function useConsoleRoute(): ConsoleRoute {
  const read = () => parseConsoleRoute(window.location.pathname, window.location.search);
  const [route, setRoute] = useState(read);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `read` only reads the location
  useEffect(() => {
    const update = () => setRoute(read());
    window.addEventListener('popstate', update);
    return () => window.removeEventListener('popstate', update);
  }, []);
  return route;
}
