import { describe, expect, it } from 'vitest';
import {
  chooseClaimDeal,
  claimExpiry,
  claimVerdict,
  decideClaimApproval,
  type ClaimableDeal,
  type ClaimFacts,
  type DealHolder,
} from '../../../src/domain/claims.ts';
import { defaultClaimsPolicy, type ClaimsPolicy } from '../../../src/domain/program.ts';

const now = '2026-03-01T09:00:00.000Z';

const deal: ClaimableDeal = {
  id: 'deal-1002',
  name: 'Acme platform',
  stageLabel: 'Presentation scheduled',
  ownerId: '75000001',
  ownerName: 'Sam Rep',
  createdAt: '2026-02-10T00:00:00.000Z',
  isClosed: false,
  isWon: false,
  step: 'qualified',
  isExpansion: false,
};

const held: DealHolder = {
  referralId: 'ref-pia',
  referrerId: 'referrer-pia',
  referrerName: 'Pia Partner',
  status: 'accepted',
  submittedAt: '2026-02-01T00:00:00.000Z',
  protectedUntil: '2027-02-01T00:00:00.000Z',
};

function facts(
  overrides: Partial<ClaimFacts> = {},
  policy: Partial<ClaimsPolicy> = {},
  dealOverrides: Partial<ClaimableDeal> = {},
): ClaimFacts {
  return {
    policy: { ...defaultClaimsPolicy(), ...policy },
    now,
    audience: 'rep',
    referrerId: 'referrer-jo',
    deal: { ...deal, ...dealOverrides },
    holders: [],
    ...overrides,
  };
}

describe('defaultClaimsPolicy', () => {
  it('is the safe default: allowed until closed, 90 days, approval required, no expansion deals', () => {
    expect(defaultClaimsPolicy()).toEqual({ allowed: true, until: 'closed', windowDays: 90, requireApproval: true, allowExpansion: false });
  });
});

