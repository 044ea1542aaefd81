import { type FormEvent, useState } from 'react';
import { REFERRER_TYPES } from '../../../src/domain/program.ts';
import { consoleApi, formatDate, formatDateTime, formatMoney, type Report, type ReportQuery } from '../api.ts';
import { useLoad } from '../app.tsx';
import { ScrollArea } from './scroll-area.tsx';

const STEP_WORDS: Record<string, string> = {
  submitted: 'Submitted',
  accepted: 'Accepted',
  contacted: 'Contacted',
  qualified: 'Qualified',
  in_sales_process: 'In sales',
  closed_won: 'Won',
};
const capitalized = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const percent = (value: number | null) => (value === null ? '—' : `${(value * 100).toFixed(1).replace(/\.0$/, '')}%`);
const days = (value: number | null) => (value === null ? '—' : `${Math.round(value * 10) / 10} days`);
const dayOffset = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString().slice(0, 10);
const periodLabel = (start: string, granularity: Report['granularity']) =>
  granularity === 'month'
    ? new Date(`${start}T00:00:00Z`).toLocaleDateString('en', { month: 'short', year: 'numeric', timeZone: 'UTC' })
    : `Week of ${formatDate(`${start}T12:00:00Z`)}`;

/** The programs' numbers for a period, filtered by referrer type, pipeline and program, drawn from `GET /api/v1/reports`. */
export function ReportsPage({ installationId }: { installationId: string }) {
  const [query, setQuery] = useState<ReportQuery>(() => ({
    from: dayOffset(-179),
    to: dayOffset(0),
    granularity: 'month',
    referrerType: '',
    pipeline: '',
    programId: '',
  }));
  const [draft, setDraft] = useState(query);
  const { data, error } = useLoad(() => consoleApi.report(installationId, query), JSON.stringify(query));
  // The pipelines' labels come from the CRM; without them the filter offers every pipeline only.
  const pipelines = useLoad(() => consoleApi.pipelines(installationId), installationId);
  const programs = useLoad(() => consoleApi.programs(installationId), `programs:${installationId}`);

  const apply = (e: FormEvent) => {
    e.preventDefault();
    setQuery(draft);
  };
  return (
    <>
      <search aria-label="Report period and filters">
        <form className="card report-filters" onSubmit={apply}>
          <div className="field">
            <label htmlFor="report-from">From</label>
            <input
              id="report-from"
              type="date"
              required
              value={draft.from}
              onChange={(e) => setDraft({ ...draft, from: e.target.value })}
            />
          </div>
          <div className="field">
            <label htmlFor="report-to">To</label>
            <input id="report-to" type="date" required value={draft.to} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />
          </div>
          <div className="field">
            <label htmlFor="report-granularity">Bars per</label>
            <select
              id="report-granularity"
              value={draft.granularity}
              onChange={(e) => setDraft({ ...draft, granularity: e.target.value as ReportQuery['granularity'] })}
            >
              <option value="month">Month</option>
              <option value="week">Week</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor="report-referrer-type">Referrer type</label>
            <select
              id="report-referrer-type"
              value={draft.referrerType}
              onChange={(e) => setDraft({ ...draft, referrerType: e.target.value })}
            >
              <option value="">Any type</option>
              {REFERRER_TYPES.map((t) => (
                <option key={t} value={t}>
                  {capitalized(t)}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="report-pipeline">Pipeline</label>
            <select id="report-pipeline" value={draft.pipeline} onChange={(e) => setDraft({ ...draft, pipeline: e.target.value })}>
              <option value="">Any pipeline</option>
              {(pipelines.data?.pipelines ?? []).map((p) => (
                <option key={p.id} value={p.id}>
                  {p.label}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="report-program">Program</label>
            <select id="report-program" value={draft.programId} onChange={(e) => setDraft({ ...draft, programId: e.target.value })}>
              <option value="">Every program</option>
              {(programs.data?.items ?? []).map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </div>
          <button type="submit">Show</button>
        </form>
      </search>
      {error && (
        <p className="notice bad" role="alert">
          The report could not be read: {error}
        </p>
      )}
      {!error && !data && <p>Loading the report…</p>}
      {data && <ReportView report={data} />}
    </>
  );
}

function ReportView({ report }: { report: Report }) {
  const { timeToClose, referralRate } = report;
  const money = (amounts: { currency: string; cents: number }[]) =>
    amounts.length ? amounts.map((a) => formatMoney(a.cents, a.currency)).join(' + ') : 'None yet';
  return (
    <>
      <section className="card" aria-labelledby="headline">
        <h2 id="headline">
          {formatDate(`${report.from}T12:00:00Z`)} – {formatDate(`${report.to}T12:00:00Z`)}
        </h2>
        <dl className="stats">
          <div>
            <dt>Referrals</dt>
            <dd data-stat="referrals">{report.referrals}</dd>
          </div>
          <div>
            <dt>Won</dt>
            <dd data-stat="won">{report.won}</dd>
          </div>
          <div>
            <dt>Conversion rate</dt>
            <dd data-stat="conversion">{percent(report.conversionRate)}</dd>
          </div>
          <div>
            <dt>Revenue attributed</dt>
            <dd data-stat="revenue">{money(report.revenueAttributed.map((r) => ({ currency: r.currency, cents: r.amountCents })))}</dd>
          </div>
          <div>
            <dt>Time to close, referred</dt>
            <dd data-stat="referred-days">{days(timeToClose.referredMedianDays)}</dd>
          </div>
          <div>
            <dt>Time to close, other deals</dt>
            <dd data-stat="other-days">{days(timeToClose.otherMedianDays)}</dd>
          </div>
          <div>
            <dt>Referral rate</dt>
            <dd data-stat="referral-rate">
              {percent(referralRate.rate)}
              {referralRate.customerAccounts !== null && (
                <span className="muted">
                  {' '}
                  ({referralRate.referringAccounts} referring of {referralRate.customerAccounts} customer accounts)
                </span>
              )}
            </dd>
          </div>
          <div>
            <dt>Asks sent / referrals from asks</dt>
            <dd data-stat="asks">
              {report.asks.sent} / {report.asks.referralsFromAsks}
            </dd>
          </div>
        </dl>
        <p className="muted">
          Medians are over {timeToClose.referredDeals} referred and {timeToClose.otherDeals ?? 'no'} other won deals; programs aim at a 2–5%
          referral rate.
          {timeToClose.asOf && ` CRM numbers read ${formatDateTime(timeToClose.asOf)}.`}
        </p>
        {[timeToClose.limitation, referralRate.limitation]
          .filter((l): l is string => l !== null)
          .map((limitation) => (
            <p key={limitation} className="notice bad">
              {capitalized(limitation)}.
            </p>
          ))}
      </section>
      <ReferralsOverTime report={report} />
      <Funnel report={report} />
      <section className="card" aria-labelledby="rewards-heading">
        <h2 id="rewards-heading">Rewards of these referrals</h2>
        {report.rewards.length === 0 ? (
          <p>No rewards yet.</p>
        ) : (
          <ScrollArea label="Rewards by currency">
            <table>
              <thead>
                <tr>
                  <th scope="col">Currency</th>
                  <th scope="col">Pending</th>
                  <th scope="col">Approved</th>
                  <th scope="col">Paid</th>
                </tr>
              </thead>
              <tbody>
                {report.rewards.map((r) => (
                  <tr key={r.currency}>
                    <th scope="row">{r.currency}</th>
                    <td>{formatMoney(r.pendingCents, r.currency)}</td>
                    <td>{formatMoney(r.approvedCents, r.currency)}</td>
                    <td>{formatMoney(r.paidCents, r.currency)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </ScrollArea>
        )}
      </section>
      <section className="card" aria-labelledby="top-heading">
        <h2 id="top-heading">Top referrers</h2>
        {report.topReferrers.length === 0 ? (
          <p>No referrals in this period.</p>
        ) : (
          <ScrollArea label="Top referrers">
            <table>
              <thead>
                <tr>
                  <th scope="col">Referrer</th>
                  <th scope="col">Type</th>
                  <th scope="col">Referrals</th>
                  <th scope="col">Won</th>
                </tr>
              </thead>
              <tbody>
                {report.topReferrers.map((r) => (
                  <tr key={r.referrerId}>
                    <th scope="row">{r.name}</th>
                    <td>{capitalized(r.type)}</td>
                    <td>{r.referrals}</td>
                    <td>{r.won}</td>
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

const CHART_WIDTH = 600;
const CHART_HEIGHT = 200;

/** Vertical bars, one per period; the table after it holds the same numbers for screen readers and copying. */
function ReferralsOverTime({ report }: { report: Report }) {
  const periods = report.referralsOverTime;
  const most = Math.max(1, ...periods.map((p) => p.referrals));
  const slot = CHART_WIDTH / Math.max(1, periods.length);
  const summary = periods.map((p) => `${periodLabel(p.periodStart, report.granularity)}: ${p.referrals}`).join('; ');
  return (
    <section className="card" aria-labelledby="over-time-heading">
      <h2 id="over-time-heading">Referrals over time</h2>
      <svg
        className="chart"
        viewBox={`0 0 ${CHART_WIDTH} ${CHART_HEIGHT + 20}`}
        role="img"
        aria-labelledby="over-time-title over-time-desc"
      >
        <title id="over-time-title">Referrals submitted per {report.granularity}</title>
        <desc id="over-time-desc">{summary}</desc>
        {periods.map((p, i) => {
          const height = (p.referrals / most) * (CHART_HEIGHT - 20);
          return (
            <g key={p.periodStart}>
              <rect x={i * slot + slot * 0.15} y={CHART_HEIGHT - height} width={slot * 0.7} height={height} className="bar" />
              <text x={i * slot + slot / 2} y={CHART_HEIGHT - height - 4} textAnchor="middle" className="bar-value">
                {p.referrals}
              </text>
            </g>
          );
        })}
        <line x1={0} x2={CHART_WIDTH} y1={CHART_HEIGHT} y2={CHART_HEIGHT} className="axis" />
      </svg>
      <details>
        <summary>Referrals over time as a table</summary>
        <ScrollArea label="Referrals over time">
          <table>
            <thead>
              <tr>
                <th scope="col">{capitalized(report.granularity)}</th>
                <th scope="col">Referrals</th>
              </tr>
            </thead>
            <tbody>
              {periods.map((p) => (
                <tr key={p.periodStart}>
                  <th scope="row">{periodLabel(p.periodStart, report.granularity)}</th>
                  <td>{p.referrals}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollArea>
      </details>
    </section>
  );
}

/** Horizontal bars, one per lifecycle step, each as long as the referrals that reached it. */
function Funnel({ report }: { report: Report }) {
  const first = Math.max(1, report.funnel[0]?.count ?? 0);
  const row = 34;
  const labelWidth = 110;
  const summary = report.funnel.map((s) => `${STEP_WORDS[s.step] ?? s.step}: ${s.count}`).join('; ');
  return (
    <section className="card" aria-labelledby="funnel-heading">
      <h2 id="funnel-heading">Funnel</h2>
      <svg
        className="chart"
        viewBox={`0 0 ${CHART_WIDTH} ${report.funnel.length * row}`}
        role="img"
        aria-labelledby="funnel-title funnel-desc"
      >
        <title id="funnel-title">Referrals reaching each lifecycle step</title>
        <desc id="funnel-desc">{summary}</desc>
        {report.funnel.map((s, i) => {
          const width = (s.count / first) * (CHART_WIDTH - labelWidth - 50);
          return (
            <g key={s.step}>
              <text x={0} y={i * row + 21} className="bar-label">
                {STEP_WORDS[s.step] ?? s.step}
              </text>
              <rect x={labelWidth} y={i * row + 6} width={width} height={row - 12} className="bar" />
              <text x={labelWidth + width + 6} y={i * row + 21} className="bar-value">
                {s.count}
              </text>
            </g>
          );
        })}
      </svg>
      <details>
        <summary>Funnel as a table</summary>
        <ScrollArea label="Funnel">
          <table>
            <thead>
              <tr>
                <th scope="col">Step</th>
                <th scope="col">Referrals</th>
                <th scope="col">Of the step before</th>
              </tr>
            </thead>
            <tbody>
              {report.funnel.map((s) => (
                <tr key={s.step}>
                  <th scope="row">{STEP_WORDS[s.step] ?? s.step}</th>
                  <td>{s.count}</td>
                  <td>{percent(s.fromPrevious)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollArea>
      </details>
    </section>
  );
}
