import { formatMoney } from './money.ts';
import { type Program, type RewardRule, sameProgram, sameSettings } from './program.ts';

const ruleName = (rule: RewardRule) => (rule.description ? `“${rule.description}”` : `rule ${rule.id}`);
const percent = (basisPoints: number) => `${basisPoints / 100}%`;
const words = (id: string) => id.replaceAll('_', ' ');

/** What changed in one reward rule, in words; the rule's other fields changing are told as such. */
function ruleChanges(before: RewardRule, after: RewardRule, currency: string): string[] {
  const name = ruleName(after);
  const money = (cents: number | undefined) => (cents === undefined ? 'none' : formatMoney(cents, currency));
  const told: string[] = [];
  const changes: string[] = [];
  if (before.kind === 'fixed' && after.kind === 'fixed' && before.amountCents !== after.amountCents) {
    changes.push(`${name}: ${money(before.amountCents)} → ${money(after.amountCents)}`);
    told.push('amountCents');
  }
  if (before.kind === 'percent' && after.kind === 'percent') {
    if (before.rateBasisPoints !== after.rateBasisPoints) {
      changes.push(`${name}: ${percent(before.rateBasisPoints)} → ${percent(after.rateBasisPoints)}`);
    }
    if (before.minCents !== after.minCents) changes.push(`${name}, at least: ${money(before.minCents)} → ${money(after.minCents)}`);
    if (before.maxCents !== after.maxCents) changes.push(`${name}, at most: ${money(before.maxCents)} → ${money(after.maxCents)}`);
    told.push('rateBasisPoints', 'minCents', 'maxCents');
  }
  const rest = (rule: RewardRule) => Object.fromEntries(Object.entries(rule).filter(([key]) => !told.includes(key)));
  if (!sameSettings(rest(before), rest(after))) changes.push(`${name}: other terms changed`);
  return changes;
}

/**
 * What a program version changed from the one before, in words and the program's currency: the
 * settings the console edits one by one, the others by name.
 */
export function programChanges(before: Program, after: Program): string[] {
  if (sameProgram(before, after)) return [];
  const { currency } = after;
  const changes: string[] = [];
  if (before.currency !== after.currency) changes.push(`Currency: ${before.currency} → ${after.currency}`);
  if (before.approvalThresholdCents !== after.approvalThresholdCents) {
    changes.push(
      `Approval needed over ${formatMoney(before.approvalThresholdCents, before.currency)} → ${formatMoney(after.approvalThresholdCents, currency)}`,
    );
  }
  if (before.payoutDays !== after.payoutDays) changes.push(`Rewards due ${before.payoutDays} → ${after.payoutDays} days after close`);
  if (before.attribution.windowDays !== after.attribution.windowDays) {
    changes.push(`Attribution window ${before.attribution.windowDays} → ${after.attribution.windowDays} days`);
  }
  const beforeRules = new Map(before.rewardRules.map((r) => [r.id, r]));
  const afterIds = new Set(after.rewardRules.map((r) => r.id));
  for (const rule of after.rewardRules) {
    const was = beforeRules.get(rule.id);
    if (!was) changes.push(`Added ${ruleName(rule)}`);
    else changes.push(...ruleChanges(was, rule, currency));
  }
  for (const rule of before.rewardRules) if (!afterIds.has(rule.id)) changes.push(`Removed ${ruleName(rule)}`);
  if (before.attribution.model !== after.attribution.model) {
    changes.push(`Attribution model ${words(before.attribution.model)} → ${words(after.attribution.model)}`);
  }
  if (before.attribution.channelConflict !== after.attribution.channelConflict) {
    changes.push(`Channel conflict ${words(before.attribution.channelConflict)} → ${words(after.attribution.channelConflict)}`);
  }
  const described = new Set(['currency', 'approvalThresholdCents', 'payoutDays', 'attribution', 'rewardRules']);
  const others = [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((key) => !described.has(key))
    .filter((key) => !sameSettings(before[key as keyof Program], after[key as keyof Program]))
    .sort();
  if (others.length) changes.push(`Also changed: ${others.join(', ')}`);
  return changes;
}
