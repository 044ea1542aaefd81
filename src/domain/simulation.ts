import { compareText } from './compare.ts';
import { calendarQuarter, toDateOnly, type DateOnly } from './dates.ts';
import { BASIS_POINTS_WHOLE, PPM_WHOLE } from './money.ts';
import type { Program, ReferrerType } from './program.ts';
import type { RecurringDeal } from './revenue-share.ts';
import { computeRewards, type RewardDecision } from './rewards.ts';

/** A past closed-won deal and the referral credited for it. */
export interface SimulationDeal {
  referral: { id: string; referrerId: string; referrerType: ReferrerType; referrerTier?: string | null };
  deal: { id: string; firstYearValueCents: number | null; amountCents: number | null; currency: string; closeDate: string };
  /** Defaults to the whole credit. */
  sharePpm?: number;
  /** A renewal or expansion: it earns revenue share only, and counts as no new closed-won referral. */
  recurring?: RecurringDeal | null;
}

export interface ProgramCost {
  currency: string;
  totalCents: number;
  refereeCents: number;
  firstYearValueCents: number;
  /** Rewards as a share of the deals' first-year value, in basis points (1000 = 10%). */
  shareOfFirstYearValueBp: number;
}

export interface SimulationResult {
  current: ProgramCost;
  draft: ProgramCost;
  /** Referrer-side rewards (referee rewards are in the totals only), sorted by referrer id. */
  perReferrer: { referrerId: string; currentCents: number; draftCents: number; deltaCents: number }[];
  notes: string[];
}

/**
 * What a draft program would have paid on past deals compared with the current one. Each deal
 * counts as qualified and then closed won, in close-date order, so bonuses and caps accumulate
 * as they would have; a renewal or expansion only closes won and earns revenue share. Deals closing
 * after `today` or in another currency are left out (see notes).
 */
export function simulateProgram(input: {
  draft: Program;
  current: Program;
  deals: readonly SimulationDeal[];
  today: DateOnly;
}): SimulationResult {
  const deals = [...input.deals].sort(
    (a, b) => compareText(toDateOnly(a.deal.closeDate), toDateOnly(b.deal.closeDate)) || compareText(a.referral.id, b.referral.id),
  );
  const current = run(input.current, deals, input.today);
  const draft = run(input.draft, deals, input.today);
  const ids = [...new Set([...current.perReferrer.keys(), ...draft.perReferrer.keys()])].sort();
  return {
    current: current.cost,
    draft: draft.cost,
    perReferrer: ids.map((referrerId) => {
      const currentCents = current.perReferrer.get(referrerId) ?? 0;
      const draftCents = draft.perReferrer.get(referrerId) ?? 0;
      return { referrerId, currentCents, draftCents, deltaCents: draftCents - currentCents };
    }),
    notes: [...current.notes.map((n) => `current: ${n}`), ...draft.notes.map((n) => `draft: ${n}`)],
  };
}

function run(program: Program, deals: readonly SimulationDeal[], today: DateOnly) {
  const decisions: RewardDecision[] = [];
  const closedPerQuarter = new Map<string, number>();
  const referrerYear = new Map<string, number>();
  const notes: string[] = [];
  let firstYearValueCents = 0;

  for (const { referral, deal, sharePpm = PPM_WHOLE, recurring = null } of deals) {
    const closeDay = toDateOnly(deal.closeDate);
    if (closeDay > today) {
      notes.push(`deal ${deal.id} closes after ${today}; left out`);
      continue;
    }
    if (deal.currency !== program.currency) {
      notes.push(`deal ${deal.id} is in ${deal.currency}, not ${program.currency}; left out`);
      continue;
    }
    firstYearValueCents += deal.firstYearValueCents ?? deal.amountCents ?? 0;
    const quarterKey = `${referral.referrerId}:${calendarQuarter(closeDay)}`;
    const yearKey = `${referral.referrerId}:${closeDay.slice(0, 4)}`;
    if (sharePpm > 0 && !recurring) closedPerQuarter.set(quarterKey, (closedPerQuarter.get(quarterKey) ?? 0) + 1);
    for (const milestone of recurring ? (['closed_won'] as const) : (['qualified', 'closed_won'] as const)) {
      const mine = decisions
        .filter((d) => d.referralId === referral.id || (d.kind === 'bonus' && d.referrerId === referral.referrerId))
        .map((d) => ({ idempotencyKey: d.idempotencyKey, netCents: d.amountCents, kind: d.kind, status: d.initialStatus }));
      const earned = computeRewards({
        program,
        milestone,
        referral,
        deal,
        sharePpm,
        // History has no separate qualification date; the close date stands in for it.
        today: closeDay,
        existing: mine,
        referrerClosedWonThisQuarter: closedPerQuarter.get(quarterKey) ?? 0,
        referrerPaidThisYearCents: referrerYear.get(yearKey) ?? 0,
        recurring,
      });
      decisions.push(...earned);
      const toReferrer = earned.filter((d) => d.beneficiary === 'referrer').reduce((sum, d) => sum + d.amountCents, 0);
      referrerYear.set(yearKey, (referrerYear.get(yearKey) ?? 0) + toReferrer);
    }
  }

  const perReferrer = new Map<string, number>();
  let totalCents = 0;
  let refereeCents = 0;
  for (const d of decisions) {
    totalCents += d.amountCents;
    if (d.beneficiary === 'referee') refereeCents += d.amountCents;
    else perReferrer.set(d.referrerId, (perReferrer.get(d.referrerId) ?? 0) + d.amountCents);
  }
  const shareOfFirstYearValueBp = firstYearValueCents > 0 ? Math.round((totalCents * BASIS_POINTS_WHOLE) / firstYearValueCents) : 0;
  return {
    cost: { currency: program.currency, totalCents, refereeCents, firstYearValueCents, shareOfFirstYearValueBp },
    perReferrer,
    notes,
  };
}

/**
 * What one sample deal, closed won today by a referrer of this type, would pay under the draft and
 * under the current version: the preview an admin sees while editing (the same rules as the rest).
 */
export function simulateSampleDeal(input: {
  draft: Program;
  current: Program;
  amountCents: number;
  referrerType: ReferrerType;
  today: DateOnly;
}): { amountCents: number; currency: string; referrerType: ReferrerType; currentCents: number; draftCents: number; notes: string[] } {
  const deal: SimulationDeal = {
    referral: { id: 'sample', referrerId: 'sample', referrerType: input.referrerType },
    deal: {
      id: 'sample',
      firstYearValueCents: input.amountCents,
      amountCents: input.amountCents,
      currency: input.draft.currency,
      closeDate: input.today,
    },
  };
  const result = simulateProgram({ draft: input.draft, current: input.current, deals: [deal], today: input.today });
  return {
    amountCents: input.amountCents,
    currency: input.draft.currency,
    referrerType: input.referrerType,
    currentCents: result.current.totalCents,
    draftCents: result.draft.totalCents,
    notes: result.notes,
  };
}