describe('claimVerdict', () => {
  it.each<[string, ClaimFacts, { outcome: string; code?: string }, string]>([
    [
      'an open deal under the defaults: pending approval',
      facts(),
      { outcome: 'claim_pending' },
      'Claim on deal "Acme platform" (stage Presentation scheduled, owner Sam Rep) recorded; waiting for approval by the program\'s approvers.',
    ],
    [
      'no approval required: accepted at once',
      facts({}, { requireApproval: false }),
      { outcome: 'accepted' },
      'Claim on deal "Acme platform" (stage Presentation scheduled, owner Sam Rep) accepted: the deal is credited to this referral.',
    ],
    [
      'the same referrer claims the same deal twice',
      facts({ holders: [{ ...held, referrerId: 'referrer-jo', referrerName: 'Jo', status: 'claim_pending' }] }),
      { outcome: 'duplicate' },
      'Jo already claimed deal "Acme platform" (stage Presentation scheduled, owner Sam Rep) on 2026-02-01 (referral ref-pia).',
    ],
    [
      'another referrer holds the deal (rep audience)',
      facts({ holders: [held] }),
      { outcome: 'conflict', code: 'held' },
      'Deal "Acme platform" (stage Presentation scheduled, owner Sam Rep) is already held by Pia Partner\'s referral ref-pia, protected until 2027-02-01.',
    ],
    [
      "another referrer's pending claim holds the deal too",
      facts({ holders: [{ ...held, status: 'claim_pending', protectedUntil: null }] }),
      { outcome: 'conflict', code: 'held' },
      'Deal "Acme platform" (stage Presentation scheduled, owner Sam Rep) is already held by Pia Partner\'s referral ref-pia (a claim waiting for approval).',
    ],
    [
      'another referrer holds the deal (referrer audience)',
      facts({ holders: [held], audience: 'referrer' }),
      { outcome: 'conflict', code: 'held' },
      'This introduction concerns a deal that is already credited to another referral, so it cannot be accepted.',
    ],
    [
      'the deal is closed won',
      facts({}, {}, { isClosed: true, isWon: true, step: 'closed_won' }),
      { outcome: 'conflict', code: 'closed' },
      'Deal "Acme platform" (stage Presentation scheduled, owner Sam Rep) is already closed won, so it cannot be claimed.',
    ],
    [
      'the program forbids claims',
      facts({}, { allowed: false }),
      { outcome: 'conflict', code: 'forbidden' },
      'Deal "Acme platform" (stage Presentation scheduled, owner Sam Rep) already exists, and the program does not allow referrals to claim existing deals.',
    ],
    [
      'past the claim step',
      facts({}, { until: 'qualified' }),
      { outcome: 'conflict', code: 'past_cutoff' },
      'Deal "Acme platform" (stage Presentation scheduled, owner Sam Rep) is already qualified; the program allows claims only before a deal is qualified.',
    ],
    [
      'outside the claim window',
      facts({}, {}, { createdAt: '2025-11-01T00:00:00.000Z' }),
      { outcome: 'conflict', code: 'outside_window' },
      'Deal "Acme platform" (stage Presentation scheduled, owner Sam Rep) was created on 2025-11-01, 120 days ago; the program allows claims within 90 days of a deal\'s creation.',
    ],
    [
      'an expansion deal of an existing customer',
      facts({}, {}, { isExpansion: true }),
      { outcome: 'conflict', code: 'expansion' },
      'Deal "Acme platform" (stage Presentation scheduled, owner Sam Rep) is an expansion deal of an existing customer, and the program does not accept referrals for existing customers.',
    ],
  ])('%s', (_name, input, expected, reason) => {
    const verdict = claimVerdict(input);
    expect(verdict).toMatchObject(expected);
    expect(verdict.reasons[0]).toBe(reason);
  });

  it("exactly the window's last day is still in", () => {
    expect(claimVerdict(facts({}, {}, { createdAt: '2025-12-01T09:00:00.000Z' })).outcome).toBe('claim_pending');
  });

  it('an expansion deal can be claimed when the program allows it', () => {
    expect(claimVerdict(facts({}, { allowExpansion: true }, { isExpansion: true })).outcome).toBe('claim_pending');
  });

  it('referrals that let go of the deal (rejected, expired, lost) do not hold it', () => {
    const released = (['rejected', 'expired', 'closed_lost'] as const).map((status, i) => ({ ...held, referralId: `r${i}`, status }));
    expect(claimVerdict(facts({ holders: released })).outcome).toBe('claim_pending');
  });

  it('a pending claim expires after the claim window and says so', () => {
    const verdict = claimVerdict(facts());
    expect(verdict).toMatchObject({ outcome: 'claim_pending', expiresAt: '2026-05-30T09:00:00.000Z' });
    expect(verdict.reasons[1]).toBe('It expires on 2026-05-30 unless it is approved before.');
  });

  it('a referrer reads no CRM data about the deal', () => {
    const verdict = claimVerdict(facts({ audience: 'referrer' }));
    expect(verdict.reasons.join(' ')).not.toMatch(/Acme platform|Sam Rep|Presentation/);
  });

  it("the holder's identity is in the collision for reps, never for a referrer", () => {
    expect(claimVerdict(facts({ holders: [held] }))).toMatchObject({
      collidesWith: { dealId: 'deal-1002', referralId: 'ref-pia', referrerName: 'Pia Partner' },
    });
    expect(claimVerdict(facts({ holders: [held], audience: 'referrer' }))).toMatchObject({ collidesWith: { dealId: 'deal-1002' } });
    expect(JSON.stringify(claimVerdict(facts({ holders: [held], audience: 'referrer' })))).not.toContain('Pia');
  });
});

