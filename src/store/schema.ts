/**
 * The whole store schema, in one place. drizzle-kit generates `migrations/` from this file
 * (`npm run db:generate`). Money is integer minor units; instants are ISO-8601 text; calendar
 * dates are `YYYY-MM-DD` text. JSON columns hold values the domain core produced (reasons,
 * evidence, settings) and are never queried into. Status and kind columns take their values from
 * the domain's own lists; in SQLite a text enum is a type, not a CHECK, so adding a value needs no migration.
 */
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { crmKinds } from '../../connectors/registry.ts';
import { REWARD_MILESTONES } from '../domain/program.ts';
import { REFERRAL_STATUSES } from '../domain/referral-lifecycle.ts';
import { ASK_TRIGGERS } from '../domain/referral-ask.ts';
import { DEAL_KINDS } from '../domain/deal-kind.ts';
import { CONSOLE_ROLES } from '../domain/console-roles.ts';
import { PAYOUT_LINE_SEND_STATUSES, PAYOUT_RUN_STATUSES } from '../domain/payouts.ts';
import type { RuleGrant } from '../domain/grants.ts';
import { REWARD_ENTRY_KINDS, REWARD_KINDS, REWARD_STATUSES, type RewardConversion } from '../domain/rewards.ts';

const createdAt = () => text('created_at').notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ','now'))`);

export const installations = sqliteTable(
  'installations',
  {
    id: text('id').primaryKey(),
    crm: text('crm', { enum: crmKinds }).notNull(),
    accountId: text('account_id').notNull(),
    accountName: text('account_name'),
    status: text('status', { enum: ['active', 'disconnected'] }).notNull(),
    statusReason: text('status_reason'),
    scopes: text('scopes', { mode: 'json' }).$type<string[]>().notNull(),
    /** AES-256-GCM ciphertexts (see src/store/crypto.ts). */
    accessTokenEnc: text('access_token_enc').notNull(),
    refreshTokenEnc: text('refresh_token_enc'),
    tokenExpiresAt: text('token_expires_at'),
    instanceUrl: text('instance_url'),
    /** Per-pipeline stage mapping and provisioning report. */
    settings: text('settings', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [uniqueIndex('installations_crm_account').on(t.crm, t.accountId)],
);

export const oauthStates = sqliteTable('oauth_states', {
  state: text('state').primaryKey(),
  crm: text('crm', { enum: crmKinds }).notNull(),
  codeVerifier: text('code_verifier'),
  expiresAt: text('expires_at').notNull(),
  /** What the callback completes: an install, or a console sign-in (same redirect URI, told apart here). */
  purpose: text('purpose', { enum: ['install', 'sign_in'] })
    .notNull()
    .default('install'),
});

/**
 * An installation's referral programs, side by side: one is its default (what a referral names when
 * nothing else chooses). What a program is called, pays and says lives in its versions.
 */
export const programs = sqliteTable(
  'programs',
  {
    id: text('id').primaryKey(),
    installationId: text('installation_id')
      .notNull()
      .references(() => installations.id),
    isDefault: integer('is_default', { mode: 'boolean' }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index('programs_installation').on(t.installationId),
    uniqueIndex('programs_one_default').on(t.installationId).where(sql`is_default = 1`),
  ],
);

/** Program settings are versioned: a change inserts a new version; referrals lock theirs. */
export const programVersions = sqliteTable(
  'program_versions',
  {
    installationId: text('installation_id')
      .notNull()
      .references(() => installations.id),
    version: integer('version').notNull(),
    settings: text('settings', { mode: 'json' }).$type<unknown>().notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
    programId: text('program_id')
      .notNull()
      .references(() => programs.id),
  },
  (t) => [primaryKey({ columns: [t.programId, t.version] }), index('program_versions_installation').on(t.installationId)],
);

export const referrers = sqliteTable(
  'referrers',
  {
    id: text('id').primaryKey(),
    installationId: text('installation_id')
      .notNull()
      .references(() => installations.id),
    email: text('email').notNull(),
    name: text('name').notNull(),
    type: text('type', { enum: ['customer', 'partner', 'consultant', 'advisor', 'employee'] }).notNull(),
    company: text('company'),
    tier: text('tier'),
    agreementAcceptedAt: text('agreement_accepted_at'),
    /** Where the referrer wants rewards paid, when not to their sign-in email (set in the portal). */
    payoutEmail: text('payout_email'),
    /** The referrer's own CRM person record, for timeline notes. */
    crmPersonType: text('crm_person_type', { enum: ['contact', 'lead'] }),
    crmPersonId: text('crm_person_id'),
    emailOptOut: integer('email_opt_out', { mode: 'boolean' }).notNull().default(false),
    digest: integer('digest', { mode: 'boolean' }).notNull().default(false),
    /** Secret in the unsubscribe and portal links. */
    accessKey: text('access_key').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('referrers_installation_email').on(t.installationId, t.email)],
);

/** The programs a referrer belongs to: they submit into these (referrers from before programs ran side by side: the default). */
export const referrerPrograms = sqliteTable(
  'referrer_programs',
  {
    programId: text('program_id')
      .notNull()
      .references(() => programs.id),
    referrerId: text('referrer_id')
      .notNull()
      .references(() => referrers.id),
    installationId: text('installation_id')
      .notNull()
      .references(() => installations.id),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.programId, t.referrerId] }), index('referrer_programs_referrer').on(t.referrerId)],
);

