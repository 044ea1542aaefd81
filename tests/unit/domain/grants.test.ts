import { describe, expect, it } from 'vitest';
import {
  fulfilmentOf,
  grantLabel,
  grantLineKey,
  grantNeedsApproval,
  grantOf,
  isMoneyGrant,
  type Fulfilment,
  type Grant,
} from '../../../src/domain/grants.ts';
import { defaultProgram, type Program, type RewardRule } from '../../../src/domain/program.ts';
import { computeRewards, type RewardInput } from '../../../src/domain/rewards.ts';
import { programSchema } from '../../../src/http/program.schema.ts';

const cash: Grant = { kind: 'cash' };
const credit: Grant = { kind: 'account_credit' };
const giftCard: Grant = { kind: 'gift_card' };
const donation: Grant = { kind: 'donation', charity: 'Red Cross' };
const recognition: Grant = { kind: 'recognition', badge: 'Champion', message: 'Thank you for three referrals' };

describe('what each grant means', () => {
  const table: [Grant, boolean, Fulfilment, string, string][] = [
    [cash, true, { via: 'payout_line', product: 'cash' }, 'Cash', 'cash'],
    [credit, true, { via: 'crm_company_note' }, 'Account credit', 'account_credit'],
    [giftCard, true, { via: 'provider_product', product: 'gift_card' }, 'Gift card', 'gift_card'],
    [donation, true, { via: 'provider_product', product: 'donation', charity: 'Red Cross' }, 'Donation to Red Cross', 'donation:Red Cross'],
    [recognition, false, { via: 'given_at_once' }, 'Recognition: Champion', 'recognition'],
  ];
  it.each(table)('%o: money %s, fulfilled %o, shown as %s, line key %s', (grant, money, fulfilment, label, lineKey) => {
    expect(isMoneyGrant(grant)).toBe(money);
    expect(fulfilmentOf(grant)).toEqual(fulfilment);
    expect(grantLabel(grant)).toBe(label);
    expect(grantLineKey(grant)).toBe(lineKey);
  });

  it('a rule or reward without a grant is cash', () => {
    expect(grantOf({})).toEqual(cash);
    expect(grantOf({ grant: null })).toEqual(cash);
    expect(grantOf(null)).toEqual(cash);
    expect(grantOf({ grant: giftCard })).toEqual(giftCard);
  });
});

describe('grantNeedsApproval: money strictly over the threshold waits; recognition never does', () => {
  const table: [Grant, number, number, boolean][] = [
    [cash, 100_001, 100_000, true],
    [cash, 100_000, 100_000, false],
    [credit, 100_001, 100_000, true],
    [giftCard, 100_001, 100_000, true],
    [donation, 50_000, 100_000, false],
    [recognition, 0, 0, false],
    [recognition, 0, -1, false],
  ];
  it.each(table)('%o of %i with threshold %i → %s', (grant, cents, threshold, expected) => {
    expect(grantNeedsApproval(grant, cents, threshold)).toBe(expected);
  });
});

function wonInput(rules: RewardRule[], over: Partial<Program> = {}): RewardInput {
  return {
    program: { ...defaultProgram(), rewardRules: rules, ...over },
    milestone: 'closed_won',
    referral: { id: 'ref-1', referrerId: 'referrer-1', referrerType: 'customer' },
    deal: { id: 'deal-1', firstYearValueCents: 2_000_000, amountCents: 2_000_000, currency: 'USD', closeDate: '2026-03-31' },
    sharePpm: 1_000_000,
    today: '2026-04-02',
    existing: [],
    referrerClosedWonThisQuarter: 1,
    referrerPaidThisYearCents: 0,
  };
}

const fixed = (grant: RewardRule['grant'], amountCents: number): RewardRule => ({
  id: 'won',
  kind: 'fixed',
  referrerTypes: ['customer'],
  milestone: 'closed_won',
  amountCents,
  ...(grant ? { grant } : {}),
});

