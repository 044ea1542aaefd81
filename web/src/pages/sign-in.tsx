import { type FormEvent, useState } from 'react';
import { api } from '../api.ts';
import { Shell } from '../app.tsx';

/** Asks for a sign-in link by email; the answer is the same whether the email is known or not. */
export function SignInPage({ installationId }: { installationId: string }) {
  const [email, setEmail] = useState('');
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  // The page the link should open (a referral ask's), kept from a link that expired or a page that needed a session.
  const [landing] = useState(() => new URLSearchParams(window.location.search).get('to') ?? undefined);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    try {
      const answer = await api.requestLink(installationId, email, landing);
      setMessage({ ok: true, text: `${answer.message} Check your inbox: the link works once, for a short time.` });
    } catch (error) {
      setMessage({ ok: false, text: error instanceof Error ? error.message : String(error) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <Shell title="Sign in">
      <p>Enter the email you refer with. We will email you a link that signs you in.</p>
      <form onSubmit={submit} className="card">
        <label htmlFor="email">Email</label>
        <input id="email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        <button type="submit" disabled={busy}>
          Email me a sign-in link
        </button>
      </form>
      {message && (
        <p role="status" className={message.ok ? 'notice ok' : 'notice bad'}>
          {message.text}
        </p>
      )}
    </Shell>
  );
}
