import { z } from 'zod';
import { isKnownCurrency } from '../domain/money.ts';
import {
  CHANNEL_CONFLICT_POLICIES,
  CLAIM_CUTOFF_STEPS,
  DEAL_SIZE_BASES,
  defaultClaimsPolicy,
  REFEREE_NAMINGS,
  REFERRER_TYPES,
  REWARD_MILESTONES,
  type Program,
} from '../domain/program.ts';
import { ASKERS } from '../domain/referral-ask.ts';
import { landingUrlAllowed } from '../domain/referral-links.ts';

// Validates a whole Program at the edge (admin settings API). Objects are strict so a typo in a
// field name is an error, not a silently ignored setting.

const cents = z
  .int({ error: 'must be a whole number of minor units (cents), not a decimal amount' })
  .nonnegative({ error: 'must not be negative' });
const days = z
  .int({ error: 'must be a whole number of days' })
  .min(0, { error: 'must not be negative' })
  .max(3_650, { error: 'must be at most 3650 days (10 years)' });
const text = z.string().trim().min(1, { error: 'must not be empty' });
const referrerTypes = z
  .array(z.enum(REFERRER_TYPES, { error: `must be one of ${REFERRER_TYPES.join(', ')}` }))
  .min(1, { error: 'must name at least one referrer type' })
  .refine((types) => new Set(types).size === types.length, { error: 'must not repeat a referrer type' });

const tiers = {
  minDealCents: cents.optional(),
  maxDealCents: cents.optional(),
  referrerTiers: z.array(text).optional(),
};

const grantText = (max: number) => text.max(max, { error: `must be at most ${max} characters` });
/** What a rule grants (grants.ts); absent is cash. */
const grantSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('account_credit') }),
    z.strictObject({ kind: z.literal('gift_card') }),
    z.strictObject({ kind: z.literal('donation'), charity: grantText(200) }),
    z.strictObject({ kind: z.literal('recognition'), badge: grantText(100), message: grantText(1_000) }),
  ],
  { error: "grant kind must be 'account_credit', 'gift_card', 'donation' or 'recognition' (leave grant out for cash)" },
);
/** Recognition has no amount: only a fixed rule can grant it, with an amount of 0. */
const recognitionOnlyFixed = {
  error: 'recognition has no amount: grant it from a fixed rule with amountCents 0',
  path: ['grant'],
};

function tiersInOrder(rule: { minDealCents?: number | undefined; maxDealCents?: number | undefined }): boolean {
  return rule.minDealCents === undefined || rule.maxDealCents === undefined || rule.minDealCents < rule.maxDealCents;
}
const tierOrder = { error: 'minDealCents must be below maxDealCents', path: ['maxDealCents'] };

const fixedRuleSchema = z
  .strictObject({
    id: text,
    kind: z.literal('fixed'),
    description: z.string().optional(),
    referrerTypes,
    milestone: z.enum(REWARD_MILESTONES, { error: `must be one of ${REWARD_MILESTONES.join(', ')}` }),
    amountCents: cents,
    grant: grantSchema.optional(),
    ...tiers,
  })
  .refine(tiersInOrder, tierOrder)
  .refine((rule) => rule.grant?.kind !== 'recognition' || rule.amountCents === 0, recognitionOnlyFixed);

const notRecognition = (rule: { grant?: { kind: string } | undefined }): boolean => rule.grant?.kind !== 'recognition';

const rateBasisPoints = z
  .int({ error: 'must be a whole number of basis points (1000 = 10%)' })
  .min(0, { error: 'must be between 0 and 10000 basis points' })
  .max(10_000, { error: 'must be between 0 and 10000 basis points (100%)' });

/** A floor above the cap could never be honoured. */
function floorBelowCap(fee: { minCents?: number | undefined; maxCents?: number | undefined }): boolean {
  return fee.minCents === undefined || fee.maxCents === undefined || fee.minCents <= fee.maxCents;
}
const floorOrder = { error: 'minCents (the floor) must not be above maxCents (the cap)', path: ['maxCents'] };

const percentRuleSchema = z
  .strictObject({
    id: text,
    kind: z.literal('percent'),
    description: z.string().optional(),
    referrerTypes,
    milestone: z.literal('closed_won', { error: 'a percentage is paid on closed_won only' }),
    rateBasisPoints,
    minCents: cents.optional(),
    maxCents: cents.optional(),
    grant: grantSchema.optional(),
    ...tiers,
  })
  .refine(tiersInOrder, tierOrder)
  .refine(floorBelowCap, floorOrder)
  .refine(notRecognition, recognitionOnlyFixed);

const feeSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('flat'), amountCents: cents }),
    z
      .strictObject({ kind: z.literal('percent'), rateBasisPoints, minCents: cents.optional(), maxCents: cents.optional() })
      .refine(floorBelowCap, floorOrder),
  ],
  { error: "fee kind must be 'flat' or 'percent'" },
);

