import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { Connection, OAuth2, type TokenResponse } from 'jsforce';
import { toMajorUnits } from '../../src/domain/money.ts';
import {
  CrmError,
  type ChangedRecords,
  type CrmClient,
  type CrmClosedDeal,
  type CrmClientDeps,
  type CrmExchangeRate,
  type CrmObjectType,
  type CrmPerson,
  type CrmSession,
  type CrmWrite,
  type EnsuredReferee,
  type RateLimit,
  type RefereeToEnsure,
  type WriteOutcome,
} from '../connector.ts';
import { DAILY_LIMIT_HOLD_MS, salesforceError, toCrmError } from './errors.ts';
import { toId18 } from './ids.ts';
import {
  CONTACT_FIELDS,
  LEAD_FIELDS,
  accountFieldList,
  normalizeDomain,
  opportunityFieldList,
  toAccountField,
  toCompany,
  toDeal,
  toIsoInstant,
  toPerson,
  type OrgShape,
  type SfRow,
} from './map.ts';
import { toTokenSet, type SalesforceOAuth } from './oauth.ts';
import { checkMetadata, requiredMetadata, type DescribedObject } from './provision.ts';
import type { SalesforceSettings } from './settings.ts';
import { chunkForSoql, dateTimeLiteral, inList, likeContains, quote } from './soql.ts';

/** Salesforce has no short-window limit (only the daily allocation); this caps our bursts per org. */
const DEFAULT_RATE_LIMIT: RateLimit = { points: 25, durationMs: 1_000 };
const COLLECTION_MAX_RECORDS = 200;
const COMPOSITE_MAX_SUBREQUESTS = 25;
const ITEM_RETRIES = 2;
const ITEM_RETRY_MS = 250;
const CHANGED_RECORDS_PER_TYPE = 2_000;
const RECONCILE_OVERLAP_MS = 60_000;
const TEXT_FIELD_MAX = 255;
const CHANGE_TYPES = [
  ['Opportunity', 'deal'],
  ['Lead', 'lead'],
  ['Contact', 'contact'],
  ['Account', 'company'],
] as const satisfies readonly (readonly [string, CrmObjectType])[];

/** Per-org facts learned from responses, shared by every client of one connector. */
export interface OrgCache {
  shapes: Map<string, Promise<OrgShape>>;
  usage: Map<string, { used: number; limit: number; at: number }>;
}

interface QueryPage {
  done: boolean;
  records: SfRow[];
  nextRecordsUrl?: string;
}
interface CollectionResult {
  id?: string;
  success: boolean;
  errors: { statusCode?: string; errorCode?: string; message: string }[];
}
interface SubResponse {
  body: unknown;
  httpStatusCode: number;
}
type Saved = { id?: string; error?: CrmError };
type Position = { ts: string; id: string };

/** Failures that concern the whole session, not one record: the caller must stop and wait. */
const SESSION_WIDE = new Set(['auth_revoked', 'auth_expired', 'rate_limited', 'unavailable']);

// jsforce retries GET/PUT/DELETE itself but never POST/PATCH: this covers our idempotent ones
// (composite reads, upserts by external id, updates by id).
const retryIdempotent = retry(
  handleWhen((e) => e instanceof CrmError && e.retryable && (e.code === 'unavailable' || e.code === 'conflict')),
  { maxAttempts: 2, backoff: new ExponentialBackoff({ initialDelay: 250, maxDelay: 2_000 }) },
);

const chunk = <T>(items: readonly T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, i * size + size));
const unique18 = (ids: readonly string[]) => [...new Set(ids.map(toId18))];
const normEmail = (email: string) => email.trim().toLowerCase();

function subrequestError(sub: SubResponse): CrmError {
  const first = (Array.isArray(sub.body) ? sub.body[0] : sub.body) as { errorCode?: string; message?: string } | undefined;
  return salesforceError(first?.errorCode ?? `ERROR_HTTP_${sub.httpStatusCode}`, first?.message ?? 'composite subrequest failed', {
    status: sub.httpStatusCode,
  });
}

function encodeCursor(at: Record<string, Position>): string {
  return Buffer.from(JSON.stringify({ v: 1, at })).toString('base64url');
}

function decodeCursor(cursor: string): Record<string, Position> {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { v?: number; at?: Record<string, Position> };
    if (parsed.v === 1 && parsed.at) return parsed.at;
  } catch {
    // fall through
  }
  throw new CrmError('invalid', 'not a Salesforce reconciliation cursor', { retryable: false });
}

