import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultProgram, type Program, type ReferrerType } from '../../../src/domain/program.ts';
import type { CurrencyBook, ExchangeRate } from '../../../src/domain/exchange.ts';
import {
  clawbackDecision,
  computeRewards,
  payableDecision,
  planRewards,
  recomputeRewards,
  rewardTransition,
  type ExistingReward,
  type RewardAction,
  type RewardDecision,
  type RewardInput,
  type RewardStatus,
} from '../../../src/domain/rewards.ts';

function rewardInput(overrides: Partial<RewardInput> & { type?: ReferrerType; dealCents?: number } = {}): RewardInput {
  const { type = 'customer', dealCents = 2_500_000, ...rest } = overrides;
  return {
    program: defaultProgram(),
    milestone: 'closed_won',
    referral: { id: 'ref-1', referrerId: 'referrer-1', referrerType: type },
    deal: { id: 'deal-1', firstYearValueCents: dealCents, amountCents: dealCents, currency: 'USD', closeDate: '2026-03-31' },
    sharePpm: 1_000_000,
    today: '2026-04-02',
    existing: [],
    referrerClosedWonThisQuarter: 1,
    referrerPaidThisYearCents: 0,
    ...rest,
  };
}

type Deal = NonNullable<RewardInput['deal']>;
const dealWith = (d: Partial<Deal>): Deal => ({
  id: 'd',
  firstYearValueCents: 2_500_000,
  amountCents: 2_500_000,
  currency: 'USD',
  closeDate: '2026-03-31',
  ...d,
});
const gold = { id: 'r', referrerId: 'x', referrerType: 'partner' as const, referrerTier: 'gold' };

const asExisting = (d: RewardDecision): ExistingReward => ({
  idempotencyKey: d.idempotencyKey,
  netCents: d.amountCents,
  kind: d.kind,
  status: d.initialStatus,
});
const amounts = (ds: RewardDecision[]) => ds.map((d) => [d.kind, d.amountCents]);

