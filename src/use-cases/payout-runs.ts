import {
  payeeBalance,
  payeeCurrencyKey,
  payoutRunTransition,
  planPayoutLines,
  type PayeeBalance,
  type PayeeType,
  type PayableReward,
} from '../domain/payouts.ts';
import { grantOf } from '../domain/grants.ts';
import type { UseCaseContext } from '../ports/context.ts';
import type { InstallationRow } from '../store/installations.repo.ts';
import type { ProgramRow } from '../store/programs.repo.ts';
import { RewardsInOpenRunError, type PayoutRunWithLines } from '../store/payouts.repo.ts';
import type { RewardWithNet } from '../store/rewards.repo.ts';
import { changeReward } from './manage-rewards.ts';

export interface Payee {
  type: PayeeType;
  /** The referrer's id, or the referee's email key. */
  key: string;
  name: string;
  email: string;
}

/** Whom a reward is paid to: the referrer, or (dual-sided programs) the referred person themself. */
export async function payeeOf(ctx: UseCaseContext, reward: RewardWithNet): Promise<Payee> {
  if (reward.beneficiary === 'referee') {
    const referral = (await ctx.store.referrals.get(reward.referralId))!;
    const name = [referral.refereeFirstName, referral.refereeLastName].filter(Boolean).join(' ');
    return { type: 'referee', key: referral.refereeEmailKey, name: name || referral.refereeEmail, email: referral.refereeEmail };
  }
  const referrer = (await ctx.store.referrals.referrer(reward.referrerId))!;
  return { type: 'referrer', key: referrer.id, name: referrer.name, email: referrer.email };
}

/**
 * Every payee's balance per currency in an installation, or in one of its programs: owed, paid
 * out, and owed back (receivable).
 */
export async function payeeBalances(
  ctx: UseCaseContext,
  installationId: string,
  programId?: string,
): Promise<Map<string, { payee: Payee; balance: PayeeBalance }>> {
  const rewardsByKey = new Map<string, { payee: Payee; currency: string; rewards: RewardWithNet[] }>();
  for (const reward of await ctx.store.rewards.forInstallation(installationId)) {
    if (programId !== undefined && reward.programId !== programId) continue;
    const payee = await payeeOf(ctx, reward);
    const key = payeeCurrencyKey({ payeeType: payee.type, payeeKey: payee.key, currency: reward.currency });
    const group = rewardsByKey.get(key) ?? { payee, currency: reward.currency, rewards: [] };
    group.rewards.push(reward);
    rewardsByKey.set(key, group);
  }
  const lines = (await ctx.store.payouts.lines(installationId)).filter((l) => programId === undefined || l.runProgramId === programId);
  const balances = new Map<string, { payee: Payee; balance: PayeeBalance }>();
  for (const [key, group] of rewardsByKey) {
    const recoveries = lines.filter((l) => payeeCurrencyKey(l) === key);
    balances.set(key, { payee: group.payee, balance: payeeBalance(group.currency, group.rewards, recoveries) });
  }
  return balances;
}

/** A referrer's own balance per currency (referee rewards are the referee's). */
export async function referrerBalance(ctx: UseCaseContext, referrer: { id: string; installationId: string }): Promise<PayeeBalance[]> {
  return [...(await payeeBalances(ctx, referrer.installationId)).values()]
    .filter(({ payee }) => payee.type === 'referrer' && payee.key === referrer.id)
    .map(({ balance }) => balance);
}

export type PayoutRefusal = {
  ok: false;
  code: 'invalid_input' | 'conflict' | 'illegal_state';
  reason: string;
  details?: Record<string, unknown>;
};

/**
 * Gathers one program's approved or payable rewards due on or before `dueOn` (all of them, or the
 * ones named) into a draft run: one line per payee, currency and grant, net of what each payee owes back
 * to that program. A run per program, because each program is its own budget and way of paying
 * (gift cards to customers, commission to partners): finance books, approves and pays them apart.
 */
