import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  attributeDeal,
  attributedValueCents,
  equalSharesPpm,
  isStaleDealRead,
  reversalDecision,
  type AttributionCandidate,
  type AttributionDeal,
  type AttributionInput,
} from '../../../src/domain/attribution.ts';
import type { AttributionModel, ChannelConflictPolicy } from '../../../src/domain/program.ts';

const deal: AttributionDeal = {
  id: 'deal-1',
  createdAt: '2026-03-01T00:00:00.000Z',
  closeDate: '2026-03-31',
  isWon: true,
  isClosed: true,
  amountCents: 2_500_000,
  firstYearValueCents: 2_500_000,
  currency: 'USD',
  contactIds: ['c-1', 'c-2'],
  companyIds: ['co-1'],
  companyDomain: 'acme.com',
  sourcedBy: 'unknown',
};

function candidate(id: string, overrides: Partial<AttributionCandidate> = {}): AttributionCandidate {
  return {
    referralId: id,
    referrerId: `referrer-of-${id}`,
    referrerType: 'customer',
    submittedAt: '2026-01-10T00:00:00.000Z',
    status: 'accepted',
    refereePersonIds: ['c-1'],
    refereeCompanyIds: [],
    refereeDomain: null,
    ...overrides,
  };
}

function input(
  candidates: AttributionCandidate[],
  model: AttributionModel = 'first_touch',
  dealOverrides: Partial<AttributionDeal> = {},
  channelConflict: ChannelConflictPolicy = 'influenced_only',
): AttributionInput {
  return { program: { attribution: { model, windowDays: 365, channelConflict } }, deal: { ...deal, ...dealOverrides }, candidates };
}

const three = [
  candidate('r1', { submittedAt: '2026-01-01T00:00:00.000Z' }),
  candidate('r2', { submittedAt: '2026-01-02T00:00:00.000Z', refereePersonIds: [], refereeCompanyIds: ['co-1'] }),
  candidate('r3', { submittedAt: '2026-01-03T00:00:00.000Z', refereePersonIds: [], refereeDomain: 'acme.com' }),
];

