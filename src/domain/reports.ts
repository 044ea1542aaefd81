// Reports: the aggregations behind `GET /api/v1/reports`. Facts in (referrals with every status
// they had, won deals, rewards), numbers out; the period, the clock and the CRM's counts are parameters.
import { attributedValueCents } from './attribution.ts';
import { addDays, addMonths, daysBetween, type DateOnly, type IsoInstant, toDateOnly } from './dates.ts';
import type { ReferralStatus } from './referral-lifecycle.ts';

export const REPORT_GRANULARITIES = ['week', 'month'] as const;
export type ReportGranularity = (typeof REPORT_GRANULARITIES)[number];

/** The funnel's steps, in order; a referral counts at every step up to the furthest it reached. */
export const FUNNEL_STEPS = ['submitted', 'accepted', 'contacted', 'qualified', 'in_sales_process', 'closed_won'] as const;
export type FunnelStep = (typeof FUNNEL_STEPS)[number];

/** Longest range one report covers: weekly bars over more than two years say nothing readable. */
export const MAX_REPORT_DAYS = 731;

/**
 * How far along the funnel each status is. A claim waits at submission; rejected and expired
 * referrals stop there; a lost deal moves nothing forward (the steps before it were counted as reached).
 */
const STEP_OF_STATUS: Record<ReferralStatus, number | null> = {
  submitted: 0,
  claim_pending: 0,
  rejected: 0,
  expired: 0,
  accepted: 1,
  contacted: 2,
  qualified: 3,
  in_sales_process: 4,
  closed_won: 5,
  closed_lost: null,
};

/** The furthest step of the funnel a referral reached, from every status it has had. */
export function furthestStep(statuses: readonly ReferralStatus[]): FunnelStep {
  const reached = Math.max(0, ...statuses.map((s) => STEP_OF_STATUS[s] ?? 0));
  return FUNNEL_STEPS[reached]!;
}

export interface FunnelRow {
  step: FunnelStep;
  /** Referrals that reached this step or a later one. */
  count: number;
  /** count ÷ the previous step's count; null for the first step or when the previous step is empty. */
  fromPrevious: number | null;
}

/** Referrals reaching each step (cumulative: one won referral counts at every step). */
export function funnel(furthest: readonly FunnelStep[]): FunnelRow[] {
  const counts = FUNNEL_STEPS.map((_, i) => furthest.filter((step) => FUNNEL_STEPS.indexOf(step) >= i).length);
  return FUNNEL_STEPS.map((step, i) => ({
    step,
    count: counts[i]!,
    fromPrevious: i === 0 || counts[i - 1] === 0 ? null : counts[i]! / counts[i - 1]!,
  }));
}

/** part ÷ whole, or null when there is nothing to divide by (a rate of 0 would claim something was measured). */
export function rate(part: number, whole: number): number | null {
  return whole > 0 ? part / whole : null;
}

/** The median of some numbers (the mean of the middle two for an even count); null for none. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The first day of the period a day falls in: the Monday of its ISO week, or the first of its month. */
export function periodStart(day: DateOnly, granularity: ReportGranularity): DateOnly {
  if (granularity === 'month') return `${day.slice(0, 7)}-01`;
  // 1970-01-05 was a Monday: whole days since then, modulo 7, is the day's offset into its week.
  const sinceMonday = (((daysBetween('1970-01-05', day) % 7) + 7) % 7) as number;
  return addDays(day, -sinceMonday);
}

/** Every period from the one holding `from` to the one holding `to`, by their first day. */
export function periodsBetween(from: DateOnly, to: DateOnly, granularity: ReportGranularity): DateOnly[] {
  const periods: DateOnly[] = [];
  for (let start = periodStart(from, granularity); start <= to; ) {
    periods.push(start);
    start = granularity === 'month' ? addMonths(start, 1) : addDays(start, 7);
  }
  return periods;
}

/** Referrals submitted per period, every period of the range listed (empty ones as 0). */
export function referralsOverTime(
  submittedAt: readonly IsoInstant[],
  range: { from: DateOnly; to: DateOnly },
  granularity: ReportGranularity,
): { periodStart: DateOnly; referrals: number }[] {
  const counts = new Map(periodsBetween(range.from, range.to, granularity).map((p) => [p, 0]));
  for (const at of submittedAt) {
    const period = periodStart(toDateOnly(at), granularity);
    if (counts.has(period)) counts.set(period, counts.get(period)! + 1);
  }
  return [...counts].map(([periodStart, referrals]) => ({ periodStart, referrals }));
}

