import { addDays, toDateOnly, type DateOnly } from './dates.ts';
import type { Program, PromotionRule, ReferrerType } from './program.ts';

export type PromotionDecision =
  | { promote: true; ruleId: string; fromTier: string | null; toTier: string; reasons: string[] }
  | { promote: false; reasons: string[] };

/**
 * Whether a deal closing promotes its referrer under the program's "N closed-won referrals in D
 * days → tier" rules. Counts the referrals whose deal closed in (closeDate − withinDays, closeDate],
 * so replaying a close decides the same. Promotions only move up the program's `tiers`: of the rules
 * met, the highest tier wins, and a referrer already at it or above stays where they are, which
 * makes applying the decision twice a no-op. Call it after the closing deal's rewards are settled:
 * the new tier pays from the next deal on.
 */
export function promotionByClosedWonReferrals(input: {
  program: Program;
  referrer: { type: ReferrerType; tier: string | null };
  /** Close dates of the referrer's closed-won referrals ('YYYY-MM-DD' or instants), one per referral, this one included. */
  closedWonCloseDates: readonly string[];
  /** Close date of the deal being applied. */
  closeDate: DateOnly;
}): PromotionDecision {
  const { program, referrer, closeDate } = input;
  const rules = program.promotionRules ?? [];
  if (rules.length === 0) return { promote: false, reasons: ['the program has no promotion rules'] };
  const tiers = program.tiers ?? [];
  const rank = (tier: string | null): number => (tier === null ? -1 : tiers.indexOf(tier));
  const closes = input.closedWonCloseDates.map(toDateOnly);
  const reasons: string[] = [];
  let best: { rule: PromotionRule; count: number } | null = null;

  for (const rule of rules) {
    if (rule.referrerTypes && !rule.referrerTypes.includes(referrer.type)) {
      reasons.push(`rule ${rule.id} does not promote ${referrer.type} referrers`);
      continue;
    }
    const since = addDays(closeDate, -rule.withinDays);
    const count = closes.filter((d) => d > since && d <= closeDate).length;
    const window = `${rule.withinDays} days up to ${closeDate}`;
    if (count < rule.closedWonReferrals) {
      reasons.push(`rule ${rule.id}: ${count} closed-won referrals in the ${window}, ${rule.closedWonReferrals} needed for ${rule.toTier}`);
      continue;
    }
    if (rank(referrer.tier) >= rank(rule.toTier)) {
      reasons.push(`rule ${rule.id}: already ${referrer.tier}, not below ${rule.toTier}`);
      continue;
    }
    if (!best || rank(rule.toTier) > rank(best.rule.toTier)) best = { rule, count };
  }
  if (!best) return { promote: false, reasons };
  const { rule, count } = best;
  return {
    promote: true,
    ruleId: rule.id,
    fromTier: referrer.tier,
    toTier: rule.toTier,
    reasons: [
      `${count} closed-won referrals in the ${rule.withinDays} days up to ${closeDate} meet rule ${rule.id}` +
        ` (${rule.closedWonReferrals} needed${rule.description ? `: ${rule.description}` : ''})`,
      `promoted from ${referrer.tier ?? 'no tier'} to ${rule.toTier}`,
    ],
  };
}
