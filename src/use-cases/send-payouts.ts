import type { PayoutEvent } from '../../connectors/payouts/provider.ts';
import type { CrmClient } from '../../connectors/connector.ts';
import { fulfilmentOf, grantOf } from '../domain/grants.ts';
import { formatMoney } from '../domain/money.ts';
import { isFreeMailDomain } from '../domain/normalize.ts';
import { payoutRunTransition } from '../domain/payouts.ts';
import type { UseCaseContext } from '../ports/context.ts';
import type { PayoutLineRow, PayoutRunWithLines } from '../store/payouts.repo.ts';
import { changeReward } from './manage-rewards.ts';
import type { PayoutRefusal } from './payout-runs.ts';

/** The provider is who pays: every sent run and delivered line is recorded under this actor. */
const PROVIDER_ACTOR = 'payout-provider';

/**
 * Hands a draft or exported run to the payout provider: the run becomes `sent` and a job places
 * its orders (`placePayoutOrders`). Refused without a provider (PAYOUT_PROVIDER=csv).
 */
export async function sendPayoutRun(
  ctx: UseCaseContext,
  run: PayoutRunWithLines,
  actor: string,
): Promise<{ ok: true; run: PayoutRunWithLines } | PayoutRefusal> {
  if (!ctx.payoutProvider)
    return {
      ok: false,
      code: 'illegal_state',
      reason: 'No payout provider is configured (PAYOUT_PROVIDER=csv): export the run and mark it paid instead.',
    };
  const { store } = ctx;
  const now = ctx.now();
  const sent = await store.transaction(async () => {
    // Read again under the write lock: two requests sending the same run cannot both pass.
    const current = (await store.payouts.get(run.id))!;
    const move = payoutRunTransition(current.status, 'send');
    if (!move.ok)
      return { ok: false as const, code: 'illegal_state' as const, reason: `${move.reason}.`, details: { status: current.status } };
    await store.payouts.markSent(run.id, now);
    await store.audit.record({
      installationId: run.installationId,
      actor,
      action: 'payout_run.sent',
      subjectType: 'payout_run',
      subjectId: run.id,
      before: { status: current.status },
      after: { status: 'sent', provider: ctx.payoutProvider!.kind },
      at: now.toISOString(),
    });
    return { ok: true as const };
  });
  if (!sent.ok) return sent;
  await ctx.scheduler.schedule('send-payouts', run.installationId, { key: run.id });
  return { ok: true, run: (await store.payouts.get(run.id))! };
}

/**
 * One order per payee, currency and grant of a run: the same key on every attempt, so a retry never
 * pays twice. Cash lines keep the key they had before lines were per grant.
 */
export const payoutOrderKey = (runId: string, line: Pick<PayoutLineRow, 'payeeType' | 'payeeKey' | 'currency' | 'grantKey'>): string =>
  `${runId}:${line.payeeType}:${line.payeeKey}:${line.currency}${line.grantKey === 'cash' ? '' : `:${line.grantKey}`}`;

/**
 * The send job: places an order for every line of a sent run that has none recorded yet. An
 * unknown outcome (timeout, 5xx) throws, and the queue runs the job again: the provider answers the
 * repeated idempotency key with the order it already placed.
 */
export async function placePayoutOrders(ctx: UseCaseContext, runId: string): Promise<void> {
  const provider = ctx.payoutProvider;
  if (!provider) throw new Error(`payout run ${runId} cannot be sent: no payout provider is configured`);
  const run = await ctx.store.payouts.get(runId);
  if (run?.status !== 'sent') return;
  for (const line of run.lines) {
    if (line.sendStatus !== null) continue;
    // Wholly recovered from what the payee owed back: nothing to send, the rewards are settled.
    if (line.amountCents === 0) {
      await deliverLine(ctx, run, line, `recovered in payout run ${run.id}`);
      continue;
    }
    const fulfilment = fulfilmentOf(grantOf(line));
    if (fulfilment.via === 'crm_company_note') {
      await creditOnCompany(ctx, run, line);
      continue;
    }
    if (fulfilment.via === 'given_at_once')
      throw new Error(`payout line ${line.id} of run ${run.id} holds recognition, which is never paid out`);
    // A PayoutProviderError propagates: the worker retries the retryable ones.
    const result = await provider.sendOrder({
      idempotencyKey: payoutOrderKey(run.id, line),
      recipient: { name: line.payeeName, email: line.payeeEmail },
      amountCents: line.amountCents,
      currency: line.currency,
      // Gift cards and donations are the provider's product of that kind; cash its cash product.
      product: fulfilment.product,
      ...(fulfilment.via === 'provider_product' && fulfilment.charity ? { charity: fulfilment.charity } : {}),
    });
    if (result.outcome === 'refused') {
      await failLine(ctx, run, line, `refused by the payout provider: ${result.reason}`);
      continue;
    }
    await ctx.store.payouts.recordOrder(line.id, { providerOrderId: result.providerOrderId, providerRewardId: result.providerRewardId });
    if (result.status === 'delivered')
      await deliverLine(ctx, run, { ...line, providerOrderId: result.providerOrderId }, result.providerOrderId);
  }
}

/**
 * An account credit is written as a note on the referrer's company in the CRM, where the billing
 * team sees it, then the line is delivered. The note's key is the line's order key: a retry after a
 * crash finds the note already there and writes none. A referrer whose company the CRM does not
 * have (no contact with a company, no company of their email domain) fails the line, with why.
 */