/** A stable subject suffix makes the note findable again, so a retry never adds a second one. */
function timelineSubject(title: string, idempotencyKey: string): string {
  const tag = ` [RL ${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 12)}]`;
  return `${title.slice(0, TEXT_FIELD_MAX - tag.length)}${tag}`;
}

export async function createSalesforceClient(
  settings: SalesforceSettings,
  oauth: SalesforceOAuth,
  cache: OrgCache,
  session: CrmSession,
  deps: CrmClientDeps,
): Promise<CrmClient> {
  const n = settings.names;
  const bucket = `salesforce:${session.accountId}`;
  const rateLimit = deps.rateLimit ?? DEFAULT_RATE_LIMIT;
  const dataPath = `/services/data/v${settings.apiVersion}`;
  let refreshFailure: CrmError | undefined;
  let revoked: CrmError | undefined;
  let refreshesThisCall = 0;
  let pendingSave: Promise<void> | undefined;

  const initial = await session.tokens();
  // https://jsforce.github.io/jsforce/document/#connection
  const conn = new Connection({
    version: settings.apiVersion,
    instanceUrl: initial.instanceUrl,
    accessToken: initial.accessToken,
    refreshToken: initial.refreshToken,
    oauth2: new OAuth2({ clientId: settings.clientId, clientSecret: settings.clientSecret, loginUrl: settings.loginUrl }),
    callOptions: { client: 'Referloop' },
    refreshFn: (c, callback) => {
      refreshSession(c).then(
        (r) => callback(null, r.accessToken, r.response),
        (err: Error) => callback(err),
      );
    },
  });
  // jsforce emits this after its 401 → refresh → retry; persisting here keeps the store current.
  conn.on('refresh', (_accessToken: string, response?: TokenResponse) => {
    if (response) pendingSave = session.saveTokens(toTokenSet(response, conn.refreshToken ?? undefined));
  });

  async function refreshSession(c: Connection): Promise<{ accessToken: string; response?: TokenResponse }> {
    try {
      refreshesThisCall += 1;
      // jsforce would refresh and retry forever if the new token were refused too.
      if (refreshesThisCall > 1) throw salesforceError('INVALID_SESSION_ID', 'refused again right after a token refresh');
      if (!c.refreshToken) {
        throw new CrmError('auth_revoked', 'Salesforce session expired and no refresh token was granted', { retryable: false });
      }
      const used = c.refreshToken;
      let response: TokenResponse;
      try {
        response = await oauth.refreshGrant(used);
      } catch (err) {
        const stored = await session.tokens();
        // With refresh-token rotation another worker may have rotated it first: take theirs.
        if (!(err instanceof CrmError && err.code === 'auth_revoked' && stored.refreshToken && stored.refreshToken !== used)) throw err;
        c.refreshToken = stored.refreshToken;
        c.instanceUrl = stored.instanceUrl ?? c.instanceUrl;
        return { accessToken: stored.accessToken };
      }
      c.instanceUrl = response.instance_url;
      // jsforce does not keep a rotated refresh token itself.
      if (response.refresh_token) c.refreshToken = response.refresh_token;
      return { accessToken: response.access_token, response };
    } catch (err) {
      refreshFailure = toCrmError(err);
      throw refreshFailure;
    }
  }

  async function failure(err: unknown): Promise<CrmError> {
    const e = refreshFailure ?? toCrmError(err);
    if (e.code === 'auth_revoked' && !revoked) {
      revoked = e;
      await session.markDisconnected(e.message);
    }
    if (e.code === 'rate_limited') await deps.limiter.holdOff(bucket, e.retryAfterMs ?? DAILY_LIMIT_HOLD_MS);
    return e;
  }

  /**
   * Stops before the org's daily allocation runs out, read from `Sforce-Limit-Info: api-usage=N/M`.
   * https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_api_usage.htm
   */
  async function holdIfNearDailyLimit(): Promise<void> {
    const usage = cache.usage.get(session.accountId);
    if (!usage || usage.used < usage.limit * settings.apiUsageCeiling || Date.now() - usage.at > DAILY_LIMIT_HOLD_MS) return;
    await deps.limiter.holdOff(bucket, DAILY_LIMIT_HOLD_MS);
    throw new CrmError(
      'rate_limited',
      `Salesforce daily API usage ${usage.used}/${usage.limit} is past Referloop's ${Math.round(settings.apiUsageCeiling * 100)}% ceiling`,
      { retryable: true, retryAfterMs: DAILY_LIMIT_HOLD_MS, vendorCode: 'API_USAGE_CEILING' },
    );
  }

  /** One API call: rate-limited, errors mapped once, usage noted, refreshed tokens persisted. */
  async function call<T>(send: () => Promise<T>, opts: { retry?: boolean } = {}): Promise<T> {
    const attempt = async () => {
      if (revoked) throw revoked;
      await deps.limiter.take(bucket, rateLimit);
      await holdIfNearDailyLimit();
      refreshesThisCall = 0;
      refreshFailure = undefined;
      try {
        return await send();
      } catch (err) {
        throw await failure(err);
      } finally {
        const usage = conn.limitInfo.apiUsage;
        if (usage) cache.usage.set(session.accountId, { ...usage, at: Date.now() });
        const save = pendingSave;
        pendingSave = undefined;
        if (save) await save;
      }
    };
    return opts.retry ? retryIdempotent.execute(attempt) : attempt();
  }

  async function followPages(first: QueryPage, limit = Number.POSITIVE_INFINITY): Promise<{ records: SfRow[]; done: boolean }> {
    const records = [...first.records];
    let page = first;
    while (!page.done && page.nextRecordsUrl && records.length < limit) {
      const locator = page.nextRecordsUrl;
      // https://developer.salesforce.com/docs/platform/api-rest/guide/resources-query.html
      page = await call(() => conn.queryMore<SfRow>(locator).promise());
      records.push(...page.records);
    }
    return { records, done: page.done || !page.nextRecordsUrl };
  }

  async function query(soql: string): Promise<SfRow[]> {
    // https://developer.salesforce.com/docs/platform/api-rest/guide/resources-query.html
    const first = await call(() => conn.query<SfRow>(soql).promise());
    return (await followPages(first)).records;
  }

  /** GET subrequests in one Composite request: up to 25 reads for one API call. */
  async function composite(urls: string[]): Promise<SubResponse[]> {
    const out: SubResponse[] = [];
    for (const batch of chunk(urls, COMPOSITE_MAX_SUBREQUESTS)) {
      const compositeRequest = batch.map((url, i) => ({ method: 'GET', url, referenceId: `r${i}` }));
      // https://developer.salesforce.com/docs/platform/api-rest/guide/resources-composite-composite-post.html
      const res = await call(
        () => conn.requestPost<{ compositeResponse: SubResponse[] }>('/composite', { allOrNone: false, compositeRequest }),
        {
          retry: true,
        },
      );
      out.push(...res.compositeResponse);
    }
    return out;
  }

  async function compositeQueries(soqls: string[], limitPerQuery?: number): Promise<{ records: SfRow[]; done: boolean }[]> {
    const responses = await composite(soqls.map((soql) => `${dataPath}/query?q=${encodeURIComponent(soql)}`));
    const out = [];
    for (const sub of responses) {
      if (sub.httpStatusCode >= 400) throw subrequestError(sub);
      out.push(await followPages(sub.body as QueryPage, limitPerQuery));
    }
    return out;
  }

  async function byIds(sobject: string, fields: string[], ids: string[]): Promise<{ rows: SfRow[]; missing: string[] }> {
    const wanted = unique18(ids);
    const soqls = chunkForSoql(wanted).map((c) => `SELECT ${fields.join(', ')} FROM ${sobject} WHERE Id IN ${inList(c)}`);
    const rows = (await compositeQueries(soqls)).flatMap((r) => r.records);
    const found = new Set(rows.map((r) => toId18(String(r.Id))));
    return { rows, missing: wanted.filter((id) => !found.has(id)) };
  }

  /** sObject Collections, 200 records a call, allOrNone false; records failing transiently are retried. */
  async function save(method: 'POST' | 'PATCH', path: string, records: SfRow[]): Promise<Saved[]> {
    const out: Saved[] = records.map(() => ({}));
    let pending = records.map((_, i) => i);
    for (let attempt = 0; pending.length > 0; attempt++) {
      const again: number[] = [];
      for (const part of chunk(pending, COLLECTION_MAX_RECORDS)) {
        const body = { allOrNone: false, records: part.map((i) => records[i]) };
        let results: CollectionResult[];
        try {
          // https://developer.salesforce.com/docs/platform/api-rest/guide/resources-composite-sobjects-collections-create.html
          // https://developer.salesforce.com/docs/platform/api-rest/guide/resources-composite-sobjects-collections-upsert.html
          results = await call(
            () =>
              method === 'POST' ? conn.requestPost<CollectionResult[]>(path, body) : conn.requestPatch<CollectionResult[]>(path, body),
            { retry: method === 'PATCH' },
          );
        } catch (err) {
          const e = toCrmError(err);
          if (SESSION_WIDE.has(e.code)) throw e;
          for (const i of part) out[i] = { error: e };
          continue;
        }
        results.forEach((r, j) => {
          const i = part[j] as number;
          if (r.success) {
            out[i] = { id: r.id ? toId18(r.id) : undefined };
            return;
          }
          // Collection errors carry `statusCode`, not `errorCode`.
          const first = r.errors[0];
          const error = salesforceError(first?.statusCode ?? first?.errorCode ?? 'UNKNOWN', first?.message ?? 'record not saved');
          out[i] = { error };
          if (error.retryable && attempt < ITEM_RETRIES) again.push(i);
        });
      }
      if (again.length > 0) await sleep(ITEM_RETRY_MS * 2 ** attempt);
      pending = again;
    }
    return out;
  }

  /** The installation's eligibility fields; their names were checked against the Account describe when mapped. */
  const mapped = async () => (await session.eligibilityFields?.()) ?? [];

  function orgShape(): Promise<OrgShape> {
    let shape = cache.shapes.get(session.accountId);
    if (!shape) {
      // https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_describe.htm
      shape = call(() => conn.describe('Opportunity')).then(async (d) => {
        const has = (name: string | null) => name !== null && d.fields.some((f) => f.name === name);
        const firstYearValueField = has(settings.firstYearValueField) ? settings.firstYearValueField : null;
        const multiCurrency = has('CurrencyIsoCode');
        // A single-currency org's amounts are in its own currency, whatever Referloop's default.
        // https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_organization.htm
        const [organization] = multiCurrency ? [] : await query('SELECT DefaultCurrencyIsoCode FROM Organization');
        const code = organization?.DefaultCurrencyIsoCode;
        const currency = typeof code === 'string' && /^[A-Z]{3}$/.test(code) ? code : null;
        return { multiCurrency, firstYearValueField, currency };
      });
      shape.catch(() => cache.shapes.delete(session.accountId));
      cache.shapes.set(session.accountId, shape);
    }
    return shape;
  }

  /**
   * Web-to-Lead names custom fields by their id, which each org gives its own: the Tooling API's
   * CustomField has it (DeveloperName is the API name without namespace and `__c`).
   * https://developer.salesforce.com/docs/atlas.en-us.api_tooling.meta/api_tooling/tooling_api_objects_customfield.htm
   */
  async function referralCodeFieldId(): Promise<string | undefined> {
    const soql = "SELECT Id, DeveloperName FROM CustomField WHERE TableEnumOrId = 'Lead' AND DeveloperName = 'Referral_Code'";
    const result = await call(() => conn.requestGet<{ records: { Id: string }[] }>(`/tooling/query?q=${encodeURIComponent(soql)}`));
    const id = result.records[0]?.Id;
    // Web-to-Lead takes the 15-character id.
    return id ? id.slice(0, 15) : undefined;
  }

  const client: CrmClient = {
    async provision() {
      const needs = requiredMetadata(n);
      const responses = await composite(needs.map((need) => `${dataPath}/sobjects/${need.object}/describe`));
      const described = new Map<string, DescribedObject | null>();
      needs.forEach((need, i) => {
        const sub = responses[i] as SubResponse;
        if (sub.httpStatusCode === 404) described.set(need.object, null);
        else if (sub.httpStatusCode >= 400) throw subrequestError(sub);
        else described.set(need.object, sub.body as DescribedObject);
      });
      const report = checkMetadata(needs, described);
      // Only an org with the field has an id to look up; a refused lookup is reported and the install goes on.
      if (report.missing.some((m) => m.includes(n.lead.referralCode))) return report;
      try {
        const webToLeadCodeField = await referralCodeFieldId();
        return webToLeadCodeField ? { ...report, webToLeadCodeField } : report;
      } catch (err) {
        if (!(err instanceof CrmError) || err.code === 'auth_revoked') throw err;
        return {
          ...report,
          missing: [...report.missing, `Lead.${n.lead.referralCode}: its Web-to-Lead id could not be looked up (${err.message})`],
        };
      }
    },

    async listPipelineStages() {
      // Won/closed are properties of the stage: https://developer.salesforce.com/docs/data/data-cloud-dmo-mapping/guide/c360dm-si-opportunitystagedmo-dmo.html
      const rows = await query(
        'SELECT ApiName, MasterLabel, IsClosed, IsWon, SortOrder FROM OpportunityStage WHERE IsActive = true ORDER BY SortOrder ASC',
      );
      return rows.map((r) => ({
        pipelineId: 'default',
        pipelineLabel: 'Opportunity stages',
        stageId: String(r.ApiName),
        label: String(r.MasterLabel),
        displayOrder: Number(r.SortOrder ?? 0),
        isClosed: r.IsClosed === true,
        isWon: r.IsWon === true,
      }));
    },

    async findPeopleByEmail(emails) {
      const wanted = [...new Set(emails.map(normEmail).filter(Boolean))];
      // A converted lead lives on as its contact, so only open leads are people here.
      const soqls = chunkForSoql(wanted).flatMap((c) => [
        `SELECT ${CONTACT_FIELDS.join(', ')} FROM Contact WHERE Email IN ${inList(c)}`,
        `SELECT ${LEAD_FIELDS.join(', ')} FROM Lead WHERE Email IN ${inList(c)} AND IsConverted = false`,
      ]);
      const results = await compositeQueries(soqls);
      return results.flatMap((r, i) => r.records.map((row) => toPerson(i % 2 === 0 ? 'contact' : 'lead', row)));
    },

    async findCompaniesByDomain(domains) {
      const wanted = new Set(domains.map(normalizeDomain).filter((d): d is string => d !== null));
      const like = (d: string) => `Website LIKE ${likeContains(d)}`;
      const fields = await mapped();
      const soqls = chunkForSoql([...wanted], (d) => `${like(d)} OR `).map(
        (c) => `SELECT ${accountFieldList(settings, fields).join(', ')} FROM Account WHERE ${c.map(like).join(' OR ')}`,
      );
      const rows = (await compositeQueries(soqls)).flatMap((r) => r.records);
      // LIKE also matches look-alikes (notacme.com): keep exact domains only.
      return rows.map((row) => toCompany(row, settings, fields)).filter((c) => c.domain !== null && wanted.has(c.domain));
    },

    async ensureReferees(referees: RefereeToEnsure[]): Promise<EnsuredReferee[]> {
      const byEmail = new Map<string, CrmPerson>();
      for (const person of await client.findPeopleByEmail(referees.map((r) => r.email))) {
        const seen = person.email ? byEmail.get(person.email) : undefined;
        if (person.email && (!seen || (seen.objectType === 'lead' && person.objectType === 'contact'))) byEmail.set(person.email, person);
      }
      const toCreate = [...new Map(referees.filter((r) => !byEmail.has(normEmail(r.email))).map((r) => [normEmail(r.email), r])).values()];
      const leads = toCreate.map((r) => {
        const email = normEmail(r.email);
        const fields: SfRow = {
          FirstName: r.firstName,
          // LastName and Company are required on Lead; "[not provided]" is Salesforce's own filler.
          LastName: r.lastName ?? email.split('@')[0],
          Email: email,
          Company: r.company ?? r.domain ?? '[not provided]',
          Website: r.domain,
          LeadSource: 'External Referral',
        };
        return { attributes: { type: 'Lead' }, ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== null)) };
      });
      const created = await save('POST', '/composite/sobjects', leads);
      const createdEmails = new Set<string>();
      toCreate.forEach((r, i) => {
        const id = created[i]?.id;
        if (!id) return;
        const email = normEmail(r.email);
        createdEmails.add(email);
        byEmail.set(email, toPerson('lead', { ...leads[i], Id: id, SystemModstamp: new Date().toISOString() }));
      });
      const failed = created.find((c) => c.error)?.error;
      // Leads created so far are found by email on the retry, so nothing is duplicated.
      if (failed) throw failed;
      // Read back once: Salesforce sets the owner (the API user, or lead assignment rules).
      const createdIds = [...createdEmails].map((email) => byEmail.get(email)!.id);
      if (createdIds.length) {
        for (const row of (await byIds('Lead', LEAD_FIELDS, createdIds)).rows) {
          const person = toPerson('lead', row);
          if (person.email) byEmail.set(normEmail(person.email), person);
        }
      }

      const byDomain = new Map(
        (await client.findCompaniesByDomain(referees.flatMap((r) => (r.domain ? [r.domain] : [])))).map((c) => [c.domain, c]),
      );
      const known = new Set([...byDomain.values()].map((c) => c.id));
      const accountIds = [...byEmail.values()].flatMap((p) => p.companyIds).filter((id) => !known.has(id));
      const byId = new Map((await client.getCompanies(accountIds)).records.map((c) => [c.id, c]));
      return referees.map((r) => {
        const person = byEmail.get(normEmail(r.email)) as CrmPerson;
        const domain = normalizeDomain(r.domain);
        const company = (domain ? byDomain.get(domain) : undefined) ?? byId.get(person.companyIds[0] ?? '') ?? null;
        return { key: r.key, person, created: createdEmails.has(normEmail(r.email)), company };
      });
    },

    async getPeople(objectType, ids) {
      const sobject = objectType === 'lead' ? 'Lead' : 'Contact';
      // A lead's referral code (Web-to-Lead filled it) is read where changes are applied.
      const withCode = (await session.readsLeadReferralCode?.()) === true;
      const fields = objectType === 'lead' ? [...LEAD_FIELDS, ...(withCode ? [n.lead.referralCode] : [])] : CONTACT_FIELDS;
      const { rows, missing } = await byIds(sobject, fields, ids);
      return { records: rows.map((r) => toPerson(objectType, r, n.lead.referralCode)), gone: missing.map((id) => ({ objectType, id })) };
    },

    async getCompanies(ids) {
      const fields = await mapped();
      const { rows, missing } = await byIds('Account', accountFieldList(settings, fields), ids);
      return {
        records: rows.map((r) => toCompany(r, settings, fields)),
        gone: missing.map((id) => ({ objectType: 'company' as const, id })),
      };
    },

    async getDeals(ids) {
      if (ids.length === 0) return { records: [], gone: [] };
      const org = await orgShape();
      const { rows, missing } = await byIds('Opportunity', opportunityFieldList(org), ids);
      const deals = rows.map((r) => toDeal(r, org, settings));
      // An opportunity without its own LeadSource may still have the lead it was converted from.
      // https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_lead.htm
      const unsourced = deals.filter((d) => d.sources.length === 0).map((d) => d.id);
      for (const chunk of chunkForSoql(unsourced)) {
        for (const lead of await query(
          `SELECT ConvertedOpportunityId, LeadSource FROM Lead WHERE ConvertedOpportunityId IN ${inList(chunk)}`,
        )) {
          const deal = deals.find((d) => d.id === toId18(String(lead.ConvertedOpportunityId)));
          if (deal && typeof lead.LeadSource === 'string' && lead.LeadSource)
            deal.sources.push({ field: 'Lead.LeadSource', value: lead.LeadSource });
        }
      }
      return { records: deals, gone: missing.map((id) => ({ objectType: 'deal' as const, id })) };
    },

    async findDealIdsFor({ contactIds, companyIds }) {
      const soqls = [
        ...chunkForSoql(unique18(contactIds)).flatMap((c) => [
          // https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_objects_opportunitycontactrole.htm
          `SELECT OpportunityId FROM OpportunityContactRole WHERE ContactId IN ${inList(c)}`,
          `SELECT Id FROM Opportunity WHERE ContactId IN ${inList(c)}`,
        ]),
        ...chunkForSoql(unique18(companyIds)).map((c) => `SELECT Id FROM Opportunity WHERE AccountId IN ${inList(c)}`),
      ];
      const rows = (await compositeQueries(soqls)).flatMap((r) => r.records);
      return [...new Set(rows.map((r) => toId18(String(r.OpportunityId ?? r.Id))))];
    },

    async changedSince(cursor, since): Promise<ChangedRecords> {
      const start = cursor ? decodeCursor(cursor) : {};
      const from = (sobject: string): Position => start[sobject] ?? { ts: dateTimeLiteral(since), id: '' };
      // Keyset on (SystemModstamp, Id): records sharing a second are neither skipped nor repeated.
      // https://developer.salesforce.com/docs/platform/api-rest/guide/resources-getupdated.html
      const soqls = CHANGE_TYPES.map(([sobject]) => {
        const p = from(sobject);
        const after = p.id
          ? `(SystemModstamp > ${p.ts} OR (SystemModstamp = ${p.ts} AND Id > ${quote(p.id)}))`
          : `SystemModstamp >= ${p.ts}`;
        return `SELECT Id, SystemModstamp FROM ${sobject} WHERE ${after} ORDER BY SystemModstamp ASC, Id ASC`;
      });
      const results = await compositeQueries(soqls, CHANGED_RECORDS_PER_TYPE);
      const hasMore = results.some((r) => !r.done);
      const next: Record<string, Position> = {};
      const records: ChangedRecords['records'] = [];
      CHANGE_TYPES.forEach(([sobject, objectType], i) => {
        const rows = results[i]?.records ?? [];
        const last = rows.at(-1);
        let position = last
          ? { ts: dateTimeLiteral(new Date(toIsoInstant(last.SystemModstamp))), id: toId18(String(last.Id)) }
          : from(sobject);
        // Between runs step back a little: a long transaction can commit an older SystemModstamp.
        if (!hasMore && position.id) position = { ts: dateTimeLiteral(new Date(Date.parse(position.ts) - RECONCILE_OVERLAP_MS)), id: '' };
        next[sobject] = position;
        records.push(...rows.map((row) => ({ objectType, id: toId18(String(row.Id)), modifiedAt: toIsoInstant(row.SystemModstamp) })));
      });
      records.sort((a, b) => a.modifiedAt.localeCompare(b.modifiedAt) || a.id.localeCompare(b.id));
      return { records, nextCursor: encodeCursor(next), hasMore };
    },

    async write(writes: CrmWrite[]): Promise<WriteOutcome[]> {
      const referrals: { index: number; record: SfRow }[] = [];
      const updates: { index: number; record: SfRow }[] = [];
      writes.forEach((w, index) => {
        if (w.target === 'referral') {
          const f = w.fields;
          referrals.push({
            index,
            record: {
              attributes: { type: n.referral.object },
              [n.referral.referloopId]: f.referralId,
              [n.referral.status]: f.status,
              [n.referral.referrerName]: f.referrerName.slice(0, TEXT_FIELD_MAX),
              [n.referral.referrerEmail]: f.referrerEmail,
              [n.referral.referrerType]: f.referrerType,
              [w.person.objectType === 'lead' ? n.referral.lead : n.referral.contact]: toId18(w.person.id),
              // Left out, not cleared, when no deal is named: the lookup keeps the deal it was linked to.
              ...(w.dealId ? { [n.referral.opportunity]: toId18(w.dealId) } : {}),
            },
          });
        } else if (w.target === 'deal') {
          updates.push({
            index,
            record: {
              attributes: { type: 'Opportunity' },
              id: toId18(w.dealId),
              [n.opportunity.referralId]: w.fields.referralId,
              [n.opportunity.referrerName]: w.fields.referrerName.slice(0, TEXT_FIELD_MAX),
              [n.opportunity.attributedAmount]: toMajorUnits(w.fields.attributedAmountCents, w.fields.currency),
            },
          });
        } else {
          updates.push({
            index,
            record: {
              attributes: { type: 'Account' },
              id: toId18(w.companyId),
              [n.account.eligible]: w.fields.eligible,
              [n.account.eligibilityReason]: w.fields.eligibilityReason.slice(0, TEXT_FIELD_MAX),
            },
          });
        }
      });
      // Grouped by type: a mixed-type collection is processed in one chunk per type run.
      updates.sort((a, b) =>
        String((a.record.attributes as { type: string }).type).localeCompare((b.record.attributes as { type: string }).type),
      );
      const upserted = await save(
        'PATCH',
        `/composite/sobjects/${n.referral.object}/${n.referral.referloopId}`,
        referrals.map((r) => r.record),
      );
      const updated = await save(
        'PATCH',
        '/composite/sobjects',
        updates.map((u) => u.record),
      );
      const outcomes: WriteOutcome[] = writes.map((_, index) => ({ index, ok: false }));
      const settle = (items: { index: number }[], results: Saved[]) =>
        items.forEach(({ index }, i) => {
          const error = results[i]?.error;
          outcomes[index] = error ? { index, ok: false, error } : { index, ok: true };
        });
      settle(referrals, upserted);
      settle(updates, updated);
      return outcomes;
    },

    async addTimelineNote(note) {
      const whoId = toId18(note.person.id);
      const subject = timelineSubject(note.title, note.idempotencyKey);
      const existing = await query(`SELECT Id FROM Task WHERE WhoId = ${quote(whoId)} AND Subject = ${quote(subject)} LIMIT 1`);
      if (existing.length > 0) return;
      // A completed Task shows in the person's activity timeline.
      const [result] = await save('POST', '/composite/sobjects', [
        {
          attributes: { type: 'Task' },
          WhoId: whoId,
          Subject: subject,
          Description: note.body.slice(0, 32_000),
          Status: 'Completed',
          Priority: 'Normal',
          ActivityDate: new Date().toISOString().slice(0, 10),
        },
      ]);
      if (result?.error) throw result.error;
    },

    /** A completed Task on the account (WhatId) shows in the account's activity timeline. */
    async addCompanyNote(note) {
      const whatId = toId18(note.companyId);
      const subject = timelineSubject(note.title, note.idempotencyKey);
      const existing = await query(`SELECT Id FROM Task WHERE WhatId = ${quote(whatId)} AND Subject = ${quote(subject)} LIMIT 1`);
      if (existing.length > 0) return;
      const [result] = await save('POST', '/composite/sobjects', [
        {
          attributes: { type: 'Task' },
          WhatId: whatId,
          Subject: subject,
          Description: note.body.slice(0, 32_000),
          Status: 'Completed',
          Priority: 'Normal',
          ActivityDate: new Date().toISOString().slice(0, 10),
        },
      ]);
      if (result?.error) throw result.error;
    },

    /** Salesforce accounts name no primary contact: the account's earliest-created contact is its champion by default. */
    async primaryContact(companyId) {
      // https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_contact.htm
      const [row] = await query(
        `SELECT ${CONTACT_FIELDS.join(', ')} FROM Contact WHERE AccountId = ${quote(toId18(companyId))} ORDER BY CreatedDate ASC, Id ASC LIMIT 1`,
      );
      return row ? toPerson('contact', row) : null;
    },

    async ownerEmails(ownerIds) {
      // https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_user.htm
      const { rows } = await byIds('User', ['Id', 'Email', 'Name'], ownerIds);
      return Object.fromEntries(
        rows
          .filter((r) => typeof r.Email === 'string')
          .map((r) => [String(r.Id), { email: String(r.Email), name: typeof r.Name === 'string' ? r.Name : null }]),
      );
    },

    async closedWonDeals(range: { from: string; to: string }): Promise<CrmClosedDeal[]> {
      // SOQL date literals are unquoted YYYY-MM-DD; query() follows every page.
      const day = (value: string) => {
        if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new CrmError('invalid', `not a date: ${value}`, { retryable: false });
        return value;
      };
      const rows = await query(
        `SELECT Id, CreatedDate, CloseDate FROM Opportunity WHERE IsWon = true AND CloseDate >= ${day(range.from)} AND CloseDate <= ${day(range.to)} ORDER BY CloseDate`,
      );
      return rows.flatMap((row) =>
        typeof row.CloseDate === 'string' && row.CreatedDate
          ? [{ id: toId18(String(row.Id)), pipelineId: 'default', createdAt: toIsoInstant(row.CreatedDate), closeDate: row.CloseDate }]
          : [],
      );
    },

    async countCustomerAccounts() {
      // COUNT() answers with totalSize and no records: one call whatever the org's size, the same rule as CrmCompany.isCustomer.
      const result = await call(() => conn.query("SELECT COUNT() FROM Account WHERE Type LIKE 'Customer%'").promise());
      return result.totalSize;
    },

    async describeAccountFields() {
      const described = await call(() => conn.describe('Account'));
      return described.fields.map((f) => toAccountField(f));
    },

    async currencies() {
      const org = await orgShape();
      const single = { companyCurrency: org.currency ?? settings.defaultCurrency, rates: [], limitation: 'a single-currency org' };
      if (!org.multiCurrency) return single;
      // https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_currencytype.htm
      const types = await query('SELECT Id, IsoCode, ConversionRate, IsCorporate FROM CurrencyType WHERE IsActive = true');
      const corporate = types.find((t) => t.IsCorporate === true);
      if (!corporate) return single;
      const companyCurrency = String(corporate.IsoCode);
      // JSON numbers are read through their shortest decimal text, the digits Salesforce sent: never multiplied as floats.
      const rate = (row: SfRow, source: string, from: string | null, until: string | null): CrmExchangeRate => ({
        currency: String(row.IsoCode),
        rate: String(row.ConversionRate),
        meaning: 'units_per_company',
        from,
        until,
        source: `Salesforce ${source} ${String(row.Id)}`,
      });
      const rates = types.filter((t) => t !== corporate).map((t) => rate(t, 'CurrencyType', null, null));
      try {
        // Advanced currency management: the rate of the opportunity's close date.
        // https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_datedconversionrate.htm
        const dated = await query(
          `SELECT Id, IsoCode, ConversionRate, StartDate, NextStartDate FROM DatedConversionRate WHERE IsoCode != ${quote(companyCurrency)}`,
        );
        for (const row of dated) {
          const next = typeof row.NextStartDate === 'string' && row.NextStartDate < '9999-12-31' ? row.NextStartDate : null;
          rates.push(rate(row, 'DatedConversionRate', String(row.StartDate), next));
        }
      } catch (error) {
        // Without advanced currency management the object does not exist: CurrencyType's rates are the org's.
        if (!(error instanceof CrmError && error.options.vendorCode === 'INVALID_TYPE')) throw error;
      }
      return { companyCurrency, rates, limitation: null };
    },
  };
  return client;
}