describe('chooseClaimDeal', () => {
  it.each<[string, ClaimableDeal[], string]>([
    ['no open deal', [], 'none'],
    ['one open deal', [deal], 'one'],
    ['two open deals', [deal, { ...deal, id: 'deal-2', name: 'Acme add-on' }], 'choose_deal'],
  ])('%s → %s', (_name, deals, outcome) => {
    expect(chooseClaimDeal(deals, 'rep').outcome).toBe(outcome);
  });

  it('names the deals, oldest first', () => {
    const choice = chooseClaimDeal([{ ...deal, id: 'deal-2', name: 'Acme add-on', createdAt: '2026-02-20T00:00:00.000Z' }, deal], 'rep');
    expect(choice).toMatchObject({ outcome: 'choose_deal', deals: [{ id: 'deal-1002' }, { id: 'deal-2' }] });
    if (choice.outcome !== 'choose_deal') return;
    expect(choice.reasons[0]).toBe(
      'There are 2 open deals: deal "Acme platform" (stage Presentation scheduled, owner Sam Rep); ' +
        'deal "Acme add-on" (stage Presentation scheduled, owner Sam Rep). Name the deal this referral claims.',
    );
  });
});

describe('decideClaimApproval', () => {
  const pending = { id: 'ref-1', status: 'claim_pending' as const, claimedDealId: 'deal-1002', decidedAs: null };
  it.each<[string, Parameters<typeof decideClaimApproval>[0], Parameters<typeof decideClaimApproval>[1], string, string]>([
    [
      'approve a pending claim',
      pending,
      { action: 'approve', approvedBy: 'Ada Admin' },
      'approved',
      'Claim on deal deal-1002 approved by Ada Admin; the deal is credited to this referral.',
    ],
    [
      'reject a pending claim',
      pending,
      { action: 'reject', rejectedBy: 'Ada Admin', reason: 'the rep sourced it' },
      'rejected',
      'Claim on deal deal-1002 rejected by Ada Admin: the rep sourced it',
    ],
    [
      'approve twice',
      { ...pending, status: 'accepted', decidedAs: 'approved' },
      { action: 'approve', approvedBy: 'Ada Admin' },
      'none',
      'The claim was already approved; nothing changed.',
    ],
    [
      'reject an approved claim',
      { ...pending, status: 'accepted', decidedAs: 'approved' },
      { action: 'reject', rejectedBy: 'Ada', reason: 'x' },
      'refused',
      'The claim was already approved, so it cannot be rejected.',
    ],
    [
      'approve an expired claim',
      { ...pending, status: 'expired' },
      { action: 'approve', approvedBy: 'Ada' },
      'refused',
      'The claim is expired, so it cannot be approved.',
    ],
    [
      'approve a referral that is no claim',
      { ...pending, claimedDealId: null, status: 'accepted' },
      { action: 'approve', approvedBy: 'Ada' },
      'refused',
      'Referral ref-1 is not a claim on a deal.',
    ],
  ])('%s', (_name, claim, input, change, reason) => {
    const decision = decideClaimApproval(claim, input);
    expect(decision.change).toBe(change);
    expect(decision.reasons).toEqual([reason]);
  });
});

describe('claimExpiry', () => {
  const policy = defaultClaimsPolicy();
  it.each<[string, Parameters<typeof claimExpiry>[0], string, boolean, string]>([
    [
      'inside the window',
      { status: 'claim_pending', submittedAt: '2026-01-01T00:00:00.000Z' },
      '2026-03-31T23:59:59.000Z',
      false,
      'the claim waits for approval until 2026-04-01',
    ],
    [
      "at the window's end",
      { status: 'claim_pending', submittedAt: '2026-01-01T00:00:00.000Z' },
      '2026-04-01T00:00:00.000Z',
      true,
      "the claim was not approved within the program's 90-day claim window, which ended on 2026-04-01",
    ],
    [
      'an approved claim never expires as a claim',
      { status: 'accepted', submittedAt: '2026-01-01T00:00:00.000Z' },
      '2027-01-01T00:00:00.000Z',
      false,
      'the referral is no pending claim',
    ],
  ])('%s', (_name, claim, at, expire, reason) => {
    expect(claimExpiry(claim, policy, at)).toMatchObject({ expire, reason, expiresAt: '2026-04-01T00:00:00.000Z' });
  });
});