export const referrals = sqliteTable(
  'referrals',
  {
    id: text('id').primaryKey(),
    installationId: text('installation_id')
      .notNull()
      .references(() => installations.id),
    referrerId: text('referrer_id')
      .notNull()
      .references(() => referrers.id),
    /** The program and version the referral is locked to. */
    programId: text('program_id')
      .notNull()
      .references(() => programs.id),
    programVersion: integer('program_version').notNull(),
    status: text('status', { enum: REFERRAL_STATUSES }).notNull(),
    refereeEmail: text('referee_email').notNull(),
    /** Normalized per the program's policy; what dedupe compares. */
    refereeEmailKey: text('referee_email_key').notNull(),
    refereeDomain: text('referee_domain'),
    refereeFirstName: text('referee_first_name'),
    refereeLastName: text('referee_last_name'),
    refereeCompany: text('referee_company'),
    notes: text('notes'),
    submittedByKind: text('submitted_by_kind', { enum: ['rep', 'referrer', 'integration'] }).notNull(),
    submittedById: text('submitted_by_id'),
    /** The submission verdict's reasons (accepted or why not). */
    verdict: text('verdict', { mode: 'json' }).$type<unknown>().notNull(),
    duplicateOf: text('duplicate_of'),
    protectedUntil: text('protected_until'),
    crmPersonType: text('crm_person_type', { enum: ['contact', 'lead'] }),
    crmPersonId: text('crm_person_id'),
    crmCompanyId: text('crm_company_id'),
    /** Set once the referral's CRM records exist; the sync worker creates them. */
    crmSyncedAt: text('crm_synced_at'),
    /** The referral ask whose landing page it was submitted from (referrals that came from asks). */
    askId: text('ask_id'),
    /** The referral link a CRM form captured it by: `{ via: 'link', code, visitedAt }`. */
    linkEvidence: text('link_evidence', { mode: 'json' }).$type<{ via: 'link'; code: string; visitedAt: string }>(),
    submittedAt: text('submitted_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [
    index('referrals_installation_email').on(t.installationId, t.refereeEmailKey),
    index('referrals_installation_domain').on(t.installationId, t.refereeDomain),
    index('referrals_installation_submitted').on(t.installationId, t.submittedAt, t.id),
    index('referrals_referrer').on(t.referrerId),
  ],
);

/**
 * Every referral ask: sent to the champion, or refused with the domain's reasons (automatic asks
 * only; a person asking is answered instead). One row per idempotency key.
 */
export const referralAsks = sqliteTable(
  'referral_asks',
  {
    id: text('id').primaryKey(),
    installationId: text('installation_id')
      .notNull()
      .references(() => installations.id),
    companyId: text('company_id').notNull(),
    companyName: text('company_name'),
    championType: text('champion_type', { enum: ['contact', 'lead'] }),
    championId: text('champion_id'),
    championEmail: text('champion_email'),
    championName: text('champion_name'),
    /** The champion as a referrer (found or created for the ask), set when it was sent. */
    referrerId: text('referrer_id').references(() => referrers.id),
    askedByName: text('asked_by_name').notNull(),
    askedByEmail: text('asked_by_email').notNull(),
    message: text('message'),
    trigger: text('trigger', { enum: ASK_TRIGGERS }).notNull(),
    status: text('status', { enum: ['sent', 'refused'] }).notNull(),
    refusal: text('refusal'),
    reasons: text('reasons', { mode: 'json' }).$type<string[]>().notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    createdAt: text('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('referral_asks_key').on(t.installationId, t.idempotencyKey),
    index('referral_asks_company').on(t.installationId, t.companyId, t.createdAt),
  ],
);

/** The referral's timeline: one row per transition, keyed so a replay adds nothing. */
export const referralEvents = sqliteTable(
  'referral_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    referralId: text('referral_id')
      .notNull()
      .references(() => referrals.id),
    fromStatus: text('from_status', { enum: REFERRAL_STATUSES }),
    toStatus: text('to_status', { enum: REFERRAL_STATUSES }).notNull(),
    reasons: text('reasons', { mode: 'json' }).$type<string[]>().notNull(),
    /** What caused it: `api:<request id>`, `crm:<deal id>@<modifiedAt>`, `job:expiry`… */
    source: text('source').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    occurredAt: text('occurred_at').notNull(),
  },
  (t) => [uniqueIndex('referral_events_key').on(t.idempotencyKey), index('referral_events_referral').on(t.referralId)],
);

/** CRM records a referral is linked to (referee person and company, deals it touched). */
export const crmLinks = sqliteTable(
  'crm_links',
  {
    installationId: text('installation_id').notNull(),
    referralId: text('referral_id')
      .notNull()
      .references(() => referrals.id),
    objectType: text('object_type', { enum: ['contact', 'lead', 'company', 'deal'] }).notNull(),
    objectId: text('object_id').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.installationId, t.objectType, t.objectId, t.referralId] }),
    index('crm_links_referral').on(t.referralId),
  ],
);