export async function createPayoutRun(
  ctx: UseCaseContext,
  args: { installation: InstallationRow; program: ProgramRow; dueOn: string; rewardIds?: string[]; actor: string },
): Promise<{ ok: true; run: PayoutRunWithLines } | PayoutRefusal> {
  const { store } = ctx;
  const now = ctx.now();
  const programId = args.program.id;
  try {
    return await store.transaction(async () => {
      const inInstallation = await store.rewards.forInstallation(args.installation.id);
      const named = args.rewardIds ? new Set(args.rewardIds) : null;
      if (named) {
        const known = new Set(inInstallation.map((r) => r.id));
        const unknown = [...named].filter((id) => !known.has(id));
        if (unknown.length > 0)
          return refusal('invalid_input', `No such rewards in this installation: ${unknown.join(', ')}.`, { unknown });
        const otherProgram = inInstallation.filter((r) => named.has(r.id) && r.programId !== programId);
        if (otherProgram.length > 0)
          return refusal(
            'invalid_input',
            `Rewards of another program: ${otherProgram.map((r) => `${r.id} (${r.programId})`).join(', ')}; a run pays one program (${programId}).`,
            { otherProgram: otherProgram.map((r) => ({ id: r.id, programId: r.programId })) },
          );
      }
      const all = inInstallation.filter((r) => r.programId === programId);
      const candidates = all.filter((r) => (named ? named.has(r.id) : true));
      const taken = await store.payouts.inOpenRuns(candidates.map((r) => r.id));
      if (named && taken.length > 0) {
        return refusal('conflict', `Rewards already in an open payout run: ${taken.map((t) => `${t.rewardId} (${t.runId})`).join(', ')}.`, {
          inOpenRuns: taken,
        });
      }
      const takenIds = new Set(taken.map((t) => t.rewardId));
      const isDue = (r: RewardWithNet) => (r.status === 'approved' || r.status === 'payable') && r.dueDate <= args.dueOn && r.netCents > 0;
      if (named) {
        const notDue = candidates.filter((r) => !isDue(r));
        if (notDue.length > 0) {
          return refusal(
            'conflict',
            `Not payable by ${args.dueOn}: ${notDue.map((r) => `${r.id} (${r.status}, due ${r.dueDate})`).join(', ')}.`,
            { notPayable: notDue.map((r) => ({ id: r.id, status: r.status, dueDate: r.dueDate })) },
          );
        }
      }
      const gathered = candidates.filter((r) => isDue(r) && !takenIds.has(r.id));
      if (gathered.length === 0)
        return refusal(
          'conflict',
          `No approved or payable rewards of program ${programId} due on or before ${args.dueOn} are outside open runs.`,
        );

      const payees = new Map<string, Payee>();
      const payable: PayableReward[] = [];
      for (const r of gathered) {
        const payee = await payeeOf(ctx, r);
        payees.set(`${payee.type}:${payee.key}`, payee);
        payable.push({
          id: r.id,
          payeeType: payee.type,
          payeeKey: payee.key,
          currency: r.currency,
          netCents: r.netCents,
          grant: grantOf(r),
        });
      }
      const receivables = new Map<string, number>();
      for (const [key, { balance }] of await payeeBalances(ctx, args.installation.id, programId)) {
        receivables.set(key, balance.receivableCents - balance.recoveringCents);
      }
      const netOf = new Map(gathered.map((r) => [r.id, r.netCents]));
      const run = await store.payouts.create({
        installationId: args.installation.id,
        programId,
        dueOn: args.dueOn,
        lines: planPayoutLines(payable, receivables).map((line) => {
          const payee = payees.get(`${line.payeeType}:${line.payeeKey}`)!;
          return {
            payeeType: line.payeeType,
            payeeKey: line.payeeKey,
            payeeName: payee.name,
            payeeEmail: payee.email,
            currency: line.currency,
            grantKey: line.grantKey,
            grant: line.grant.kind === 'cash' ? null : line.grant,
            grossCents: line.grossCents,
            recoveredCents: line.recoveredCents,
            amountCents: line.amountCents,
            items: line.rewardIds.map((rewardId) => ({ rewardId, amountCents: netOf.get(rewardId)! })),
          };
        }),
      });
      await store.audit.record({
        installationId: args.installation.id,
        actor: args.actor,
        action: 'payout_run.created',
        subjectType: 'payout_run',
        subjectId: run.id,
        after: { programId, dueOn: args.dueOn, lines: run.lines.length, rewards: gathered.length },
        at: now.toISOString(),
      });
      return { ok: true as const, run };
    });
  } catch (err) {
    if (err instanceof RewardsInOpenRunError) {
      return refusal('conflict', `Rewards already in an open payout run: ${err.rewardIds.join(', ')}.`, { inOpenRuns: err.rewardIds });
    }
    throw err;
  }
}