describe('computeRewards carries the rule grant onto the reward', () => {
  const table: [string, RewardRule, Grant, number, 'approved' | 'pending' | 'paid', RegExp | null][] = [
    ['no grant: cash as before, no grant reason', fixed(undefined, 50_000), cash, 50_000, 'approved', null],
    ['account credit', fixed(credit, 50_000), credit, 50_000, 'approved', /account credit of \$500\.00/],
    ['gift card over the threshold waits', fixed(giftCard, 150_000), giftCard, 150_000, 'pending', /gift card of \$1,500\.00/],
    ['donation', fixed(donation, 20_000), donation, 20_000, 'approved', /donation of \$200\.00 to Red Cross/],
    [
      'percent as a gift card',
      { id: 'pct', kind: 'percent', referrerTypes: ['customer'], milestone: 'closed_won', rateBasisPoints: 500, grant: giftCard },
      giftCard,
      100_000,
      'approved',
      /gift card of \$1,000\.00/,
    ],
    ['recognition: nothing to approve, paid at once', fixed(recognition, 0), recognition, 0, 'paid', /badge "Champion"/],
  ];
  it.each(table)('%s', (_name, rule, grant, cents, status, reason) => {
    const [decision, ...rest] = computeRewards(wonInput([rule]));
    expect(rest).toEqual([]);
    expect(decision!.grant).toEqual(grant);
    expect(decision!.amountCents).toBe(cents);
    expect(decision!.initialStatus).toBe(status);
    if (reason) expect(decision!.reasons.join(' ')).toMatch(reason);
    else expect(decision!.reasons.join(' ')).not.toMatch(/given as/);
  });

  it('a recognition already given is not given again on replay', () => {
    const input = wonInput([fixed(recognition, 0)]);
    const [first] = computeRewards(input);
    const again = computeRewards({
      ...input,
      existing: [{ idempotencyKey: first!.idempotencyKey, netCents: 0, kind: first!.kind, status: 'paid' }],
    });
    expect(again).toEqual([]);
  });

  it('recognition never needs approval, even with a zero threshold', () => {
    const [decision] = computeRewards(wonInput([fixed(recognition, 0)], { approvalThresholdCents: 0 }));
    expect(decision!.requiresApproval).toBe(false);
    expect(decision!.reasons.join(' ')).not.toMatch(/needs approval|due /);
  });
});

describe('programSchema validates what a rule grants', () => {
  const withRules = (rules: unknown[]) => ({ ...defaultProgram(), rewardRules: rules });
  const base = { id: 'r', kind: 'fixed', referrerTypes: ['customer'], milestone: 'closed_won', amountCents: 1_000 };

  it.each([
    ['account credit', { ...base, grant: credit }],
    ['gift card', { ...base, grant: giftCard }],
    ['donation', { ...base, grant: donation }],
    ['recognition on a fixed rule of 0', { ...base, amountCents: 0, grant: recognition }],
    [
      'gift card on a revenue share',
      {
        id: 'rs',
        kind: 'revenue_share',
        referrerTypes: ['partner'],
        milestone: 'closed_won',
        rateBasisPoints: 1_500,
        months: 12,
        grant: giftCard,
      },
    ],
  ])('accepts %s', (_name, rule) => {
    const parsed = programSchema.safeParse(withRules([rule]));
    expect(parsed.success).toBe(true);
    expect(parsed.data?.rewardRules[0]?.grant).toEqual((rule as { grant: Grant }).grant);
  });

  it.each([
    ['cash spelled out (cash is the absence of a grant)', { ...base, grant: { kind: 'cash' } }, /grant kind must be/],
    ['a donation without a charity', { ...base, grant: { kind: 'donation' } }, /charity/],
    ['a donation to an empty charity', { ...base, grant: { kind: 'donation', charity: '  ' } }, /must not be empty/],
    ['recognition with an amount', { ...base, grant: recognition }, /recognition has no amount/],
    ['recognition without a badge', { ...base, amountCents: 0, grant: { kind: 'recognition', message: 'hi' } }, /badge/],
    [
      'recognition on a percentage',
      { id: 'p', kind: 'percent', referrerTypes: ['partner'], milestone: 'closed_won', rateBasisPoints: 100, grant: recognition },
      /recognition has no amount/,
    ],
    ['an unknown field in a grant', { ...base, grant: { kind: 'gift_card', brand: 'Amazon' } }, /brand/],
  ])('refuses %s', (_name, rule, message) => {
    const parsed = programSchema.safeParse(withRules([rule]));
    expect(parsed.success).toBe(false);
    const text = parsed.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    expect(text).toMatch(message);
  });
});