const bracketRuleSchema = z
  .strictObject({
    id: text,
    kind: z.literal('bracket'),
    description: z.string().optional(),
    referrerTypes,
    milestone: z.literal('closed_won', { error: 'a bracket table is paid on closed_won only' }),
    brackets: z
      .array(z.strictObject({ fromCents: cents, fee: feeSchema }))
      .min(1, { error: 'must have at least one bracket' })
      .refine((rows) => rows[0]?.fromCents === 0, { error: 'the first bracket must start at fromCents 0, so every deal has a bracket' })
      .refine((rows) => rows.every((row, i) => i === 0 || row.fromCents > rows[i - 1]!.fromCents), {
        error: 'brackets must be listed by ascending fromCents, each starting above the one before',
      }),
    grant: grantSchema.optional(),
    ...tiers,
  })
  .refine(tiersInOrder, tierOrder)
  .refine(notRecognition, recognitionOnlyFixed);

const revenueShareRuleSchema = z
  .strictObject({
    id: text,
    kind: z.literal('revenue_share'),
    description: z.string().optional(),
    referrerTypes,
    milestone: z.literal('closed_won', { error: 'a revenue share is paid on closed_won renewals and expansions only' }),
    rateBasisPoints,
    months: z.int({ error: 'must be a whole number of months' }).min(1, { error: 'must be at least 1 month' }).max(120).optional(),
    renewals: z.int({ error: 'must be a whole number of renewals' }).min(1, { error: 'must be at least 1 renewal' }).max(100).optional(),
    grant: grantSchema.optional(),
    ...tiers,
  })
  .refine(tiersInOrder, tierOrder)
  .refine(notRecognition, recognitionOnlyFixed)
  // Without a period the share would run for ever.
  .refine((rule) => rule.months !== undefined || rule.renewals !== undefined, {
    error: 'give months and/or renewals: the period the revenue share runs for',
    path: ['months'],
  });

const promotionRuleSchema = z.strictObject({
  id: text,
  description: z.string().optional(),
  referrerTypes: referrerTypes.optional(),
  closedWonReferrals: z.int({ error: 'must be a whole number' }).min(1, { error: 'must be at least 1' }),
  withinDays: days.min(1, { error: 'must be at least 1 day' }),
  toTier: text,
});

const ifMissing = z.enum(['fail', 'pass'], { error: "must be 'fail' or 'pass'" });
const eligibilityRuleSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      kind: z.literal('min_nps'),
      enabled: z.boolean(),
      min: z.int({ error: 'NPS is a whole number' }).min(0).max(10, { error: 'NPS runs from 0 to 10' }),
      ifMissing,
    }),
    z.strictObject({ kind: z.literal('min_customer_days'), enabled: z.boolean(), days, ifMissing }),
    z.strictObject({
      kind: z.literal('min_health_score'),
      enabled: z.boolean(),
      min: z.number().min(0, { error: 'must not be negative' }),
      ifMissing,
    }),
    z.strictObject({
      kind: z.literal('lifecycle_stage'),
      enabled: z.boolean(),
      stages: z.array(text).min(1, { error: 'must name at least one stage' }),
      ifMissing,
    }),
    z.strictObject({ kind: z.literal('no_open_escalation'), enabled: z.boolean(), ifMissing }),
  ],
  { error: 'unknown eligibility rule kind' },
);

function uniqueIds(items: readonly { id: string }[]): boolean {
  return new Set(items.map((i) => i.id)).size === items.length;
}

