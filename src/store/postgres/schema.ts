/**
 * The PostgreSQL store schema: the same tables as src/store/schema.ts (read that file for what each
 * table and column means), with the same table, column and index names, JS keys, nullability,
 * defaults and keys, so one repository contract reads both. Generated migrations live in
 * `migrations/postgres` (`npm run db:generate:postgres`). Only the storage types differ:
 *
 * - instants stay ISO-8601 `text`, compared and ordered as strings in both dialects; the
 *   created_at default writes the SQLite default's shape (`2026-01-02T03:04:05.678Z`);
 * - money (minor units), counts that can pass 2^31 and the embedded queue's epoch milliseconds are
 *   `bigint` read as numbers (db.ts refuses values beyond Number.MAX_SAFE_INTEGER); small values
 *   (versions, attempts, shares in ppm) are `integer`;
 * - SQLite's integer booleans are `boolean`, its JSON text is `jsonb` (same `$type`; jsonb does not
 *   keep object key order or duplicate keys);
 * - autoincrement ids are identity columns, `by default` so a copy from SQLite can keep its ids;
 *   `bigint` for tables every webhook, visit or run appends to.
 */
import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { crmKinds } from '../../../connectors/registry.ts';
import { REWARD_MILESTONES } from '../../domain/program.ts';
import { REFERRAL_STATUSES } from '../../domain/referral-lifecycle.ts';
import { ASK_TRIGGERS } from '../../domain/referral-ask.ts';
import { DEAL_KINDS } from '../../domain/deal-kind.ts';
import { CONSOLE_ROLES } from '../../domain/console-roles.ts';
import { PAYOUT_LINE_SEND_STATUSES, PAYOUT_RUN_STATUSES } from '../../domain/payouts.ts';
import type { RuleGrant } from '../../domain/grants.ts';
import { REWARD_ENTRY_KINDS, REWARD_KINDS, REWARD_STATUSES, type RewardConversion } from '../../domain/rewards.ts';

/**
 * Same text as SQLite's `strftime('%Y-%m-%dT%H:%M:%fZ','now')`. statement_timestamp(), not now():
 * SQLite's 'now' is the statement's time, and now() would be the transaction's start.
 */
