import { defaultProgram, type Program } from '../../src/domain/program.ts';

/** A program that sets every optional setting and every kind of rule: what an editor must carry through unchanged. */
export function everySettingProgram(): Program {
  const base = defaultProgram();
  return {
    ...base,
    financeEmail: 'finance@example.com',
    tiers: ['silver', 'gold'],
    rewardRules: [
      ...base.rewardRules,
      {
        id: 'gold-commission',
        kind: 'percent',
        description: '12.5% for gold partners, at least $1,000, at most $20,000',
        referrerTypes: ['partner'],
        milestone: 'closed_won',
        rateBasisPoints: 1_250,
        minCents: 100_000,
        maxCents: 2_000_000,
        referrerTiers: ['gold'],
      },
      {
        id: 'consultant-table',
        kind: 'bracket',
        referrerTypes: ['consultant'],
        milestone: 'closed_won',
        brackets: [
          { fromCents: 0, fee: { kind: 'flat', amountCents: 25_000 } },
          { fromCents: 1_000_000, fee: { kind: 'flat', amountCents: 50_000 } },
          { fromCents: 5_000_000, fee: { kind: 'percent', rateBasisPoints: 200, minCents: 100_000 } },
        ],
        minDealCents: 100_000,
      },
      {
        id: 'partner-renewals',
        kind: 'revenue_share',
        description: '5% of renewals for two years',
        referrerTypes: ['partner'],
        milestone: 'closed_won',
        rateBasisPoints: 500,
        months: 24,
        renewals: 2,
      },
    ],
    promotionRules: [{ id: 'to-gold', referrerTypes: ['partner'], closedWonReferrals: 3, withinDays: 365, toTier: 'gold' }],
    milestoneBonuses: [
      {
        id: 'three-a-quarter',
        description: '$300 for 3 wins in a quarter',
        referrerTypes: ['customer'],
        closedWonPerQuarter: 3,
        amountCents: 30_000,
      },
    ],
    refereeReward: { milestone: 'closed_won', amountCents: 10_000, description: 'A $100 credit' },
    caps: { perReferralCents: 500_000, perReferrerPerYearCents: 2_500_000 },
    claims: { allowed: true, until: 'in_sales_process', windowDays: 60, requireApproval: false, allowExpansion: true },
    attribution: { model: 'linear', windowDays: 180, channelConflict: 'split_with_rep' },
    dedupe: { windowDays: 180, winner: 'last', plusAddressing: 'keep', protectionDays: 30 },
    discretion: { showStage: true, showReward: false, showDealAmount: true, showInternalNotes: false, refereeNaming: 'company_only' },
    asks: {
      askers: ['cs_owner', 'admins'],
      automatic: true,
      minDaysBetweenAutomatic: 120,
      template: 'Know a team like yours? Introduce them and we will thank you.',
      milestones: ['onboarding_completed'],
    },
    links: { landingUrl: 'https://www.example.com/refer', allowedDomains: ['example.com'], requireApproval: true },
    notifications: { digest: true, quietPeriodSeconds: 120 },
  };
}
