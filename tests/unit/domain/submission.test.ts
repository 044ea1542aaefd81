import { describe, expect, it } from 'vitest';
import type { ClaimableDeal } from '../../../src/domain/claims.ts';
import { defaultProgram, type Program } from '../../../src/domain/program.ts';
import { checkSubmission, type PriorReferral, type SubmissionFacts } from '../../../src/domain/submission.ts';

const now = '2026-03-01T09:00:00.000Z';

function facts(overrides: Partial<SubmissionFacts> = {}, program: Program = defaultProgram()): SubmissionFacts {
  return {
    program,
    now,
    referrer: { id: 'referrer-1', email: 'pat@partner.io', type: 'partner' },
    referee: { email: 'jane@acme.com' },
    priorReferrals: [],
    crm: { openDeals: [] },
    ...overrides,
  };
}

function openDeal(overrides: Partial<ClaimableDeal> = {}): ClaimableDeal {
  return {
    id: 'deal-9',
    name: 'Acme renewal',
    stageLabel: 'Presentation scheduled',
    ownerId: 'owner-3',
    ownerName: 'Sam Rep',
    createdAt: '2026-02-20T00:00:00.000Z',
    isClosed: false,
    isWon: false,
    step: 'contacted',
    isExpansion: false,
    ...overrides,
  };
}

function prior(overrides: Partial<PriorReferral> = {}): PriorReferral {
  return {
    id: 'ref-first',
    referrerId: 'referrer-2',
    refereeEmail: 'jane@acme.com',
    refereeDomain: 'acme.com',
    status: 'accepted',
    submittedAt: '2026-01-15T10:00:00.000Z',
    ...overrides,
  };
}

