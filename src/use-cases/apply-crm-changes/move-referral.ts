import type { CrmDeal } from '../../../connectors/connector.ts';
import { passedStepReason, progressFromDeal, type ReferralStatus } from '../../domain/referral-lifecycle.ts';
import { programNotice, referralNotice } from '../../notify/notices.ts';
import type { NotificationTopic } from '../../notify/topics.ts';
import type { UseCaseContext } from '../../ports/context.ts';
import type { ReferralRow } from '../../store/referrals.repo.ts';
import { clawback } from '../reward-ledger.ts';
import type { ReadOnce } from './read-once.ts';

const TOPIC_FOR_STATUS: Partial<Record<ReferralStatus, NotificationTopic>> = {
  contacted: 'referral.contacted',
  qualified: 'referral.in_sales_process',
  in_sales_process: 'referral.in_sales_process',
  closed_won: 'referral.won',
  closed_lost: 'referral.lost',
};

export interface ReferralMove {
  referral: ReferralRow;
  /** Where the deal says the referral stands. */
  to: ReferralStatus;
  /** Why, for the timeline and the notification. */
  reason: string;
  /** What caused the move (`crm:deal:<id>:<modifiedAt>`); part of every idempotency key. */
  source: string;
  /** The deal whose facts the notification shows; null when it is gone. */
  deal: CrmDeal | null;
  /** The deal's stage as the CRM shows it (its label), told to referrers; null when the deal is gone. */
  stageLabel: string | null;
  known: ReadOnce;
  now: Date;
}

/**
 * Moves a referral to where its deal says, through the steps it passed, with a timeline entry and
 * a notification for each. Leaving closed won reverses what the win earned.
 */
export async function moveReferral(ctx: UseCaseContext, move: ReferralMove): Promise<ReferralRow> {
  const { referral, reason, source, deal, stageLabel, known, now } = move;
  const progress = progressFromDeal(referral.status, move.to);
  if (progress.action === 'none') return referral;
  const { store } = ctx;
  const referrer = await known.referrer(referral.referrerId);
  const program = programNotice(await known.lockedProgram(referral));
  const steps = progress.path.map((to, i) => {
    const from = i === 0 ? progress.from : progress.path[i - 1]!;
    return { from, to, key: `${referral.id}:${from}->${to}:${source}` };
  });
  // Every step's timeline entry in one store call and the status once: the same rows as step by
  // step, in fewer round trips.
  const added = await store.referrals.addEvents(
    steps.map(({ from, to, key }) => ({
      referralId: referral.id,
      fromStatus: from,
      toStatus: to,
      reasons: [passedStepReason(to, progress.to, reason)],
      source,
      idempotencyKey: key,
      occurredAt: now.toISOString(),
    })),
  );
  const last = steps.at(-1);
  if (last) await store.referrals.setStatus(referral.id, last.to, now);
  for (const [i, { from, to, key }] of steps.entries()) {
    const topic = TOPIC_FOR_STATUS[to];
    // Qualified and in-sales-process read the same to a referrer: a step between them says nothing new.
    if (added[i] && topic && topic !== TOPIC_FOR_STATUS[from]) {
      const row = { ...referral, status: to };
      const dealFacts = deal ? { amountCents: deal.amountCents, currency: deal.currency, stage: stageLabel ?? deal.stageId } : undefined;
      // The timeline keeps the CRM's reasons; a referrer reads the step, and for a lost deal its code.
      await ctx.notify(
        referralNotice(row, referrer, program, topic, key, topic === 'referral.lost' ? 'deal_lost' : undefined, dealFacts),
        now,
      );
    }
  }
  if (progress.leftClosedWon) {
    const rewards = (await store.rewards.forReferral(referral.id)).filter((r) => r.milestone === 'closed_won');
    await clawback(ctx, rewards, progress.reason, source, now);
  }
  // The row as setStatus left it.
  return { ...referral, status: progress.to, updatedAt: now.toISOString() };
}