describe('computeRewards with the default program', () => {
  it.each([
    ['customer', 'qualified', 2_500_000, [['milestone', 5_000]]],
    ['advisor', 'qualified', 2_500_000, [['milestone', 5_000]]],
    ['customer', 'closed_won', 2_500_000, [['milestone', 50_000]]],
    ['customer', 'closed_won', 9_999_999, [['milestone', 50_000]]], // $99,999.99 → $500
    ['customer', 'closed_won', 10_000_000, [['milestone', 100_000]]], // $100,000 → $1,000
    ['advisor', 'closed_won', 50_000_000, [['milestone', 100_000]]],
    ['partner', 'closed_won', 2_500_000, [['commission', 250_000]]], // 10% of $25,000 = $2,500
    ['consultant', 'closed_won', 1_234_567, [['commission', 123_457]]],
    ['partner', 'qualified', 2_500_000, []],
    ['employee', 'qualified', 2_500_000, []], // employees are tracked but not paid by default
    ['employee', 'closed_won', 2_500_000, []],
  ] as const)('%s at %s on a %i-cent deal earns %j', (type, milestone, dealCents, expected) => {
    expect(amounts(computeRewards(rewardInput({ type, milestone, dealCents })))).toEqual(expected);
  });

  it('says when no rule pays a referrer', () => {
    expect(planRewards(rewardInput({ type: 'employee' })).notes).toEqual(['no reward rule pays employee referrers at closed won']);
  });

  it('a deal closed on 2026-03-31 has its reward due 2026-06-29; a qualified fee is due 90 days after today', () => {
    expect(computeRewards(rewardInput())[0]?.dueDate).toBe('2026-06-29');
    expect(computeRewards(rewardInput({ milestone: 'qualified' }))[0]?.dueDate).toBe('2026-07-01');
    const closedLate = rewardInput({ deal: dealWith({ closeDate: '2026-03-31T22:00:00Z' }) });
    expect(computeRewards(closedLate)[0]?.dueDate).toBe('2026-06-29');
  });

  it('uses deterministic idempotency keys; qualification is once per referral, closing per deal', () => {
    expect(computeRewards(rewardInput())[0]?.idempotencyKey).toBe('ref-1:closed_won:milestone:deal-1');
    expect(computeRewards(rewardInput({ milestone: 'qualified' }))[0]?.idempotencyKey).toBe('ref-1:qualified:milestone');
    expect(computeRewards(rewardInput({ type: 'partner' }))[0]?.idempotencyKey).toBe('ref-1:closed_won:commission:deal-1');
  });

  it('explains the decision in words', () => {
    const [d] = computeRewards(rewardInput({ dealCents: 10_000_000 }));
    expect(d?.reasons).toEqual([
      '$1,000.00 closed won fee (rule enterprise-won-fee: $1,000 when a deal of $100,000 or more closes won)',
      'deal size $100,000.00 is at least $100,000.00',
      'approved automatically: not over the $1,000.00 threshold',
      'due 2026-06-29, 90 days after the close date',
    ]);
  });

  it.each([
    [1_000_000, false, 'approved'], // 10% of $10,000: exactly $1,000, no approval
    [1_000_010, true, 'pending'], // 10% of $10,000.10: $1,000.01
  ] as const)('approval threshold: a commission on %i cents needs approval: %s', (dealCents, requiresApproval, initialStatus) => {
    const [d] = computeRewards(rewardInput({ type: 'partner', dealCents: dealCents }));
    expect(d).toMatchObject({ requiresApproval, initialStatus });
  });

  it('commission falls back to the deal amount when no first-year value is recorded', () => {
    const [d] = computeRewards(rewardInput({ type: 'partner', deal: dealWith({ firstYearValueCents: null }) }));
    expect(d?.amountCents).toBe(250_000);
    expect(d?.reasons[0]).toContain('no first-year value recorded');
  });

  it('commission is on first-year value, not a multi-year amount', () => {
    const [d] = computeRewards(rewardInput({ type: 'partner', deal: dealWith({ amountCents: 7_500_000 }) }));
    expect(d?.amountCents).toBe(250_000);
  });

  // Behaviour changed on purpose (issue 12): a deal in another currency is converted at the CRM's rate, or waits for one.
  it('a deal in another currency without a rate waits in needs_rate with the reason, not zero', () => {
    const p = planRewards(rewardInput({ type: 'partner', deal: dealWith({ currency: 'EUR' }) }));
    expect(p.decisions).toEqual([
      expect.objectContaining({ kind: 'commission', amountCents: 0, initialStatus: 'needs_rate', currency: 'USD' }),
    ]);
    expect(p.decisions[0]!.reasons.at(-1)).toBe(
      'waits for an exchange rate: no EUR exchange rate against the company currency USD is in force on 2026-03-31 (the CRM gave no exchange rates)',
    );
    // A customer's fee depends on the deal size ($500 under $100,000, $1,000 from it): it waits too.
    const customer = planRewards(rewardInput({ deal: dealWith({ currency: 'EUR' }) }));
    expect(customer.decisions).toEqual([expect.objectContaining({ kind: 'milestone', initialStatus: 'needs_rate' })]);
  });

  it('applies a linear share, rounding down so parts never exceed the whole', () => {
    expect(amounts(computeRewards(rewardInput({ type: 'partner', sharePpm: 333_334 })))).toEqual([['commission', 83_333]]);
    expect(amounts(computeRewards(rewardInput({ sharePpm: 333_333 })))).toEqual([['milestone', 16_666]]);
  });

  it('an influenced referral (share 0) earns nothing', () => {
    const p = planRewards(rewardInput({ sharePpm: 0 }));
    expect(p.decisions).toEqual([]);
    expect(p.notes).toEqual(['the referral only influenced the deal, so it earns no reward']);
  });
});

