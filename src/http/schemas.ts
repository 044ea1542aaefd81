import { z } from 'zod';
import { crmKinds } from '../../connectors/registry.ts';
import { isDateOnly } from '../domain/dates.ts';
import { DEAL_KINDS } from '../domain/deal-kind.ts';
import { DEAL_SOURCES } from '../domain/deal-source.ts';
import { PAYOUT_RUN_STATUSES } from '../domain/payouts.ts';
import { REFERRER_TYPES } from '../domain/program.ts';
import { REFERRAL_STATUSES } from '../domain/referral-lifecycle.ts';
import { REPORT_GRANULARITIES } from '../domain/reports.ts';
import { REWARD_STATUSES } from '../domain/rewards.ts';

/** Request schemas of the JSON API; every input is parsed here before it reaches a use case. */

const email = z.email({ error: 'expected an email address' }).max(254);
const name = z.string().trim().min(1, 'must not be empty').max(200);
const id = z.string().trim().min(1).max(100);

export const referrerInputSchema = z.object({
  email,
  name,
  type: z.enum(REFERRER_TYPES, { error: `expected one of ${REFERRER_TYPES.join(', ')}` }),
  company: z.string().trim().max(200).optional(),
});

export const createReferralSchema = z.object({
  installationId: id.optional(),
  referrer: referrerInputSchema,
  referee: z.object({
    email,
    firstName: z.string().trim().max(100).optional(),
    lastName: z.string().trim().max(100).optional(),
    company: z.string().trim().max(200).optional(),
    domain: z
      .string()
      .trim()
      .toLowerCase()
      .regex(/^(https?:\/\/)?[a-z0-9.-]+\.[a-z]{2,}(\/.*)?$/, 'expected a domain such as example.com')
      .optional(),
  }),
  notes: z.string().max(5_000).optional(),
  /** The deal the referral claims (the card on a deal record sends it). */
  deal: z.object({ id }).optional(),
  /** The program it is for (one the referrer belongs to); the default program when absent. */
  programId: id.optional(),
  submittedBy: z
    .object({ kind: z.enum(['rep', 'referrer', 'integration']), id: id.optional(), name: name.optional() })
    .default({ kind: 'integration' }),
});

export const approveClaimSchema = z.object({ approvedBy: name.optional() }).default({});
export const rejectClaimSchema = z.object({
  reason: z.string().trim().min(1, 'say why the claim is rejected').max(1_000),
  rejectedBy: name.optional(),
});

export const rejectLinkReferralSchema = z.object({
  reason: z.string().trim().min(1, 'say why the referral is rejected').max(1_000),
  rejectedBy: name.optional(),
});

export const createReferrerSchema = referrerInputSchema.extend({
  installationId: id.optional(),
  /** The programs the referrer belongs to; the installation's default program when absent. */
  programIds: z.array(id).min(1).max(50).optional(),
  tier: z.string().trim().max(50).optional(),
  agreementAccepted: z.boolean().optional(),
  digest: z.boolean().optional(),
});

/** Fields an admin may change on a referrer; `tier: null` takes the tier away. */
export const updateReferrerSchema = z
  .strictObject({
    name: name.optional(),
    type: z.enum(REFERRER_TYPES, { error: `expected one of ${REFERRER_TYPES.join(', ')}` }).optional(),
    tier: z.string().trim().min(1, 'must not be empty; send null to remove the tier').max(50).nullable().optional(),
  })
  .refine((patch) => Object.values(patch).some((v) => v !== undefined), { error: 'name at least one of name, type, tier' });

export const listReferralsQuery = z.object({
  installationId: id.optional(),
  status: z.enum(REFERRAL_STATUSES).optional(),
  referrerId: id.optional(),
  /** Finds referrals by the referee's or the referrer's name, email or company. */
  q: z.string().trim().min(1).max(200).optional(),
  referrerType: z.enum(REFERRER_TYPES).optional(),
  /** Only the referrals of this program. */
  programId: id.optional(),
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** A CRM record's referrals: the card's object type id (as its CRM names record types) or our object type. */
  objectTypeId: z.string().max(20).optional(),
  objectType: z.enum(['contact', 'lead', 'company', 'deal']).optional(),
  objectId: id.optional(),
  crm: z.enum(crmKinds).optional(),
  portalId: z.string().max(30).optional(),
});