/** Exported: finance has the file. Exporting again gives the same lines. */
export async function exportPayoutRun(
  ctx: UseCaseContext,
  run: PayoutRunWithLines,
  actor: string,
): Promise<{ ok: true; run: PayoutRunWithLines } | PayoutRefusal> {
  const move = payoutRunTransition(run.status, 'export');
  if (!move.ok) return refusal('illegal_state', `${move.reason}.`, { status: run.status });
  if (!move.changed) return { ok: true, run };
  const now = ctx.now();
  await ctx.store.transaction(async () => {
    await ctx.store.payouts.markExported(run.id, now);
    await ctx.store.audit.record({
      installationId: run.installationId,
      actor,
      action: 'payout_run.exported',
      subjectType: 'payout_run',
      subjectId: run.id,
      before: { status: run.status },
      after: { status: 'exported' },
      at: now.toISOString(),
    });
  });
  return { ok: true, run: (await ctx.store.payouts.get(run.id))! };
}

/**
 * Paid with finance's reference: every reward of the run is marked paid through changeReward, as
 * one by one, in one transaction. A reward reversed or rejected after the run was exported was
 * still paid as exported: its amount is recorded as paid, so it becomes owed back and the next
 * run recovers it.
 */
export async function markPayoutRunPaid(
  ctx: UseCaseContext,
  run: PayoutRunWithLines,
  reference: string,
  actor: string,
): Promise<{ ok: true; run: PayoutRunWithLines } | PayoutRefusal> {
  const { store } = ctx;
  const now = ctx.now();
  return await store.transaction(async () => {
    // Read again under the write lock: two requests paying the same run cannot both pass.
    const current = (await store.payouts.get(run.id))!;
    const move = payoutRunTransition(current.status, 'mark_paid');
    if (!move.ok) return refusal('illegal_state', `${move.reason}.`, { status: current.status });
    for (const item of await store.payouts.items(run.id)) {
      const reward = (await store.rewards.get(item.rewardId))!;
      if (reward.status === 'approved' || reward.status === 'payable') {
        const result = await changeReward(ctx, {
          reward,
          action: 'mark_paid',
          actor,
          payoutReference: reference,
          reason: `paid in payout run ${run.id} with reference ${reference}`,
          payoutRunId: run.id,
          paidCents: item.amountCents,
        });
        if (!result.ok) throw new Error(`reward ${reward.id} of run ${run.id} could not be paid: ${result.reason}`);
      } else {
        await store.rewards.setPaidCents(reward.id, item.amountCents);
      }
    }
    await store.payouts.markPaid(run.id, reference, now);
    await store.audit.record({
      installationId: run.installationId,
      actor,
      action: 'payout_run.paid',
      subjectType: 'payout_run',
      subjectId: run.id,
      before: { status: run.status },
      after: { status: 'paid', reference },
      at: now.toISOString(),
    });
    return { ok: true as const, run: (await store.payouts.get(run.id))! };
  });
}

function refusal(code: PayoutRefusal['code'], reason: string, details?: Record<string, unknown>): PayoutRefusal {
  return { ok: false, code, reason, ...(details ? { details } : {}) };
}
