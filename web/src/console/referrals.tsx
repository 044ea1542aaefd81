import { type FormEvent, useState } from 'react';
import { REFERRER_TYPES } from '../../../src/domain/program.ts';
import { REFERRAL_STATUSES, type ReferralStatus } from '../../../src/domain/referral-lifecycle.ts';
import { consoleApi, formatDate, formatMoney, type ReferralFilter, type ReferralSummary, formatDateTime } from '../api.ts';
import { InternalLink, useLoad } from '../app.tsx';
import { navigate } from '../router.ts';
import { consolePath } from './route.ts';
import { ScrollArea } from './scroll-area.tsx';

/** A referral's status as the team reads it. */
export const STATUS_WORDS: Record<ReferralStatus, string> = {
  submitted: 'Submitted',
  claim_pending: 'Claim on an open deal awaiting a decision',
  accepted: 'Accepted',
  rejected: 'Rejected',
  contacted: 'Contacted',
  qualified: 'Qualified',
  in_sales_process: 'In the sales process',
  closed_won: 'Closed won',
  closed_lost: 'Closed lost',
  expired: 'Expired without a deal',
};

const words = (status: string) => STATUS_WORDS[status as ReferralStatus] ?? status.replaceAll('_', ' ');
const capitalized = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export const refereeName = (r: ReferralSummary) => [r.referee.firstName, r.referee.lastName].filter(Boolean).join(' ') || r.referee.email;

/**
 * The referrals, searched by name, email or company and filtered by status and referrer type, a page
 * at a time. The search lives in the URL; the page is keyed by it, so a new search starts afresh.
 */