export const listRewardsQuery = z.object({
  installationId: id.optional(),
  status: z.enum(REWARD_STATUSES).optional(),
  cursor: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const rejectRewardSchema = z.object({ reason: z.string().trim().min(1, 'say why the reward is rejected').max(1_000) });
export const markPaidSchema = z.object({ payoutReference: z.string().trim().min(1, 'give the payout reference').max(200) });
export const approveRewardSchema = z.object({ note: z.string().max(1_000).optional() }).default({});

export const simulateSchema = z.object({
  months: z.coerce.number().int().min(1).max(60).default(12),
  /** A sample deal's value in the program currency's major unit ("50000.00"): the answer also says what it would pay. */
  sampleAmount: z
    .string()
    .regex(/^\d{1,12}(\.\d{1,4})?$/, { error: 'expected an amount such as 50000 or 50000.00' })
    .optional(),
  sampleReferrerType: z.enum(REFERRER_TYPES).default('customer'),
});

export const stageMappingSchema = z.record(
  z.string().min(1),
  z.record(z.string().min(1), z.enum(['contacted', 'qualified', 'in_sales_process'])),
);

/** Which deal fields say who sourced a deal, in order of trust, and what their values mean. */
export const dealSourcesSchema = z.strictObject({
  fields: z
    .array(
      z.strictObject({
        field: z.string().trim().min(1, 'name the CRM field').max(200),
        values: z.record(z.string().trim().min(1).max(200), z.enum(DEAL_SOURCES, { error: `must be one of ${DEAL_SOURCES.join(', ')}` })),
      }),
    )
    .max(10, 'at most 10 fields'),
});

/** What tells renewals and expansions from new business: whole pipelines, then the CRM's deal-type values. */
export const dealKindsSchema = z.strictObject({
  pipelines: z.record(
    z.string().trim().min(1, 'name the pipeline id').max(200),
    z.enum(['renewal', 'expansion'], { error: 'a pipeline holds renewal or expansion deals' }),
  ),
  typeValues: z.record(
    z.string().trim().min(1, 'name the deal-type value').max(200),
    z.enum(DEAL_KINDS, { error: `must be one of ${DEAL_KINDS.join(', ')}` }),
  ),
});

/** A CRM field's API name (`NPS__c`, `referloop_nps`); nothing else can reach a SOQL select list. */
const accountFieldName = z
  .string()
  .trim()
  .regex(/^[A-Za-z][A-Za-z0-9_]{0,99}$/, 'give the field API name (letters, digits and underscores)');

/** The account fields eligibility reads; null: the installation has no such field and its rule sees no value. */
export const eligibilityFieldsSchema = z.strictObject({
  nps: accountFieldName.nullable(),
  customerSince: accountFieldName.nullable(),
  healthScore: accountFieldName.nullable(),
  openEscalations: accountFieldName.nullable(),
  accountType: z
    .strictObject({
      field: accountFieldName,
      customerValues: z.array(z.string().trim().min(1).max(255)).min(1, 'name at least one value that means customer').max(50),
    })
    .nullable(),
});

export const replaySchema = z.object({
  since: z.iso.datetime({ offset: true, error: 'expected an ISO date-time' }),
  installationId: id.optional(),
});
export const installationQuery = z.object({ installationId: id.optional() });

const dateOnly = z.string().refine(isDateOnly, { error: 'expected a calendar date YYYY-MM-DD' });

/** `GET /reports`: a range of days (by default the 180 ending today), bars per week or month, optional filters. */
export const reportsQuery = z.object({
  installationId: id.optional(),
  from: dateOnly.optional(),
  to: dateOnly.optional(),
  granularity: z.enum(REPORT_GRANULARITIES, { error: 'expected week or month' }).default('month'),
  referrerType: z.enum(REFERRER_TYPES).optional(),
  pipeline: z.string().trim().min(1, 'must not be empty').max(100).optional(),
  /** Only referrals (and their deals and rewards) of this program. */
  programId: id.optional(),
});

export const createPayoutRunSchema = z.strictObject({
  installationId: id.optional(),
  /** The program whose rewards the run pays; the installation's default program when absent. */
  programId: id.optional(),
  /** Rewards due on or before this date are gathered. */
  dueOn: dateOnly,
  /** Only these rewards (all must be payable by dueOn and in no open run); all due ones when absent. */
  rewardIds: z.array(id).min(1).max(1_000).optional(),
});
export const listPayoutRunsQuery = z.object({
  installationId: id.optional(),
  programId: id.optional(),
  status: z.enum(PAYOUT_RUN_STATUSES).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export const exportPayoutRunSchema = z.strictObject({ format: z.enum(['csv', 'json']).default('json') }).default({ format: 'json' });
export const markRunPaidSchema = z.strictObject({ reference: z.string().trim().min(1, 'give the payment reference').max(200) });

/** Ask an account's champion for referrals (`POST /accounts/:companyId/asks`). */
// Not strict: a CRM card's body also names its account (HubSpot's portalId).
export const askForReferralSchema = z.object({
  installationId: id.optional(),
  /** The champion, a contact of the company; by default its primary contact. */
  contactId: id.optional(),
  /** The CSM who signs the ask; by default the company's owner in the CRM. */
  askedBy: z.strictObject({ name, email }).optional(),
  /** A personal line, shown as written (escaped) in the email. */
  message: z.string().trim().min(1, 'must not be empty').max(1_000, 'must be at most 1000 characters').optional(),
  idempotencyKey: z.string().trim().min(1, 'must not be empty').max(200).optional(),
});

/** A product milestone of an account, from the vendor's product (`POST /accounts/:id/milestones`). */
export const recordMilestoneSchema = z.strictObject({
  installationId: id.optional(),
  /** The product's name for it, as the program's `asks.milestones` names it: `onboarding_completed`. */
  milestone: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
  occurredAt: z.iso.datetime({ offset: true, error: 'must be an ISO-8601 instant such as 2026-03-01T09:30:00Z' }),
  contactEmail: z.string().trim().toLowerCase().email('expected an email address').max(254).optional(),
  idempotencyKey: z.string().trim().min(1, 'must not be empty').max(200),
});
