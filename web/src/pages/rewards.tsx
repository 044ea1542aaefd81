import { api, formatDate, formatMoney, type Reward } from '../api.ts';
import { useLoad } from '../app.tsx';

const COLUMNS = [
  ['pending', 'Pending'],
  ['approved', 'Approved'],
  ['payable', 'Payable'],
  ['paid', 'Paid'],
  ['reversed', 'Recovered'],
] as const;

export function RewardsPage({ installationId }: { installationId: string }) {
  const { data, error } = useLoad(() => api.rewards(installationId), installationId);
  if (error) return <p className="notice bad">{error}</p>;
  if (!data) return <p>Loading…</p>;
  if (data.items.length === 0) return <p>No rewards yet: they appear here when a referral earns one.</p>;
  // The payout column appears once a payout run has gathered one of the referrer's rewards.
  const inRuns = data.items.some((r) => r.payoutRun);
  return (
    <>
      <h2>Totals</h2>
      {data.totals.map((t) => (
        <section key={t.currency} className="card" aria-label={`Totals in ${t.currency}`}>
          <dl className="totals">
            {COLUMNS.map(([key, label]) => (
              <div key={key}>
                <dt>{label}</dt>
                <dd>{formatMoney(t[key], t.currency)}</dd>
              </div>
            ))}
          </dl>
        </section>
      ))}
      <h2 id="each-reward">Each reward</h2>
      <table aria-labelledby="each-reward">
        <thead>
          <tr>
            <th scope="col">Amount</th>
            <th scope="col">Status</th>
            <th scope="col">For</th>
            <th scope="col">Given as</th>
            <th scope="col">Due</th>
            {inRuns && <th scope="col">Payout run</th>}
          </tr>
        </thead>
        <tbody>
          {data.items.map((r) => (
            <tr key={r.id}>
              {/* Recognition carries no money: its amount is not a zero to read. */}
              <td>{r.recognitionMessage === undefined ? formatMoney(r.amountCents, r.currency) : '—'}</td>
              <td>{r.statusText}</td>
              <td>{r.forText}</td>
              <td title={r.recognitionMessage}>{r.givenAs}</td>
              <td>{formatDate(r.dueDate)}</td>
              {inRuns && <td>{r.payoutRun ? payoutRunText(r.payoutRun) : '—'}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** A run in the referrer's words: being prepared, sent for payment, or paid on a date with its reference. */
function payoutRunText(run: NonNullable<Reward['payoutRun']>): string {
  if (run.status === 'paid')
    return `Paid ${run.paidAt ? formatDate(run.paidAt) : ''}${run.reference ? `, reference ${run.reference}` : ''}`;
  return run.status === 'exported' || run.status === 'sent' ? 'Sent for payment' : 'In a payout being prepared';
}