describe('attributeDeal', () => {
  it('linear attribution over three referrers splits 1/3 each and the shares sum to the whole', () => {
    const d = attributeDeal(input(three, 'linear'));
    expect(d.attributed.map((a) => [a.referralId, a.sharePpm, a.role])).toEqual([
      ['r1', 333_334, 'sourced'], // remainder to the earliest
      ['r2', 333_333, 'sourced'],
      ['r3', 333_333, 'sourced'],
    ]);
    expect(d.attributed.reduce((s, a) => s + a.sharePpm, 0)).toBe(1_000_000);
    expect(d.reasons[0]).toContain('3 referrals (linear');
  });

  it.each([
    ['first_touch', 'r1'],
    ['last_touch', 'r3'],
  ] as const)('%s gives the whole credit to %s and records the others as influenced', (model, winner) => {
    const d = attributeDeal(input(three, model));
    const sourced = d.attributed.filter((a) => a.role === 'sourced');
    expect(sourced).toHaveLength(1);
    expect(sourced[0]).toMatchObject({ referralId: winner, sharePpm: 1_000_000 });
    for (const a of d.attributed.filter((x) => x.role === 'influenced')) {
      expect(a.sharePpm).toBe(0);
      expect(a.reasons[1]).toContain(`credit goes to referral ${winner}`);
    }
  });

  it('matches through contact, company and domain and keeps the evidence', () => {
    const d = attributeDeal(input(three, 'linear'));
    expect(d.attributed.map((a) => a.evidence)).toEqual([
      [{ via: 'contact', id: 'c-1' }],
      [{ via: 'company', id: 'co-1' }],
      [{ via: 'domain', id: 'acme.com' }],
    ]);
    expect(d.attributed[0]?.reasons[0]).toBe('linked through contact c-1');
  });

  it('a website-style company domain on the deal is normalized before matching', () => {
    const byDomain = candidate('r', { refereePersonIds: [], refereeDomain: 'acme.com' });
    const d = attributeDeal(input([byDomain], 'first_touch', { companyDomain: 'https://www.ACME.com/' }));
    expect(d.attributed).toHaveLength(1);
  });

  it.each([
    ['a free-mail domain', { refereePersonIds: [], refereeDomain: 'gmail.com' }, { companyDomain: 'gmail.com' }, 'none of the deal'],
    ['no link at all', { refereePersonIds: ['c-99'] }, {}, 'none of the deal'],
    ['a referral after the deal was created', { submittedAt: '2026-03-02T00:00:00.000Z' }, {}, 'after the deal was created'],
    ['a referral one second after the deal was created', { submittedAt: '2026-03-01T00:00:01.000Z' }, {}, 'after the deal was created'],
    ['a deal created outside the window', { submittedAt: '2025-02-28T00:00:00.000Z' }, {}, 'more than 365 days after'],
    ['a rejected referral', { status: 'rejected' as const }, {}, 'the referral is rejected'],
    ['an expired referral', { status: 'expired' as const }, {}, 'the referral is expired'],
  ])('does not attribute %s', (_label, c, d, reason) => {
    const decision = attributeDeal(input([candidate('r', c)], 'first_touch', d));
    expect(decision.attributed).toEqual([]);
    expect(decision.notAttributed).toEqual([{ referralId: 'r', reasons: [expect.stringContaining(reason)] }]);
    expect(decision.reasons[0]).toBe('no referral earns credit for deal deal-1');
  });

  it('attributes a referral made within the second the deal was created (CRM times are whole seconds)', () => {
    const d = attributeDeal(input([candidate('r', { submittedAt: '2026-03-01T00:00:00.900Z' })]));
    expect(d.attributed).toHaveLength(1);
  });

  it('attributes a deal created exactly at the end of the window', () => {
    const d = attributeDeal(input([candidate('r', { submittedAt: '2025-03-01T00:00:00.000Z' })]));
    expect(d.attributed).toHaveLength(1);
  });

  describe('channel conflict on a rep-sourced deal', () => {
    const partner = candidate('p', { referrerType: 'partner', submittedAt: '2026-01-01T00:00:00.000Z' });
    const customer = candidate('c', { submittedAt: '2026-01-05T00:00:00.000Z' });

    it('rep_sourced_blocks_partner: the partner gets nothing and the customer the whole credit', () => {
      const d = attributeDeal(input([partner, customer], 'first_touch', { sourcedBy: 'rep' }, 'rep_sourced_blocks_partner'));
      expect(d.notAttributed).toEqual([{ referralId: 'p', reasons: [expect.stringContaining('rep-sourced')] }]);
      expect(d.attributed).toMatchObject([{ referralId: 'c', sharePpm: 1_000_000, role: 'sourced' }]);
    });

    it('influenced_only: the partner is recorded as influenced with no share', () => {
      const d = attributeDeal(input([partner, customer], 'linear', { sourcedBy: 'rep' }, 'influenced_only'));
      expect(d.attributed).toMatchObject([
        { referralId: 'p', sharePpm: 0, role: 'influenced' },
        { referralId: 'c', sharePpm: 1_000_000, role: 'sourced' },
      ]);
      expect(d.attributed[0]?.reasons[1]).toContain('rep-sourced');
    });

    it('ignore: the partner is credited as usual', () => {
      const d = attributeDeal(input([partner, customer], 'first_touch', { sourcedBy: 'rep' }, 'ignore'));
      expect(d.attributed[0]).toMatchObject({ referralId: 'p', sharePpm: 1_000_000 });
    });

    it('a deal not marked rep-sourced has no conflict', () => {
      const d = attributeDeal(input([partner], 'first_touch', { sourcedBy: 'partner' }, 'rep_sourced_blocks_partner'));
      expect(d.attributed[0]).toMatchObject({ referralId: 'p', role: 'sourced' });
    });
  });

  it('says when the deal is not won yet', () => {
    expect(attributeDeal(input(three, 'first_touch', { isWon: false, isClosed: false })).reasons).toContain(
      'the deal is not closed won yet, so this attribution is provisional',
    );
  });

  it('shares always sum to 1,000,000 for any number of referrers and any model', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 40 }),
        fc.constantFrom<AttributionModel>('first_touch', 'last_touch', 'linear'),
        (daysBefore, model) => {
          const candidates = daysBefore.map((d, i) =>
            candidate(`r${i}`, { submittedAt: new Date(Date.parse(deal.createdAt) - d * 86_400_000).toISOString() }),
          );
          const d = attributeDeal(input(candidates, model));
          expect(d.attributed).toHaveLength(candidates.length);
          expect(d.attributed.reduce((s, a) => s + a.sharePpm, 0)).toBe(1_000_000);
          expect(d.attributed.every((a) => a.sharePpm >= 0)).toBe(true);
        },
      ),
    );
  });
});