/**
 * A referral that claims an existing deal (domain `claims.ts`). The referral is `claim_pending`
 * until an approver decides or the claim window ends; the decision is kept here for the evidence
 * an approved claim gives its attribution.
 */
export const dealClaims = sqliteTable(
  'deal_claims',
  {
    referralId: text('referral_id')
      .primaryKey()
      .references(() => referrals.id),
    installationId: text('installation_id').notNull(),
    dealId: text('deal_id').notNull(),
    /** Who made the claim: the rep or referrer who submitted it, by name. */
    claimedBy: text('claimed_by').notNull(),
    claimedAt: text('claimed_at').notNull(),
    expiresAt: text('expires_at').notNull(),
    decision: text('decision', { enum: ['approved', 'rejected', 'expired'] }),
    decidedBy: text('decided_by'),
    decidedAt: text('decided_at'),
    reason: text('reason'),
  },
  (t) => [index('deal_claims_deal').on(t.installationId, t.dealId)],
);

/** A mirror of the deal facts attribution needs, as last fetched from the CRM. */
export const deals = sqliteTable(
  'deals',
  {
    installationId: text('installation_id').notNull(),
    dealId: text('deal_id').notNull(),
    name: text('name'),
    pipelineId: text('pipeline_id').notNull(),
    stageId: text('stage_id').notNull(),
    isClosed: integer('is_closed', { mode: 'boolean' }).notNull(),
    isWon: integer('is_won', { mode: 'boolean' }).notNull(),
    amountCents: integer('amount_cents'),
    firstYearValueCents: integer('first_year_value_cents'),
    currency: text('currency').notNull(),
    closeDate: text('close_date'),
    crmCreatedAt: text('crm_created_at').notNull(),
    ownerId: text('owner_id'),
    sourcedBy: text('sourced_by').notNull(),
    /** The CRM's deal type as read (HubSpot dealtype, Salesforce Opportunity.Type). */
    dealType: text('deal_type'),
    /** New business, renewal or expansion, by the installation's rule when the deal was applied. */
    dealKind: text('deal_kind', { enum: DEAL_KINDS }).notNull().default('new_business'),
    contactIds: text('contact_ids', { mode: 'json' }).$type<string[]>().notNull(),
    companyIds: text('company_ids', { mode: 'json' }).$type<string[]>().notNull(),
    deleted: integer('deleted', { mode: 'boolean' }).notNull().default(false),
    crmModifiedAt: text('crm_modified_at').notNull(),
    fetchedAt: text('fetched_at').notNull(),
    /** The facts the deal was last applied with: the same facts again decide nothing new. */
    appliedFingerprint: text('applied_fingerprint'),
  },
  (t) => [primaryKey({ columns: [t.installationId, t.dealId] })],
);