async function creditOnCompany(ctx: UseCaseContext, run: PayoutRunWithLines, line: PayoutRunWithLines['lines'][number]): Promise<void> {
  if (line.payeeType !== 'referrer') {
    await failLine(ctx, run, line, "an account credit is written on the referrer's company, and this payee is not a referrer");
    return;
  }
  const installation = (await ctx.store.installations.get(run.installationId))!;
  const referrer = (await ctx.store.referrals.referrer(line.payeeKey))!;
  const client = await ctx.crm.client(installation);
  const companyId = await referrerCompanyId(client, referrer.email);
  if (!companyId) {
    await failLine(ctx, run, line, `the CRM has no company for ${referrer.email} (no contact with a company, no company of its domain)`);
    return;
  }
  const money = formatMoney(line.amountCents, line.currency);
  await client.addCompanyNote({
    companyId,
    title: `Referral reward: account credit of ${money}`,
    body: [
      `${referrer.name} (${referrer.email}) earned an account credit of ${money} for referrals.`,
      `Apply it to the company's next invoice. Payout run ${run.id}, rewards ${line.rewardIds.join(', ')}.`,
    ].join('\n'),
    idempotencyKey: payoutOrderKey(run.id, line),
  });
  await deliverLine(ctx, run, line, `account credit noted on CRM company ${companyId}`);
}

/** The referrer's company in the CRM: their contact's first company, else the company of their email's domain. */
async function referrerCompanyId(
  client: Pick<CrmClient, 'findPeopleByEmail' | 'findCompaniesByDomain'>,
  email: string,
): Promise<string | null> {
  const [person] = await client.findPeopleByEmail([email]);
  const viaPerson = person?.companyIds[0] ?? person?.converted?.companyId;
  if (viaPerson) return viaPerson;
  const domain = email.split('@')[1]?.toLowerCase();
  if (!domain || isFreeMailDomain(domain)) return null;
  const [company] = await client.findCompaniesByDomain([domain]);
  return company?.id ?? null;
}

export type PayoutEventOutcome = 'reconciled' | 'duplicate' | 'ignored' | 'unknown_line';

/**
 * A verified provider webhook. Each event id is reconciled once: a replay is acknowledged and
 * changes nothing. Delivered: the line's rewards are paid; failed: they are payable again and the
 * reason is kept on the line. An event for a line whose order is not recorded yet (the order's
 * answer was lost and the send job has not run again) is not stored: the provider sends it again.
 */
export async function reconcilePayoutEvent(ctx: UseCaseContext, event: PayoutEvent): Promise<PayoutEventOutcome> {
  const { store } = ctx;
  return await store.transaction(async () => {
    const line = event.kind === 'ignored' ? undefined : await store.payouts.lineByProviderReward(event.providerRewardId);
    if (event.kind !== 'ignored' && !line) return 'unknown_line';
    if (!(await store.payouts.firstSeenEvent(event.eventId))) return 'duplicate';
    // A line settles once: a late or contradicting event after that changes nothing.
    if (event.kind === 'ignored' || !line || line.sendStatus !== 'sent') return 'ignored';
    const run = (await store.payouts.get(line.runId))!;
    if (event.kind === 'delivered') await deliverLine(ctx, run, line, line.providerOrderId ?? event.providerRewardId);
    else await failLine(ctx, run, line, `failed at the payout provider: ${event.reason}`);
    return 'reconciled';
  });
}

/** Delivered: every reward of the line is paid, in one transaction (the referrer is told by reward.paid). */
async function deliverLine(ctx: UseCaseContext, run: PayoutRunWithLines, line: PayoutLineRow, reference: string): Promise<void> {
  const { store } = ctx;
  const now = ctx.now();
  await store.transaction(async () => {
    for (const item of (await store.payouts.items(run.id)).filter((i) => i.lineId === line.id)) {
      const reward = (await store.rewards.get(item.rewardId))!;
      if (reward.status === 'approved' || reward.status === 'payable') {
        const result = await changeReward(ctx, {
          reward,
          action: 'mark_paid',
          actor: PROVIDER_ACTOR,
          payoutReference: reference,
          reason: `paid in payout run ${run.id} by the payout provider (${reference})`,
          payoutRunId: run.id,
          paidCents: item.amountCents,
        });
        if (!result.ok) throw new Error(`reward ${reward.id} of run ${run.id} could not be paid: ${result.reason}`);
      } else {
        // Reversed or rejected after the run was sent, yet paid: owed back, recovered by the next run.
        await store.rewards.setPaidCents(reward.id, item.amountCents);
      }
    }
    await store.payouts.markLineDelivered(line.id);
    await store.audit.record({
      installationId: run.installationId,
      actor: PROVIDER_ACTOR,
      action: 'payout_line.delivered',
      subjectType: 'payout_run',
      subjectId: run.id,
      after: { lineId: line.id, reference },
      at: now.toISOString(),
    });
  });
}

/** Failed: nothing was paid, the rewards return to payable (out of the run's open key) with the reason. */
async function failLine(ctx: UseCaseContext, run: PayoutRunWithLines, line: PayoutLineRow, reason: string): Promise<void> {
  const { store } = ctx;
  await store.transaction(async () => {
    await store.payouts.markLineFailed(line.id, reason);
    await store.audit.record({
      installationId: run.installationId,
      actor: PROVIDER_ACTOR,
      action: 'payout_line.failed',
      subjectType: 'payout_run',
      subjectId: run.id,
      after: { lineId: line.id, reason },
      at: ctx.now().toISOString(),
    });
  });
}