describe('program variants', () => {
  function program(change: (p: Program) => void): Program {
    const p = defaultProgram();
    change(p);
    return p;
  }

  it('tiers a rate by referrer tier', () => {
    const p = program((p) => {
      p.rewardRules.unshift({
        id: 'gold',
        kind: 'percent',
        referrerTypes: ['partner'],
        milestone: 'closed_won',
        rateBasisPoints: 1_500,
        referrerTiers: ['gold'],
      });
    });
    const silver = { ...gold, referrerTier: 'silver' };
    expect(amounts(computeRewards(rewardInput({ program: p, referral: gold })))).toEqual([['commission', 375_000]]);
    expect(amounts(computeRewards(rewardInput({ program: p, referral: silver })))).toEqual([['commission', 250_000]]);
  });

  it('pays the referee on a dual-sided program', () => {
    const p = program((p) => {
      p.refereeReward = { milestone: 'closed_won', amountCents: 20_000, description: 'a $200 credit' };
    });
    const ds = computeRewards(rewardInput({ program: p }));
    expect(ds.map((d) => [d.kind, d.beneficiary, d.amountCents, d.idempotencyKey])).toEqual([
      ['milestone', 'referrer', 50_000, 'ref-1:closed_won:milestone:deal-1'],
      ['referee', 'referee', 20_000, 'ref-1:closed_won:referee:deal-1'],
    ]);
    expect(computeRewards(rewardInput({ program: p, milestone: 'qualified' })).map((d) => d.kind)).toEqual(['milestone']);
  });

  describe('caps', () => {
    it('reduces a reward to the per-referral cap and says so', () => {
      const p = program((p) => {
        p.caps.perReferralCents = 50_000;
      });
      const qualifiedFee: ExistingReward = {
        idempotencyKey: 'ref-1:qualified:milestone',
        netCents: 5_000,
        kind: 'milestone',
        status: 'paid',
      };
      const [d] = computeRewards(rewardInput({ program: p, existing: [qualifiedFee] }));
      expect(d?.amountCents).toBe(45_000);
      expect(d?.reasons).toContain('capped at $450.00 by the per-referral cap of $500.00');
    });

    it('reduces a reward to what is left of the yearly cap, and grants nothing once it is used up', () => {
      const p = program((p) => {
        p.caps.perReferrerPerYearCents = 300_000;
      });
      const partly = computeRewards(rewardInput({ program: p, type: 'partner', referrerPaidThisYearCents: 100_000 }));
      expect(amounts(partly)).toEqual([['commission', 200_000]]);
      const full = planRewards(rewardInput({ program: p, type: 'partner', referrerPaidThisYearCents: 300_000 }));
      expect(full.decisions).toEqual([]);
      expect(full.notes[0]).toContain('capped at $0.00 by the yearly per-referrer cap');
    });

    it('does not cap the referee reward', () => {
      const p = program((p) => {
        p.caps.perReferralCents = 0;
        p.refereeReward = { milestone: 'closed_won', amountCents: 20_000, description: 'credit' };
      });
      expect(amounts(computeRewards(rewardInput({ program: p })))).toEqual([['referee', 20_000]]);
    });
  });

  describe('milestone bonus', () => {
    const p = program((p) => {
      p.milestoneBonuses = [{ id: 'three-a-quarter', referrerTypes: ['customer'], closedWonPerQuarter: 3, amountCents: 25_000 }];
    });

    it.each([
      [2, []],
      [3, [['bonus', 25_000]]],
      [4, [['bonus', 25_000]]], // reached earlier but not recorded yet: the key keeps it to one
    ])('with %i closed-won referrals in the quarter', (count, expected) => {
      const bonuses = computeRewards(rewardInput({ program: p, referrerClosedWonThisQuarter: count })).filter((d) => d.kind === 'bonus');
      expect(amounts(bonuses)).toEqual(expected);
    });

    it('is paid once per quarter: the key is per referrer and quarter', () => {
      const third = computeRewards(rewardInput({ program: p, referrerClosedWonThisQuarter: 3 }));
      const bonus = third.find((d) => d.kind === 'bonus');
      expect(bonus?.idempotencyKey).toBe('referrer-1:bonus:three-a-quarter:2026-Q1');
      const fourth = computeRewards(
        rewardInput({
          program: p,
          referral: { id: 'ref-4', referrerId: 'referrer-1', referrerType: 'customer' },
          referrerClosedWonThisQuarter: 4,
          existing: [asExisting(bonus!)],
        }),
      );
      expect(fourth.map((d) => d.kind)).toEqual(['milestone']);
      const nextQuarter = computeRewards(
        rewardInput({
          program: p,
          deal: dealWith({ id: 'd-q2', closeDate: '2026-04-01' }),
          referrerClosedWonThisQuarter: 3,
          existing: [asExisting(bonus!)],
        }),
      );
      expect(nextQuarter.find((d) => d.kind === 'bonus')?.idempotencyKey).toBe('referrer-1:bonus:three-a-quarter:2026-Q2');
    });
  });
});

