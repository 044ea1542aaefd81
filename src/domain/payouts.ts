import { grantLabel, grantLineKey, type Grant } from './grants.ts';
import { formatMoney } from './money.ts';
import type { RewardStatus } from './rewards.ts';

export const PAYOUT_RUN_STATUSES = ['draft', 'exported', 'sent', 'paid'] as const;
/** A line sent through a payout provider: ordered, then delivered or failed (by webhook). */
export const PAYOUT_LINE_SEND_STATUSES = ['sent', 'delivered', 'failed'] as const;
export type PayoutLineSendStatus = (typeof PAYOUT_LINE_SEND_STATUSES)[number];
export type PayoutRunStatus = (typeof PAYOUT_RUN_STATUSES)[number];
export type PayeeType = 'referrer' | 'referee';

/** A reward a payout run may gather: approved or payable, due, in no open run. */
export interface PayableReward {
  id: string;
  payeeType: PayeeType;
  payeeKey: string;
  currency: string;
  netCents: number;
  /** What the reward is given as: each grant is a line of its own. */
  grant: Grant;
}

export interface PayoutLinePlan {
  payeeType: PayeeType;
  payeeKey: string;
  currency: string;
  grant: Grant;
  /** grantLineKey(grant): lines are per payee, currency and this key. */
  grantKey: string;
  grossCents: number;
  recoveredCents: number;
  amountCents: number;
  rewardIds: string[];
  reasons: string[];
}

/** One key per payee and currency: a receivable in EUR is never netted against USD rewards. */
export const payeeCurrencyKey = (p: { payeeType: PayeeType; payeeKey: string; currency: string }): string =>
  `${p.payeeType}:${p.payeeKey}:${p.currency}`;

/**
 * One line per payee, currency and grant (a gift card and cash to one referrer are two lines): the
 * rewards' net, less what the payee owes back (clawed-back paid rewards), never below zero; what is
 * not recovered now stays owed for the next run. A payee's receivable in a currency is recovered
 * from the cash line first, then from the other lines in order.
 */
export function planPayoutLines(rewards: readonly PayableReward[], receivables: ReadonlyMap<string, number>): PayoutLinePlan[] {
  const lines = new Map<string, PayoutLinePlan>();
  for (const reward of rewards) {
    if (reward.netCents <= 0) continue;
    const grantKey = grantLineKey(reward.grant);
    const key = `${payeeCurrencyKey(reward)}:${grantKey}`;
    const line = lines.get(key) ?? {
      payeeType: reward.payeeType,
      payeeKey: reward.payeeKey,
      currency: reward.currency,
      grant: reward.grant,
      grantKey,
      grossCents: 0,
      recoveredCents: 0,
      amountCents: 0,
      rewardIds: [],
      reasons: [],
    };
    line.grossCents += reward.netCents;
    line.rewardIds.push(reward.id);
    lines.set(key, line);
  }
  const cashFirst = [...lines.values()].sort((a, b) => Number(b.grantKey === 'cash') - Number(a.grantKey === 'cash'));
  const owedBack = new Map<string, number>();
  for (const line of cashFirst) {
    const key = payeeCurrencyKey(line);
    const left = owedBack.get(key) ?? Math.max(0, receivables.get(key) ?? 0);
    line.recoveredCents = Math.min(left, line.grossCents);
    line.amountCents = line.grossCents - line.recoveredCents;
    owedBack.set(key, left - line.recoveredCents);
    const money = (cents: number) => formatMoney(cents, line.currency);
    line.reasons.push(
      `${line.rewardIds.length} reward(s) worth ${money(line.grossCents)}${line.grantKey === 'cash' ? '' : `, given as ${grantLabel(line.grant)}`}`,
    );
    if (line.recoveredCents > 0) {
      const carried = left - line.recoveredCents;
      line.reasons.push(
        `${money(line.recoveredCents)} recovered from clawed-back rewards already paid` +
          (carried > 0 ? `; ${money(carried)} is still owed and carried to the next payout` : ''),
      );
    }
  }
  return [...lines.values()];
}