export const attributions = sqliteTable(
  'attributions',
  {
    id: text('id').primaryKey(),
    installationId: text('installation_id').notNull(),
    dealId: text('deal_id').notNull(),
    referralId: text('referral_id')
      .notNull()
      .references(() => referrals.id),
    referrerId: text('referrer_id').notNull(),
    model: text('model').notNull(),
    sharePpm: integer('share_ppm').notNull(),
    role: text('role', { enum: ['sourced', 'influenced'] }).notNull(),
    evidence: text('evidence', { mode: 'json' }).$type<unknown>().notNull(),
    reasons: text('reasons', { mode: 'json' }).$type<string[]>().notNull(),
    status: text('status', { enum: ['active', 'reversed'] }).notNull(),
    createdAt: createdAt(),
    reversedAt: text('reversed_at'),
    reversalReason: text('reversal_reason'),
  },
  (t) => [index('attributions_deal').on(t.installationId, t.dealId), index('attributions_referral').on(t.referralId)],
);

/** Every attribution run, attributed or not, so an admin sees why. */
export const decisions = sqliteTable(
  'decisions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    installationId: text('installation_id').notNull(),
    subjectType: text('subject_type', { enum: ['company', 'deal', 'referral'] }).notNull(),
    subjectId: text('subject_id').notNull(),
    kind: text('kind', { enum: ['eligibility', 'attribution', 'reward_plan'] }).notNull(),
    outcome: text('outcome', { mode: 'json' }).$type<unknown>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('decisions_subject').on(t.installationId, t.subjectType, t.subjectId)],
);

export const rewards = sqliteTable(
  'rewards',
  {
    id: text('id').primaryKey(),
    installationId: text('installation_id').notNull(),
    referralId: text('referral_id')
      .notNull()
      .references(() => referrals.id),
    referrerId: text('referrer_id').notNull(),
    dealId: text('deal_id'),
    kind: text('kind', { enum: REWARD_KINDS }).notNull(),
    beneficiary: text('beneficiary', { enum: ['referrer', 'referee'] }).notNull(),
    milestone: text('milestone', { enum: REWARD_MILESTONES }).notNull(),
    /** The referrer's tier when the reward was earned; a later promotion leaves it as it was. */
    referrerTier: text('referrer_tier'),
    /** As first computed; the net lives in reward_events (a ledger, never edited). */
    amountCents: integer('amount_cents').notNull(),
    currency: text('currency').notNull(),
    status: text('status', { enum: REWARD_STATUSES }).notNull(),
    dueDate: text('due_date').notNull(),
    requiresApproval: integer('requires_approval', { mode: 'boolean' }).notNull(),
    programId: text('program_id')
      .notNull()
      .references(() => programs.id),
    programVersion: integer('program_version').notNull(),
    reasons: text('reasons', { mode: 'json' }).$type<string[]>().notNull(),
    /** A deal in another currency: its amount and the CRM rates used (null when the deal was in the program's currency). */
    conversion: text('conversion', { mode: 'json' }).$type<RewardConversion>(),
    /** What the reward is given as (account credit, gift card, donation, recognition); null: cash. */
    grant: text('granted_as', { mode: 'json' }).$type<RuleGrant>(),
    idempotencyKey: text('idempotency_key').notNull(),
    payoutReference: text('payout_reference'),
    /** Money handed over for this reward when it was paid (before recoveries); a later clawback leaves it, so the gap is owed back. */
    paidCents: integer('paid_cents'),
    createdAt: createdAt(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('rewards_key').on(t.installationId, t.idempotencyKey),
    index('rewards_status').on(t.installationId, t.status),
    index('rewards_referral').on(t.referralId),
    // A referrer's rewards decide caps and tiers on every deal applied.
    index('rewards_referrer').on(t.referrerId),
  ],
);

/** The reward ledger: accruals, clawbacks and state changes; amounts are only ever added. */
export const rewardEvents = sqliteTable(
  'reward_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    rewardId: text('reward_id')
      .notNull()
      .references(() => rewards.id),
    kind: text('kind', { enum: REWARD_ENTRY_KINDS }).notNull(),
    amountCents: integer('amount_cents').notNull(),
    fromStatus: text('from_status', { enum: REWARD_STATUSES }),
    toStatus: text('to_status', { enum: REWARD_STATUSES }),
    actor: text('actor').notNull(),
    reason: text('reason').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('reward_events_key').on(t.idempotencyKey), index('reward_events_reward').on(t.rewardId)],
);