describe('checkSubmission', () => {
  it('accepts a new referee and says how long it is protected', () => {
    const v = checkSubmission(facts());
    expect(v).toMatchObject({
      outcome: 'accepted',
      refereeEmail: 'jane@acme.com',
      refereeDomain: 'acme.com',
      protectedUntil: '2027-03-01T09:00:00.000Z',
      supersedes: [],
    });
    expect(v.reasons.join(' ')).toContain('protected until 2027-03-01');
  });

  describe('referrer', () => {
    it('rejects a referrer type the program does not allow', () => {
      const program = { ...defaultProgram(), referrerTypes: ['customer' as const] };
      const v = checkSubmission(facts({}, program));
      expect(v).toMatchObject({ outcome: 'rejected', code: 'ineligible_referrer' });
      expect(v.reasons[0]).toMatch(/Partner referrers are not part of/);
    });

    it.each([
      [null, 'ineligible_referrer'],
      ['2026-01-01T00:00:00.000Z', undefined],
    ])('with a required agreement accepted at %s → %s', (acceptedAt, code) => {
      const program = { ...defaultProgram(), requireAgreement: true };
      const referrer = { id: 'r', email: 'pat@partner.io', type: 'partner' as const, agreementAcceptedAt: acceptedAt };
      const v = checkSubmission(facts({ referrer }, program));
      expect(v.outcome === 'rejected' ? v.code : undefined).toBe(code);
    });
  });

  describe('self-referral', () => {
    it.each([
      ['Pat+me@partner.io', 'You cannot refer yourself.'],
      ['colleague@partner.io', 'works at your own company'],
    ])('referring %s is a self-referral', (email, reason) => {
      const v = checkSubmission(facts({ referee: { email } }));
      expect(v).toMatchObject({ outcome: 'rejected', code: 'self_referral' });
      expect(v.reasons.join(' ')).toContain(reason);
    });

    it('two people on the same free-mail provider are not the same company', () => {
      const v = checkSubmission(facts({ referrer: { email: 'pat@gmail.com', type: 'customer' }, referee: { email: 'jane@gmail.com' } }));
      expect(v.outcome).toBe('accepted');
    });
  });

  describe('duplicates', () => {
    it('a second referral of the same email inside the window is a duplicate naming the first', () => {
      const v = checkSubmission(facts({ referee: { email: 'Jane+hello@ACME.com' }, priorReferrals: [prior()] }));
      expect(v).toMatchObject({
        outcome: 'rejected',
        code: 'duplicate',
        collidesWith: { referralId: 'ref-first' },
        protectedUntil: '2027-01-15T10:00:00.000Z',
      });
      expect(v.reasons).toEqual([
        'jane@acme.com was already referred on 2026-01-15 (referral ref-first).',
        'The first referral counts; it is protected until 2027-01-15.',
      ]);
    });

    it('the earliest of several valid referrals is named', () => {
      const v = checkSubmission(
        facts({
          priorReferrals: [
            prior({ id: 'later', submittedAt: '2026-02-01T00:00:00.000Z' }),
            prior({ id: 'earliest', submittedAt: '2025-12-01T00:00:00.000Z' }),
          ],
        }),
      );
      expect(v.outcome === 'rejected' && v.collidesWith?.referralId).toBe('earliest');
    });

    it('someone else at the same company domain is a duplicate', () => {
      const v = checkSubmission(facts({ referee: { email: 'bob@acme.com' }, priorReferrals: [prior()] }));
      expect(v).toMatchObject({ code: 'duplicate' });
      expect(v.reasons[0]).toBe('Someone at acme.com was already referred on 2026-01-15 (referral ref-first).');
    });

    it('a free-mail domain never matches another referee', () => {
      const v = checkSubmission(
        facts({
          referee: { email: 'bob@gmail.com' },
          priorReferrals: [prior({ refereeEmail: 'jane@gmail.com', refereeDomain: 'gmail.com' })],
        }),
      );
      expect(v.outcome).toBe('accepted');
    });

    it('the same referrer re-submitting is told so', () => {
      const v = checkSubmission(facts({ priorReferrals: [prior({ referrerId: 'referrer-1' })] }));
      expect(v.reasons[0]).toMatch(/^You already referred jane@acme.com/);
    });

    it.each([
      ['rejected', 'accepted'],
      ['expired', 'accepted'],
      ['closed_lost', 'accepted'],
      ['submitted', 'rejected'], // a pending one still holds the referee
      ['closed_won', 'rejected'],
    ] as const)('a prior referral that is %s → %s', (status, outcome) => {
      expect(checkSubmission(facts({ priorReferrals: [prior({ status })] })).outcome).toBe(outcome);
    });

    it('a referral outside the dedupe window does not count', () => {
      const v = checkSubmission(facts({ priorReferrals: [prior({ submittedAt: '2025-02-28T09:00:00.000Z' })] }));
      expect(v.outcome).toBe('accepted');
    });

    it('plus addressing kept by policy makes tagged addresses different people', () => {
      const program = defaultProgram();
      program.dedupe.plusAddressing = 'keep';
      const v = checkSubmission(
        facts({ referee: { email: 'jane+x@acme.com', website: 'gmail.com' }, priorReferrals: [prior({ refereeDomain: null })] }, program),
      );
      expect(v.outcome).toBe('accepted');
    });

    describe("with winner 'last'", () => {
      const program = defaultProgram();
      program.dedupe.winner = 'last';
      program.dedupe.protectionDays = 30;

      it('a protected referral still blocks', () => {
        const v = checkSubmission(facts({ priorReferrals: [prior({ submittedAt: '2026-02-15T00:00:00.000Z' })] }, program));
        expect(v).toMatchObject({ code: 'duplicate', protectedUntil: '2026-03-17T00:00:00.000Z' });
        expect(v.reasons[1]).toContain('after that a new referral can replace it');
      });

      it('after its protection the new referral replaces it', () => {
        const v = checkSubmission(facts({ priorReferrals: [prior()] }, program));
        expect(v).toMatchObject({ outcome: 'accepted', supersedes: ['ref-first'] });
        expect(v.reasons.join(' ')).toContain('replaces earlier referral ref-first');
      });

      it('a stored protectedUntil wins over the program default', () => {
        const v = checkSubmission(facts({ priorReferrals: [prior({ protectedUntil: '2026-06-01T00:00:00.000Z' })] }, program));
        expect(v).toMatchObject({ code: 'duplicate', protectedUntil: '2026-06-01T00:00:00.000Z' });
      });
    });
  });

  describe('conflicts', () => {
    it('a referee with an open deal is a conflict naming the deal and its owner when the program forbids claims', () => {
      const noClaims = { ...defaultProgram(), claims: { ...defaultProgram().claims, allowed: false } };
      const v = checkSubmission(facts({ crm: { openDeals: [openDeal()] } }, noClaims));
      expect(v).toMatchObject({ outcome: 'rejected', code: 'conflict', collidesWith: { dealId: 'deal-9', ownerId: 'owner-3' } });
      expect(v.reasons).toEqual([
        'jane@acme.com (acme.com) conflicts with open deal "Acme renewal" (stage Presentation scheduled, owner Sam Rep); ' +
          'the program does not allow referrals to claim existing deals.',
      ]);
    });

    it('an existing customer is a conflict', () => {
      const v = checkSubmission(facts({ crm: { customerAccount: { companyId: 'co-1', name: 'Acme Inc.' }, openDeals: [] } }));
      expect(v).toMatchObject({ code: 'conflict', collidesWith: { companyId: 'co-1' } });
      expect(v.reasons[0]).toContain('already a customer');
    });

    it('checks run in order: a duplicate is reported before a conflict', () => {
      const v = checkSubmission(facts({ priorReferrals: [prior()], crm: { openDeals: [openDeal({ id: 'd' })] } }));
      expect(v.outcome === 'rejected' && v.code).toBe('duplicate');
    });
  });

  describe('what the referrer is told', () => {
    const noClaims = { ...defaultProgram(), claims: { ...defaultProgram().claims, allowed: false } };
    it.each([
      [
        'a duplicate of someone else',
        facts({ priorReferrals: [prior()] }),
        'jane@acme.com was already referred on 2026-01-15 by someone else. The first referral counts; it is protected until 2027-01-15.',
      ],
      [
        'their own duplicate',
        facts({ priorReferrals: [prior({ referrerId: 'referrer-1' })] }),
        'You already referred jane@acme.com on 2026-01-15. The first referral counts; it is protected until 2027-01-15.',
      ],
      [
        'an open deal the program does not let referrals claim',
        facts({ crm: { openDeals: [openDeal()] } }, noClaims),
        'jane@acme.com (acme.com) is already talking with our sales team, so it cannot be referred.',
      ],
      ['a self-referral', facts({ referee: { email: 'pat@partner.io' } }), 'You cannot refer yourself.'],
    ])('%s: in their words, without internal ids', (_what, input, told) => {
      const v = checkSubmission(input);
      expect(v.outcome === 'rejected' && v.referrerReason).toBe(told);
      expect(told).not.toMatch(/ref-first|deal-9|owner-3|Sam Rep|Acme renewal/);
    });
  });

  describe('claims on existing deals', () => {
    const holder = {
      referralId: 'ref-held',
      referrerId: 'referrer-2',
      referrerName: 'Pia Partner',
      status: 'accepted' as const,
      submittedAt: '2026-01-15T10:00:00.000Z',
      protectedUntil: '2027-01-15T10:00:00.000Z',
    };

    it('a referee with one open deal becomes a claim on it, waiting for approval', () => {
      const v = checkSubmission(facts({ crm: { openDeals: [openDeal()] } }));
      expect(v).toMatchObject({ outcome: 'claim_pending', claimedDealId: 'deal-9', expiresAt: '2026-05-30T09:00:00.000Z' });
      expect(v.reasons[0]).toBe(
        'Claim on deal "Acme renewal" (stage Presentation scheduled, owner Sam Rep) recorded; waiting for approval by the program\'s approvers.',
      );
    });

    it('several open deals and none named: choose_deal names them all', () => {
      const v = checkSubmission(
        facts({
          crm: { openDeals: [openDeal(), openDeal({ id: 'deal-10', name: 'Acme add-on', createdAt: '2026-02-25T00:00:00.000Z' })] },
        }),
      );
      expect(v.outcome).toBe('choose_deal');
      if (v.outcome !== 'choose_deal') return;
      expect(v.deals.map((d) => d.id)).toEqual(['deal-9', 'deal-10']);
      expect(v.reasons[0]).toContain('"Acme renewal"');
      expect(v.reasons[0]).toContain('"Acme add-on"');
    });

    it('a named deal is claimed even when the person has other open deals', () => {
      const v = checkSubmission(
        facts({ crm: { openDeals: [openDeal(), openDeal({ id: 'deal-10' })], namedDeal: openDeal({ id: 'deal-10' }) } }),
      );
      expect(v).toMatchObject({ outcome: 'claim_pending', claimedDealId: 'deal-10' });
    });

    it('a failed claim on a named deal is marked so that nothing is recorded', () => {
      const v = checkSubmission(
        facts({ crm: { openDeals: [], namedDeal: openDeal({ isClosed: true, isWon: true, step: 'closed_won' }) } }),
      );
      expect(v).toMatchObject({ outcome: 'rejected', code: 'conflict', claim: true, collidesWith: { dealId: 'deal-9' } });
      expect(v.reasons[0]).toContain('already closed won');
    });

    it('a deal held by another referrer: reps read who holds it and until when', () => {
      const v = checkSubmission(facts({ crm: { openDeals: [openDeal()], holders: { 'deal-9': [holder] } } }));
      expect(v).toMatchObject({
        outcome: 'rejected',
        code: 'conflict',
        collidesWith: { dealId: 'deal-9', referralId: 'ref-held', referrerName: 'Pia Partner' },
        protectedUntil: holder.protectedUntil,
      });
      expect(v.reasons[0]).toContain("Pia Partner's referral ref-held");
      expect(v.reasons[0]).toContain('protected until 2027-01-15');
    });

    it('a deal held by another referrer: a referrer reads neither their name nor the CRM deal', () => {
      const v = checkSubmission({ ...facts({ crm: { openDeals: [openDeal()], holders: { 'deal-9': [holder] } } }), audience: 'referrer' });
      expect(v).toMatchObject({ outcome: 'rejected', code: 'conflict', collidesWith: { dealId: 'deal-9' } });
      if (v.outcome !== 'rejected') return;
      expect(v.collidesWith).toEqual({ dealId: 'deal-9' });
      expect(v.reasons.join(' ')).not.toMatch(/Pia|Acme renewal|Sam Rep/);
    });

    it('an existing customer with an open expansion deal: conflict unless the program allows expansion referrals', () => {
      const crm = { customerAccount: { companyId: 'co-1', name: 'Acme Inc.' }, openDeals: [openDeal({ isExpansion: true })] };
      expect(checkSubmission(facts({ crm }))).toMatchObject({ outcome: 'rejected', code: 'conflict' });
      const open = { ...defaultProgram(), claims: { ...defaultProgram().claims, allowExpansion: true } };
      expect(checkSubmission(facts({ crm }, open))).toMatchObject({ outcome: 'claim_pending', claimedDealId: 'deal-9' });
    });

    it('a program without approval accepts the claim at once, crediting the deal', () => {
      const auto = { ...defaultProgram(), claims: { ...defaultProgram().claims, requireApproval: false } };
      expect(checkSubmission(facts({ crm: { openDeals: [openDeal()] } }, auto))).toMatchObject({
        outcome: 'accepted',
        claimedDealId: 'deal-9',
      });
    });
  });
});
