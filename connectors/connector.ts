/**
 * The one interface every CRM sits behind. Use cases speak to this file only; each CRM folder
 * (`connectors/hubspot`, `connectors/salesforce`, `connectors/fake`) implements it and registers
 * itself in `connectors/registry.ts`, from which the app wires the configured ones. A connector
 * never imports `src/store`: what it must persist (refreshed tokens, a revoked installation) it
 * hands back through {@link CrmSession}.
 */

/** The CRM records Referloop follows. Salesforce leads are people too (`objectType: 'lead'`). */
export type CrmObjectType = 'contact' | 'lead' | 'company' | 'deal';

// ---------------------------------------------------------------------------------------------
// Errors: each connector maps vendor failures once, in one place, to this closed set.
// ---------------------------------------------------------------------------------------------

export type CrmErrorCode =
  | 'auth_revoked' // refresh token revoked or app uninstalled: mark the installation disconnected
  | 'auth_expired' // access token expired or invalid: refresh, then retry once
  | 'rate_limited' // 429 / REQUEST_LIMIT_EXCEEDED: wait retryAfterMs, do not retry hot
  | 'not_found'
  | 'conflict' // duplicate value, record locked by another write
  | 'invalid' // the request itself is wrong: retrying will not help
  | 'unavailable'; // 5xx, timeouts, connection failures

export class CrmError extends Error {
  override readonly name = 'CrmError';
  constructor(
    readonly code: CrmErrorCode,
    message: string,
    readonly options: {
      retryable: boolean;
      retryAfterMs?: number;
      /** The vendor's own code, e.g. `UNABLE_TO_LOCK_ROW` or HubSpot's `category`. */
      vendorCode?: string;
      status?: number;
      cause?: unknown;
    },
  ) {
    super(message, { cause: options.cause });
  }

  get retryable(): boolean {
    return this.options.retryable;
  }

  get retryAfterMs(): number | undefined {
    return this.options.retryAfterMs;
  }
}

// ---------------------------------------------------------------------------------------------
// OAuth and installation
// ---------------------------------------------------------------------------------------------

export interface TokenSet {
  accessToken: string;
  refreshToken?: string;
  /** ISO instant when the access token stops working. */
  expiresAt?: string;
  /** Salesforce: the org's API host. */
  instanceUrl?: string;
  scopes?: string[];
}

export interface OAuthStart {
  /** Where to send the admin's browser. */
  url: string;
  /** PKCE verifier to keep server-side with the state until the callback (Salesforce). */
  codeVerifier?: string;
}

export interface OAuthGrant {
  /** HubSpot portal (hub) id or Salesforce org id. */
  accountId: string;
  /** A human label for the account (portal domain, org name), when the CRM tells it. */
  accountName?: string;
  tokens: TokenSet;
  /**
   * The CRM user who granted it (HubSpot token info `user_id`/`user`, Salesforce identity
   * `user_id`/`email`/`display_name`): who a console sign-in opens a session for.
   */
  user?: { id: string; email: string; name?: string };
}

export interface CrmOAuth {
  /** Scopes the app asks for at install. */
  readonly scopes: readonly string[];
  start(args: { state: string; redirectUri: string }): OAuthStart;
  exchangeCode(args: { code: string; redirectUri: string; codeVerifier?: string }): Promise<OAuthGrant>;
  /** Throws CrmError `auth_revoked` when the refresh token no longer works. */
  refresh(tokens: TokenSet): Promise<TokenSet>;
  /**
   * The account a token belongs to, for `referloop connect` (private apps, tests): HubSpot's
   * access-token info endpoint, Salesforce's identity (userinfo) at `tokens.instanceUrl`.
   */
  identify(tokens: TokenSet): Promise<OAuthGrant>;
}

/**
 * What a connector client needs from the installation it acts for. The store-backed
 * implementation lives in `src/`; tests pass a plain object.
 */