/** A batch of payable rewards handed to finance: draft → exported → paid. */
export const payoutRuns = sqliteTable(
  'payout_runs',
  {
    id: text('id').primaryKey(),
    installationId: text('installation_id')
      .notNull()
      .references(() => installations.id),
    /** A run pays one program's rewards: each program is its own budget (gift cards, partner commissions). */
    programId: text('program_id')
      .notNull()
      .references(() => programs.id),
    status: text('status', { enum: PAYOUT_RUN_STATUSES }).notNull(),
    /** Rewards due on or before this date were gathered. */
    dueOn: text('due_on').notNull(),
    /** The payment reference finance gave when the run was paid. */
    reference: text('reference'),
    createdAt: createdAt(),
    exportedAt: text('exported_at'),
    /** When the run was handed to the payout provider (PAYOUT_PROVIDER other than csv). */
    sentAt: text('sent_at'),
    paidAt: text('paid_at'),
  },
  (t) => [index('payout_runs_installation').on(t.installationId, t.status)],
);

/** One payment in a run: a payee's rewards in one currency, net of what the payee owes back. */
export const payoutLines = sqliteTable(
  'payout_lines',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    runId: text('run_id')
      .notNull()
      .references(() => payoutRuns.id),
    payeeType: text('payee_type', { enum: ['referrer', 'referee'] }).notNull(),
    /** The referrer's id, or the referee's email key. */
    payeeKey: text('payee_key').notNull(),
    payeeName: text('payee_name').notNull(),
    payeeEmail: text('payee_email').notNull(),
    currency: text('currency').notNull(),
    grossCents: integer('gross_cents').notNull(),
    /** Taken back from the payee's receivable (clawed-back paid rewards); never more than gross. */
    recoveredCents: integer('recovered_cents').notNull(),
    amountCents: integer('amount_cents').notNull(),
    /** Set when the run is sent through a provider: where the line's order stands. */
    sendStatus: text('send_status', { enum: PAYOUT_LINE_SEND_STATUSES }),
    providerOrderId: text('provider_order_id'),
    /** What the provider's webhooks name the line by. */
    providerRewardId: text('provider_reward_id'),
    /** Why the provider refused or failed the line: shown to the admin. */
    failureReason: text('failure_reason'),
    /** What the line's rewards are given as: lines are per payee, currency and grant (grantLineKey). */
    grantKey: text('grant_key').notNull().default('cash'),
    /** The grant itself (a donation's charity); null: cash. */
    grant: text('granted_as', { mode: 'json' }).$type<RuleGrant>(),
  },
  (t) => [
    uniqueIndex('payout_lines_provider_reward').on(t.providerRewardId),
    uniqueIndex('payout_lines_payee').on(t.runId, t.payeeType, t.payeeKey, t.currency, t.grantKey),
  ],
);