const createdAt = () =>
  text('created_at').notNull().default(sql`to_char(statement_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);
const intId = () => integer('id').primaryKey().generatedByDefaultAsIdentity();
const bigId = () => bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity();

export const installations = pgTable(
  'installations',
  {
    id: text('id').primaryKey(),
    crm: text('crm', { enum: crmKinds }).notNull(),
    accountId: text('account_id').notNull(),
    accountName: text('account_name'),
    status: text('status', { enum: ['active', 'disconnected'] }).notNull(),
    statusReason: text('status_reason'),
    scopes: jsonb('scopes').$type<string[]>().notNull(),
    accessTokenEnc: text('access_token_enc').notNull(),
    refreshTokenEnc: text('refresh_token_enc'),
    tokenExpiresAt: text('token_expires_at'),
    instanceUrl: text('instance_url'),
    settings: jsonb('settings').$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [uniqueIndex('installations_crm_account').on(t.crm, t.accountId)],
);

export const oauthStates = pgTable('oauth_states', {
  state: text('state').primaryKey(),
  crm: text('crm', { enum: crmKinds }).notNull(),
  codeVerifier: text('code_verifier'),
  expiresAt: text('expires_at').notNull(),
  purpose: text('purpose', { enum: ['install', 'sign_in'] })
    .notNull()
    .default('install'),
});

export const programs = pgTable(
  'programs',
  {
    id: text('id').primaryKey(),
    installationId: text('installation_id')
      .notNull()
      .references(() => installations.id),
    isDefault: boolean('is_default').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index('programs_installation').on(t.installationId),
    // SQLite's `is_default = 1`, on a boolean.
    uniqueIndex('programs_one_default').on(t.installationId).where(sql`is_default`),
  ],
);

export const programVersions = pgTable(
  'program_versions',
  {
    installationId: text('installation_id')
      .notNull()
      .references(() => installations.id),
    version: integer('version').notNull(),
    settings: jsonb('settings').$type<unknown>().notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
    programId: text('program_id')
      .notNull()
      .references(() => programs.id),
  },
  (t) => [primaryKey({ columns: [t.programId, t.version] }), index('program_versions_installation').on(t.installationId)],
);

export const referrers = pgTable(
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
    payoutEmail: text('payout_email'),
    crmPersonType: text('crm_person_type', { enum: ['contact', 'lead'] }),
    crmPersonId: text('crm_person_id'),
    emailOptOut: boolean('email_opt_out').notNull().default(false),
    digest: boolean('digest').notNull().default(false),
    accessKey: text('access_key').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('referrers_installation_email').on(t.installationId, t.email)],
);

export const referrerPrograms = pgTable(
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

export const referrals = pgTable(
  'referrals',
  {
    id: text('id').primaryKey(),
    installationId: text('installation_id')
      .notNull()
      .references(() => installations.id),
    referrerId: text('referrer_id')
      .notNull()
      .references(() => referrers.id),
    programId: text('program_id')
      .notNull()
      .references(() => programs.id),
    programVersion: integer('program_version').notNull(),
    status: text('status', { enum: REFERRAL_STATUSES }).notNull(),
    refereeEmail: text('referee_email').notNull(),
    refereeEmailKey: text('referee_email_key').notNull(),
    refereeDomain: text('referee_domain'),
    refereeFirstName: text('referee_first_name'),
    refereeLastName: text('referee_last_name'),
    refereeCompany: text('referee_company'),
    notes: text('notes'),
    submittedByKind: text('submitted_by_kind', { enum: ['rep', 'referrer', 'integration'] }).notNull(),
    submittedById: text('submitted_by_id'),
    verdict: jsonb('verdict').$type<unknown>().notNull(),
    duplicateOf: text('duplicate_of'),
    protectedUntil: text('protected_until'),
    crmPersonType: text('crm_person_type', { enum: ['contact', 'lead'] }),
    crmPersonId: text('crm_person_id'),
    crmCompanyId: text('crm_company_id'),
    crmSyncedAt: text('crm_synced_at'),
    askId: text('ask_id'),
    linkEvidence: jsonb('link_evidence').$type<{ via: 'link'; code: string; visitedAt: string }>(),
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

export const referralAsks = pgTable(
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
    referrerId: text('referrer_id').references(() => referrers.id),
    askedByName: text('asked_by_name').notNull(),
    askedByEmail: text('asked_by_email').notNull(),
    message: text('message'),
    trigger: text('trigger', { enum: ASK_TRIGGERS }).notNull(),
    status: text('status', { enum: ['sent', 'refused'] }).notNull(),
    refusal: text('refusal'),
    reasons: jsonb('reasons').$type<string[]>().notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    createdAt: text('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('referral_asks_key').on(t.installationId, t.idempotencyKey),
    index('referral_asks_company').on(t.installationId, t.companyId, t.createdAt),
  ],
);

export const referralEvents = pgTable(
  'referral_events',
  {
    id: intId(),
    referralId: text('referral_id')
      .notNull()
      .references(() => referrals.id),
    fromStatus: text('from_status', { enum: REFERRAL_STATUSES }),
    toStatus: text('to_status', { enum: REFERRAL_STATUSES }).notNull(),
    reasons: jsonb('reasons').$type<string[]>().notNull(),
    source: text('source').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    occurredAt: text('occurred_at').notNull(),
  },
  (t) => [uniqueIndex('referral_events_key').on(t.idempotencyKey), index('referral_events_referral').on(t.referralId)],
);

export const crmLinks = pgTable(
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

export const dealClaims = pgTable(
  'deal_claims',
  {
    referralId: text('referral_id')
      .primaryKey()
      .references(() => referrals.id),
    installationId: text('installation_id').notNull(),
    dealId: text('deal_id').notNull(),
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

export const deals = pgTable(
  'deals',
  {
    installationId: text('installation_id').notNull(),
    dealId: text('deal_id').notNull(),
    name: text('name'),
    pipelineId: text('pipeline_id').notNull(),
    stageId: text('stage_id').notNull(),
    isClosed: boolean('is_closed').notNull(),
    isWon: boolean('is_won').notNull(),
    amountCents: bigint('amount_cents', { mode: 'number' }),
    firstYearValueCents: bigint('first_year_value_cents', { mode: 'number' }),
    currency: text('currency').notNull(),
    closeDate: text('close_date'),
    crmCreatedAt: text('crm_created_at').notNull(),
    ownerId: text('owner_id'),
    sourcedBy: text('sourced_by').notNull(),
    dealType: text('deal_type'),
    dealKind: text('deal_kind', { enum: DEAL_KINDS }).notNull().default('new_business'),
    contactIds: jsonb('contact_ids').$type<string[]>().notNull(),
    companyIds: jsonb('company_ids').$type<string[]>().notNull(),
    deleted: boolean('deleted').notNull().default(false),
    crmModifiedAt: text('crm_modified_at').notNull(),
    fetchedAt: text('fetched_at').notNull(),
    appliedFingerprint: text('applied_fingerprint'),
  },
  (t) => [primaryKey({ columns: [t.installationId, t.dealId] })],
);

export const attributions = pgTable(
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
    evidence: jsonb('evidence').$type<unknown>().notNull(),
    reasons: jsonb('reasons').$type<string[]>().notNull(),
    status: text('status', { enum: ['active', 'reversed'] }).notNull(),
    createdAt: createdAt(),
    reversedAt: text('reversed_at'),
    reversalReason: text('reversal_reason'),
  },
  (t) => [index('attributions_deal').on(t.installationId, t.dealId), index('attributions_referral').on(t.referralId)],
);

export const decisions = pgTable(
  'decisions',
  {
    id: bigId(),
    installationId: text('installation_id').notNull(),
    subjectType: text('subject_type', { enum: ['company', 'deal', 'referral'] }).notNull(),
    subjectId: text('subject_id').notNull(),
    kind: text('kind', { enum: ['eligibility', 'attribution', 'reward_plan'] }).notNull(),
    outcome: jsonb('outcome').$type<unknown>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('decisions_subject').on(t.installationId, t.subjectType, t.subjectId)],
);

export const rewards = pgTable(
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
    referrerTier: text('referrer_tier'),
    amountCents: bigint('amount_cents', { mode: 'number' }).notNull(),
    currency: text('currency').notNull(),
    status: text('status', { enum: REWARD_STATUSES }).notNull(),
    dueDate: text('due_date').notNull(),
    requiresApproval: boolean('requires_approval').notNull(),
    programId: text('program_id')
      .notNull()
      .references(() => programs.id),
    programVersion: integer('program_version').notNull(),
    reasons: jsonb('reasons').$type<string[]>().notNull(),
    conversion: jsonb('conversion').$type<RewardConversion>(),
    /** What the reward is given as (account credit, gift card, donation, recognition); null: cash. */
    grant: jsonb('granted_as').$type<RuleGrant>(),
    idempotencyKey: text('idempotency_key').notNull(),
    payoutReference: text('payout_reference'),
    paidCents: bigint('paid_cents', { mode: 'number' }),
    createdAt: createdAt(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('rewards_key').on(t.installationId, t.idempotencyKey),
    index('rewards_status').on(t.installationId, t.status),
    index('rewards_referral').on(t.referralId),
    index('rewards_referrer').on(t.referrerId),
  ],
);

export const rewardEvents = pgTable(
  'reward_events',
  {
    id: intId(),
    rewardId: text('reward_id')
      .notNull()
      .references(() => rewards.id),
    kind: text('kind', { enum: REWARD_ENTRY_KINDS }).notNull(),
    amountCents: bigint('amount_cents', { mode: 'number' }).notNull(),
    fromStatus: text('from_status', { enum: REWARD_STATUSES }),
    toStatus: text('to_status', { enum: REWARD_STATUSES }),
    actor: text('actor').notNull(),
    reason: text('reason').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('reward_events_key').on(t.idempotencyKey), index('reward_events_reward').on(t.rewardId)],
);

export const payoutRuns = pgTable(
  'payout_runs',
  {
    id: text('id').primaryKey(),
    installationId: text('installation_id')
      .notNull()
      .references(() => installations.id),
    programId: text('program_id')
      .notNull()
      .references(() => programs.id),
    status: text('status', { enum: PAYOUT_RUN_STATUSES }).notNull(),
    dueOn: text('due_on').notNull(),
    reference: text('reference'),
    createdAt: createdAt(),
    exportedAt: text('exported_at'),
    sentAt: text('sent_at'),
    paidAt: text('paid_at'),
  },
  (t) => [index('payout_runs_installation').on(t.installationId, t.status)],
);

export const payoutLines = pgTable(
  'payout_lines',
  {
    id: intId(),
    runId: text('run_id')
      .notNull()
      .references(() => payoutRuns.id),
    payeeType: text('payee_type', { enum: ['referrer', 'referee'] }).notNull(),
    payeeKey: text('payee_key').notNull(),
    payeeName: text('payee_name').notNull(),
    payeeEmail: text('payee_email').notNull(),
    currency: text('currency').notNull(),
    grossCents: bigint('gross_cents', { mode: 'number' }).notNull(),
    recoveredCents: bigint('recovered_cents', { mode: 'number' }).notNull(),
    amountCents: bigint('amount_cents', { mode: 'number' }).notNull(),
    sendStatus: text('send_status', { enum: PAYOUT_LINE_SEND_STATUSES }),
    providerOrderId: text('provider_order_id'),
    providerRewardId: text('provider_reward_id'),
    failureReason: text('failure_reason'),
    /** What the line's rewards are given as: lines are per payee, currency and grant (grantLineKey). */
    grantKey: text('grant_key').notNull().default('cash'),
    /** The grant itself (a donation's charity); null: cash. */
    grant: jsonb('granted_as').$type<RuleGrant>(),
  },
  (t) => [
    uniqueIndex('payout_lines_provider_reward').on(t.providerRewardId),
    uniqueIndex('payout_lines_payee').on(t.runId, t.payeeType, t.payeeKey, t.currency, t.grantKey),
  ],
);

export const payoutItems = pgTable(
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
    amountCents: bigint('amount_cents', { mode: 'number' }).notNull(),
    openRewardId: text('open_reward_id'),
  },
  (t) => [
    primaryKey({ columns: [t.runId, t.rewardId] }),
    uniqueIndex('payout_items_open_reward').on(t.openRewardId),
    index('payout_items_reward').on(t.rewardId),
  ],
);

export const payoutProviderEvents = pgTable('payout_provider_events', {
  eventId: text('event_id').primaryKey(),
  receivedAt: createdAt(),
});

export const inbox = pgTable(
  'inbox',
  {
    id: bigId(),
    crm: text('crm', { enum: crmKinds }).notNull(),
    accountId: text('account_id').notNull(),
    installationId: text('installation_id'),
    eventKey: text('event_key').notNull(),
    objectType: text('object_type').notNull(),
    objectId: text('object_id').notNull(),
    change: text('change').notNull(),
    occurredAt: text('occurred_at').notNull(),
    related: jsonb('related').$type<{ objectType: string; objectId: string }[]>(),
    status: text('status', { enum: ['pending', 'processing', 'done', 'dead', 'ignored'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    leaseUntil: text('lease_until'),
    receivedAt: text('received_at').notNull(),
    processedAt: text('processed_at'),
  },
  (t) => [uniqueIndex('inbox_identity').on(t.crm, t.accountId, t.eventKey), index('inbox_pending').on(t.status, t.installationId)],
);

export const syncCursors = pgTable(
  'sync_cursors',
  {
    installationId: text('installation_id').notNull(),
    name: text('name').notNull(),
    cursor: text('cursor').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.installationId, t.name] })],
);

export const outbox = pgTable(
  'outbox',
  {
    id: bigId(),
    installationId: text('installation_id').notNull(),
    referralId: text('referral_id'),
    referrerId: text('referrer_id'),
    channel: text('channel', { enum: ['email', 'webhook', 'crm'] }).notNull(),
    topic: text('topic').notNull(),
    deliveryKey: text('delivery_key').notNull(),
    payload: jsonb('payload').$type<unknown>().notNull(),
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
    index('outbox_referral').on(t.referralId, t.channel),
  ],
);

export const deliveryAttempts = pgTable(
  'delivery_attempts',
  {
    id: bigId(),
    // The type of outbox.id.
    outboxId: bigint('outbox_id', { mode: 'number' })
      .notNull()
      .references(() => outbox.id),
    attempt: integer('attempt').notNull(),
    ok: boolean('ok').notNull(),
    detail: text('detail').notNull(),
    at: text('at').notNull(),
  },
  (t) => [index('delivery_attempts_outbox').on(t.outboxId)],
);

export const webhookEndpoints = pgTable(
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

export const auditLog = pgTable(
  'audit_log',
  {
    id: bigId(),
    installationId: text('installation_id'),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    subjectType: text('subject_type').notNull(),
    subjectId: text('subject_id').notNull(),
    before: jsonb('before').$type<unknown>(),
    after: jsonb('after').$type<unknown>(),
    at: text('at').notNull(),
  },
  (t) => [index('audit_subject').on(t.subjectType, t.subjectId)],
);

export const jobs = pgTable(
  'jobs',
  {
    id: text('id').primaryKey(),
    queue: text('queue').notNull(),
    name: text('name').notNull(),
    data: jsonb('data').$type<unknown>().notNull(),
    status: text('status', { enum: ['waiting', 'active', 'completed', 'dead'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull(),
    runAt: bigint('run_at', { mode: 'number' }).notNull(),
    leaseUntil: bigint('lease_until', { mode: 'number' }),
    lastError: text('last_error'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  },
  (t) => [index('jobs_ready').on(t.queue, t.status, t.runAt)],
);

export const sessions = pgTable(
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

export const magicLinks = pgTable(
  'magic_links',
  {
    tokenHash: text('token_hash').primaryKey(),
    installationId: text('installation_id')
      .notNull()
      .references(() => installations.id),
    emailHash: text('email_hash').notNull(),
    referrerId: text('referrer_id'),
    consoleUserId: text('console_user_id'),
    ip: text('ip').notNull(),
    expiresAt: text('expires_at').notNull(),
    usedAt: text('used_at'),
    createdAt: text('created_at').notNull(),
    origin: text('origin', { enum: ['request', 'email', 'invite'] })
      .notNull()
      .default('request'),
  },
  (t) => [index('magic_links_email').on(t.emailHash, t.createdAt), index('magic_links_ip').on(t.ip, t.createdAt)],
);

export const consoleUsers = pgTable(
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
    invitedBy: text('invited_by').notNull(),
    createdAt: createdAt(),
    revokedAt: text('revoked_at'),
  },
  (t) => [uniqueIndex('console_users_installation_email').on(t.installationId, t.email)],
);

export const referralLinks = pgTable(
  'referral_links',
  {
    code: text('code').primaryKey(),
    installationId: text('installation_id')
      .notNull()
      .references(() => installations.id),
    referrerId: text('referrer_id')
      .notNull()
      .references(() => referrers.id),
    programId: text('program_id')
      .notNull()
      .references(() => programs.id),
    landingUrl: text('landing_url'),
    revokedAt: text('revoked_at'),
    createdAt: text('created_at').notNull(),
  },
  (t) => [index('referral_links_referrer').on(t.referrerId), index('referral_links_installation').on(t.installationId)],
);

export const referralLinkVisits = pgTable(
  'referral_link_visits',
  {
    id: bigId(),
    code: text('code')
      .notNull()
      .references(() => referralLinks.code),
    visitorKey: text('visitor_key').notNull(),
    utm: jsonb('utm').$type<Record<string, string>>().notNull(),
    visitedAt: text('visited_at').notNull(),
  },
  (t) => [index('referral_link_visits_code').on(t.code, t.visitedAt)],
);

export const productMilestones = pgTable(
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
    askId: text('ask_id'),
    createdAt: text('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('product_milestones_key').on(t.installationId, t.idempotencyKey),
    index('product_milestones_company').on(t.installationId, t.companyId, t.occurredAt),
  ],
);

export const cardKeys = pgTable(
  'card_keys',
  {
    id: text('id').primaryKey(),
    installationId: text('installation_id')
      .notNull()
      .references(() => installations.id),
    keyHash: text('key_hash').notNull(),
    hint: text('hint').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: text('created_at').notNull(),
    expiresAt: text('expires_at'),
    revokedAt: text('revoked_at'),
    revealOnceEnc: text('reveal_once_enc'),
  },
  (t) => [uniqueIndex('card_keys_hash').on(t.keyHash), index('card_keys_installation').on(t.installationId)],
);