it('equalSharesPpm gives the remainder to the earliest', () => {
  expect(equalSharesPpm(3)).toEqual([333_334, 333_333, 333_333]);
  expect(equalSharesPpm(7).reduce((a, b) => a + b, 0)).toBe(1_000_000);
  expect(() => equalSharesPpm(0)).toThrow(RangeError);
});

describe('attributedValueCents', () => {
  const value = (dealValueCents: number | null, model: AttributionModel, candidates = three) =>
    attributedValueCents(dealValueCents, attributeDeal(input(candidates, model, { firstYearValueCents: dealValueCents })).attributed);

  it.each([
    ['first-touch credits the whole value', 2_500_000, 'first_touch', 2_500_000],
    ['last-touch credits the whole value', 2_500_000, 'last_touch', 2_500_000],
    ['a linear split of $1.00 three ways credits $1.00, not 3 × 33¢', 100, 'linear', 100],
    ['a linear split of 1 yen three ways credits it', 1, 'linear', 1],
    ['a deal without a value credits nothing', null, 'linear', 0],
  ] as const)('%s', (_label, dealValueCents, model, credited) => {
    expect(value(dealValueCents, model)).toBe(credited);
  });

  it('credits nothing when every referral is only influence', () => {
    const partner = [candidate('p1', { referrerType: 'partner' })];
    const decision = attributeDeal(input(partner, 'first_touch', { sourcedBy: 'rep' }, 'influenced_only'));
    expect(decision.attributed).toMatchObject([{ role: 'influenced', sharePpm: 0 }]);
    expect(attributedValueCents(2_500_000, decision.attributed)).toBe(0);
  });

  it('never credits more than the value, and the whole of it once any referral is sourced', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e12 }),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom<AttributionModel>('first_touch', 'last_touch', 'linear'),
        (cents, n, model) => {
          expect(value(cents, model, three.slice(0, n))).toBe(cents);
        },
      ),
    );
  });
});

describe('isStaleDealRead', () => {
  const applied = { modifiedAt: '2026-11-22T09:00:00.000Z' };
  it.each([
    ['nothing applied yet', undefined, '2020-01-01T00:00:00.000Z', false],
    ['an older read', applied, '2026-11-22T08:59:59.999Z', true],
    ['the same state again', applied, '2026-11-22T09:00:00.000Z', false],
    ['a newer read', applied, '2026-11-22T09:00:00.001Z', false],
    ['the same instant written with an offset (Salesforce)', applied, '2026-11-22T09:00:00.000+0000', false],
    ['an unreadable time: applied, not ignored', applied, 'yesterday', false],
  ])('%s', (_label, previous, fetched, stale) => {
    expect(isStaleDealRead(previous, { modifiedAt: fetched })).toBe(stale);
  });
});

describe('reversalDecision', () => {
  const won = { dealWasWon: true, amountCents: 2_500_000, currency: 'USD' };
  const open = { dealWasWon: false, amountCents: null };
  it.each([
    ['reopened', won, { exists: true, isWon: false, isClosed: false, amountCents: 2_500_000 }, true, false, 'reopened'],
    ['lost', won, { exists: true, isWon: false, isClosed: true, amountCents: 2_500_000 }, true, false, 'closed lost'],
    ['deleted', won, { exists: false, isWon: false, isClosed: false, amountCents: null }, true, false, 'deleted'],
    [
      'amount changed',
      won,
      { exists: true, isWon: true, isClosed: true, amountCents: 3_000_000 },
      false,
      true,
      'from $25,000.00 to $30,000.00',
    ],
    ['unchanged', won, { exists: true, isWon: true, isClosed: true, amountCents: 2_500_000 }, false, false, 'still won'],
    ['won for the first time', open, { exists: true, isWon: true, isClosed: true, amountCents: 1 }, false, true, 'now closed won'],
    ['never won', open, { exists: false, isWon: false, isClosed: false, amountCents: null }, false, false, 'nothing was paid'],
  ])('%s', (_label, previous, current, reverse, recompute, reason) => {
    const d = reversalDecision(previous, current);
    expect(d).toMatchObject({ reverse, recompute });
    expect(d.reason).toContain(reason);
  });
});