/** The rewards of a run's lines. */
export const payoutItems = sqliteTable(
  'payout_items',
  {
    runId: text('run_id')
      .notNull()
      .references(() => payoutRuns.id),
    lineId: integer('line_id')
      .notNull()
      .references(() => payoutLines.id),
    rewardId: text('reward_id')
      .notNull()
      .references(() => rewards.id),
    amountCents: integer('amount_cents').notNull(),
    /** The reward id while the run is open, null once it is paid: unique, so a reward is never in two open runs. */
    openRewardId: text('open_reward_id'),
  },
  (t) => [
    primaryKey({ columns: [t.runId, t.rewardId] }),
    uniqueIndex('payout_items_open_reward').on(t.openRewardId),
    index('payout_items_reward').on(t.rewardId),
  ],
);

/** Payout provider webhook events already reconciled: a replayed event id changes nothing. */
export const payoutProviderEvents = sqliteTable('payout_provider_events', {
  eventId: text('event_id').primaryKey(),
  receivedAt: createdAt(),
});

/** CRM events as received: stored before the webhook is acknowledged, deduplicated by identity. */
export const inbox = sqliteTable(
  'inbox',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    crm: text('crm', { enum: crmKinds }).notNull(),
    accountId: text('account_id').notNull(),
    /** Null when the account has no installation: recorded, never processed. */
    installationId: text('installation_id'),
    eventKey: text('event_key').notNull(),
    objectType: text('object_type').notNull(),
    objectId: text('object_id').notNull(),
    change: text('change').notNull(),
    occurredAt: text('occurred_at').notNull(),
    related: text('related', { mode: 'json' }).$type<{ objectType: string; objectId: string }[]>(),
    status: text('status', { enum: ['pending', 'processing', 'done', 'dead', 'ignored'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    leaseUntil: text('lease_until'),
    receivedAt: text('received_at').notNull(),
    processedAt: text('processed_at'),
  },
  (t) => [
    uniqueIndex('inbox_identity').on(t.crm, t.accountId, t.eventKey),
    index('inbox_pending').on(t.status, t.installationId),
    // No index on received_at: every webhook would pay for it, and only `replay --since` reads it.
  ],
);

export const syncCursors = sqliteTable(
  'sync_cursors',
  {
    installationId: text('installation_id').notNull(),
    name: text('name').notNull(),
    cursor: text('cursor').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.installationId, t.name] })],
);

/** Effects to deliver, written in the same transaction as the change that caused them. */
export const outbox = sqliteTable(
  'outbox',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    installationId: text('installation_id').notNull(),
    referralId: text('referral_id'),
    referrerId: text('referrer_id'),
    channel: text('channel', { enum: ['email', 'webhook', 'crm'] }).notNull(),
    topic: text('topic').notNull(),
    /** Unique: one delivery per transition per channel (and per recipient). */
    deliveryKey: text('delivery_key').notNull(),
    payload: text('payload', { mode: 'json' }).$type<unknown>().notNull(),
    /** `cancelled`: replaced by a later deal step within the quiet period, or not worth telling (`last_error` says why). */
    status: text('status', { enum: ['pending', 'sending', 'delivered', 'failed', 'suppressed', 'cancelled'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: text('next_attempt_at').notNull(),
    leaseUntil: text('lease_until'),
    lastError: text('last_error'),
    createdAt: createdAt(),
    deliveredAt: text('delivered_at'),
  },
  (t) => [
    uniqueIndex('outbox_delivery_key').on(t.deliveryKey),
    index('outbox_due').on(t.status, t.nextAttemptAt),
    // The quiet period looks up a referral's earlier step messages on every step.
    index('outbox_referral').on(t.referralId, t.channel),
  ],
);

export const deliveryAttempts = sqliteTable(
  'delivery_attempts',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    outboxId: integer('outbox_id')
      .notNull()
      .references(() => outbox.id),
    attempt: integer('attempt').notNull(),
    ok: integer('ok', { mode: 'boolean' }).notNull(),
    detail: text('detail').notNull(),
    at: text('at').notNull(),
  },
  (t) => [index('delivery_attempts_outbox').on(t.outboxId)],
);

/** Referrers' and partners' webhook endpoints (Standard Webhooks signing). */
export const webhookEndpoints = sqliteTable(
  'webhook_endpoints',
  {
    id: text('id').primaryKey(),
    installationId: text('installation_id').notNull(),
    referrerId: text('referrer_id')
      .notNull()
      .references(() => referrers.id),
    url: text('url').notNull(),
    secretEnc: text('secret_enc').notNull(),
    status: text('status', { enum: ['enabled', 'disabled'] }).notNull(),
    failingSince: text('failing_since'),
    disabledReason: text('disabled_reason'),
    createdAt: createdAt(),
  },
  (t) => [index('webhook_endpoints_referrer').on(t.referrerId)],
);

export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    installationId: text('installation_id'),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    subjectType: text('subject_type').notNull(),
    subjectId: text('subject_id').notNull(),
    before: text('before', { mode: 'json' }).$type<unknown>(),
    after: text('after', { mode: 'json' }).$type<unknown>(),
    at: text('at').notNull(),
  },
  (t) => [index('audit_subject').on(t.subjectType, t.subjectId)],
);

