import { describe, expect, it } from 'vitest';
import type { SubmissionVerdict } from '../../../src/domain/submission.ts';
import { verdictView } from '../../../src/domain/verdict.ts';

const base = { refereeEmail: 'jo@acme.com', refereeDomain: 'acme.com' };
const held: SubmissionVerdict = {
  outcome: 'rejected',
  code: 'conflict',
  ...base,
  reasons: ['held'],
  referrerReason: 'held',
  collidesWith: { dealId: 'd1', referralId: 'r-pia', referrerName: 'Pia Partner', ownerId: 'o1', ownerName: 'Sam Rep' },
  protectedUntil: '2027-01-01T00:00:00.000Z',
};

describe('verdictView', () => {
  it.each<[string, SubmissionVerdict, string]>([
    ['accepted', { outcome: 'accepted', ...base, protectedUntil: '2027-01-01T00:00:00.000Z', supersedes: [], reasons: ['ok'] }, 'accepted'],
    ['a duplicate', { outcome: 'rejected', code: 'duplicate', ...base, reasons: ['dup'], referrerReason: 'dup' }, 'duplicate'],
    ['a self-referral', { outcome: 'rejected', code: 'self_referral', ...base, reasons: ['self'], referrerReason: 'self' }, 'conflict'],
    [
      'an ineligible referrer',
      { outcome: 'rejected', code: 'ineligible_referrer', ...base, reasons: ['no'], referrerReason: 'no' },
      'ineligible',
    ],
    [
      'a pending claim',
      {
        outcome: 'claim_pending',
        ...base,
        protectedUntil: '2027-01-01T00:00:00.000Z',
        claimedDealId: 'd1',
        expiresAt: '2026-06-01T00:00:00.000Z',
        reasons: ['c'],
      },
      'claim_pending',
    ],
    ['several deals', { outcome: 'choose_deal', ...base, deals: [], reasons: ['choose'] }, 'choose_deal'],
  ])('%s → %s', (_name, verdict, outcome) => {
    expect(verdictView(verdict, 'rep').outcome).toBe(outcome);
  });

  it('reps and admins see who holds the deal and until when', () => {
    expect(verdictView(held, 'rep').collidesWith).toEqual({
      dealId: 'd1',
      referralId: 'r-pia',
      referrerName: 'Pia Partner',
      ownerId: 'o1',
      ownerName: 'Sam Rep',
      protectedUntil: '2027-01-01T00:00:00.000Z',
    });
  });

  it("a referrer sees neither the other referrer's identity nor the CRM owner", () => {
    expect(verdictView(held, 'referrer').collidesWith).toEqual({ dealId: 'd1' });
  });
});