describe('attributeDeal: approved claims', () => {
  const claim = { dealId: 'deal-1', by: 'Sam Rep', at: '2026-03-05T10:00:00.000Z', approvedBy: 'Ada Admin' };
  const late = { submittedAt: '2026-03-05T10:00:00.000Z', refereePersonIds: ['c-1'] };

  it('credits an approved claim although it was submitted after the deal was created', () => {
    const d = attributeDeal(input([candidate('claim-1', { ...late, claim })]));
    expect(d.attributed).toHaveLength(1);
    expect(d.attributed[0]).toMatchObject({ role: 'sourced', sharePpm: 1_000_000 });
    expect(d.attributed[0]!.evidence).toContainEqual({ via: 'claim', id: 'deal-1', by: 'Sam Rep', at: claim.at, approvedBy: 'Ada Admin' });
    expect(d.attributed[0]!.reasons[0]).toContain('a claim by Sam Rep on 2026-03-05, approved by Ada Admin');
  });

  it.each<[string, Partial<AttributionCandidate>, string]>([
    ['a late referral without a claim', late, 'after the deal was created on 2026-03-01, and no claim on the deal was approved'],
    ['a claim still waiting for approval', { ...late, status: 'claim_pending' }, 'the referral is claim pending'],
    ['a claim approved for another deal', { ...late, claim: { ...claim, dealId: 'deal-2' } }, 'no claim on the deal was approved'],
  ])('does not credit %s, and says why', (_name, overrides, reason) => {
    const d = attributeDeal(input([candidate('r', overrides)]));
    expect(d.attributed).toEqual([]);
    expect(d.notAttributed[0]!.reasons[0]).toContain(reason);
  });

  it('a claim on a deal found by nothing else still links through the claim', () => {
    const d = attributeDeal(input([candidate('claim-1', { ...late, refereePersonIds: [], claim })]));
    expect(d.attributed[0]!.evidence).toEqual([{ via: 'claim', id: 'deal-1', by: 'Sam Rep', at: claim.at, approvedBy: 'Ada Admin' }]);
  });
});

describe('attributeDeal: channel conflict on a rep-sourced deal names its policy', () => {
  const partner = candidate('p1', { referrerType: 'partner' });
  it.each<[ChannelConflictPolicy, number, 'sourced' | 'influenced' | null, string]>([
    ['ignore', 1_000_000, 'sourced', 'the channel-conflict policy ignore credits the partner in full'],
    ['split_with_rep', 500_000, 'sourced', 'the channel-conflict policy split_with_rep leaves the partner half of its share (50%)'],
    [
      'influenced_only',
      0,
      'influenced',
      'the channel-conflict policy influenced_only records the partner referral as influence without credit',
    ],
    ['rep_sourced_blocks_partner', 0, null, 'the channel-conflict policy rep_sourced_blocks_partner gives partners no credit on it'],
  ])('%s', (policy, sharePpm, role, reason) => {
    const d = attributeDeal(input([partner], 'first_touch', { sourcedBy: 'rep' }, policy));
    expect(d.reasons).toContain('the CRM records the deal as rep-sourced');
    if (role === null) {
      expect(d.attributed).toEqual([]);
      expect(d.notAttributed[0]!.reasons[0]).toContain(reason);
      return;
    }
    expect(d.attributed[0]).toMatchObject({ role, sharePpm });
    expect(d.attributed[0]!.reasons.join(' ')).toContain(reason);
  });

  it('a customer referral on a rep-sourced deal is not a channel conflict', () => {
    const d = attributeDeal(input([candidate('c1')], 'first_touch', { sourcedBy: 'rep' }, 'rep_sourced_blocks_partner'));
    expect(d.attributed[0]).toMatchObject({ role: 'sourced', sharePpm: 1_000_000 });
  });

  it('split_with_rep halves only the partner in a linear split', () => {
    const d = attributeDeal(
      input(
        [candidate('c1', { submittedAt: '2026-01-01T00:00:00.000Z' }), candidate('p1', { referrerType: 'partner' })],
        'linear',
        { sourcedBy: 'rep' },
        'split_with_rep',
      ),
    );
    expect(d.attributed.map((a) => [a.referralId, a.sharePpm])).toEqual([
      ['c1', 500_000],
      ['p1', 250_000],
    ]);
  });
});