export interface CrmSession {
  readonly installationId: string;
  readonly accountId: string;
  /** The installation's current tokens, read afresh each time: another process may have refreshed them. */
  tokens(): Promise<TokenSet>;
  /** Persist tokens after a refresh (encrypted at rest by the caller). */
  saveTokens(tokens: TokenSet): Promise<void>;
  /** The CRM said the grant is gone: the installation is disconnected until reinstalled. */
  markDisconnected(reason: string): Promise<void>;
  /**
   * Deal fields the installation names as saying who sourced a deal, read with every deal besides
   * the CRM's standard source fields (HubSpot deal properties such as a team's own "Deal source").
   */
  dealSourceFields?(): Promise<readonly string[]>;
  /**
   * Account fields the installation's eligibility mapping reads, fetched with every company besides
   * the connector's own (a Salesforce org's `NPS__c`); their raw values come back in `CrmCompany.fields`.
   */
  eligibilityFields?(): Promise<readonly string[]>;
  /**
   * The lead field of referral link codes exists in this org (install found Salesforce's
   * `Referral_Code__c`): leads are read with it. Orgs on an older package are read without it.
   */
  readsLeadReferralCode?(): Promise<boolean>;
}

// ---------------------------------------------------------------------------------------------
// Rate limiting: implemented in src/jobs (memory for one process, Redis for many workers)
// ---------------------------------------------------------------------------------------------

export interface RateLimit {
  points: number;
  durationMs: number;
}