/** Whole days from a deal's creation to its close date (0 when the CRM closes it on the day it was created or earlier). */
export function daysToClose(deal: { createdAt: IsoInstant; closeDate: DateOnly }): number {
  return Math.max(0, daysBetween(toDateOnly(deal.createdAt), deal.closeDate));
}

/**
 * Median days to close of the referred won deals against the installation's other won deals
 * closed in the same range (the CRM's; a referred deal among them is left out of "other").
 */
export function timeToClose(
  referred: readonly { dealId: string; createdAt: IsoInstant; closeDate: DateOnly }[],
  crmWon: readonly { id: string; createdAt: IsoInstant; closeDate: DateOnly }[],
): { referredMedianDays: number | null; referredDeals: number; otherMedianDays: number | null; otherDeals: number } {
  const referredIds = new Set(referred.map((d) => d.dealId));
  const others = crmWon.filter((d) => !referredIds.has(d.id));
  return {
    referredMedianDays: median(referred.map(daysToClose)),
    referredDeals: referred.length,
    otherMedianDays: median(others.map(daysToClose)),
    otherDeals: others.length,
  };
}

export interface WonDealFact {
  dealId: string;
  currency: string;
  amountCents: number | null;
  /** The deal's active attributions to the referrals the report covers. */
  attributions: { role: 'sourced' | 'influenced'; sharePpm: number }[];
}

/** Revenue credited to referrals, per currency (never added across currencies), in minor units. */
export function revenueAttributed(deals: readonly WonDealFact[]): { currency: string; amountCents: number; deals: number }[] {
  const byCurrency = new Map<string, { currency: string; amountCents: number; deals: number }>();
  for (const deal of deals) {
    const entry = byCurrency.get(deal.currency) ?? { currency: deal.currency, amountCents: 0, deals: 0 };
    entry.amountCents += attributedValueCents(deal.amountCents, deal.attributions);
    entry.deals += 1;
    byCurrency.set(deal.currency, entry);
  }
  return [...byCurrency.values()].sort((a, b) => a.currency.localeCompare(b.currency));
}

export interface ReferrerFact {
  referrerId: string;
  name: string;
  type: string;
  won: boolean;
}

/** Referrers by referrals submitted, then won, then name; at most `limit`. */
export function topReferrers(
  referrals: readonly ReferrerFact[],
  limit: number,
): { referrerId: string; name: string; type: string; referrals: number; won: number }[] {
  const byReferrer = new Map<string, { referrerId: string; name: string; type: string; referrals: number; won: number }>();
  for (const r of referrals) {
    const entry = byReferrer.get(r.referrerId) ?? { referrerId: r.referrerId, name: r.name, type: r.type, referrals: 0, won: 0 };
    entry.referrals += 1;
    if (r.won) entry.won += 1;
    byReferrer.set(r.referrerId, entry);
  }
  return [...byReferrer.values()]
    .sort((a, b) => b.referrals - a.referrals || b.won - a.won || a.name.localeCompare(b.name))
    .slice(0, limit);
}

/** Rewards' net minor units per currency for the three statuses a program tracks (payable counts as approved). */
export function rewardTotals(
  rewards: readonly { currency: string; status: string; netCents: number }[],
): { currency: string; pendingCents: number; approvedCents: number; paidCents: number }[] {
  const byCurrency = new Map<string, { currency: string; pendingCents: number; approvedCents: number; paidCents: number }>();
  for (const r of rewards) {
    const key =
      r.status === 'pending'
        ? 'pendingCents'
        : r.status === 'approved' || r.status === 'payable'
          ? 'approvedCents'
          : r.status === 'paid'
            ? 'paidCents'
            : null;
    if (!key) continue;
    const entry = byCurrency.get(r.currency) ?? { currency: r.currency, pendingCents: 0, approvedCents: 0, paidCents: 0 };
    entry[key] += r.netCents;
    byCurrency.set(r.currency, entry);
  }
  return [...byCurrency.values()].sort((a, b) => a.currency.localeCompare(b.currency));
}

/** Why a requested range cannot be reported, or null when it can. */
export function rangeProblem(from: DateOnly, to: DateOnly): string | null {
  if (from > to) return `from (${from}) is after to (${to})`;
  const days = daysBetween(from, to) + 1;
  if (days > MAX_REPORT_DAYS) return `the range is ${days} days; a report covers at most ${MAX_REPORT_DAYS}`;
  return null;
}
