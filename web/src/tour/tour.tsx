import { type FormEvent, type ReactNode, useEffect, useState } from 'react';
import { formatDate, formatMoney } from '../api.ts';
import { type Eligibility, type Started, type TourEmail, type TourReferral, type TourReport, type TourState, tourApi } from './api.ts';
import './tour.css';

/** How often the page asks for the referral again: webhooks and the notifier work asynchronously. */
const POLL_MS = 1_500;

const statusWords = (status: string) => status.replaceAll('_', ' ');
/** Reasons as sentences: some already end in a full stop, some are clauses. */
const sentences = (reasons: string[]) => reasons.map((r) => (/[.!?]$/.test(r) ? r : `${r}.`)).join(' ');

/** An outbox row's state, in the visitor's words. */
const EMAIL_STATES: Record<string, string> = {
  pending: 'queued (deal steps wait a short quiet period, so quick steps make one email)',
  sending: 'sending',
  delivered: 'sent (to the delivery log until SMTP_URL is set)',
  failed: 'failed',
  suppressed: 'not sent: the referrer opted out',
  cancelled: 'not sent: a later step replaced it',
};

/**
 * The first-run tour: the visitor plays the sales team in the sandbox CRM (left) and watches what
 * Referloop does with each move (right): the referral's timeline, its reward, the emails, the report.
 */
