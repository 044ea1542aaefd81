import { addMonths, toDateOnly, type DateOnly } from './dates.ts';
import type { DealKind } from './deal-kind.ts';
import type { RevenueShareRewardRule } from './program.ts';

/** A won renewal or expansion deal on a referred company, with what its referral earned before. */
export interface RecurringDeal {
  kind: Exclude<DealKind, 'new_business'>;
  /** Why the installation's rule makes it a renewal or expansion. */
  kindReason: string;
  /** The referral's first won new-business deal, from which the period runs; null when none was won. */
  firstWon: { dealId: string; closeDate: DateOnly } | null;
  /** Renewal deals of the referral won before this deal closed. */
  renewalsBefore: number;
}

export interface PeriodDecision {
  inPeriod: boolean;
  reasons: string[];
}

/**
 * Whether a renewal or expansion closing on `closeDate` (a day or an instant) is inside a revenue-share rule's period:
 * at most `months` months after the first won deal's close date (the end day included), and, with
 * `renewals`, fewer than that many renewals won before it (so the Nth renewal is the last one paid).
 */
export function revenueSharePeriod(
  rule: Pick<RevenueShareRewardRule, 'id' | 'months' | 'renewals'>,
  closeDate: string,
  recurring: RecurringDeal,
): PeriodDecision {
  const { firstWon } = recurring;
  if (!firstWon) {
    return { inPeriod: false, reasons: [`the referral has no won new-business deal for rule ${rule.id}'s period to start from`] };
  }
  const closeDay = toDateOnly(closeDate);
  const start = `counted from deal ${firstWon.dealId}, first won on ${firstWon.closeDate}`;
  const reasons: string[] = [];
  if (closeDay < firstWon.closeDate) {
    return { inPeriod: false, reasons: [`the ${recurring.kind} closed on ${closeDay}, before the period ${start}`] };
  }
  if (rule.months !== undefined) {
    const end = addMonths(firstWon.closeDate, rule.months);
    const inMonths = closeDay <= end;
    reasons.push(
      `closed on ${closeDay}, ${inMonths ? 'within' : 'after'} rule ${rule.id}'s ${rule.months}-month period ${start} (through ${end})`,
    );
    if (!inMonths) return { inPeriod: false, reasons };
  }
  if (rule.renewals !== undefined) {
    const counted = recurring.renewalsBefore;
    const within = counted < rule.renewals;
    const which =
      recurring.kind === 'renewal' ? `renewal ${counted + 1}` : `an expansion after ${counted} renewal${counted === 1 ? '' : 's'}`;
    const limit = `the first ${rule.renewals} renewal${rule.renewals === 1 ? '' : 's'} ${start}`;
    reasons.push(within ? `${which}, within rule ${rule.id}'s ${limit}` : `${which}, past rule ${rule.id}'s ${limit}`);
    if (!within) return { inPeriod: false, reasons };
  }
  return { inPeriod: true, reasons };
}
