import { calendarQuarter, toDateOnly } from '../domain/dates.ts';
import { grantOf, isMoneyGrant } from '../domain/grants.ts';
import type { CurrencyBook } from '../domain/exchange.ts';
import type { Program } from '../domain/program.ts';
import type { RecurringDeal } from '../domain/revenue-share.ts';
import { clawbackDecision, recomputeRewards, type ExistingReward, type RewardInput } from '../domain/rewards.ts';
import type { ReferralRow, ReferrerRow } from '../store/referrals.repo.ts';
import type { RewardWithNet } from '../store/rewards.repo.ts';
import type { UseCaseContext } from '../ports/context.ts';
import { programNotice, refereeRewardNotice, rewardNotice } from '../notify/notices.ts';

/** The program version a referral was submitted under: its rewards always use it. */
export async function lockedProgram(ctx: UseCaseContext, referral: ReferralRow): Promise<Program> {
  const version = await ctx.store.programs.version(referral.programId, referral.programVersion);
  if (!version) throw new Error(`program version ${referral.programVersion} of ${referral.programId} is missing`);
  return version.program;
}

const asExisting = (r: RewardWithNet): ExistingReward => ({
  idempotencyKey: r.idempotencyKey,
  netCents: r.netCents,
  kind: r.kind,
  status: r.status,
});

/**
 * Brings a referral's rewards for a milestone in line with the facts: reverses what no longer
 * holds and accrues what is newly earned, through the domain's plan. Call inside a transaction.
 */
export async function settleMilestone(
  ctx: UseCaseContext,
  args: {
    referral: ReferralRow;
    referrer: ReferrerRow;
    /** The program version the referral is locked to. */
    program: Program;
    milestone: RewardInput['milestone'];
    deal: RewardInput['deal'];
    sharePpm: number;
    actor: string;
    now: Date;
    /** The CRM's company currency and rates; null when they could not be read (other currencies then wait). */
    currencies?: CurrencyBook | null;
    /** The won deal is a renewal or expansion of the referred customer (revenue share only). */
    recurring?: RecurringDeal | null;
  },
): Promise<void> {
  const { store } = ctx;
  const { program } = args;
  const existing = await store.rewards.forReferral(args.referral.id);
  const referrerRewards = await store.rewards.forReferrer(args.referrer.id);
  const today = toDateOnly(args.now.toISOString());
  const plan = recomputeRewards({
    program,
    milestone: args.milestone,
    referral: {
      id: args.referral.id,
      referrerId: args.referrer.id,
      referrerType: args.referrer.type,
      referrerTier: args.referrer.tier,
    },
    deal: args.deal ?? null,
    sharePpm: args.sharePpm,
    today,
    existing: [...existing, ...referrerRewards.filter((r) => r.kind === 'bonus')].map(asExisting),
    referrerClosedWonThisQuarter: await closedWonInQuarter(ctx, args.referrer.id, args.deal?.closeDate ?? today),
    referrerPaidThisYearCents: referrerRewards
      // The referee's reward is the referee's: it does not use up the referrer's yearly cap.
      .filter((r) => r.beneficiary === 'referrer' && r.createdAt.slice(0, 4) === today.slice(0, 4))
      .reduce((sum, r) => sum + r.netCents, 0),
    currencies: args.currencies ?? null,
    recurring: args.recurring ?? null,
  });

  await recordRewardPlan(ctx, args.referral, args.milestone, args.deal?.id ?? null, plan);
  for (const reversal of plan.reverse) {
    const reward = existing.find((r) => r.idempotencyKey === reversal.idempotencyKey);
    if (reward) await clawback(ctx, [reward], reversal.reason, args.actor, args.now);
  }
  const notice = programNotice(program);
  for (const decision of plan.decisions) {
    const row = await store.rewards.accrue(
      {
        installationId: args.referral.installationId,
        referralId: args.referral.id,
        referrerId: args.referrer.id,
        dealId: decision.dealId,
        kind: decision.kind,
        beneficiary: decision.beneficiary,
        milestone: decision.milestone,
        referrerTier: decision.referrerTier,
        amountCents: decision.amountCents,
        currency: decision.currency,
        status: decision.initialStatus,
        dueDate: decision.dueDate,
        requiresApproval: decision.requiresApproval,
        programId: args.referral.programId,
        programVersion: args.referral.programVersion,
        reasons: decision.reasons,
        conversion: decision.conversion,
        grant: decision.grant.kind === 'cash' ? null : decision.grant,
        idempotencyKey: decision.idempotencyKey,
        updatedAt: args.now.toISOString(),
      },
      args.actor,
    );
    if (row && row.beneficiary === 'referee') await ctx.notify(refereeRewardNotice(row, args.referral, notice), args.now);
    if (row && row.status === 'approved' && row.beneficiary === 'referrer') {
      await ctx.notify(rewardNotice(row, args.referral, notice, 'reward.approved', `${row.id}:approved`), args.now);
    }
    // Recognition is given the moment it is earned: the referrer is told as for a paid reward.
    if (row && row.status === 'paid' && row.beneficiary === 'referrer') {
      await ctx.notify(rewardNotice(row, args.referral, notice, 'reward.paid', `${row.id}:paid`), args.now);
    }
    // A reward over the approval threshold waits for an approver: the referrer hears it was earned.
    if (row && row.status === 'pending' && row.beneficiary === 'referrer') {
      await ctx.notify(rewardNotice(row, args.referral, notice, 'reward.earned', `${row.id}:earned`), args.now);
    }
  }
}