export function TourApp() {
  const [state, setState] = useState<TourState | null>(null);
  const [started, setStarted] = useState<Started | null>(null);
  const [referralId, setReferralId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    document.title = 'Referloop sandbox tour';
  }, []);

  useEffect(() => {
    let live = true;
    const load = () =>
      tourApi.state(referralId).then(
        (s) => live && setState(s),
        (e: unknown) => live && setError(e instanceof Error ? e.message : String(e)),
      );
    load();
    const timer = setInterval(load, POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [referralId]);

  const crm = state?.crm.label ?? 'CRM';
  return (
    <>
      <header>
        <p className="brand">Referloop · sandbox tour</p>
      </header>
      <main className="tour">
        <h1>See the whole referral loop</h1>
        <p>
          No real CRM is configured, so Referloop runs a <strong>sandbox {crm}</strong> of its own. Play its sales team with the buttons
          under “Play the sales team”, and watch what Referloop does with each move, as it would inside your real CRM.
        </p>
        {error && (
          <p className="notice bad" role="alert">
            {error}
          </p>
        )}
        <div className="tour-columns">
          <section aria-labelledby="play-heading" className="tour-play">
            <h2 id="play-heading">Play the sales team</h2>
            <StartStep crm={crm} state={state} started={started} onStarted={setStarted} onError={setError} />
            {started && (
              <>
                <ReferStep started={started} onReferred={setReferralId} onError={setError} />
                <DealSteps started={started} referral={state?.referral ?? null} crm={crm} onError={setError} />
                <NpsStep started={started} onError={setError} />
              </>
            )}
          </section>
          <section aria-labelledby="watch-heading" className="tour-watch">
            <h2 id="watch-heading">Watch Referloop</h2>
            <ReferralPanel referral={state?.referral ?? null} />
            <EmailsPanel emails={state?.emails ?? []} />
            <ReportPanel report={state?.report ?? null} />
          </section>
        </div>
      </main>
    </>
  );
}

/** One step: a heading, the one line that explains it, and its controls. */
function Step({ n, title, explain, children }: { n: number; title: string; explain: string; children: ReactNode }) {
  return (
    <div className="card step">
      <h3>
        <span className="step-n">{n}</span> {title}
      </h3>
      <p className="muted">{explain}</p>
      {children}
    </div>
  );
}

/** Runs an action with a busy flag; a failure is shown in words. */
function useAction(onError: (message: string | null) => void) {
  const [busy, setBusy] = useState(false);
  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    onError(null);
    try {
      await action();
    } catch (e) {
      onError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return { busy, run };
}

function StartStep(props: {
  crm: string;
  state: TourState | null;
  started: Started | null;
  onStarted: (s: Started) => void;
  onError: (m: string | null) => void;
}) {
  const { busy, run } = useAction(props.onError);
  const connected = props.state?.installation;
  return (
    <Step
      n={1}
      title={`Connect the sandbox ${props.crm}`}
      explain={`Referloop installs into the CRM through its real OAuth flow, then the tour adds two sample referrers and a customer account.`}
    >
      {props.started ? (
        <p className="notice ok" role="status">
          Connected sandbox {props.crm} account {props.started.installation.accountId}. Sample referrers:{' '}
          {props.started.referrers.map((r) => `${r.name} (${r.type})`).join(', ')}.
        </p>
      ) : (
        <>
          <p>{connected ? `The sandbox ${props.crm} is connected (account ${connected.accountId}).` : 'Nothing is connected yet.'}</p>
          <button type="button" disabled={busy} onClick={() => run(async () => props.onStarted(await tourApi.start()))}>
            Start the tour
          </button>
          {busy && (
            <p role="status">
              {connected
                ? 'Adding the sample referrers and the customer account…'
                : `Installing Referloop into the sandbox ${props.crm}: consent, token exchange, then the properties and stage mapping it provisions…`}
            </p>
          )}
        </>
      )}
    </Step>
  );
}

function ReferStep({
  started,
  onReferred,
  onError,
}: {
  started: Started;
  onReferred: (id: string) => void;
  onError: (m: string | null) => void;
}) {
  const { busy, run } = useAction(onError);
  const [referrer, setReferrer] = useState<'partner' | 'customer'>('partner');
  const [firstName, setFirstName] = useState('Jordan');
  const [company, setCompany] = useState('Acme Widgets');
  const [outcome, setOutcome] = useState<string | null>(null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    run(async () => {
      const result = await tourApi.refer({ referrer, firstName, company });
      setOutcome(`${result.outcome}. ${sentences(result.referral.reasons)}`);
      onReferred(result.referral.id);
    });
  };
  const names = Object.fromEntries(started.referrers.map((r) => [r.type, r.name]));
  return (
    <Step n={2} title="A referrer refers a friend" explain="The referral goes through the same checks as one from the API or the portal.">
      <form onSubmit={submit} className="tour-form">
        <label htmlFor="tour-referrer">Referrer</label>
        <select id="tour-referrer" value={referrer} onChange={(e) => setReferrer(e.target.value as 'partner' | 'customer')}>
          <option value="partner">{names.partner ?? 'Partner'} (partner)</option>
          <option value="customer">{names.customer ?? 'Customer'} (customer)</option>
        </select>
        <label htmlFor="tour-first-name">Friend's first name</label>
        <input id="tour-first-name" value={firstName} maxLength={60} required onChange={(e) => setFirstName(e.target.value)} />
        <label htmlFor="tour-company">Friend's company</label>
        <input id="tour-company" value={company} maxLength={80} required onChange={(e) => setCompany(e.target.value)} />
        <button type="submit" disabled={busy}>
          Refer {firstName || 'a friend'}
        </button>
      </form>
      {outcome && (
        <p className="verdict" role="status">
          Verdict: {outcome}
        </p>
      )}
    </Step>
  );
}

function DealSteps({
  started,
  referral,
  crm,
  onError,
}: {
  started: Started;
  referral: TourReferral | null;
  crm: string;
  onError: (m: string | null) => void;
}) {
  const { busy, run } = useAction(onError);
  const [amount, setAmount] = useState('25000');
  const [deal, setDeal] = useState<{ id: string; referralId: string; stage: string } | null>(null);
  const { open, won, lost, labels } = started.stages;
  const label = (stage: string) => labels[stage] ?? stage;
  const current = deal && referral && deal.referralId === referral.id ? deal : null;
  const closed = current && (current.stage === won || current.stage === lost);
  const next = current && !closed ? open[open.indexOf(current.stage) + 1] : undefined;
  const move = (stage: string) =>
    run(async () => {
      await tourApi.moveDeal(current!.id, stage);
      setDeal({ ...current!, stage });
    });
  const synced = Boolean(referral?.crm);
  return (
    <>
      <Step
        n={3}
        title="Create a deal for the referee"
        explain={`A rep opens a deal in ${crm} for the referred contact; ${crm} tells Referloop by webhook and the referral is attributed.`}
      >
        {!referral && <p>Refer someone first.</p>}
        {referral && !synced && <p role="status">Waiting for Referloop to create the referee in {crm}…</p>}
        {referral && synced && !current && (
          <form
            className="tour-form"
            onSubmit={(e) => {
              e.preventDefault();
              run(async () => {
                const { dealId } = await tourApi.createDeal(referral.id, Number(amount));
                setDeal({ id: dealId, referralId: referral.id, stage: open[0]! });
              });
            }}
          >
            <label htmlFor="tour-amount">Deal amount (USD)</label>
            <input
              id="tour-amount"
              inputMode="numeric"
              pattern="[0-9]+"
              value={amount}
              required
              onChange={(e) => setAmount(e.target.value)}
            />
            <button type="submit" disabled={busy}>
              Create the deal
            </button>
          </form>
        )}
        {current && (
          <p>
            Deal {current.id} is at stage <strong>{label(current.stage)}</strong>.
          </p>
        )}
      </Step>
      <Step
        n={4}
        title="Move it through the pipeline"
        explain="Each stage maps to a referral step; the referrer hears about it (several quick steps make one email)."
      >
        <button type="button" disabled={busy || !next} onClick={() => next && move(next)}>
          {next ? `Move to ${label(next)}` : 'Move to the next stage'}
        </button>
      </Step>
      <Step
        n={5}
        title="Close it"
        explain="Closed won attributes the deal to the referrer and computes the reward under the program; closed lost tells them kindly."
      >
        <div className="tour-buttons">
          <button type="button" disabled={busy || !current || Boolean(closed)} onClick={() => move(won)}>
            Close won
          </button>
          <button type="button" className="secondary" disabled={busy || !current || Boolean(closed)} onClick={() => move(lost)}>
            Close lost
          </button>
        </div>
      </Step>
    </>
  );
}

function NpsStep({ started, onError }: { started: Started; onError: (m: string | null) => void }) {
  const { busy, run } = useAction(onError);
  const [nps, setNps] = useState(String(started.account.nps ?? 6));
  const [eligibility, setEligibility] = useState<Eligibility | null>(null);
  return (
    <Step
      n={6}
      title="Change an account's NPS"
      explain={`Customers may refer when their account is eligible; the default program asks for an NPS of 9 or more.`}
    >
      <form
        className="tour-form"
        onSubmit={(e) => {
          e.preventDefault();
          run(async () => setEligibility((await tourApi.setNps(Number(nps))).eligibility));
        }}
      >
        <label htmlFor="tour-nps">NPS of {started.account.name} (0–10)</label>
        <input id="tour-nps" type="number" min={0} max={10} value={nps} required onChange={(e) => setNps(e.target.value)} />
        <button type="submit" disabled={busy}>
          Set the NPS
        </button>
      </form>
      {eligibility && (
        <div role="status">
          <p className={`notice ${eligibility.eligible ? 'ok' : 'bad'}`}>{eligibility.summary}</p>
          <ul>
            {eligibility.reasons.map((r) => (
              <li key={r.rule}>
                {r.passed ? 'Passes' : 'Fails'}: {r.detail}
              </li>
            ))}
          </ul>
        </div>
      )}
    </Step>
  );
}

function ReferralPanel({ referral }: { referral: TourReferral | null }) {
  if (!referral)
    return (
      <div className="card">
        <h3>The referral</h3>
        <p className="muted">Refer someone to see the referral, its timeline and its reward here.</p>
      </div>
    );
  const name = [referral.referee.firstName, referral.referee.company && `(${referral.referee.company})`].filter(Boolean).join(' ');
  return (
    <div className="card" aria-live="polite">
      <h3>The referral</h3>
      <p>
        {referral.referrer.name} referred {name || referral.referee.email}:{' '}
        <span className={`status status-${referral.status}`} data-testid="referral-status">
          {statusWords(referral.status)}
        </span>
      </p>
      <h4>Timeline</h4>
      <ol className="timeline">
        {referral.timeline.map((e) => (
          <li key={`${e.to}-${e.at}`}>
            <strong>{statusWords(e.to)}</strong> <time dateTime={e.at}>{formatDate(e.at)}</time>
            {e.reasons.length > 0 && <span className="muted"> — {sentences(e.reasons)}</span>}
          </li>
        ))}
      </ol>
      <h4>Reward</h4>
      {referral.rewards.length === 0 ? (
        <p className="muted">No reward yet: rewards come with the program's milestones.</p>
      ) : (
        <ul>
          {referral.rewards.map((r) => (
            <li key={r.id}>
              <strong data-testid="reward-amount">{formatMoney(r.amountCents, r.currency)}</strong> {r.kind} reward, {statusWords(r.status)}
              {r.requiresApproval ? ' (waits for approval)' : ''}
              {r.reasons.length > 0 && <span className="muted"> — {sentences(r.reasons)}</span>}
            </li>
          ))}
        </ul>
      )}
      {referral.decisions.rewards.length > 0 && (
        <>
          <h4>Why</h4>
          <ul>
            {referral.decisions.rewards.map((d) => (
              <li key={`${d.milestone}-${d.summary}`}>{d.summary}</li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

function EmailsPanel({ emails }: { emails: TourEmail[] }) {
  return (
    <div className="card">
      <h3>Notifications</h3>
      {emails.length === 0 ? (
        <p className="muted">The emails of this referral appear here as they are written, rendered as recipients see them.</p>
      ) : (
        emails.map((email) => (
          <details key={email.id} className="tour-email" open={email === emails[emails.length - 1]}>
            <summary>
              {email.subject}{' '}
              <span className="muted">
                to {email.to}, {EMAIL_STATES[email.status] ?? email.status}
              </span>
            </summary>
            {/* The HTML is the notifier's own (escaped values); an empty sandbox runs nothing in it. */}
            <iframe title={`Email: ${email.subject}`} sandbox="" srcDoc={email.html} />
          </details>
        ))
      )}
    </div>
  );
}

function ReportPanel({ report }: { report: TourReport | null }) {
  const pending = report?.rewards.map((r) => formatMoney(r.byStatusCents.pending ?? 0, r.currency)).join(', ') || formatMoney(0, 'USD');
  const byStatus = Object.entries(report?.referrals.byStatus ?? {});
  const figures: [string, string, string][] = [
    ['Referrals', 'report-referrals', String(byStatus.reduce((n, [, count]) => n + count, 0))],
    ['Won', 'report-won', String(report?.referrals.won ?? 0)],
    ['Win rate', 'report-win-rate', `${Math.round((report?.referrals.winRate ?? 0) * 100)}%`],
    ['Rewards pending', 'report-pending', pending],
  ];
  return (
    <div className="card">
      <h3>Summary report</h3>
      <p className="muted">The numbers of GET /api/v1/reports/summary for this installation.</p>
      <dl className="tour-figures">
        {figures.map(([name, testId, value]) => (
          <div key={name}>
            <dt>{name}</dt>
            <dd data-testid={testId}>{value}</dd>
          </div>
        ))}
      </dl>
      {byStatus.length > 0 && <p className="muted">By status: {byStatus.map(([s, n]) => `${statusWords(s)} ${n}`).join(', ')}.</p>}
    </div>
  );
}
