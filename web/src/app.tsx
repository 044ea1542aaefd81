import { type MouseEvent, type ReactNode, useCallback, useEffect, useState } from 'react';
import { ApiFailure, api, type Session } from './api.ts';
import { AskPage } from './pages/ask.tsx';
import { DetailsPage } from './pages/details.tsx';
import { LinkPage } from './pages/link.tsx';
import { ReferPage } from './pages/refer.tsx';
import { ReferralsPage } from './pages/referrals.tsx';
import { RewardsPage } from './pages/rewards.tsx';
import { SignInPage } from './pages/sign-in.tsx';
import { navigate, pathOf, type Route, useRoute } from './router.ts';

const PAGES = [
  ['referrals', 'My referrals'],
  ['refer', 'Refer someone'],
  ['rewards', 'My rewards'],
  ['details', 'My details'],
] as const;

const PUBLIC_PAGES = new Set(['sign-in', 'link']);

export function App() {
  const route = useRoute();
  if (!route)
    return <Shell title="Referrer portal">This address does not name a referral program. Use the link from one of our emails.</Shell>;
  if (route.page === 'sign-in') return <SignInPage installationId={route.installationId} />;
  if (route.page === 'link') return <LinkPage installationId={route.installationId} />;
  return <SignedIn route={route} />;
}

function SignedIn({ route }: { route: Route }) {
  const [session, setSession] = useState<Session | null>(null);
  const [programName, setProgramName] = useState('');
  const { installationId, page } = route;
  const returnTo = askQuery(route);

  useEffect(() => {
    let live = true;
    api
      .session()
      .then(async (s) => {
        if (s.installationId !== installationId || s.subject.kind !== 'referrer') throw new ApiFailure(401, 'another program');
        const me = await api.me(installationId);
        if (!live) return;
        setSession(s);
        setProgramName(me.program?.name ?? '');
      })
      // Signed in, they come back to the page they asked for when it is a referral ask's.
      .catch(() => live && navigate(`${pathOf(installationId, 'sign-in')}${returnTo}`));
    return () => {
      live = false;
    };
  }, [installationId, returnTo]);

  const signOut = useCallback(async () => {
    if (session) await api.signOut(session.csrfToken);
    navigate(pathOf(installationId, 'sign-in'));
  }, [session, installationId]);

  if (PUBLIC_PAGES.has(page)) return null;
  if (!session) return <Shell title="Referrer portal">Loading…</Shell>;
  const current = PAGES.find(([key]) => key === page);
  const askId = page === 'ask' ? route.item : null;
  return (
    <Shell title={askId ? 'Introduce your peers' : (current?.[1] ?? 'Not found')} program={programName}>
      <nav aria-label="Portal">
        <ul>
          {PAGES.map(([key, label]) => (
            <li key={key}>
              <InternalLink href={pathOf(installationId, key)} current={key === page}>
                {label}
              </InternalLink>
            </li>
          ))}
        </ul>
        <button type="button" className="link" onClick={signOut}>
          Sign out {session.subject.name}
        </button>
      </nav>
      {page === 'referrals' && <ReferralsPage installationId={installationId} />}
      {page === 'refer' && <ReferPage installationId={installationId} csrf={session.csrfToken} />}
      {page === 'rewards' && <RewardsPage installationId={installationId} />}
      {page === 'details' && <DetailsPage installationId={installationId} csrf={session.csrfToken} />}
      {askId && <AskPage installationId={installationId} askId={askId} csrf={session.csrfToken} />}
      {!current && !askId && <p>There is no such page.</p>}
    </Shell>
  );
}

function askQuery(route: Route): string {
  return route.page === 'ask' && route.item ? `?to=${encodeURIComponent(`ask/${route.item}`)}` : '';
}

export function Shell({ title, program, children }: { title: string; program?: string; children: ReactNode }) {
  useEffect(() => {
    document.title = `${title}${program ? ` · ${program}` : ''}`;
  }, [title, program]);
  return (
    <>
      <header>
        <p className="brand">{program || 'Referrer portal'}</p>
      </header>
      <main>
        <h1>{title}</h1>
        {children}
      </main>
    </>
  );
}

export function InternalLink({ href, current, children }: { href: string; current?: boolean; children: ReactNode }) {
  const onClick = (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    navigate(href);
  };
  return (
    <a href={href} onClick={onClick} aria-current={current ? 'page' : undefined}>
      {children}
    </a>
  );
}

/** Loads once per key; shows the error in words. */
export function useLoad<T>(load: () => Promise<T>, key: string): { data: T | null; error: string | null } {
  const [state, setState] = useState<{ data: T | null; error: string | null }>({ data: null, error: null });
  // biome-ignore lint/correctness/useExhaustiveDependencies: reloads when the key changes, not on every new closure
  useEffect(() => {
    let live = true;
    load().then(
      (data) => live && setState({ data, error: null }),
      (e: unknown) => live && setState({ data: null, error: e instanceof Error ? e.message : String(e) }),
    );
    return () => {
      live = false;
    };
  }, [key]);
  return state;
}