/** The embedded durable queue (used when REDIS_URL is unset). */
export const jobs = sqliteTable(
  'jobs',
  {
    id: text('id').primaryKey(),
    queue: text('queue').notNull(),
    name: text('name').notNull(),
    data: text('data', { mode: 'json' }).$type<unknown>().notNull(),
    status: text('status', { enum: ['waiting', 'active', 'completed', 'dead'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull(),
    runAt: integer('run_at').notNull(),
    leaseUntil: integer('lease_until'),
    lastError: text('last_error'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('jobs_ready').on(t.queue, t.status, t.runAt)],
);

/**
 * Browser sessions, one mechanism for referrers (portal) and console users: the cookie carries a
 * random token, the table only its SHA-256. Writes need the session's CSRF token in a header.
 */
export const sessions = sqliteTable(
  'sessions',
  {
    tokenHash: text('token_hash').primaryKey(),
    subjectKind: text('subject_kind', { enum: ['referrer', 'user'] }).notNull(),
    subjectId: text('subject_id').notNull(),
    installationId: text('installation_id')
      .notNull()
      .references(() => installations.id),
    role: text('role').notNull(),
    csrfToken: text('csrf_token').notNull(),
    expiresAt: text('expires_at').notNull(),
    revokedAt: text('revoked_at'),
    createdAt: createdAt(),
  },
  (t) => [index('sessions_subject').on(t.subjectKind, t.subjectId)],
);

/**
 * Sign-in links asked for by email: the link's token is stored hashed, works once and expires.
 * Requests for unknown emails are recorded too (no referrer), so rate limits count every request
 * without the answer revealing which emails are known.
 */
export const magicLinks = sqliteTable(
  'magic_links',
  {
    tokenHash: text('token_hash').primaryKey(),
    installationId: text('installation_id')
      .notNull()
      .references(() => installations.id),
    /** SHA-256 of the lower-cased email: what the per-email limit counts. */
    emailHash: text('email_hash').notNull(),
    referrerId: text('referrer_id'),
    /** Set instead of referrerId for a console user's invite link. */
    consoleUserId: text('console_user_id'),
    ip: text('ip').notNull(),
    expiresAt: text('expires_at').notNull(),
    usedAt: text('used_at'),
    createdAt: text('created_at').notNull(),
    /**
     * 'request': asked for on the sign-in page (rate-limited); 'email': minted for a referrer email as it is sent;
     * 'invite': a console user's invite.
     */
    origin: text('origin', { enum: ['request', 'email', 'invite'] })
      .notNull()
      .default('request'),
  },
  (t) => [index('magic_links_email').on(t.emailHash, t.createdAt), index('magic_links_ip').on(t.ip, t.createdAt)],
);

/**
 * The people who run an installation's program in the console: admins who signed in with the CRM
 * (crmUserId set) and those an admin invited by email. Revoking keeps the row (the audit log names it).
 */
export const consoleUsers = sqliteTable(
  'console_users',
  {
    id: text('id').primaryKey(),
    installationId: text('installation_id')
      .notNull()
      .references(() => installations.id),
    email: text('email').notNull(),
    name: text('name'),
    role: text('role', { enum: CONSOLE_ROLES }).notNull(),
    crmUserId: text('crm_user_id'),
    /** `user:<id> <email>` of the admin who invited, or 'crm' for a CRM sign-in. */
    invitedBy: text('invited_by').notNull(),
    createdAt: createdAt(),
    revokedAt: text('revoked_at'),
  },
  (t) => [uniqueIndex('console_users_installation_email').on(t.installationId, t.email)],
);

/**
 * Each referrer's referral link: `code` is the installation's tag then random characters
 * (src/domain/referral-links.ts). A revoked link lands on the program's page and counts nothing.
 */
export const referralLinks = sqliteTable(
  'referral_links',
  {
    code: text('code').primaryKey(),
    installationId: text('installation_id')
      .notNull()
      .references(() => installations.id),
    referrerId: text('referrer_id')
      .notNull()
      .references(() => referrers.id),
    /** The program a referral made through the link belongs to: a referrer has one link per program. */
    programId: text('program_id')
      .notNull()
      .references(() => programs.id),
    /** A page of its own, on one of the program's allowed domains; null: the program's landing page. */
    landingUrl: text('landing_url'),
    revokedAt: text('revoked_at'),
    createdAt: text('created_at').notNull(),
  },
  (t) => [index('referral_links_referrer').on(t.referrerId), index('referral_links_installation').on(t.installationId)],
);

/** Counted visits of referral links. The visitor is kept only as a keyed hash of their address, never in clear. */
export const referralLinkVisits = sqliteTable(
  'referral_link_visits',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    code: text('code')
      .notNull()
      .references(() => referralLinks.code),
    /** HMAC-SHA256 of the visitor's address under a key derived from ENCRYPTION_KEY. */
    visitorKey: text('visitor_key').notNull(),
    utm: text('utm', { mode: 'json' }).$type<Record<string, string>>().notNull(),
    visitedAt: text('visited_at').notNull(),
  },
  (t) => [index('referral_link_visits_code').on(t.code, t.visitedAt)],
);

/** Product milestones the vendor's product reports for an account (`POST /accounts/:id/milestones`), one per client key. */
export const productMilestones = sqliteTable(
  'product_milestones',
  {
    id: text('id').primaryKey(),
    installationId: text('installation_id')
      .notNull()
      .references(() => installations.id),
    companyId: text('company_id').notNull(),
    milestone: text('milestone').notNull(),
    occurredAt: text('occurred_at').notNull(),
    contactEmail: text('contact_email'),
    idempotencyKey: text('idempotency_key').notNull(),
    /** The ask it triggered (sent or refused), when the program names the milestone. */
    askId: text('ask_id'),
    createdAt: text('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('product_milestones_key').on(t.installationId, t.idempotencyKey),
    index('product_milestones_company').on(t.installationId, t.companyId, t.occurredAt),
  ],
);

/**
 * Per-installation keys a CRM package (the Salesforce cards) sends as `Authorization: Bearer rlk_…`:
 * only the SHA-256 of the key is stored. A key acts as its installation's card, never the admin API.
 * The first is issued at install (CRMs whose cards are not signed by the CRM itself); rotating sets
 * `expiresAt` on the keys it replaces (a short overlap while the org is updated); revoking sets
 * `revokedAt` and stops the key at once.
 */
export const cardKeys = sqliteTable(
  'card_keys',
  {
    id: text('id').primaryKey(),
    installationId: text('installation_id')
      .notNull()
      .references(() => installations.id),
    keyHash: text('key_hash').notNull(),
    /** The key's first characters, to tell keys apart in a listing without revealing them. */
    hint: text('hint').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: text('created_at').notNull(),
    expiresAt: text('expires_at'),
    revokedAt: text('revoked_at'),
    /**
     * The key issued at install, encrypted, until the install's settings page shows it once
     * (the callback redirects there, so the key cannot travel in the response); then null.
     */
    revealOnceEnc: text('reveal_once_enc'),
  },
  (t) => [uniqueIndex('card_keys_hash').on(t.keyHash), index('card_keys_installation').on(t.installationId)],
);
