import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { api, consoleApi, type Session } from '../api.ts';
import { Shell } from '../app.tsx';
import { ApprovalsPage } from './approvals.tsx';

/** `/console/<installationId>`: the URL names the installation the console runs. */
export function consoleInstallation(pathname: string): string | null {
  const match = /^\/console\/([^/]+)/.exec(pathname);
  return match ? decodeURIComponent(match[1]!) : null;
}

type State = { kind: 'loading' } | { kind: 'signed-out'; message?: string } | { kind: 'signed-in'; session: Session };

/**
 * The admin console of one installation: signed in (with the CRM, or by an invite's link whose
 * token rides in the URL fragment and is used by a deliberate click, so mail scanners do not use
 * it up), it shows the rewards waiting for approval.
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
  const { session } = state;
  const account = session.installation?.accountName ?? session.installation?.accountId ?? installationId;
  return (
    <Shell title="Approvals" program={`Referloop console · ${account}`}>
      <nav aria-label="Console">
        <ul>
          <li>
            <a href={window.location.pathname} aria-current="page">
              Approvals
            </a>
          </li>
        </ul>
        <button type="button" className="link" onClick={signOut}>
          Sign out {session.subject.email} ({session.role})
        </button>
      </nav>
      <ApprovalsPage installationId={installationId} csrf={session.csrfToken} canDecide={session.role !== 'viewer'} />
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