describe('idempotency and recomputation', () => {
  it('replaying the same facts with the output fed back yields nothing new', () => {
    const arbitraryInput = fc.record({
      type: fc.constantFrom<ReferrerType>('customer', 'partner', 'consultant', 'advisor', 'employee'),
      milestone: fc.constantFrom('qualified' as const, 'closed_won' as const),
      dealCents: fc.integer({ min: 0, max: 100_000_000 }),
      sharePpm: fc.integer({ min: 0, max: 1_000_000 }),
      count: fc.integer({ min: 0, max: 6 }),
      paid: fc.integer({ min: 0, max: 1_000_000 }),
      perReferralCap: fc.option(fc.integer({ min: 0, max: 200_000 }), { nil: undefined }),
      referee: fc.boolean(),
    });
    fc.assert(
      fc.property(arbitraryInput, (a) => {
        const program = defaultProgram();
        program.caps.perReferralCents = a.perReferralCap;
        program.milestoneBonuses = [{ id: 'b', referrerTypes: ['customer', 'partner'], closedWonPerQuarter: 3, amountCents: 10_000 }];
        if (a.referee) program.refereeReward = { milestone: a.milestone, amountCents: 5_000, description: 'thanks' };
        const base = rewardInput({ ...a, program, referrerClosedWonThisQuarter: a.count, referrerPaidThisYearCents: a.paid });
        const first = computeRewards(base);
        const replay = { ...base, existing: first.map(asExisting) };
        expect(computeRewards(replay)).toEqual([]);
        expect(recomputeRewards(replay)).toEqual(expect.objectContaining({ decisions: [], reverse: [] }));
      }),
    );
  });

  it('an amount change reverses the old reward and proposes a replacement under a new key', () => {
    const [won] = computeRewards(rewardInput({ type: 'partner' }));
    const existing = [{ ...asExisting(won!), status: 'paid' as const }];
    const bigger = rewardInput({ type: 'partner', dealCents: 3_000_000, existing });
    expect(computeRewards(bigger)).toEqual([]); // never silently changes a live reward
    expect(planRewards(bigger).notes[0]).toContain('recompute to change it to $3,000.00');
    const plan = recomputeRewards(bigger);
    expect(plan.reverse).toEqual([
      { idempotencyKey: 'ref-1:closed_won:commission:deal-1', reason: 'amount changes from $2,500.00 to $3,000.00' },
    ]);
    expect(plan.decisions.map((d) => [d.idempotencyKey, d.amountCents])).toEqual([['ref-1:closed_won:commission:deal-1#2', 300_000]]);
  });

  it('recompute reverses rewards the facts no longer earn', () => {
    const [won] = computeRewards(rewardInput());
    const plan = recomputeRewards(rewardInput({ sharePpm: 0, existing: [asExisting(won!)] }));
    expect(plan.reverse.map((r) => r.idempotencyKey)).toEqual(['ref-1:closed_won:milestone:deal-1']);
    expect(plan.decisions).toEqual([]);
  });

  it('a deal won again after a reversal earns a new reward; a rejected one is not proposed again', () => {
    const [won] = computeRewards(rewardInput());
    const reversed = { ...asExisting(won!), netCents: 0, status: 'reversed' as const };
    expect(computeRewards(rewardInput({ existing: [reversed] })).map((d) => d.idempotencyKey)).toEqual([
      'ref-1:closed_won:milestone:deal-1#2',
    ]);
    const rejected = { ...asExisting(won!), status: 'rejected' as const };
    expect(computeRewards(rewardInput({ existing: [rejected] }))).toEqual([]);
  });
});