/** What a payee's rewards in one currency add up to, from the rewards and the runs' recoveries. */
export interface PayeeBalance {
  currency: string;
  /** Net of rewards not yet paid (pending, approved, payable). */
  owedCents: number;
  /** Money actually handed over: paid rewards as paid, less what runs recovered. */
  paidOutCents: number;
  /** Paid, then clawed back, and not yet recovered by a paid run. */
  receivableCents: number;
  /** Part of the receivable already set against rewards in open (draft or exported) runs. */
  recoveringCents: number;
}

const UNPAID: readonly RewardStatus[] = ['pending', 'approved', 'payable'];

/**
 * A payee's balance in one currency. The ledger balances: the sum of its entries (the rewards'
 * nets) equals paidOut + owed − receivable.
 */
export function payeeBalance(
  currency: string,
  rewards: readonly { status: string; netCents: number; paidCents: number | null }[],
  recoveries: readonly { recoveredCents: number; runStatus: PayoutRunStatus }[],
): PayeeBalance {
  let owed = 0;
  let paid = 0;
  let paidNet = 0;
  for (const r of rewards) {
    if (r.paidCents !== null) {
      paid += r.paidCents;
      paidNet += r.netCents;
    } else if (UNPAID.includes(r.status as RewardStatus)) owed += r.netCents;
  }
  const recovered = recoveries.filter((r) => r.runStatus === 'paid').reduce((s, r) => s + r.recoveredCents, 0);
  const recovering = recoveries.filter((r) => r.runStatus !== 'paid').reduce((s, r) => s + r.recoveredCents, 0);
  return {
    currency,
    owedCents: owed,
    paidOutCents: paid - recovered,
    receivableCents: paid - paidNet - recovered,
    recoveringCents: recovering,
  };
}

export type PayoutRunAction = 'export' | 'mark_paid' | 'send';

const RUN_MOVES: Readonly<Record<PayoutRunAction, { to: PayoutRunStatus; from: readonly PayoutRunStatus[] }>> = {
  export: { to: 'exported', from: ['draft', 'exported'] },
  // Sent to the provider: its lines are then paid one by one as the provider delivers them.
  send: { to: 'sent', from: ['draft', 'exported'] },
  mark_paid: { to: 'paid', from: ['exported'] },
};

/** draft → exported → paid. Exporting again gives the same file; paying twice is refused. */
export function payoutRunTransition(
  from: PayoutRunStatus,
  action: PayoutRunAction,
): { ok: true; to: PayoutRunStatus; changed: boolean } | { ok: false; reason: string } {
  const move = RUN_MOVES[action];
  if (!move.from.includes(from)) {
    const why =
      from === 'paid'
        ? 'it is already paid'
        : from === 'sent'
          ? 'it was sent to the payout provider, which pays its lines'
          : from === 'draft'
            ? 'it has not been exported yet: export it, pay the file, then mark it paid'
            : `it is ${from}`;
    return { ok: false, reason: `cannot ${action.replace('_', ' ')} a ${from} payout run: ${why}` };
  }
  return { ok: true, to: move.to, changed: from !== move.to };
}

export interface FinanceDigestReward {
  id: string;
  status: string;
  amountCents: number;
  currency: string;
  dueDate: string;
}

export interface FinanceDigest {
  date: string;
  /** Pending rewards: an approver has to decide. */
  awaitingApproval: FinanceDigestReward[];
  /** Approved or payable rewards whose due date has passed, unpaid. */
  overdue: FinanceDigestReward[];
}

/** What finance is told today, or null when nothing waits: no empty digests. */
export function financeDigest(
  rewards: readonly { id: string; status: string; netCents: number; currency: string; dueDate: string }[],
  today: string,
): FinanceDigest | null {
  const view = (r: (typeof rewards)[number]): FinanceDigestReward => ({
    id: r.id,
    status: r.status,
    amountCents: r.netCents,
    currency: r.currency,
    dueDate: r.dueDate,
  });
  const byDue = (a: FinanceDigestReward, b: FinanceDigestReward) => a.dueDate.localeCompare(b.dueDate) || a.id.localeCompare(b.id);
  const awaitingApproval = rewards
    .filter((r) => r.status === 'pending')
    .map(view)
    .sort(byDue);
  const overdue = rewards
    .filter((r) => (r.status === 'approved' || r.status === 'payable') && r.dueDate < today)
    .map(view)
    .sort(byDue);
  return awaitingApproval.length + overdue.length === 0 ? null : { date: today, awaitingApproval, overdue };
}