export interface RateLimiter {
  /** Resolve when one more call fits in `bucket` without exceeding `limit`. */
  take(bucket: string, limit: RateLimit): Promise<void>;
  /** Hold every caller of `bucket` back for `ms` (a 429's Retry-After). */
  holdOff(bucket: string, ms: number): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Webhooks: verified over raw bytes, parsed into hints
// ---------------------------------------------------------------------------------------------

export interface InboundRequest {
  method: string;
  /** The full URI the CRM called, as `$PUBLIC_BASE_URL` + path + query. */
  url: string;
  headers: Record<string, string | undefined>;
  rawBody: Buffer;
}

export type Verdict = { ok: true } | { ok: false; reason: string };

/** How a change reached us; the worker fetches current state, so this is only a hint. */
export type CrmChange = 'created' | 'updated' | 'deleted' | 'merged' | 'restored' | 'associated';

export interface CrmEvent {
  /** Portal id / org id the event belongs to. */
  accountId: string;
  /**
   * Identity used to deduplicate within an account. HubSpot event ids are not unique, so this
   * is built from the event's full identity; Salesforce uses the notification id.
   */
  eventKey: string;
  objectType: CrmObjectType;
  objectId: string;
  change: CrmChange;
  /** ISO instant. */
  occurredAt: string;
  /** Related records that should be refreshed too (other side of an association, merge winner). */
  related?: { objectType: CrmObjectType; objectId: string }[];
  /** Property name for a property change, when the CRM says. */
  property?: string;
}

export type ParsedWebhook =
  /**
   * `accountIds`: every account the request speaks for, including those whose events were all
   * ignored, so that an unknown sender is refused whatever its message carries.
   */
  { ok: true; events: CrmEvent[]; ignored: number; accountIds: string[] } | { ok: false; reason: string };

export interface HttpReply {
  status: number;
  contentType: string;
  body: string;
}

export interface CrmWebhooks {
  /** Largest body accepted, in bytes. */
  readonly maxBodyBytes: number;
  /**
   * `record`: events of an unknown account are stored as ignored and acknowledged (HubSpot would
   * otherwise retry for a day). `refuse`: nothing is stored and the sender gets an error.
   */
  readonly unknownAccount: 'record' | 'refuse';
  /** Signature and freshness check over the raw request. */
  verify(request: InboundRequest, now: Date): Verdict;
  parse(request: InboundRequest): ParsedWebhook;
  /** The success answer the CRM expects (200 for HubSpot, the SOAP Ack for Salesforce). */
  acknowledge(): HttpReply;
  /** The failure answer, in the CRM's format (JSON error, SOAP fault). */
  refuse(status: number, message: string): HttpReply;
}

// ---------------------------------------------------------------------------------------------
// Normalized records
// ---------------------------------------------------------------------------------------------

export interface CrmPerson {
  objectType: 'contact' | 'lead';
  id: string;
  email: string | null;
  firstName: string | null;
  lastName: string | null;
  companyIds: string[];
  ownerId: string | null;
  /** Salesforce lead conversion: where the lead went. */
  converted?: { contactId: string | null; companyId: string | null; dealId: string | null };
  /** HubSpot merge: the surviving record's id when this one was merged away. */
  mergedIntoId?: string;
  /** CRM lifecycle stage / lead status, for the referral's contacted step. */
  lifecycleStage: string | null;
  /** The referral code field as a form filled it (HubSpot `referloop_referral_code`, Salesforce `Referral_Code__c`), unchecked; absent or null: none. */
  referralCode?: string | null;
  /** The person opted out of email in the CRM (HubSpot `hs_email_optout`, Salesforce `HasOptedOutOfEmail`); absent: not known to. */
  emailOptOut?: boolean;
  modifiedAt: string;
}

export interface CrmCompany {
  id: string;
  name: string | null;
  domain: string | null;
  isCustomer: boolean;
  /** YYYY-MM-DD the account became a customer, when known. */
  customerSince: string | null;
  lifecycleStage: string | null;
  nps: number | null;
  healthScore: number | null;
  openEscalations: number | null;
  ownerId: string | null;
  modifiedAt: string;
  /** Raw values of the session's `eligibilityFields()`, by field name; absent or null when empty. */
  fields?: Record<string, string | number | boolean | null>;
}

/** One account (company) field as the CRM's schema describes it, for eligibility mapping. */
export interface CrmAccountField {
  /** API name: `NPS__c`, `referloop_nps`. */
  name: string;
  label: string;
  kind: 'number' | 'date' | 'choice' | 'text' | 'other';
  /** The values a picklist / enumeration allows; empty for other kinds. */
  options: string[];
}

export interface CrmDeal {
  id: string;
  name: string | null;
  pipelineId: string;
  stageId: string;
  /** From the CRM's stage metadata, never from labels. */
  isClosed: boolean;
  isWon: boolean;
  amountCents: number | null;
  /** First-year contract value (HubSpot hs_acv with line items, else amount). */
  firstYearValueCents: number | null;
  currency: string;
  /** YYYY-MM-DD. */
  closeDate: string | null;
  createdAt: string;
  ownerId: string | null;
  /**
   * The CRM's own fields saying where the deal came from, as read (empty ones left out); each
   * installation's mapping turns them into rep, partner, referral or marketing.
   */
  sources: DealSourceField[];
  /**
   * The CRM's deal type as read (HubSpot `dealtype`, Salesforce `Opportunity.Type`); with the
   * pipeline, the installation's rule reads new business, renewal or expansion from it.
   */
  dealType: string | null;
  contactIds: string[];
  companyIds: string[];
  modifiedAt: string;
}

/**
 * A source field by name: `hs_analytics_source` or another HubSpot deal property,
 * `Opportunity.LeadSource`, `Lead.LeadSource` (the lead the opportunity was converted from).
 */
export interface DealSourceField {
  field: string;
  value: string;
}

/** A record id the CRM no longer has (deleted, merged away without a forward). */
export interface CrmGone {
  objectType: CrmObjectType;
  id: string;
}

export interface PipelineStage {
  pipelineId: string;
  pipelineLabel: string;
  stageId: string;
  label: string;
  displayOrder: number;
  isClosed: boolean;
  isWon: boolean;
}

// ---------------------------------------------------------------------------------------------
// Writes back to the CRM: logical fields, each connector maps them to its own names
// ---------------------------------------------------------------------------------------------

export interface ReferralFields {
  referralId: string;
  status: string;
  referrerName: string;
  referrerEmail: string;
  referrerType: string;
}

export type CrmWrite =
  | {
      /** The referral on the referee's person record (HubSpot contact properties; Salesforce Referral__c). */
      target: 'referral';
      person: { objectType: 'contact' | 'lead'; id: string };
      /** The deal the referral is linked to (claimed or attributed), if any: Salesforce's Referral__c.Opportunity__c. */
      dealId?: string;
      fields: ReferralFields;
    }
  | {
      target: 'deal';
      dealId: string;
      fields: { referralId: string; referrerName: string; attributedAmountCents: number; currency: string };
    }
  | {
      target: 'company';
      companyId: string;
      fields: { eligible: boolean; eligibilityReason: string };
    };

export interface WriteOutcome {
  index: number;
  ok: boolean;
  error?: CrmError;
}

export interface RefereeToEnsure {
  /** Caller's key to match results, e.g. the referral id. */
  key: string;
  email: string;
  firstName: string | null;
  lastName: string | null;
  company: string | null;
  domain: string | null;
}

export interface EnsuredReferee {
  key: string;
  person: CrmPerson;
  created: boolean;
  /** The company found by domain (and associated), if any. */
  company: CrmCompany | null;
}

export interface TimelineNote {
  person: { objectType: 'contact' | 'lead'; id: string };
  title: string;
  body: string;
  /** Same key, same note: a retry never writes a second one. */
  idempotencyKey: string;
}

/** A note on a company's (account's) timeline, e.g. a referral ask sent to its champion. */
export interface CompanyNote {
  companyId: string;
  title: string;
  body: string;
  /** Same key, same note: a retry never writes a second one. */
  idempotencyKey: string;
}

export interface ProvisionReport {
  created: string[];
  existing: string[];
  /** What the admin must fix (e.g. a Salesforce package field missing), in words. */
  missing: string[];
  /**
   * The name a web form gives the referral code field, when the CRM's forms name it otherwise than
   * by its API name: Salesforce Web-to-Lead's org-specific field id (00N…) of `Lead.Referral_Code__c`.
   */
  webToLeadCodeField?: string;
}

export interface ChangedRecords {
  records: { objectType: CrmObjectType; id: string; modifiedAt: string }[];
  /** Opaque cursor to pass next time. */
  nextCursor: string;
  /** More pages wait behind nextCursor. */
  hasMore: boolean;
}

/**
 * One rate of a currency against the account's company currency, exactly as the CRM states it:
 * HubSpot says how much company currency one unit is worth (`company_per_unit`), Salesforce how many
 * units one company unit buys (`units_per_company`). The rate is the CRM's decimal text, never a float.
 */
export interface CrmExchangeRate {
  currency: string;
  rate: string;
  meaning: 'company_per_unit' | 'units_per_company';
  /** YYYY-MM-DD the rate starts; null when it is not dated (Salesforce CurrencyType). */
  from: string | null;
  /** YYYY-MM-DD the next rate starts; null while it is the latest. */
  until: string | null;
  /** Names the CRM record, for reasons: `HubSpot exchange rate 42`, `Salesforce DatedConversionRate 04w…`. */
  source: string;
}

export interface CrmCurrencies {
  /** The portal's company currency, the org's corporate currency. */
  companyCurrency: string;
  rates: CrmExchangeRate[];
  /** Why there may be no rates (single-currency org, a scope not granted); null when the CRM gave all it has. */
  limitation: string | null;
}

/** A won deal's dates, for the time-to-close of the installation's deals in reports. */
export interface CrmClosedDeal {
  id: string;
  pipelineId: string;
  /** ISO instant. */
  createdAt: string;
  /** YYYY-MM-DD. */
  closeDate: string;
}

/** One installation's API, rate-limited and token-refreshing. Every read is batched. */
export interface CrmClient {
  /** Create the properties / check the fields Referloop writes. Idempotent. */
  provision(): Promise<ProvisionReport>;
  listPipelineStages(): Promise<PipelineStage[]>;
  /** Find each referee by email, else create it; associate with the company found by domain. */
  ensureReferees(referees: RefereeToEnsure[]): Promise<EnsuredReferee[]>;
  /** Look up people by email without creating anything (conflict checks, referrer lookup). */
  findPeopleByEmail(emails: string[]): Promise<CrmPerson[]>;
  findCompaniesByDomain(domains: string[]): Promise<CrmCompany[]>;
  /** Batch reads; ids the CRM no longer has come back in `gone`. */
  getPeople(objectType: 'contact' | 'lead', ids: string[]): Promise<{ records: CrmPerson[]; gone: CrmGone[] }>;
  getCompanies(ids: string[]): Promise<{ records: CrmCompany[]; gone: CrmGone[] }>;
  getDeals(ids: string[]): Promise<{ records: CrmDeal[]; gone: CrmGone[] }>;
  /** Ids of deals associated with any of these people or companies. */
  findDealIdsFor(refs: { contactIds: string[]; companyIds: string[] }): Promise<string[]>;
  /** Records modified after the cursor (null: from `since`), oldest first, for reconciliation. */
  changedSince(cursor: string | null, since: Date): Promise<ChangedRecords>;
  /** Batched writes; one outcome per input, in order. */
  write(writes: CrmWrite[]): Promise<WriteOutcome[]>;
  addTimelineNote(note: TimelineNote): Promise<void>;
  addCompanyNote(note: CompanyNote): Promise<void>;
  /**
   * The company's champion by default: HubSpot's contact with the Primary company association (else
   * the first associated), Salesforce's earliest-created contact of the account. Null when it has none.
   */
  primaryContact(companyId: string): Promise<CrmPerson | null>;
  /** The CRM users behind owner ids (deal owner, CS owner), for internal notices; unknown ids are left out. */
  ownerEmails(ownerIds: string[]): Promise<Record<string, { email: string; name: string | null }>>;
  /** The company currency and every exchange rate the CRM keeps, for deals in other currencies. */
  currencies(): Promise<CrmCurrencies>;
  /** The account (company) fields the CRM has: Salesforce's Account describe, HubSpot's company properties. */
  describeAccountFields(): Promise<CrmAccountField[]>;
  /** Deals closed won with a close date from `from` to `to` (YYYY-MM-DD, inclusive), read in pages. */
  closedWonDeals(range: { from: string; to: string }): Promise<CrmClosedDeal[]>;
  /** How many accounts the CRM counts as customers (the same rule as `CrmCompany.isCustomer`). */
  countCustomerAccounts(): Promise<number>;
}

export interface CrmClientDeps {
  limiter: RateLimiter;
  /** Override for tests (e.g. a faster emulator limit); defaults to the CRM's documented one. */
  rateLimit?: RateLimit;
}

/**
 * Calls that the CRM's own UI makes to Referloop's API on a user's behalf (HubSpot's record cards
 * use `hubspot.fetch`, which signs each request), authenticated by the CRM's signature and bound
 * to the account the card runs in.
 */
export interface CrmCardCalls {
  /** The vendor and its word for an account, for messages: `HubSpot`, `portal`. */
  readonly vendor: string;
  readonly accountNoun: string;
  /** The request says it comes from this CRM's card (it carries the CRM's signature header). */
  claims(request: InboundRequest): boolean;
  /** Checks the signature; on success, the account the card names (query or body), if any. */
  authenticate(request: InboundRequest, now: Date): { ok: true; accountId: string | null } | { ok: false; reason: string };
  /** The card's names for record types (HubSpot's object type ids `0-1`…) → Referloop's. */
  readonly objectTypeIds: Readonly<Record<string, 'contact' | 'company' | 'deal'>>;
}

export interface CrmConnector {
  /** The registry's name for this CRM (`hubspot`): URL segment, store value, metric label. */
  readonly kind: string;
  readonly oauth: CrmOAuth;
  readonly webhooks: CrmWebhooks;
  client(session: CrmSession, deps: CrmClientDeps): Promise<CrmClient>;
  /** Present when the CRM's UI calls Referloop's API directly (record cards). */
  readonly cards?: CrmCardCalls;
}