describe('clawbackDecision', () => {
  it('a reopened won deal yields a clawback that nets the reward to zero', () => {
    const [won] = computeRewards(rewardInput());
    const reward = { id: 'rw-1', netCents: won!.amountCents, status: 'paid' as const, currency: 'USD' };
    const [entry, ...rest] = clawbackDecision([reward], 'the won deal was reopened');
    expect(rest).toEqual([]);
    expect(entry).toEqual({
      rewardId: 'rw-1',
      idempotencyKey: 'rw-1:clawback',
      amountCents: -50_000,
      currency: 'USD',
      settlesInNextPayout: true,
      nextStatus: 'reversed',
      reasons: ['$500.00 reversed: the won deal was reopened', 'already paid, so it is deducted from the next payout'],
    });
    expect(reward.netCents + entry!.amountCents).toBe(0);
  });

  it('skips rewards with nothing left and rejected ones', () => {
    expect(
      clawbackDecision(
        [
          { id: 'a', netCents: 0, status: 'reversed', currency: 'USD' },
          { id: 'b', netCents: 5_000, status: 'rejected', currency: 'USD' },
          { id: 'c', netCents: 5_000, status: 'pending', currency: 'USD' },
        ],
        'lost',
      ).map((e) => [e.rewardId, e.amountCents, e.settlesInNextPayout]),
    ).toEqual([['c', -5_000, false]]);
  });

  it('no reward ever has a negative net after any sequence of accruals, amount changes and clawbacks', () => {
    type Step = { op: 'win'; dealCents: number; share: number } | { op: 'reopen' } | { op: 'pay' } | { op: 'replay' };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({
        op: fc.constant('win' as const),
        dealCents: fc.integer({ min: 0, max: 20_000_000 }),
        share: fc.integer({ min: 0, max: 1_000_000 }),
      }),
      fc.constant({ op: 'reopen' as const }),
      fc.constant({ op: 'pay' as const }),
      fc.constant({ op: 'replay' as const }),
    );
    fc.assert(
      fc.property(fc.constantFrom<ReferrerType>('customer', 'partner'), fc.array(step, { maxLength: 25 }), (type, steps) => {
        const ledger = new Map<string, { key: string; kind: RewardDecision['kind']; net: number; status: RewardStatus }>();
        let last: { dealCents: number; share: number } | null = null;
        const existing = (): ExistingReward[] =>
          [...ledger.values()].map((r) => ({ idempotencyKey: r.key, netCents: r.net, kind: r.kind, status: r.status }));
        const clawAll = (ids: string[], why: string) => {
          const rows = ids.map((id) => ({ id, netCents: ledger.get(id)!.net, status: ledger.get(id)!.status, currency: 'USD' }));
          for (const e of clawbackDecision(rows, why)) {
            const r = ledger.get(e.rewardId)!;
            r.net += e.amountCents;
            r.status = e.nextStatus;
          }
        };
        for (const s of steps) {
          if (s.op === 'pay') {
            for (const r of ledger.values()) if (r.net > 0) r.status = 'paid';
            continue;
          }
          if (s.op === 'reopen') {
            clawAll([...ledger.keys()], 'reopened');
            last = null;
            continue;
          }
          const facts: { dealCents: number; share: number } | null = s.op === 'win' ? s : last;
          if (!facts) continue;
          last = facts;
          const plan = recomputeRewards(rewardInput({ type, dealCents: facts.dealCents, sharePpm: facts.share, existing: existing() }));
          clawAll(
            plan.reverse.map((r) => r.idempotencyKey),
            'amount changed',
          );
          for (const d of plan.decisions) {
            expect(ledger.has(d.idempotencyKey)).toBe(false);
            ledger.set(d.idempotencyKey, { key: d.idempotencyKey, kind: d.kind, net: d.amountCents, status: d.initialStatus });
          }
          for (const r of ledger.values()) expect(r.net).toBeGreaterThanOrEqual(0);
        }
        for (const r of ledger.values()) expect(r.net).toBeGreaterThanOrEqual(0);
        // At most one live reward per kind: what is owed matches the last facts, never more.
        const live = [...ledger.values()].filter((r) => r.net > 0);
        expect(new Set(live.map((r) => r.kind)).size).toBe(live.length);
      }),
    );
  });
});

