import { useState } from 'react';
import { type CurrencyTotal, consoleApi, formatDateTime, formatMoney, type Health } from '../api.ts';
import { InternalLink, useLoad } from '../app.tsx';
import { consolePath } from './route.ts';
import { ScrollArea } from './scroll-area.tsx';

const CRM_NAMES: Record<string, string> = { hubspot: 'HubSpot', salesforce: 'Salesforce' };

const money = (totals: CurrencyTotal[]) => totals.map((t) => formatMoney(t.cents, t.currency)).join(' + ');
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The installation's health and what waits for someone, each with the page that deals with it. */
export function HomePage({ installationId, csrf, role }: { installationId: string; csrf: string; role: string }) {
  const [version, setVersion] = useState(0);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const { data, error } = useLoad(() => consoleApi.health(installationId), `${installationId}:${version}`);

  const retry = async (eventId: number) => {
    try {
      await consoleApi.retryDeadEvent(csrf, eventId);
      setMessage({ ok: true, text: `CRM event ${eventId} goes back to the queue.` });
      setVersion((v) => v + 1);
    } catch (e) {
      setMessage({ ok: false, text: e instanceof Error ? e.message : String(e) });
    }
  };

  if (error) return <p className="notice bad">The installation's health could not be read: {error}</p>;
  if (!data) return <p>Loading the installation's health…</p>;
  return (
    <>
      <p className={message ? `notice ${message.ok ? 'ok' : 'bad'}` : undefined} role="status">
        {message?.text}
      </p>
      <Attention installationId={installationId} health={data} />
      <HealthCard health={data} canRetry={role === 'admin'} onRetry={retry} />
    </>
  );
}

function Attention({ installationId, health }: { installationId: string; health: Health }) {
  const { attention } = health;
  const items = [
    attention.rewardsAwaitingApproval.count > 0 && (
      <li key="rewards">
        <InternalLink href={consolePath(installationId, 'approvals')}>
          {plural(attention.rewardsAwaitingApproval.count, 'reward')} awaiting approval
        </InternalLink>{' '}
        ({money(attention.rewardsAwaitingApproval.totals)})
      </li>
    ),
    attention.claimsAwaitingDecision > 0 && (
      <li key="claims">
        <InternalLink href={`${consolePath(installationId, 'referrals')}?status=claim_pending`}>
          {plural(attention.claimsAwaitingDecision, 'claim')} on open deals awaiting a decision
        </InternalLink>
      </li>
    ),
    attention.overduePayouts.count > 0 && (
      <li key="overdue">
        <InternalLink href={consolePath(installationId, 'payouts')}>
          {plural(attention.overduePayouts.count, 'approved reward')} past their due date, unpaid
        </InternalLink>{' '}
        ({money(attention.overduePayouts.totals)})
      </li>
    ),
    attention.missingCrmFields.length > 0 && (
      <li key="fields">
        CRM fields Referloop could not create: {attention.missingCrmFields.join(', ')}. Create them in the CRM, or grant the app the
        permission to.
      </li>
    ),
    attention.dealsWaitingForRate.length > 0 && (
      <li key="rates">
        {plural(attention.dealsWaitingForRate.length, 'deal')} waiting for an exchange rate in the CRM (
        {attention.dealsWaitingForRate.join(', ')}): their rewards are worked out at the next reconciliation once the CRM has the rate.
      </li>
    ),
  ].filter(Boolean);
  return (
    <section className="card" aria-labelledby="attention">
      <h2 id="attention">Needs attention</h2>
      <dl className="totals">
        <div>
          <dt>Rewards to approve</dt>
          <dd>{attention.rewardsAwaitingApproval.count}</dd>
        </div>
        <div>
          <dt>Claims to decide</dt>
          <dd>{attention.claimsAwaitingDecision}</dd>
        </div>
        <div>
          <dt>Overdue payouts</dt>
          <dd>{attention.overduePayouts.count}</dd>
        </div>
        <div>
          <dt>Missing CRM fields</dt>
          <dd>{attention.missingCrmFields.length}</dd>
        </div>
        <div>
          <dt>Deals waiting for a rate</dt>
          <dd>{attention.dealsWaitingForRate.length}</dd>
        </div>
      </dl>
      {items.length ? <ul>{items}</ul> : <p>Nothing needs attention: no reward, claim or payout is waiting.</p>}
    </section>
  );
}

function HealthCard({ health, canRetry, onRetry }: { health: Health; canRetry: boolean; onRetry: (eventId: number) => void }) {
  const { crm } = health;
  const crmName = CRM_NAMES[crm.kind] ?? crm.kind;
  return (
    <section className="card" aria-labelledby="health">
      <h2 id="health">Health</h2>
      <dl className="details">
        <dt>CRM</dt>
        <dd>
          {crm.status === 'active' ? (
            <span className="state-ok">Connected</span>
          ) : (
            <span className="state-bad">Disconnected{crm.statusReason ? `: ${crm.statusReason}` : ''}</span>
          )}{' '}
          to {crmName} account {crm.accountName ? `${crm.accountName} (${crm.accountId})` : crm.accountId}
        </dd>
        <dt>Last CRM event</dt>
        <dd>{health.lastWebhookAt ? formatDateTime(health.lastWebhookAt) : `None received from ${crmName} yet`}</dd>
        <dt>Last reconciliation</dt>
        <dd>{health.lastReconciledAt ? formatDateTime(health.lastReconciledAt) : 'Not run yet'}</dd>
        <dt>Queue</dt>
        <dd>{health.inbox.pending ? `${plural(health.inbox.pending, 'CRM event')} waiting to be applied` : 'Nothing waiting'}</dd>
        <dt>Dead letters</dt>
        <dd>{health.inbox.dead ? `${plural(health.inbox.dead, 'CRM event')} that failed every attempt` : 'None'}</dd>
      </dl>
      {health.deadEvents.length > 0 && (
        <ScrollArea label="Dead CRM events">
          <table>
            <caption className="muted">CRM events that could not be applied</caption>
            <thead>
              <tr>
                <th scope="col">Record</th>
                <th scope="col">Change</th>
                <th scope="col">Received</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last error</th>
                {canRetry && <th scope="col">Retry</th>}
              </tr>
            </thead>
            <tbody>
              {health.deadEvents.map((e) => (
                <tr key={e.id}>
                  <td>
                    {e.objectType} {e.objectId}
                  </td>
                  <td>{e.change}</td>
                  <td>{formatDateTime(e.receivedAt)}</td>
                  <td>{e.attempts}</td>
                  <td className="wrap">{e.error ?? '—'}</td>
                  {canRetry && (
                    <td>
                      <button type="button" onClick={() => onRetry(e.id)} aria-label={`Retry ${e.objectType} ${e.objectId}`}>
                        Retry
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollArea>
      )}
      {health.deadEvents.length > 0 && !canRetry && <p className="muted">An admin can put failed events back in the queue.</p>}
    </section>
  );
}
