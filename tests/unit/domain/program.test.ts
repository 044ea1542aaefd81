import { describe, expect, it } from 'vitest';
import { decideLeaving, defaultProgram, sameProgram, type Program } from '../../../src/domain/program.ts';

describe('defaultProgram', () => {
  const p = defaultProgram();

  it('is the program of a fresh install', () => {
    expect(p).toMatchObject({
      currency: 'USD',
      requireAgreement: false,
      dedupe: { windowDays: 365, winner: 'first', plusAddressing: 'strip', protectionDays: 365 },
      attribution: { model: 'first_touch', windowDays: 365, channelConflict: 'influenced_only' },
      payoutDays: 90,
      approvalThresholdCents: 100_000,
      discretion: { showStage: true, showReward: true, showDealAmount: false, showInternalNotes: false },
      notifications: { digest: false },
    });
    expect(p.referrerTypes).toEqual(['customer', 'partner', 'consultant', 'advisor', 'employee']);
    expect(p.eligibility.rules.map((r) => r.kind)).toEqual([
      'min_nps',
      'min_customer_days',
      'min_health_score',
      'lifecycle_stage',
      'no_open_escalation',
    ]);
  });

  it('no rule pays employees', () => {
    expect(p.rewardRules.some((r) => r.referrerTypes.includes('employee'))).toBe(false);
  });

  it('returns a fresh copy each time', () => {
    const a = defaultProgram();
    a.rewardRules.length = 0;
    a.eligibility.rules.length = 0;
    expect(defaultProgram().rewardRules).toHaveLength(4);
    expect(defaultProgram().eligibility.rules).toHaveLength(5);
  });
});

describe('sameProgram', () => {
  const base = defaultProgram();
  it.each([
    ['the same program', structuredClone(base), true],
    ['keys in another order', Object.fromEntries(Object.entries(base).reverse()) as Program, true],
    ['an absent optional field set to undefined', { ...base, refereeReward: undefined }, true],
    ['another payout delay', { ...base, payoutDays: base.payoutDays + 1 }, false],
    ['reward rules in another order (their order decides)', { ...base, rewardRules: [...base.rewardRules].reverse() }, false],
  ])('%s → %s', (_what, other, same) => {
    expect(sameProgram(base, other)).toBe(same);
  });
});

describe('decideLeaving', () => {
  it('lets a referrer leave one of their programs', () => {
    expect(decideLeaving(['prg_main', 'prg_partners'], 'prg_partners')).toEqual({ outcome: 'leaves' });
  });

  it('says a referrer is not in a program they do not belong to', () => {
    expect(decideLeaving(['prg_main'], 'prg_partners')).toEqual({ outcome: 'not_member' });
  });

  it('refuses their last program, since a referrer of none would rejoin the default with their next referral', () => {
    expect(decideLeaving(['prg_partners'], 'prg_partners')).toEqual({
      outcome: 'refused',
      reason: 'It is the referrer’s only program: add them to another before removing them from this one.',
    });
  });
});
