import { type FormEvent, useState } from 'react';
import { type AdminReward, consoleApi, formatDate, formatMoney } from '../api.ts';
import { useLoad } from '../app.tsx';

/** Rewards waiting for approval, each approved or rejected with a reason (admins and finance). */
export function ApprovalsPage({ installationId, csrf, canDecide }: { installationId: string; csrf: string; canDecide: boolean }) {
  const [version, setVersion] = useState(0);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const { data, error } = useLoad(async () => {
    const [rewards, referrers] = await Promise.all([consoleApi.pendingRewards(installationId), consoleApi.referrers(installationId)]);
    return { rewards: rewards.items, names: new Map(referrers.items.map((r) => [r.id, `${r.name} <${r.email}>`])) };
  }, `${installationId}:${version}`);

  const decide = async (reward: AdminReward, decision: () => Promise<AdminReward>, done: string) => {
    try {
      await decision();
      setMessage({ ok: true, text: `${formatMoney(reward.netCents, reward.currency)} reward ${done}.` });
      setVersion((v) => v + 1);
    } catch (e) {
      setMessage({ ok: false, text: e instanceof Error ? e.message : String(e) });
    }
  };

  if (error) return <p className="notice bad">{error}</p>;
  if (!data) return <p>Loading…</p>;
  return (
    <>
      <p className={message ? `notice ${message.ok ? 'ok' : 'bad'}` : undefined} role="status">
        {message?.text}
      </p>
      {!canDecide && <p className="muted">You can see what waits for approval; approving and rejecting need the admin or finance role.</p>}
      {data.rewards.length === 0 ? (
        <p>No rewards are waiting for approval.</p>
      ) : (
        <div className="cards">
          {data.rewards.map((reward) => (
            <RewardCard
              key={reward.id}
              reward={reward}
              referrer={data.names.get(reward.referrerId) ?? reward.referrerId}
              canDecide={canDecide}
              onApprove={() => decide(reward, () => consoleApi.approve(csrf, reward.id), 'approved')}
              onReject={(reason) => decide(reward, () => consoleApi.reject(csrf, reward.id, reason), 'rejected')}
            />
          ))}
        </div>
      )}
    </>
  );
}

function RewardCard(props: {
  reward: AdminReward;
  referrer: string;
  canDecide: boolean;
  onApprove: () => void;
  onReject: (reason: string) => void;
}) {
  const { reward } = props;
  const [reason, setReason] = useState('');
  const amount = formatMoney(reward.netCents, reward.currency);
  const reject = (e: FormEvent) => {
    e.preventDefault();
    props.onReject(reason);
  };
  return (
    <section className="card" aria-label={`${amount} reward for ${props.referrer}`}>
      <h2>{amount}</h2>
      <dl className="details">
        <dt>Referrer</dt>
        <dd>{props.referrer}</dd>
        <dt>For</dt>
        <dd>{reward.milestone.replaceAll('_', ' ')}</dd>
        <dt>Due</dt>
        <dd>{formatDate(reward.dueDate)}</dd>
        <dt>Why</dt>
        <dd>{reward.reasons.join(' ')}</dd>
      </dl>
      {props.canDecide && (
        <>
          <button type="button" onClick={props.onApprove}>
            Approve
          </button>
          <form onSubmit={reject} className="reject">
            <label htmlFor={`reason-${reward.id}`}>Reason for rejecting</label>
            <input id={`reason-${reward.id}`} value={reason} onChange={(e) => setReason(e.target.value)} />
            <button type="submit" className="secondary">
              Reject
            </button>
          </form>
        </>
      )}
    </section>
  );
}
