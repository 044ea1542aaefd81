import { type FormEvent, useState } from 'react';
import { consoleApi, formatDate, formatMoney, type PayoutRun, formatDateTime } from '../api.ts';
import { InternalLink, useLoad } from '../app.tsx';
import { navigate } from '../router.ts';
import { consolePath } from './route.ts';
import { ScrollArea } from './scroll-area.tsx';

const RUN_WORDS = {
  draft: 'Draft: not exported yet',
  exported: 'Exported: waiting to be paid',
  sent: 'Sent to the payout provider: paid line by line as it delivers',
  paid: 'Paid',
} as const;

const today = () => new Date().toISOString().slice(0, 10);
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Hands a file to the browser's downloads, as a link to it would. */
function download(blob: Blob, filename: string) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The installation's programs by id: a run names the program it pays. */
const usePrograms = (installationId: string) =>
  useLoad(() => consoleApi.programs(installationId), `programs:${installationId}`).data?.items;

/**
 * The payout runs, newest first, and a new one for one program's rewards due on or before a date
 * (finance and admins): each program is its own budget, so a run pays one program.
 */
export function PayoutsPage({ installationId, csrf, canPay }: { installationId: string; csrf: string; canPay: boolean }) {
  const { data, error } = useLoad(() => consoleApi.payoutRuns(installationId), installationId);
  const programs = usePrograms(installationId);
  const [dueOn, setDueOn] = useState(today);
  const [chosen, setChosen] = useState<string | null>(null);
  const programId = chosen ?? programs?.find((p) => p.isDefault)?.id ?? null;
  const nameOf = (id: string) => programs?.find((p) => p.id === id)?.name ?? id;
  const [message, setMessage] = useState<string | null>(null);
  const create = async (e: FormEvent) => {
    e.preventDefault();
    if (!programId) return;
    try {
      const run = await consoleApi.createPayoutRun(installationId, csrf, programId, dueOn);
      navigate(consolePath(installationId, 'payouts', run.id));
    } catch (err) {
      setMessage(errorText(err));
    }
  };
  return (
    <>
      {canPay ? (
        <form className="card" onSubmit={create} aria-labelledby="new-run">
          <h2 id="new-run">New payout run</h2>
          <p>Gathers every approved reward of the program due on or before the date into one line per payee and currency.</p>
          <div className="field">
            <label htmlFor="run-program">Program</label>
            <select id="run-program" value={programId ?? ''} onChange={(e) => setChosen(e.target.value)}>
              {(programs ?? []).map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="due-on">Rewards due on or before</label>
            <input id="due-on" type="date" required value={dueOn} onChange={(e) => setDueOn(e.target.value)} />
          </div>
          <button type="submit" disabled={!programId}>
            Create payout run
          </button>
          <p className={message ? 'notice bad' : undefined} role="status">
            {message}
          </p>
        </form>
      ) : (
        <p className="muted">You can see the payout runs; creating, exporting and paying them need the admin or finance role.</p>
      )}
      {error && <p className="notice bad">The payout runs could not be read: {error}</p>}
      {!error && !data && <p>Loading payout runs…</p>}
      {data && data.items.length === 0 && <p>There is no payout run yet.</p>}
      {data && data.items.length > 0 && (
        <ScrollArea label="Payout runs">
          <table>
            <caption className="muted">Payout runs, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Program</th>
                <th scope="col">Rewards due by</th>
                <th scope="col">Status</th>
                <th scope="col">Created</th>
                <th scope="col">Reference</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((run) => (
                <tr key={run.id}>
                  <td>
                    <InternalLink href={consolePath(installationId, 'payouts', run.id)}>{run.id}</InternalLink>
                  </td>
                  <td>{nameOf(run.programId)}</td>
                  <td>{formatDate(run.dueOn)}</td>
                  <td>{RUN_WORDS[run.status]}</td>
                  <td>{formatDateTime(run.createdAt)}</td>
                  <td>{run.reference ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollArea>
      )}
    </>
  );
}

/** One run: its lines and totals, exported as CSV or JSON for the payment, then marked paid with the payment's reference. */
export function PayoutRunPage({
  installationId,
  runId,
  csrf,
  canPay,
}: {
  installationId: string;
  runId: string;
  csrf: string;
  canPay: boolean;
}) {
  const [version, setVersion] = useState(0);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [reference, setReference] = useState('');
  const { data: run, error } = useLoad(() => consoleApi.payoutRun(runId), `${runId}:${version}`);
  const programs = usePrograms(installationId);

  const act = async (action: () => Promise<unknown>, done: string) => {
    try {
      await action();
      setMessage({ ok: true, text: done });
      setVersion((v) => v + 1);
    } catch (e) {
      setMessage({ ok: false, text: errorText(e) });
    }
  };
  const exportCsv = () =>
    act(async () => download(await consoleApi.exportPayoutCsv(csrf, runId), `payout-${runId}.csv`), 'The CSV is downloaded.');
  const exportJson = () =>
    act(async () => {
      const exported: PayoutRun = await consoleApi.exportPayoutRun(csrf, runId);
      download(new Blob([JSON.stringify(exported, null, 2)], { type: 'application/json' }), `payout-${runId}.json`);
    }, 'The JSON is downloaded.');
  const markPaid = (e: FormEvent) => {
    e.preventDefault();
    void act(() => consoleApi.markPayoutRunPaid(csrf, runId, reference), `The run is marked paid with reference ${reference}.`);
  };

  if (error) return <p className="notice bad">The payout run could not be read: {error}</p>;
  if (!run) return <p>Loading the payout run…</p>;
  return (
    <>
      <p>
        <InternalLink href={consolePath(installationId, 'payouts')}>All payout runs</InternalLink>
      </p>
      <p className={message ? `notice ${message.ok ? 'ok' : 'bad'}` : undefined} role="status">
        {message?.text}
      </p>
      <section className="card" aria-labelledby="run-summary">
        <h2 id="run-summary">Run {run.id}</h2>
        <dl className="details">
          <dt>Program</dt>
          <dd>{programs?.find((p) => p.id === run.programId)?.name ?? run.programId}</dd>
          <dt>Status</dt>
          <dd>{RUN_WORDS[run.status]}</dd>
          <dt>Rewards due by</dt>
          <dd>{formatDate(run.dueOn)}</dd>
          <dt>Total</dt>
          <dd>{run.totals.map((t) => formatMoney(t.amountCents, t.currency)).join(' + ') || 'Nothing to pay'}</dd>
          {run.exportedAt && (
            <>
              <dt>Exported</dt>
              <dd>{formatDateTime(run.exportedAt)}</dd>
            </>
          )}
          {run.paidAt && (
            <>
              <dt>Paid</dt>
              <dd>
                {formatDateTime(run.paidAt)}, reference {run.reference}
              </dd>
            </>
          )}
        </dl>
      </section>
      <ScrollArea label="Payout lines">
        <table>
          <caption className="muted">One line per payee, currency and what it is given as</caption>
          <thead>
            <tr>
              <th scope="col">Payee</th>
              <th scope="col">Given as</th>
              <th scope="col">Rewards</th>
              <th scope="col">Owed back</th>
              <th scope="col">To pay</th>
              <th scope="col" className="reference">
                Payment reference
              </th>
            </tr>
          </thead>
          <tbody>
            {run.lines.map((line) => (
              <tr key={`${line.email}-${line.currency}-${line.givenAs}`}>
                <td>
                  {line.payee}
                  <div className="muted">{line.email}</div>
                </td>
                <td>{line.givenAs}</td>
                <td>
                  {formatMoney(line.grossCents, line.currency)} ({line.rewardIds.length})
                </td>
                <td>{line.recoveredCents ? formatMoney(line.recoveredCents, line.currency) : '—'}</td>
                <td>{formatMoney(line.amountCents, line.currency)}</td>
                <td className="reference">
                  {line.reference}
                  {line.sendStatus && (
                    <div className={line.sendStatus === 'failed' ? 'error' : 'muted'}>
                      {line.sendStatus === 'failed' ? `Failed: ${line.failureReason ?? 'no reason given'}` : `Provider: ${line.sendStatus}`}
                    </div>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollArea>
      {/* A sent run is paid by the payout provider, line by line. */}
      {canPay && (run.status === 'draft' || run.status === 'exported') && (
        <section className="card" aria-labelledby="run-actions">
          <h2 id="run-actions">Pay this run</h2>
          <p>Export the file for your payment system; once paid, record the payment's reference.</p>
          <div className="actions">
            <button type="button" onClick={exportCsv}>
              Export CSV
            </button>
            <button type="button" className="secondary" onClick={exportJson}>
              Export JSON
            </button>
          </div>
          {run.status === 'exported' && (
            <form onSubmit={markPaid}>
              <div className="field">
                <label htmlFor="paid-reference">Payment reference</label>
                <input id="paid-reference" required value={reference} onChange={(e) => setReference(e.target.value)} />
              </div>
              <button type="submit">Mark paid</button>
            </form>
          )}
        </section>
      )}
    </>
  );
}
