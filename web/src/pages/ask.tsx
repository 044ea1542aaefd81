import { type FormEvent, useRef, useState } from 'react';
import { api, type Verdict } from '../api.ts';
import { useLoad } from '../app.tsx';

/** Each peer's verdict in words: the same checks as every other submission. */
const OUTCOME_WORDS: Record<Verdict['outcome'], string> = {
  accepted: 'Accepted: thank you!',
  claim_pending: 'Received: they already talk with us, so the team will review it',
  duplicate: 'Already referred',
  conflict: 'Not accepted',
  ineligible: 'Not accepted',
  choose_deal: 'Received: the team will look into it',
  invalid: 'Not accepted',
};

interface Peer {
  key: number;
  firstName: string;
  lastName: string;
  email: string;
  company: string;
  notes: string;
}

type Answer = { peer: Peer; verdict: Verdict } | { peer: Peer; error: string };

const blank = (key: number): Peer => ({ key, firstName: '', lastName: '', email: '', company: '', notes: '' });
const nameOf = (p: Peer) => [p.firstName, p.lastName].filter(Boolean).join(' ') || p.email;
const optional = (value: string) => (value.trim() === '' ? undefined : value.trim());

/**
 * The landing of a referral ask: thanks the customer by name, names the colleague who asked, and
 * takes one or several peers in one form. Each peer is submitted as its own referral, carrying the
 * ask, and gets its own verdict.
 */
export function AskPage({ installationId, askId, csrf }: { installationId: string; askId: string; csrf: string }) {
  const { data: ask, error: loadError } = useLoad(() => api.ask(installationId, askId), `${installationId}/${askId}`);
  const nextKey = useRef(1);
  const [peers, setPeers] = useState<Peer[]>([blank(0)]);
  const [answers, setAnswers] = useState<Answer[]>([]);
  const [busy, setBusy] = useState(false);

  if (loadError) return <p className="notice bad">{loadError}</p>;
  if (!ask) return <p>Loading…</p>;

  const change = (key: number, field: keyof Omit<Peer, 'key'>, value: string) =>
    setPeers((all) => all.map((p) => (p.key === key ? { ...p, [field]: value } : p)));
  const add = () => setPeers((all) => [...all, blank(nextKey.current++)]);
  const remove = (key: number) => setPeers((all) => all.filter((p) => p.key !== key));

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setBusy(true);
    const done: Answer[] = [];
    // One after another: a peer named twice in the form is then told as a duplicate, not raced.
    for (const peer of peers) {
      try {
        const verdict = await api.refer(installationId, csrf, {
          referee: {
            email: peer.email.trim(),
            firstName: optional(peer.firstName),
            lastName: optional(peer.lastName),
            company: optional(peer.company),
          },
          notes: optional(peer.notes),
          askId,
        });
        done.push({ peer, verdict });
      } catch (failure) {
        done.push({ peer, error: failure instanceof Error ? failure.message : String(failure) });
      }
    }
    setAnswers(done);
    setPeers([blank(nextKey.current++)]);
    setBusy(false);
  }

  return (
    <>
      <p className="lead">Thank you, {ask.referrerName}!</p>
      <p>
        {ask.askedBy.name} asked whether you would introduce us to peers who could benefit as {ask.accountName ?? 'your team'} has. Add one
        or several people below; we check each right away and keep you posted.
      </p>
      {ask.message && (
        <figure className="card quote">
          <blockquote>{ask.message}</blockquote>
          <figcaption>{ask.askedBy.name}</figcaption>
        </figure>
      )}
      <form onSubmit={submit} aria-label="Refer your peers">
        {peers.map((peer, i) => (
          <fieldset key={peer.key} className="card peer">
            <legend>Peer {i + 1}</legend>
            <PeerField peer={peer} field="firstName" label="First name" onChange={change} />
            <PeerField peer={peer} field="lastName" label="Last name" onChange={change} />
            <PeerField peer={peer} field="email" label="Work email" type="email" required onChange={change} />
            <PeerField peer={peer} field="company" label="Company (optional)" onChange={change} />
            <PeerField peer={peer} field="notes" label="Note for our team (optional)" onChange={change} />
            {peers.length > 1 && (
              <button type="button" className="secondary" onClick={() => remove(peer.key)}>
                Remove peer {i + 1}
              </button>
            )}
          </fieldset>
        ))}
        <div className="actions">
          <button type="button" className="secondary" onClick={add}>
            Add another peer
          </button>
          <button type="submit" disabled={busy}>
            {peers.length === 1 ? 'Send referral' : `Send ${peers.length} referrals`}
          </button>
        </div>
      </form>
      <div role="status" aria-live="polite">
        {answers.length > 0 && (
          <ul className="cards" aria-label="Your referrals from this page">
            {answers.map((a) => (
              <li
                key={a.peer.key}
                className={`notice ${'verdict' in a && ['accepted', 'claim_pending'].includes(a.verdict.outcome) ? 'ok' : 'bad'}`}
              >
                <p className="verdict">
                  {nameOf(a.peer)}: {'verdict' in a ? OUTCOME_WORDS[a.verdict.outcome] : 'Not sent'}
                </p>
                {'verdict' in a ? (
                  a.verdict.reasons.length > 0 && (
                    <ul>
                      {a.verdict.reasons.map((reason) => (
                        <li key={reason}>{reason}</li>
                      ))}
                    </ul>
                  )
                ) : (
                  <p>{a.error}</p>
                )}
              </li>
            ))}
          </ul>
        )}
      </div>
    </>
  );
}

function PeerField({
  peer,
  field,
  label,
  type = 'text',
  required = false,
  onChange,
}: {
  peer: Peer;
  field: keyof Omit<Peer, 'key'>;
  label: string;
  type?: string;
  required?: boolean;
  onChange: (key: number, field: keyof Omit<Peer, 'key'>, value: string) => void;
}) {
  const id = `peer-${peer.key}-${field}`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type={type}
        required={required}
        autoComplete="off"
        maxLength={field === 'notes' ? 5000 : field === 'company' ? 200 : field === 'email' ? 254 : 100}
        value={peer[field]}
        onChange={(e) => onChange(peer.key, field, e.target.value)}
      />
    </div>
  );
}
