import { useState } from 'react';
import { Shell } from '../app.tsx';
import { pathOf } from '../router.ts';

/**
 * The emailed link lands here with its token in the fragment (never sent to a server by a mail
 * scanner's fetch). Signing in is a deliberate click that posts it.
 */
export function LinkPage({ installationId }: { installationId: string }) {
  // The page to land on once signed in (a referral ask's); the server accepts only portal pages.
  const [landing] = useState(() => new URLSearchParams(window.location.search).get('to'));
  const [token] = useState(() => {
    const value = window.location.hash.slice(1);
    window.history.replaceState(null, '', window.location.pathname);
    return value;
  });
  return (
    <Shell title="Sign in">
      {token ? (
        <form method="post" action={pathOf(installationId, 'link')} className="card">
          <p>Welcome back. Continue to see your referrals and rewards.</p>
          <input type="hidden" name="token" value={token} />
          {landing && <input type="hidden" name="to" value={landing} />}
          <button type="submit">Sign in</button>
        </form>
      ) : (
        <p>
          This link has no sign-in code. <a href={pathOf(installationId, 'sign-in')}>Send me a fresh link</a>.
        </p>
      )}
    </Shell>
  );
}
