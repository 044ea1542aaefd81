import { type FormEvent, useState } from 'react';
import { type AdminReward, consoleApi, formatDate, formatMoney } from '../api.ts';
import { useLoad } from '../app.tsx';

/**
 * Rewards waiting for approval, each approved or rejected with a reason (admins and finance), or
 * several at once: the selected ones approved, or rejected with one reason.
 */
export function ApprovalsPage({ installationId, csrf, canDecide }: { installationId: string; csrf: string; canDecide: boolean }) {
  const [version, setVersion] = useState(0);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [bulkReason, setBulkReason] = useState('');
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

  /** One call per reward (each its own audited decision); what failed is told by amount and why. */
  const decideSelected = async (action: 'approve' | 'reject') => {
    const chosen = (data?.rewards ?? []).filter((r) => selected.has(r.id));
    if (action === 'reject' && !bulkReason.trim()) {
      setMessage({ ok: false, text: 'Give one reason for rejecting the selected rewards: nothing was rejected.' });
      return;
    }
    const failures: string[] = [];
    for (const reward of chosen) {
      try {
        await (action === 'approve' ? consoleApi.approve(csrf, reward.id) : consoleApi.reject(csrf, reward.id, bulkReason));
      } catch (e) {
        failures.push(`${formatMoney(reward.netCents, reward.currency)}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    const done = chosen.length - failures.length;
    const verb = action === 'approve' ? 'approved' : 'rejected';
    setMessage({
      ok: failures.length === 0,
      text: `${done} ${done === 1 ? 'reward' : 'rewards'} ${verb}.${failures.length ? ` Not ${verb}: ${failures.join('; ')}` : ''}`,
    });
    setSelected(new Set());
    setBulkReason('');
    setVersion((v) => v + 1);
  };
  const toggle = (id: string, on: boolean) =>
    setSelected((current) => {
      const next = new Set(current);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });

  if (error) return <p className="notice bad">The rewards waiting for approval could not be read: {error}</p>;
  if (!data) return <p>Loading the rewards waiting for approval…</p>;
  const allSelected = data.rewards.length > 0 && data.rewards.every((r) => selected.has(r.id));
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
          {canDecide && data.rewards.length > 1 && (
            <section className="card bulk" aria-labelledby="bulk-heading">
              <h2 id="bulk-heading">Several at once</h2>
              <label className="choice">
                <input
                  type="checkbox"
                  checked={allSelected}
                  onChange={(e) => setSelected(new Set(e.target.checked ? data.rewards.map((r) => r.id) : []))}
                />
                Select all {data.rewards.length}
              </label>
              <div className="actions">
                <button type="button" disabled={selected.size === 0} onClick={() => decideSelected('approve')}>
                  Approve selected ({selected.size})
                </button>
              </div>
              <div className="field">
                <label htmlFor="bulk-reason">Reason for rejecting the selected</label>
                <input id="bulk-reason" value={bulkReason} onChange={(e) => setBulkReason(e.target.value)} />
              </div>
              <button type="button" className="secondary" disabled={selected.size === 0} onClick={() => decideSelected('reject')}>
                Reject selected ({selected.size})
              </button>
            </section>
          )}
          {data.rewards.map((reward) => (
            <RewardCard
              key={reward.id}
              reward={reward}
              referrer={data.names.get(reward.referrerId) ?? reward.referrerId}
              canDecide={canDecide}
              selected={selected.has(reward.id)}
              onSelect={(on) => toggle(reward.id, on)}
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
  selected: boolean;
  onSelect: (selected: boolean) => void;
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
          <label className="choice select">
            <input type="checkbox" checked={props.selected} onChange={(e) => props.onSelect(e.target.checked)} />
            Select {amount} for {props.referrer}
          </label>
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
