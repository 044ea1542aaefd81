import { describe, expect, it } from 'vitest';
import { payeeBalance, payoutRunTransition, planPayoutLines, type PayableReward } from '../../../src/domain/payouts.ts';

const reward = (id: string, netCents: number, over: Partial<PayableReward> = {}): PayableReward => ({
  id,
  payeeType: 'referrer',
  payeeKey: 'ref_1',
  currency: 'USD',
  netCents,
  grant: { kind: 'cash' },
  ...over,
});

describe('planPayoutLines: one line per payee and currency, net of what the payee owes back', () => {
  const table: [string, PayableReward[], [string, number][], { gross: number; recovered: number; amount: number }[]][] = [
    [
      'no receivable: the rewards as they are',
      [reward('a', 50_000), reward('b', 10_000)],
      [],
      [{ gross: 60_000, recovered: 0, amount: 60_000 }],
    ],
    [
      'a receivable smaller than the rewards is recovered whole',
      [reward('a', 50_000)],
      [['referrer:ref_1:USD', 20_000]],
      [{ gross: 50_000, recovered: 20_000, amount: 30_000 }],
    ],
    [
      'a receivable larger than the rewards stops at zero; the rest is carried',
      [reward('a', 50_000)],
      [['referrer:ref_1:USD', 80_000]],
      [{ gross: 50_000, recovered: 50_000, amount: 0 }],
    ],
    [
      'a receivable in EUR is not taken from USD rewards',
      [reward('a', 50_000)],
      [['referrer:ref_1:EUR', 80_000]],
      [{ gross: 50_000, recovered: 0, amount: 50_000 }],
    ],
    [
      "the referee's receivable is not the referrer's",
      [reward('a', 50_000), reward('b', 5_000, { payeeType: 'referee', payeeKey: 'pat@acme.example' })],
      [['referee:pat@acme.example:USD', 1_000]],
      [
        { gross: 50_000, recovered: 0, amount: 50_000 },
        { gross: 5_000, recovered: 1_000, amount: 4_000 },
      ],
    ],
    [
      'JPY, no minor digits',
      [reward('a', 5_000, { currency: 'JPY' })],
      [['referrer:ref_1:JPY', 1_200]],
      [{ gross: 5_000, recovered: 1_200, amount: 3_800 }],
    ],
  ];
  it.each(table)('%s', (_name, rewards, receivables, expected) => {
    const lines = planPayoutLines(rewards, new Map(receivables));
    expect(lines.map((l) => ({ gross: l.grossCents, recovered: l.recoveredCents, amount: l.amountCents }))).toEqual(expected);
  });

  it('lines are per grant: a gift card, cash and donations to two charities to one referrer are four lines', () => {
    const lines = planPayoutLines(
      [
        reward('gift', 10_000, { grant: { kind: 'gift_card' } }),
        reward('cash', 20_000),
        reward('cash2', 5_000),
        reward('red', 3_000, { grant: { kind: 'donation', charity: 'Red Cross' } }),
        reward('unicef', 4_000, { grant: { kind: 'donation', charity: 'UNICEF' } }),
      ],
      new Map(),
    );
    expect(lines.map((l) => [l.grantKey, l.grossCents, l.rewardIds])).toEqual([
      ['gift_card', 10_000, ['gift']],
      ['cash', 25_000, ['cash', 'cash2']],
      ['donation:Red Cross', 3_000, ['red']],
      ['donation:UNICEF', 4_000, ['unicef']],
    ]);
    expect(lines[0]!.reasons).toEqual(['1 reward(s) worth $100.00, given as Gift card']);
  });

  it("a payee's receivable is recovered from the cash line first, then from the other grants, once in all", () => {
    const lines = planPayoutLines(
      [reward('gift', 10_000, { grant: { kind: 'gift_card' } }), reward('cash', 20_000)],
      new Map([['referrer:ref_1:USD', 25_000]]),
    );
    expect(lines.map((l) => [l.grantKey, l.recoveredCents, l.amountCents])).toEqual([
      ['gift_card', 5_000, 5_000],
      ['cash', 20_000, 0],
    ]);
  });

  it('says what was recovered and what is carried forward', () => {
    const [line] = planPayoutLines([reward('a', 50_000)], new Map([['referrer:ref_1:USD', 80_000]]));
    expect(line!.reasons).toEqual([
      '1 reward(s) worth $500.00',
      '$500.00 recovered from clawed-back rewards already paid; $300.00 is still owed and carried to the next payout',
    ]);
  });
});

describe('payeeBalance', () => {
  it('a paid reward clawed back is owed back until a paid run recovers it', () => {
    const rewards = [
      { status: 'reversed', netCents: 0, paidCents: 50_000 },
      { status: 'paid', netCents: 30_000, paidCents: 30_000 },
      { status: 'approved', netCents: 10_000, paidCents: null },
      { status: 'rejected', netCents: 0, paidCents: null },
    ];
    expect(payeeBalance('USD', rewards, [])).toEqual({
      currency: 'USD',
      owedCents: 10_000,
      paidOutCents: 80_000,
      receivableCents: 50_000,
      recoveringCents: 0,
    });
    expect(
      payeeBalance('USD', rewards, [
        { recoveredCents: 30_000, runStatus: 'paid' },
        { recoveredCents: 10_000, runStatus: 'exported' },
      ]),
    ).toEqual({ currency: 'USD', owedCents: 10_000, paidOutCents: 50_000, receivableCents: 20_000, recoveringCents: 10_000 });
  });
});

describe('payoutRunTransition', () => {
  it.each([
    ['draft', 'export', { ok: true, to: 'exported', changed: true }],
    ['exported', 'export', { ok: true, to: 'exported', changed: false }],
    ['exported', 'mark_paid', { ok: true, to: 'paid', changed: true }],
  ] as const)('%s, %s', (from, action, expected) => {
    expect(payoutRunTransition(from, action)).toEqual(expected);
  });
  it.each([
    ['draft', 'mark_paid', 'cannot mark paid a draft payout run: it has not been exported yet: export it, pay the file, then mark it paid'],
    ['paid', 'mark_paid', 'cannot mark paid a paid payout run: it is already paid'],
    ['paid', 'export', 'cannot export a paid payout run: it is already paid'],
  ] as const)('%s, %s is refused', (from, action, reason) => {
    expect(payoutRunTransition(from, action)).toEqual({ ok: false, reason });
  });
});