/**
 * Why a milestone earned what it did, or nothing ("no reward because …"), kept on the referral.
 * The same plan again (a deal applied twice) is not recorded twice.
 */
async function recordRewardPlan(
  ctx: UseCaseContext,
  referral: ReferralRow,
  milestone: RewardInput['milestone'],
  dealId: string | null,
  plan: ReturnType<typeof recomputeRewards>,
): Promise<void> {
  if (plan.decisions.length === 0 && plan.notes.length === 0) return;
  const outcome = {
    milestone,
    dealId,
    rewards: plan.decisions.map((d) => ({
      kind: d.kind,
      beneficiary: d.beneficiary,
      amountCents: d.amountCents,
      currency: d.currency,
      reasons: d.reasons,
    })),
    notes: plan.notes,
  };
  const last = (await ctx.store.audit.decisionsFor(referral.installationId, 'referral', referral.id)).find(
    (d) =>
      d.kind === 'reward_plan' && (d.outcome as typeof outcome).milestone === milestone && (d.outcome as typeof outcome).dealId === dealId,
  );
  if (last && JSON.stringify(last.outcome) === JSON.stringify(outcome)) return;
  await ctx.store.audit.decide({
    installationId: referral.installationId,
    subjectType: 'referral',
    subjectId: referral.id,
    kind: 'reward_plan',
    outcome,
  });
}

/** Offsetting ledger entries that net each reward to zero; paid ones are netted in the next payout. */
export async function clawback(ctx: UseCaseContext, rewards: RewardWithNet[], reason: string, actor: string, now: Date): Promise<void> {
  // A reward waiting for a rate, or a recognition, holds no money: it is closed with a status
  // entry, nothing to claw back.
  const holdsNoMoney = (r: RewardWithNet): boolean => r.status === 'needs_rate' || (!isMoneyGrant(grantOf(r)) && r.status !== 'reversed');
  for (const waiting of rewards.filter(holdsNoMoney)) {
    const added = await ctx.store.rewards.addEntry({
      rewardId: waiting.id,
      kind: 'status',
      amountCents: 0,
      fromStatus: waiting.status,
      toStatus: 'reversed',
      actor,
      reason: waiting.status === 'needs_rate' ? `closed while waiting for an exchange rate: ${reason}` : `recognition withdrawn: ${reason}`,
      idempotencyKey: `${waiting.id}:closed`,
    });
    if (added) await ctx.store.rewards.setStatus(waiting.id, 'reversed', now);
  }
  const live = rewards.filter((r) => r.status !== 'reversed' && !holdsNoMoney(r));
  for (const entry of clawbackDecision(
    live.map((r) => ({ id: r.id, netCents: r.netCents, status: r.status, currency: r.currency })),
    reason,
  )) {
    const reward = live.find((r) => r.id === entry.rewardId)!;
    const added = await ctx.store.rewards.addEntry({
      rewardId: entry.rewardId,
      kind: 'clawback',
      amountCents: entry.amountCents,
      fromStatus: reward.status,
      toStatus: entry.nextStatus,
      actor,
      reason: entry.reasons.join(' '),
      idempotencyKey: entry.idempotencyKey,
    });
    if (!added) continue;
    await ctx.store.rewards.setStatus(entry.rewardId, entry.nextStatus, now);
    // Money already paid out is taken back from the next payout: the referrer is told why.
    if (reward.status === 'paid' && reward.beneficiary === 'referrer') {
      const referral = (await ctx.store.referrals.get(reward.referralId))!;
      const notice = programNotice(await lockedProgram(ctx, referral));
      const recovered = { ...reward, status: entry.nextStatus };
      await ctx.notify(rewardNotice(recovered, referral, notice, 'reward.recovered', `${entry.idempotencyKey}:recovered`, reason), now);
    }
    await ctx.store.audit.record({
      installationId: reward.installationId,
      actor,
      action: 'reward.reversed',
      subjectType: 'reward',
      subjectId: reward.id,
      before: { status: reward.status, netCents: reward.netCents },
      after: { status: entry.nextStatus, netCents: 0 },
      at: now.toISOString(),
    });
  }
}

/** The referrer's closed-won referrals whose deal closed in the same calendar quarter. */
async function closedWonInQuarter(ctx: UseCaseContext, referrerId: string, closeDate: string): Promise<number> {
  const quarter = calendarQuarter(toDateOnly(closeDate));
  const inQuarter = (await ctx.store.deals.closedWonCloseDates(referrerId)).filter((r) => calendarQuarter(r.closeDate) === quarter);
  return new Set(inQuarter.map((r) => r.referralId)).size;
}