describe('rewardTransition', () => {
  it.each<[RewardStatus, RewardAction, RewardStatus]>([
    ['pending', 'approve', 'approved'],
    ['pending', 'reject', 'rejected'],
    ['approved', 'make_payable', 'payable'],
    ['approved', 'reject', 'rejected'],
    ['payable', 'mark_paid', 'paid'],
    ['paid', 'reverse', 'reversed'],
    ['pending', 'reverse', 'reversed'],
  ])('%s --%s--> %s', (from, action, to) => {
    expect(rewardTransition(from, action)).toMatchObject({ ok: true, from, to, changed: true });
  });

  it.each<[RewardStatus, RewardAction]>([
    ['approved', 'approve'],
    ['paid', 'mark_paid'],
    ['reversed', 'reverse'],
  ])('repeating %s --%s is a no-op', (from, action) => {
    expect(rewardTransition(from, action)).toMatchObject({ ok: true, to: from, changed: false });
  });

  it.each<[RewardStatus, RewardAction, string]>([
    ['paid', 'approve', 'already paid'],
    ['paid', 'reject', 'reverse it instead'],
    ['pending', 'make_payable', 'needs approval'],
    ['pending', 'mark_paid', 'needs approval'],
    ['approved', 'mark_paid', 'not payable yet'],
    ['rejected', 'approve', 'rejected'],
    ['rejected', 'reverse', 'rejected'],
    ['reversed', 'approve', 'reversed'],
  ])('%s --%s is refused as a value', (from, action, reason) => {
    const t = rewardTransition(from, action);
    expect(t.ok).toBe(false);
    expect(t.reason).toContain(reason);
  });
});

describe('payableDecision', () => {
  it.each<[RewardStatus, string, boolean]>([
    ['approved', '2026-06-29', true],
    ['approved', '2026-06-28', true],
    ['approved', '2026-06-30', false],
    ['pending', '2026-01-01', false],
    ['payable', '2026-01-01', true],
    ['reversed', '2026-01-01', false],
  ])('a %s reward due %s on 2026-06-29 is payable: %s', (status, dueDate, payable) => {
    const d = payableDecision({ status, dueDate }, '2026-06-29');
    expect(d.payable).toBe(payable);
    expect(d.reason).not.toBe('');
  });
});