export function ReferralsPage({ installationId, search }: { installationId: string; search: URLSearchParams }) {
  const filter: ReferralFilter = {
    q: search.get('q') ?? '',
    status: search.get('status') ?? '',
    referrerType: search.get('referrerType') ?? '',
  };
  // The cursors that led to this page, the last one its own; a new search remounts the page (its key).
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors.at(-1);
  const { data, error } = useLoad(
    async () => {
      const [list, referrers] = await Promise.all([
        consoleApi.referrals(installationId, filter, cursor),
        consoleApi.referrers(installationId),
      ]);
      return { ...list, referrers: new Map(referrers.items.map((r) => [r.id, r])) };
    },
    `${installationId}:${search}:${cursor ?? ''}`,
  );

  const [draft, setDraft] = useState(filter);
  const apply = (e: FormEvent) => {
    e.preventDefault();
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(draft)) if (value) query.set(key, value);
    navigate(`${consolePath(installationId, 'referrals')}${query.size ? `?${query}` : ''}`);
  };

  return (
    <>
      <search aria-label="Referrals">
        <form className="card filters" onSubmit={apply}>
          <div className="field">
            <label htmlFor="referral-search">Name, email or company</label>
            <input id="referral-search" type="search" value={draft.q} onChange={(e) => setDraft({ ...draft, q: e.target.value })} />
          </div>
          <div className="field">
            <label htmlFor="referral-status">Status</label>
            <select id="referral-status" value={draft.status} onChange={(e) => setDraft({ ...draft, status: e.target.value })}>
              <option value="">Any status</option>
              {REFERRAL_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {STATUS_WORDS[s]}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="referrer-type">Referrer type</label>
            <select id="referrer-type" value={draft.referrerType} onChange={(e) => setDraft({ ...draft, referrerType: e.target.value })}>
              <option value="">Any type</option>
              {REFERRER_TYPES.map((t) => (
                <option key={t} value={t}>
                  {capitalized(t)}
                </option>
              ))}
            </select>
          </div>
          <button type="submit">Search</button>
        </form>
      </search>
      {error && <p className="notice bad">The referrals could not be read: {error}</p>}
      {!error && !data && <p>Loading referrals…</p>}
      {data && data.items.length === 0 && <p>No referral matches this search.</p>}
      {data && data.items.length > 0 && (
        <ScrollArea label="Referrals table">
          <table>
            <caption className="muted">Referrals{cursors.length ? `, page ${cursors.length + 1}` : ''}, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Referred</th>
                <th scope="col">Company</th>
                <th scope="col">Referrer</th>
                <th scope="col">Status</th>
                <th scope="col">Submitted</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((r) => {
                const referrer = data.referrers.get(r.referrerId);
                return (
                  <tr key={r.id}>
                    <td>
                      <InternalLink href={consolePath(installationId, 'referrals', r.id)}>{refereeName(r)}</InternalLink>
                      <div className="muted">{r.referee.email}</div>
                    </td>
                    <td>{r.referee.company ?? '—'}</td>
                    <td>
                      {referrer?.name ?? r.referrerId}
                      {referrer && <div className="muted">{capitalized(referrer.type)}</div>}
                    </td>
                    <td className={`status-${r.status}`}>{words(r.status)}</td>
                    <td>{formatDate(r.submittedAt)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </ScrollArea>
      )}
      <div className="actions pager">
        {cursors.length > 0 && (
          <button type="button" className="secondary" onClick={() => setCursors(cursors.slice(0, -1))}>
            Previous page
          </button>
        )}
        {data?.nextCursor && (
          <button type="button" className="secondary" onClick={() => setCursors([...cursors, data.nextCursor!])}>
            Next page
          </button>
        )}
      </div>
    </>
  );
}

/** One referral: who, its status, its timeline and every decision's reasons, its attribution and rewards. */
export function ReferralPage({ installationId, referralId }: { installationId: string; referralId: string }) {
  const { data: r, error } = useLoad(() => consoleApi.referral(referralId), referralId);
  if (error) return <p className="notice bad">The referral could not be read: {error}</p>;
  if (!r) return <p>Loading the referral…</p>;
  return (
    <>
      <p>
        <InternalLink href={consolePath(installationId, 'referrals')}>All referrals</InternalLink>
      </p>
      <section className="card" aria-labelledby="referral-who">
        <h2 id="referral-who">
          {refereeName(r)}
          {r.referee.company && <span className="muted"> · {r.referee.company}</span>}
        </h2>
        <dl className="details">
          <dt>Status</dt>
          <dd className={`status status-${r.status}`}>{words(r.status)}</dd>
          <dt>Email</dt>
          <dd>{r.referee.email}</dd>
          <dt>Referred by</dt>
          <dd>
            {r.referrer.name} &lt;{r.referrer.email}&gt;, {r.referrer.type}
            {r.referrer.company ? ` at ${r.referrer.company}` : ''}
          </dd>
          <dt>Submitted</dt>
          <dd>{formatDateTime(r.submittedAt)}</dd>
          <dt>Why</dt>
          <dd>{r.reasons.join(' ') || '—'}</dd>
          <dt>Program</dt>
          <dd>
            Version {r.program.version}: {r.program.reason}.
          </dd>
          {r.claim && (
            <>
              <dt>Claim</dt>
              <dd>
                On deal {r.claim.dealId}: {r.claim.decision ?? `awaiting a decision until ${formatDate(r.claim.expiresAt)}`}
                {r.claim.reason ? ` (${r.claim.reason})` : ''}
              </dd>
            </>
          )}
        </dl>
      </section>
      <section className="card" aria-labelledby="referral-timeline">
        <h2 id="referral-timeline">Timeline</h2>
        <ol className="timeline">
          {r.timeline.map((step) => (
            <li key={`${step.to}-${step.at}`}>
              <time dateTime={step.at}>{formatDateTime(step.at)}</time> <strong>{words(step.to)}</strong>
              {step.from ? ` (from ${words(step.from).toLowerCase()})` : ''}
              {step.reasons.length > 0 && `: ${step.reasons.join(' ')}`}
            </li>
          ))}
        </ol>
      </section>
      <section className="card" aria-labelledby="referral-attribution">
        <h2 id="referral-attribution">Attribution</h2>
        {r.decisions.attribution.length === 0 ? (
          <p>No deal has been weighed for this referral yet.</p>
        ) : (
          <ul>
            {r.decisions.attribution.map((d) => (
              <li key={d.dealId}>
                {d.summary}
                {d.dealReasons.length > 0 && <span className="muted"> {d.dealReasons.join(' ')}</span>}
              </li>
            ))}
          </ul>
        )}
      </section>
      <section className="card" aria-labelledby="referral-rewards">
        <h2 id="referral-rewards">Rewards</h2>
        {r.decisions.rewards.length > 0 && (
          <ul>
            {r.decisions.rewards.map((d) => (
              <li key={`${d.milestone}-${d.dealId}-${d.at}`}>{d.summary}</li>
            ))}
          </ul>
        )}
        {r.rewards.length === 0 ? (
          <p>No reward has been earned yet.</p>
        ) : (
          <ScrollArea label="Rewards table">
            <table>
              <caption className="muted">Rewards of this referral</caption>
              <thead>
                <tr>
                  <th scope="col">For</th>
                  <th scope="col">Amount</th>
                  <th scope="col">Status</th>
                  <th scope="col">Due</th>
                  <th scope="col">Why</th>
                </tr>
              </thead>
              <tbody>
                {r.rewards.map((w) => (
                  <tr key={w.id}>
                    <td>{w.milestone.replaceAll('_', ' ')}</td>
                    <td>{formatMoney(w.netCents, w.currency)}</td>
                    <td>{w.status.replaceAll('_', ' ')}</td>
                    <td>{formatDate(w.dueDate)}</td>
                    <td className="wrap">{w.reasons.join(' ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollArea>
        )}
      </section>
    </>
  );
}
