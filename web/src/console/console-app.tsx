import { type FormEvent, lazy, Suspense, useCallback, useEffect, useState } from 'react';
import { api, consoleApi, type Session } from '../api.ts';
import { InternalLink, Shell } from '../app.tsx';
import { ApprovalsPage } from './approvals.tsx';
import { ClaimsSection } from './claims.tsx';
import { HomePage } from './home.tsx';
import { PayoutRunPage, PayoutsPage } from './payouts.tsx';
import { ReferralPage, ReferralsPage } from './referrals.tsx';
import { ReportsPage } from './reports.tsx';
import { consolePath, useConsoleRoute } from './route.ts';

// The program editor checks drafts with the API's own zod schema: its own chunk, so the portal and the
// other console pages do not load zod.
const ProgramPage = lazy(() => import('./program.tsx').then((m) => ({ default: m.ProgramPage })));

export { consoleInstallation } from './route.ts';

type State = { kind: 'loading' } | { kind: 'signed-out'; message?: string } | { kind: 'signed-in'; session: Session };

/**
 * The admin console of one installation: signed in (with the CRM, or by an invite's link whose
 * token rides in the URL fragment and is used by a deliberate click, so mail scanners do not use
 * it up), it shows the installation's health and what needs attention, its referrals, the rewards
 * waiting for approval and the payout runs.
 */
export function ConsoleApp({ installationId }: { installationId: string }) {
  const [state, setState] = useState<State>({ kind: 'loading' });
  const [token, setToken] = useState(() => {
    const value = window.location.hash.slice(1);
    if (value) window.history.replaceState(null, '', window.location.pathname);
    return value;
  });

  const load = useCallback(
    async (message?: string) => {
      try {
        const session = await api.session();
        const ours = session.subject.kind === 'user' && session.installationId === installationId;
        setState(ours ? { kind: 'signed-in', session } : { kind: 'signed-out', ...(message ? { message } : {}) });
      } catch {
        setState({ kind: 'signed-out', ...(message ? { message } : {}) });
      }
    },
    [installationId],
  );

  useEffect(() => {
    void load();
  }, [load]);

  const signInWithLink = async () => {
    try {
      await consoleApi.signInWithLink(installationId, token);
      setToken('');
      await load();
    } catch (e) {
      setToken('');
      await load(e instanceof Error ? e.message : String(e));
    }
  };

  const signOut = async () => {
    if (state.kind === 'signed-in') await api.signOut(state.session.csrfToken);
    await load();
  };

  if (state.kind === 'loading')
    return (
      <Shell title="Referloop console" program="Referloop console">
        Loading…
      </Shell>
    );
  if (state.kind === 'signed-out') {
    return (
      <Shell title="Sign in to the console" program="Referloop console">
        {state.message && (
          <p className="notice bad" role="alert">
            {state.message}
          </p>
        )}
        {token ? (
          <div className="card">
            <p>Continue to sign in to this referral program's console.</p>
            <button type="button" onClick={signInWithLink}>
              Sign in
            </button>
          </div>
        ) : (
          <div className="card">
            <p>Admins of the CRM account that installed Referloop sign in with it.</p>
            <p>
              <a href={`/console/${encodeURIComponent(installationId)}/sign-in`}>Sign in with your CRM account</a>
            </p>
          </div>
        )}
        {!token && <EmailLinkForm installationId={installationId} />}
      </Shell>
    );
  }
  return <SignedIn installationId={installationId} session={state.session} onSignOut={signOut} />;
}

const PAGES = [
  ['', 'Home'],
  ['referrals', 'Referrals'],
  ['approvals', 'Approvals'],
  ['payouts', 'Payouts'],
  ['reports', 'Reports'],
  ['program', 'Program'],
] as const;

/** The program is an admin's: the others' navigation leaves it out. */
const pagesFor = (role: string) => PAGES.filter(([key]) => key !== 'program' || role === 'admin');

function SignedIn({ installationId, session, onSignOut }: { installationId: string; session: Session; onSignOut: () => void }) {
  const route = useConsoleRoute();
  const account = session.installation?.accountName ?? session.installation?.accountId ?? installationId;
  const pages = pagesFor(session.role);
  const current = pages.find(([key]) => key === route.page);
  const csrf = session.csrfToken;
  const role = session.role;
  const title = !current ? 'Not found' : route.item ? (route.page === 'payouts' ? 'Payout run' : 'Referral') : current[1];
  return (
    <Shell title={title} program={`Referloop console · ${account}`}>
      <nav aria-label="Console">
        <ul>
          {pages.map(([key, label]) => (
            <li key={key}>
              <InternalLink href={consolePath(installationId, key)} current={key === route.page}>
                {label}
              </InternalLink>
            </li>
          ))}
        </ul>
        <button type="button" className="link" onClick={onSignOut}>
          Sign out {session.subject.email} ({role})
        </button>
      </nav>
      {route.page === '' && <HomePage installationId={installationId} csrf={csrf} role={role} />}
      {route.page === 'referrals' &&
        (route.item ? (
          <ReferralPage installationId={installationId} referralId={route.item} />
        ) : (
          <ReferralsPage key={route.search.toString()} installationId={installationId} search={route.search} />
        ))}
      {route.page === 'approvals' && (
        <>
          <ClaimsSection installationId={installationId} csrf={csrf} canDecide={role === 'admin'} />
          <ApprovalsPage installationId={installationId} csrf={csrf} canDecide={role !== 'viewer'} />
        </>
      )}
      {route.page === 'payouts' &&
        (route.item ? (
          <PayoutRunPage installationId={installationId} runId={route.item} csrf={csrf} canPay={role !== 'viewer'} />
        ) : (
          <PayoutsPage installationId={installationId} csrf={csrf} canPay={role !== 'viewer'} />
        ))}
      {route.page === 'reports' && <ReportsPage installationId={installationId} />}
      {route.page === 'program' && current && (
        <Suspense fallback={<p>Loading the program…</p>}>
          <ProgramPage installationId={installationId} csrf={csrf} programId={route.search.get('program')} />
        </Suspense>
      )}
      {!current && <p>There is no such page in the console.</p>}
    </Shell>
  );
}

/** Invited users sign in again with a link by email; the answer is the same for any address. */
function EmailLinkForm({ installationId }: { installationId: string }) {
  const [email, setEmail] = useState('');
  const [answer, setAnswer] = useState<{ ok: boolean; text: string } | null>(null);
  const send = async (e: FormEvent) => {
    e.preventDefault();
    try {
      setAnswer({ ok: true, text: (await consoleApi.requestLink(installationId, email)).message });
    } catch (err) {
      setAnswer({ ok: false, text: err instanceof Error ? err.message : String(err) });
    }
  };
  return (
    <form className="card" onSubmit={send}>
      <p>Invited by an admin? Your invitation email signs you in once; after that, ask for a link here.</p>
      <label htmlFor="console-email">Email</label>
      <input id="console-email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
      <button type="submit">Email me a sign-in link</button>
      <p className={answer ? `notice ${answer.ok ? 'ok' : 'bad'}` : undefined} role="status">
        {answer?.text}
      </p>
    </form>
  );
}
