import { type FormEvent, useState } from 'react';
import { consoleApi, formatDate, type ReferralSummary } from '../api.ts';
import { InternalLink, useLoad } from '../app.tsx';
import { refereeName } from './referrals.tsx';
import { consolePath } from './route.ts';

/**
 * Referrals claiming a deal that was already open, waiting for an admin's decision: approved (the
 * referral is credited for the deal) or rejected with a reason. Finance and viewers see them.
 */
export function ClaimsSection({ installationId, csrf, canDecide }: { installationId: string; csrf: string; canDecide: boolean }) {
  const [version, setVersion] = useState(0);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const { data, error } = useLoad(() => consoleApi.referrals(installationId, { status: 'claim_pending' }), `${installationId}:${version}`);

  const decide = async (claim: ReferralSummary, decision: () => Promise<{ reasons: string[] }>, done: string) => {
    try {
      const answer = await decision();
      setMessage({ ok: true, text: `The claim for ${refereeName(claim)} is ${done}. ${answer.reasons.join(' ')}` });
      setVersion((v) => v + 1);
    } catch (e) {
      setMessage({ ok: false, text: e instanceof Error ? e.message : String(e) });
    }
  };

  return (
    <section className="card" aria-labelledby="claims-heading">
      <h2 id="claims-heading">Claims on open deals</h2>
      <p className={message ? `notice ${message.ok ? 'ok' : 'bad'}` : undefined} role="status">
        {message?.text}
      </p>
      {error && <p className="notice bad">The claims could not be read: {error}</p>}
      {!error && !data && <p>Loading the claims…</p>}
      {data && data.items.length === 0 && <p>No claim is waiting for a decision.</p>}
      {data && data.items.length > 0 && !canDecide && <p className="muted">Claims are decided by the installation's admins.</p>}
      {data?.items.map((claim) => (
        <ClaimItem
          key={claim.id}
          installationId={installationId}
          claim={claim}
          canDecide={canDecide}
          onApprove={() => decide(claim, () => consoleApi.approveClaim(csrf, claim.id), 'approved')}
          onReject={(reason) => decide(claim, () => consoleApi.rejectClaim(csrf, claim.id, reason), 'rejected')}
        />
      ))}
    </section>
  );
}

function ClaimItem(props: {
  installationId: string;
  claim: ReferralSummary;
  canDecide: boolean;
  onApprove: () => void;
  onReject: (reason: string) => void;
}) {
  const { claim } = props;
  const [reason, setReason] = useState('');
  const name = refereeName(claim);
  const reject = (e: FormEvent) => {
    e.preventDefault();
    props.onReject(reason);
  };
  return (
    <article className="claim" aria-label={`Claim for ${name}`}>
      <h3>
        <InternalLink href={consolePath(props.installationId, 'referrals', claim.id)}>{name}</InternalLink>
        {claim.referee.company && <span className="muted"> · {claim.referee.company}</span>}
      </h3>
      <p>{claim.reasons.join(' ')}</p>
      <p className="muted">Referred on {formatDate(claim.submittedAt)}</p>
      {props.canDecide && (
        <>
          <button type="button" onClick={props.onApprove}>
            Approve claim
          </button>
          <form onSubmit={reject} className="reject">
            <label htmlFor={`claim-reason-${claim.id}`}>Reason for rejecting the claim</label>
            <input id={`claim-reason-${claim.id}`} value={reason} onChange={(e) => setReason(e.target.value)} />
            <button type="submit" className="secondary">
              Reject claim
            </button>
          </form>
        </>
      )}
    </article>
  );
}