export const programSchema = z
  .strictObject({
    name: text,
    senderName: text,
    senderEmail: z.email({ error: 'must be an email address' }),
    financeEmail: z.email({ error: 'must be an email address' }).optional(),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, { error: 'must be a three-letter ISO 4217 code such as USD' })
      .refine(isKnownCurrency, { error: 'is not an ISO 4217 currency this service knows' }),
    referrerTypes,
    requireAgreement: z.boolean(),
    dedupe: z.strictObject({
      windowDays: days,
      winner: z.enum(['first', 'last'], { error: "must be 'first' or 'last'" }),
      plusAddressing: z.enum(['strip', 'keep'], { error: "must be 'strip' or 'keep'" }),
      protectionDays: days,
    }),
    attribution: z.strictObject({
      model: z.enum(['first_touch', 'last_touch', 'linear'], { error: 'must be first_touch, last_touch or linear' }),
      windowDays: days.min(1, { error: 'must be at least 1 day' }),
      channelConflict: z.enum(CHANNEL_CONFLICT_POLICIES, { error: `must be one of ${CHANNEL_CONFLICT_POLICIES.join(', ')}` }),
    }),
    // A program saved before claims existed gets the safe defaults.
    claims: z
      .strictObject({
        allowed: z.boolean(),
        until: z.enum(CLAIM_CUTOFF_STEPS, { error: `must be one of ${CLAIM_CUTOFF_STEPS.join(', ')}` }),
        windowDays: days.min(1, { error: 'must be at least 1 day' }),
        requireApproval: z.boolean(),
        allowExpansion: z.boolean(),
      })
      .default(defaultClaimsPolicy),
    rewardRules: z
      .array(
        z.discriminatedUnion('kind', [fixedRuleSchema, percentRuleSchema, bracketRuleSchema, revenueShareRuleSchema], {
          error: "kind must be 'fixed', 'percent', 'bracket' or 'revenue_share'",
        }),
      )
      .refine(uniqueIds, { error: 'reward rule ids must be unique' }),
    milestoneBonuses: z
      .array(
        z.strictObject({
          id: text,
          description: z.string().optional(),
          referrerTypes,
          closedWonPerQuarter: z.int({ error: 'must be a whole number' }).min(1, { error: 'must be at least 1' }),
          amountCents: cents,
        }),
      )
      .refine(uniqueIds, { error: 'milestone bonus ids must be unique' }),
    refereeReward: z
      .strictObject({
        milestone: z.enum(REWARD_MILESTONES, { error: `must be one of ${REWARD_MILESTONES.join(', ')}` }),
        amountCents: cents,
        description: text,
      })
      .optional(),
    tiers: z
      .array(text.max(50, { error: 'must be at most 50 characters' }))
      .refine((names) => new Set(names).size === names.length, { error: 'must not repeat a tier' })
      .optional(),
    promotionRules: z.array(promotionRuleSchema).refine(uniqueIds, { error: 'promotion rule ids must be unique' }).optional(),
    // New versions compare first-year values; versions stored before keep comparing the amount.
    dealSizeBasis: z.enum(DEAL_SIZE_BASES, { error: `must be one of ${DEAL_SIZE_BASES.join(', ')}` }).default('first_year_value'),
    caps: z.strictObject({ perReferralCents: cents.optional(), perReferrerPerYearCents: cents.optional() }),
    payoutDays: days,
    approvalThresholdCents: cents,
    eligibility: z.strictObject({ rules: z.array(eligibilityRuleSchema) }),
    discretion: z.strictObject({
      showStage: z.boolean(),
      showReward: z.boolean(),
      showDealAmount: z.boolean(),
      showInternalNotes: z.boolean(),
      refereeNaming: z.enum(REFEREE_NAMINGS, { error: `must be one of ${REFEREE_NAMINGS.join(', ')}` }).optional(),
    }),
    asks: z
      .strictObject({
        askers: z
          .array(z.enum(ASKERS, { error: `must be one of ${ASKERS.join(', ')}` }))
          .refine((askers) => new Set(askers).size === askers.length, { error: 'must not repeat an asker' }),
        automatic: z.boolean(),
        minDaysBetweenAutomatic: z.int({ error: 'must be a whole number of days' }).min(1, { error: 'must be at least 1' }).max(3_650),
        template: z
          .string()
          .trim()
          .min(1, { error: 'must not be empty' })
          .max(2_000, { error: 'must be at most 2000 characters' })
          .optional(),
        milestones: z
          .array(text.max(100, { error: 'must be at most 100 characters' }))
          .refine((names) => new Set(names).size === names.length, { error: 'must not repeat a milestone' })
          .optional(),
      })
      .optional(),
    links: z
      .strictObject({
        landingUrl: z.string().trim().max(2_000, { error: 'must be at most 2000 characters' }),
        allowedDomains: z
          .array(
            z
              .string()
              .trim()
              .toLowerCase()
              .regex(/^(?=.{1,253}$)([a-z0-9-]{1,63}\.)*[a-z0-9-]{1,63}$/, { error: 'must be a domain name such as example.com' }),
          )
          .min(1, { error: 'must name at least one domain' }),
        requireApproval: z.boolean().optional(),
      })
      .superRefine((links, issues) => {
        const verdict = landingUrlAllowed(links.landingUrl, links.allowedDomains);
        if (!verdict.ok) issues.addIssue({ code: 'custom', path: ['landingUrl'], message: `the landing URL ${verdict.reason}` });
      })
      .optional(),
    notifications: z.strictObject({
      digest: z.boolean(),
      quietPeriodSeconds: z
        .int({ error: 'must be a whole number of seconds' })
        .min(0, { error: 'must not be negative' })
        .max(3_600, { error: 'must be at most 3600 seconds: a longer wait delays the news' })
        .optional(),
    }),
  })
  .superRefine((program, issues) => {
    // A promotion moves a referrer up the program's tier list, so its target must be on it.
    (program.promotionRules ?? []).forEach((rule, i) => {
      if (!program.tiers?.includes(rule.toTier)) {
        issues.addIssue({
          code: 'custom',
          path: ['promotionRules', i, 'toTier'],
          message: `${rule.toTier} is not one of the program's tiers (${(program.tiers ?? []).join(', ') || 'none declared'})`,
        });
      }
    });
    // A reward rule for a tier outside a declared list could never pay: no referrer can be given that tier.
    if (!program.tiers) return;
    const declared = program.tiers;
    program.rewardRules.forEach((rule, i) => {
      (rule.referrerTiers ?? []).forEach((tier, j) => {
        if (!declared.includes(tier)) {
          issues.addIssue({
            code: 'custom',
            path: ['rewardRules', i, 'referrerTiers', j],
            message: `${tier} is not one of the program's tiers (${declared.join(', ') || 'none declared'})`,
          });
        }
      });
    });
  }) satisfies z.ZodType<Program>;

export type ProgramInput = z.infer<typeof programSchema>;
