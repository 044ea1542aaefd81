import { type FormEvent, useState } from 'react';
import { api, type Verdict } from '../api.ts';
import { useLoad } from '../app.tsx';

const HEADLINES: Record<Verdict['outcome'], string> = {
  accepted: 'Thank you! Your referral was received.',
  claim_pending: 'Thank you! They are already talking with us, so the team will review your claim.',
  duplicate: 'This person was already referred.',
  conflict: 'We cannot accept this referral.',
  ineligible: 'We cannot accept this referral.',
  choose_deal: 'The team will look into this referral.',
  invalid: 'We cannot accept this referral.',
};

/** The submission form; the verdict comes from the same checks as every other submission. */
export function ReferPage({ installationId, csrf }: { installationId: string; csrf: string }) {
  const [verdict, setVerdict] = useState<Verdict | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [accepted, setAccepted] = useState(false);
  const me = useLoad(() => api.me(installationId), installationId).data;
  const mustAccept = me?.agreement.required && !me.agreement.acceptedAt && !accepted;

  async function accept() {
    try {
      await api.acceptAgreement(installationId, csrf);
      setAccepted(true);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    }
  }

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const text = (name: string) => {
      const value = String(form.get(name) ?? '').trim();
      return value === '' ? undefined : value;
    };
    setBusy(true);
    setError(null);
    setVerdict(null);
    try {
      const answer = await api.refer(installationId, csrf, {
        referee: { email: text('email'), firstName: text('firstName'), lastName: text('lastName'), company: text('company') },
        notes: text('notes'),
        programId: text('programId'),
      });
      setVerdict(answer);
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <p>Introduce someone who could use our product. We check it right away and tell you what happens.</p>
      {mustAccept && (
        <div className="notice">
          <p>{me?.program?.name ?? 'This program'} asks you to accept its referral agreement before you refer anyone.</p>
          <button type="button" onClick={() => void accept()}>
            I accept the referral agreement
          </button>
        </div>
      )}
      <form onSubmit={submit} className="card grid">
        <label htmlFor="firstName">First name</label>
        <input id="firstName" name="firstName" autoComplete="off" maxLength={100} />
        <label htmlFor="lastName">Last name</label>
        <input id="lastName" name="lastName" autoComplete="off" maxLength={100} />
        <label htmlFor="refereeEmail">Their work email</label>
        <input id="refereeEmail" name="email" type="email" required autoComplete="off" />
        <label htmlFor="company">Company</label>
        <input id="company" name="company" autoComplete="off" maxLength={200} />
        <label htmlFor="notes">Anything we should know</label>
        <textarea id="notes" name="notes" rows={3} maxLength={5000} />
        {/* A referrer in several programs (a customer who is also a partner) says which one this referral is for. */}
        {me && me.programs.length > 1 && (
          <>
            <label htmlFor="program">Program</label>
            <select id="program" name="programId" defaultValue={me.programs[0]!.id}>
              {me.programs.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </>
        )}
        <button type="submit" disabled={busy}>
          Send referral
        </button>
      </form>
      <div role="status" aria-live="polite">
        {verdict && (
          <div className={`notice ${verdict.outcome === 'accepted' || verdict.outcome === 'claim_pending' ? 'ok' : 'bad'}`}>
            <p className="verdict">{HEADLINES[verdict.outcome]}</p>
            {verdict.reasons.length > 0 && (
              <ul>
                {verdict.reasons.map((reason) => (
                  <li key={reason}>{reason}</li>
                ))}
              </ul>
            )}
          </div>
        )}
        {error && <p className="notice bad">{error}</p>}
      </div>
    </>
  );
}