describe('deals in another currency than the program’s', () => {
  const rate = (currency: string, value: string, from: string, until: string | null = null): ExchangeRate => ({
    currency,
    rate: value,
    meaning: 'company_per_unit',
    from,
    until,
    source: 'HubSpot exchange rate',
  });
  const book: CurrencyBook = {
    companyCurrency: 'USD',
    limitation: null,
    rates: [rate('EUR', '1.05', '2026-01-01', '2026-03-01'), rate('EUR', '1.085', '2026-03-01'), rate('JPY', '0.0067', '2026-01-01')],
  };
  const eurDeal = (cents: number, closeDate = '2026-03-31') =>
    dealWith({ currency: 'EUR', amountCents: cents, firstYearValueCents: cents, closeDate });

  it('pays 10% of the converted first-year value at the rate in force on the close date, naming the rate', () => {
    const [commission] = computeRewards(rewardInput({ type: 'partner', deal: eurDeal(2_000_000), currencies: book }));
    expect(commission).toMatchObject({ kind: 'commission', amountCents: 217_000, currency: 'USD', initialStatus: 'pending' });
    expect(commission!.reasons).toContain(
      '€20,000.00 is $21,700.00 at 1 EUR = 1.085 USD (HubSpot exchange rate, in force since 2026-03-01), the rate in force on the close date 2026-03-31',
    );
    expect(commission!.conversion).toEqual({
      dealCurrency: 'EUR',
      dealAmountCents: 2_000_000,
      rateDate: '2026-03-31',
      rates: [{ currency: 'EUR', rate: '1.085', meaning: 'company_per_unit', source: 'HubSpot exchange rate', from: '2026-03-01' }],
    });
    const february = computeRewards(rewardInput({ type: 'partner', deal: eurDeal(2_000_000, '2026-02-15'), currencies: book }));
    expect(amounts(february)).toEqual([['commission', 210_000]]);
  });

  it('rounds once, half up, after converting and taking the percentage', () => {
    // 10% of ¥1,234,567 at 0.0067 = $827.15989 → $827.16
    const deal = dealWith({ currency: 'JPY', amountCents: 1_234_567, firstYearValueCents: 1_234_567 });
    expect(amounts(computeRewards(rewardInput({ type: 'partner', deal, currencies: book })))).toEqual([['commission', 82_716]]);
  });

  it('pays the flat fee in the program currency, with deal-size thresholds compared on the converted first-year value', () => {
    // €95,000 is $103,075: the enterprise fee, though the EUR figure is under 100,000.
    expect(amounts(computeRewards(rewardInput({ deal: eurDeal(9_500_000), currencies: book })))).toEqual([['milestone', 100_000]]);
    expect(amounts(computeRewards(rewardInput({ deal: eurDeal(9_000_000), currencies: book })))).toEqual([['milestone', 50_000]]);
  });

  it('a flat fee that does not depend on the deal size is paid without a rate', () => {
    const program = defaultProgram();
    program.rewardRules = program.rewardRules.filter((r) => r.id !== 'enterprise-won-fee');
    delete program.rewardRules.find((r) => r.id === 'won-fee')!.maxDealCents;
    expect(amounts(computeRewards(rewardInput({ program, deal: eurDeal(9_500_000) })))).toEqual([['milestone', 50_000]]);
  });

  it('a version written before first-year values were compared keeps comparing the amount', () => {
    const program = defaultProgram();
    delete program.dealSizeBasis;
    const deal = dealWith({ amountCents: 12_000_000, firstYearValueCents: 4_000_000 });
    expect(amounts(computeRewards(rewardInput({ program, deal })))).toEqual([['milestone', 100_000]]);
    expect(amounts(computeRewards(rewardInput({ deal })))).toEqual([['milestone', 50_000]]);
  });

  it('settles a needs_rate reward once the rate is known: recompute replaces it with the converted amount', () => {
    const waiting = computeRewards(rewardInput({ type: 'partner', deal: eurDeal(2_000_000) }));
    expect(waiting[0]!.initialStatus).toBe('needs_rate');
    const again = recomputeRewards(rewardInput({ type: 'partner', deal: eurDeal(2_000_000), existing: waiting.map(asExisting) }));
    expect(again.decisions).toEqual([]);
    const settled = recomputeRewards(
      rewardInput({ type: 'partner', deal: eurDeal(2_000_000), existing: waiting.map(asExisting), currencies: book }),
    );
    expect(settled.reverse).toEqual([{ idempotencyKey: waiting[0]!.idempotencyKey, reason: 'amount changes from $0.00 to $2,170.00' }]);
    expect(settled.decisions).toEqual([
      expect.objectContaining({ amountCents: 217_000, idempotencyKey: `${waiting[0]!.idempotencyKey}#2` }),
    ]);
  });

  it('a needs_rate reward cannot be approved or paid, only reversed', () => {
    expect(rewardTransition('needs_rate', 'approve')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('waits for an exchange rate'),
    });
    expect(rewardTransition('needs_rate', 'reverse')).toMatchObject({ ok: true, to: 'reversed' });
  });
});
