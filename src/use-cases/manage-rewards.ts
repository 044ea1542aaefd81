import { rewardTransition, type RewardAction, type RewardStatus } from '../domain/rewards.ts';
import type { RewardWithNet } from '../store/rewards.repo.ts';
import type { UseCaseContext } from '../ports/context.ts';
import { programNotice, rewardNotice } from '../notify/notices.ts';
import { lockedProgram } from './reward-ledger.ts';

export type RewardChange = { ok: true; reward: RewardWithNet; changed: boolean } | { ok: false; reason: string; reward: RewardWithNet };

/**
 * Finance's actions on a reward: approve, reject (with a reason), mark paid (with a payout
 * reference). The domain decides what is allowed; every change is a ledger entry and an audit row,
 * and the referrer hears of approvals and payouts.
 */
export async function changeReward(
  ctx: UseCaseContext,
  args: {
    reward: RewardWithNet;
    action: Extract<RewardAction, 'approve' | 'reject' | 'mark_paid'>;
    actor: string;
    reason?: string;
    payoutReference?: string;
    /** Set when a payout run pays the reward: the one run allowed to. */
    payoutRunId?: string;
    /** Money handed over for the reward; its net unless a run says what it paid. */
    paidCents?: number;
  },
): Promise<RewardChange> {
  const { store } = ctx;
  const { reward } = args;
  if (args.action === 'mark_paid') {
    const openRun = (await store.payouts.inOpenRuns([reward.id])).find((r) => r.runId !== args.payoutRunId);
    if (openRun) return { ok: false, reason: `it is in open payout run ${openRun.runId}: mark the run paid instead`, reward };
  }
  // Paying an approved reward makes it payable on the way: finance may pay before the due date.
  const steps: RewardAction[] = args.action === 'mark_paid' && reward.status === 'approved' ? ['make_payable', 'mark_paid'] : [args.action];
  let from = reward.status;
  const moves: { from: RewardStatus; to: RewardStatus; action: RewardAction }[] = [];
  for (const action of steps) {
    const t = rewardTransition(from, action);
    if (!t.ok) return { ok: false, reason: t.reason, reward };
    if (t.changed) moves.push({ from, to: t.to, action });
    from = t.to;
  }
  if (moves.length === 0) return { ok: true, reward, changed: false };

  const now = ctx.now();
  await store.transaction(async () => {
    for (const move of moves) {
      await store.rewards.addEntry({
        rewardId: reward.id,
        kind: 'status',
        amountCents: 0,
        fromStatus: move.from,
        toStatus: move.to,
        actor: args.actor,
        reason: args.reason ?? move.action.replace('_', ' '),
        idempotencyKey: `${reward.id}:${move.to}`,
      });
    }
    await store.rewards.setStatus(reward.id, from, now, args.payoutReference);
    if (from === 'paid') await store.rewards.setPaidCents(reward.id, args.paidCents ?? reward.netCents);
    // A rejected reward nets to zero in the ledger, like a reversal.
    if (from === 'rejected' && reward.netCents !== 0) {
      await store.rewards.addEntry({
        rewardId: reward.id,
        kind: 'rejection',
        amountCents: -reward.netCents,
        fromStatus: reward.status,
        toStatus: 'rejected',
        actor: args.actor,
        reason: args.reason ?? 'rejected',
        idempotencyKey: `${reward.id}:rejected:offset`,
      });
    }
    await store.audit.record({
      installationId: reward.installationId,
      actor: args.actor,
      action: `reward.${args.action}`,
      subjectType: 'reward',
      subjectId: reward.id,
      before: { status: reward.status },
      after: { status: from, reason: args.reason ?? null, payoutReference: args.payoutReference ?? null },
      at: now.toISOString(),
    });
    const referral = (await store.referrals.get(reward.referralId))!;
    const updated = (await store.rewards.get(reward.id))!;
    const notice = programNotice(await lockedProgram(ctx, referral));
    if (reward.beneficiary === 'referrer' && from === 'approved')
      await ctx.notify(rewardNotice(updated, referral, notice, 'reward.approved', `${reward.id}:approved`), now);
    if (reward.beneficiary === 'referrer' && from === 'paid')
      await ctx.notify(rewardNotice(updated, referral, notice, 'reward.paid', `${reward.id}:paid`), now);
    if (reward.beneficiary === 'referrer' && from === 'rejected')
      await ctx.notify(rewardNotice(updated, referral, notice, 'reward.rejected', `${reward.id}:rejected`, args.reason), now);
  });
  return { ok: true, reward: (await store.rewards.get(reward.id))!, changed: true };
}