describe('attributeDeal: candidates locked to different program versions', () => {
  const v1 = { version: 1, attribution: { model: 'linear' as const, windowDays: 30, channelConflict: 'ignore' as const } };
  const v2 = {
    version: 2,
    attribution: { model: 'first_touch' as const, windowDays: 365, channelConflict: 'rep_sourced_blocks_partner' as const },
  };

  it('each referral uses its own window: a v1 referral outside its 30 days is out, a v2 one of the same age is in', () => {
    const d = attributeDeal(
      input([
        candidate('old-v1', { submittedAt: '2026-01-10T00:00:00.000Z', program: v1 }),
        candidate('old-v2', { submittedAt: '2026-01-10T00:00:00.000Z', program: v2 }),
      ]),
    );
    expect(d.attributed.map((a) => a.referralId)).toEqual(['old-v2']);
    expect(d.notAttributed[0]).toEqual({
      referralId: 'old-v1',
      reasons: [
        'the deal was created on 2026-03-01, more than 30 days after the referral on 2026-01-10',
        'judged by program version 1, the one the referral is locked to',
      ],
    });
  });

  it('each referral uses its own channel policy on a rep-sourced deal', () => {
    const d = attributeDeal(
      input(
        [
          candidate('p-v1', { referrerType: 'partner', submittedAt: '2026-02-20T00:00:00.000Z', program: v1 }),
          candidate('p-v2', { referrerType: 'partner', submittedAt: '2026-02-21T00:00:00.000Z', program: v2 }),
        ],
        'first_touch',
        { sourcedBy: 'rep' },
      ),
    );
    expect(d.attributed.map((a) => a.referralId)).toEqual(['p-v1']);
    expect(d.notAttributed[0]!.reasons[0]).toContain('rep_sourced_blocks_partner');
  });

  it('the split follows the version of the earliest credited referral', () => {
    const linearFirst = attributeDeal(
      input([
        candidate('a-v1', { submittedAt: '2026-02-20T00:00:00.000Z', program: v1 }),
        candidate('b-v2', { submittedAt: '2026-02-21T00:00:00.000Z', program: v2 }),
      ]),
    );
    expect(linearFirst.attributed.map((a) => [a.referralId, a.sharePpm])).toEqual([
      ['a-v1', 500_000],
      ['b-v2', 500_000],
    ]);
    expect(linearFirst.reasons[0]).toBe(
      'deal deal-1 is credited to 2 referrals (linear, 30-day window, program version 1 of the earliest credited referral)',
    );

    const firstTouchFirst = attributeDeal(
      input([
        candidate('a-v2', { submittedAt: '2026-02-20T00:00:00.000Z', program: v2 }),
        candidate('b-v1', { submittedAt: '2026-02-21T00:00:00.000Z', program: v1 }),
      ]),
    );
    expect(firstTouchFirst.attributed.map((a) => [a.referralId, a.sharePpm])).toEqual([
      ['a-v2', 1_000_000],
      ['b-v1', 0],
    ]);
  });
});

describe('attributeDeal on renewals and expansions', () => {
  const later = { createdAt: '2028-02-01T00:00:00.000Z', closeDate: '2028-02-20' };
  it.each([
    ['renewal', 'closed_won', true],
    ['expansion', 'closed_won', true],
    ['renewal', 'accepted', false],
    ['renewal', 'qualified', false],
    ['renewal', 'expired', false],
    ['renewal', 'rejected', false],
    ['new_business', 'closed_won', false], // outside the 365-day window
  ] as const)('a %s deal two years on, referral %s → credited: %s', (kind, status, credited) => {
    const decision = attributeDeal(input([candidate('r1', { status })], 'first_touch', { ...later, kind }));
    expect(decision.attributed.map((a) => a.referralId)).toEqual(credited ? ['r1'] : []);
    if (!credited) expect(decision.notAttributed[0]?.reasons[0]).not.toBe('');
  });

  it('says that no window applies to a renewal, and why an unwon referral is not credited', () => {
    const won = attributeDeal(input([candidate('r1', { status: 'closed_won' })], 'first_touch', { ...later, kind: 'renewal' }));
    expect(won.reasons).toContain('the deal is a renewal of a referred customer: no attribution window applies');
    const open = attributeDeal(input([candidate('r1', { status: 'in_sales_process' })], 'first_touch', { ...later, kind: 'renewal' }));
    expect(open.notAttributed[0]?.reasons[0]).toMatch(/only a referral whose first deal was won earns on its renewals/);
  });
});
