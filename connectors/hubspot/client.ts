import { createHash } from 'node:crypto';
import { Client } from '@hubspot/api-client';
import { CrmError } from '../connector.ts';
import type {
  ChangedRecords,
  CrmAccountField,
  CrmClient,
  CrmClosedDeal,
  CrmClientDeps,
  CrmCompany,
  CrmCurrencies,
  CrmDeal,
  CrmExchangeRate,
  CrmGone,
  CrmObjectType,
  CrmOAuth,
  CrmPerson,
  CrmSession,
  CrmWrite,
  EnsuredReferee,
  PipelineStage,
  ProvisionReport,
  RateLimit,
  RefereeToEnsure,
  TimelineNote,
  CompanyNote,
  WriteOutcome,
} from '../connector.ts';
import { RATE_LIMIT_WINDOW_MS, batchErrorIds, fromBatchError, toCrmError } from './errors.ts';
import {
  COMPANY_PROPERTIES,
  CONTACT_PROPERTIES,
  DEAL_PROPERTIES,
  DEAL_SOURCE_PROPERTY,
  MODIFIED_PROPERTY,
  mergedIds,
  normalizeDomain,
  normalizeEmail,
  stageKey,
  toAccountField,
  toCompany,
  toDeal,
  toPerson,
  toPipelineStages,
  toUpdate,
  type HsObject,
  type HsObjectType,
  type HsPipeline,
  type HsProperty,
  type HsUpdate,
} from './map.ts';
import { provisionReferloop, type SchemaObjectType } from './provision.ts';

/**
 * HubSpot's documented limits: 110 calls per 10 s per account, search 5 per second
 * (https://developers.hubspot.com/docs/api/usage-details, https://developers.hubspot.com/docs/api/crm/search).
 * HubSpot counts arrivals and the limiter counts departures, so each window is widened by a
 * margin for network jitter; at the exact window a slow call followed by a fast one is a 429.
 * The margin is how much sooner a later call may arrive than an earlier one: 1 s for the
 * ten-secondly window, 0.5 s for search's (0.25 s was too little: in the soak a 386 ms stall of
 * the process playing HubSpot bunched six searches into one second).
 */
export const DEFAULT_RATE_LIMIT: RateLimit = { points: 110, durationMs: 11_000 };
export const SEARCH_RATE_LIMIT: RateLimit = { points: 5, durationMs: 1_500 };
const BATCH_SIZE = 100;
const SEARCH_PAGE_SIZE = 200;
const SEARCH_IN_VALUES = 100;
const SEARCH_RESULT_CAP = 10_000;
const REFRESH_MARGIN_MS = 60_000;
const PIPELINE_CACHE_MS = 5 * 60_000;
const NOTE_TO_CONTACT = 202;
const NOTE_TO_COMPANY = 190;
/** HUBSPOT_DEFINED company→contact type of the Primary label (FACTS §7; contracts/hubspot/FACTS.md). */
const COMPANY_TO_PRIMARY_CONTACT = 2;

/**
 * Every raw API path lives here, numbered versions as @hubspot/api-client 13.5 calls them.
 * Moving to the date-based paths (`/crm/objects/2026-09/...`,
 * https://developers.hubspot.com/docs/api-reference/latest/overview) is a change to this table.
 */
const paths = {
  object: (type: HsObjectType) => `/crm/v3/objects/${type}`,
  batch: (type: HsObjectType, op: 'read' | 'create' | 'update') => `/crm/v3/objects/${type}/batch/${op}`,
  search: (type: HsObjectType) => `/crm/v3/objects/${type}/search`,
  associationsRead: (from: HsObjectType, to: HsObjectType) => `/crm/v4/associations/${from}/${to}/batch/read`,
  associateDefault: (from: HsObjectType, to: HsObjectType) => `/crm/v4/associations/${from}/${to}/batch/associate/default`,
  pipelines: (type: 'deals') => `/crm/v3/pipelines/${type}`,
  propertyGroups: (type: SchemaObjectType) => `/crm/v3/properties/${type}/groups`,
  properties: (type: SchemaObjectType) => `/crm/v3/properties/${type}`,
  propertiesBatch: (type: SchemaObjectType, op: 'read' | 'create') => `/crm/v3/properties/${type}/batch/${op}`,
  owner: (ownerId: string) => `/crm/v3/owners/${encodeURIComponent(ownerId)}`,
  accountDetails: '/account-info/v3/details',
  exchangeRates: '/settings/v3/currencies/exchange-rates',
};

/** The scope the currencies API needs; optional at install, so a portal may not have granted it. */
const CURRENCIES_SCOPE = 'settings.currencies.read';
const COMPANY_CURRENCY_CACHE_MS = 60 * 60_000;
/** Portal id → its company currency, read at most hourly: every deal without a currency of its own is in it. */
const companyCurrencies = new Map<string, { at: number; currency: string }>();

interface AccountDetailsBody {
  companyCurrency?: string;
}
interface ExchangeRatesBody {
  results: { id: string; fromCurrencyCode: string; toCurrencyCode: string; conversionRate: number | string; effectiveAt: string }[];
  paging?: { next?: { after?: string } };
}

/** HubSpot's rate history as rates with their end: each currency's rate holds until the next one takes effect. */
function datedRates(rows: ExchangeRatesBody['results'], companyCurrency: string): CrmExchangeRate[] {
  const ordered = rows.filter((r) => r.toCurrencyCode === companyCurrency).sort((a, b) => a.effectiveAt.localeCompare(b.effectiveAt));
  return ordered.map((row) => {
    const next = ordered.find((r) => r.fromCurrencyCode === row.fromCurrencyCode && r.effectiveAt > row.effectiveAt);
    return {
      currency: row.fromCurrencyCode,
      // JSON numbers are read through their shortest decimal text, the digits HubSpot sent.
      rate: String(row.conversionRate),
      meaning: 'company_per_unit',
      from: row.effectiveAt.slice(0, 10),
      until: next ? next.effectiveAt.slice(0, 10) : null,
      source: `HubSpot exchange rate ${row.id}`,
    };
  });
}

export interface HubSpotClientOptions {
  apiBaseUrl: string;
  oauth: CrmOAuth;
  defaultCurrency: string;
  requestTimeoutMs: number;
}

interface Reply<T> {
  status: number;
  body: T;
}
interface BatchBody<T> {
  results: T[];
  errors?: unknown[];
}
interface SearchBody {
  /** How many records match, whatever the page size. */
  total?: number;
  results: HsObject[];
  paging?: { next?: { after?: string } };
}
interface AssociationsBody {
  results: {
    from: { id: string };
    to: { toObjectId: string | number; associationTypes?: { category?: string; typeId?: number }[] }[];
    paging?: { next?: { after?: string } };
  }[];
}
type Filter = { propertyName: string; operator: string; value?: string; highValue?: string; values?: string[] };
type SearchRequest = {
  filterGroups: { filters: Filter[] }[];
  sorts: { propertyName: string; direction: 'ASCENDING' | 'DESCENDING' }[];
  properties: string[];
};

const CHANGE_TYPES = ['contacts', 'companies', 'deals'] as const;
const CHANGE_OBJECT: Record<(typeof CHANGE_TYPES)[number], CrmObjectType> = { contacts: 'contact', companies: 'company', deals: 'deal' };

/** Reconciliation position: which object type, the lower bound of its query, the newest seen, the page. */
interface Cursor {
  phase: number;
  from: number[];
  max: number[];
  after: string | null;
  offset: number;
}

function encodeCursor(cursor: Cursor): string {
  return `hs1.${Buffer.from(JSON.stringify(cursor)).toString('base64url')}`;
}

function decodeCursor(value: string): Cursor {
  try {
    const cursor = JSON.parse(Buffer.from(value.replace(/^hs1\./, ''), 'base64url').toString('utf8')) as Cursor;
    if (value.startsWith('hs1.') && cursor.from.length === 3 && cursor.max.length === 3) return cursor;
  } catch {
    // fall through
  }
  throw new CrmError('invalid', 'not a HubSpot reconciliation cursor', { retryable: false });
}

const unique = <T>(values: Iterable<T>): T[] => [...new Set(values)];

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  promise.catch(() => undefined);
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export class HubSpotClient implements CrmClient {
  private readonly sdk: Client;
  private refreshing: Promise<string> | null = null;
  private stages: { at: number; byKey: Map<string, PipelineStage> } | null = null;

  constructor(
    private readonly session: CrmSession,
    private readonly deps: CrmClientDeps,
    private readonly options: HubSpotClientOptions,
  ) {
    this.sdk = new Client({ basePath: options.apiBaseUrl.replace(/\/+$/, '') });
  }

  // ---------------------------------------------------------------------------------------------
  // Transport: limiter, token freshness, one retry after a 401, 429 → holdOff + rate_limited.
  // ---------------------------------------------------------------------------------------------

  private get bucket(): string {
    return `hubspot:${this.session.accountId}`;
  }

  private async request<T>(method: 'GET' | 'POST', path: string, body?: unknown, kind: 'api' | 'search' = 'api'): Promise<Reply<T>> {
    let token = await this.accessToken();
    for (let attempt = 0; ; attempt++) {
      // Search has its own per-second limit, apart from the ten-secondly one, and sends no rate-limit
      // headers (https://developers.hubspot.com/docs/api/usage-details).
      if (kind === 'search') await this.deps.limiter.take(`hubspot-search:${this.session.accountId}`, SEARCH_RATE_LIMIT);
      else await this.deps.limiter.take(this.bucket, this.deps.rateLimit ?? DEFAULT_RATE_LIMIT);
      const reply = await this.send(method, path, body, token);
      if (reply.status === 401 && attempt === 0) {
        token = await this.accessToken(token);
        continue;
      }
      if (reply.status >= 200 && reply.status < 300) return { status: reply.status, body: reply.body as T };
      const error = toCrmError(reply, `HubSpot ${method} ${path}`);
      if (error.code === 'rate_limited') {
        // Search 429s carry no policyName; the ten-secondly and daily policies hold the whole account.
        const accountWide = error.options.vendorCode === 'TEN_SECONDLY_ROLLING' || error.options.vendorCode === 'DAILY';
        const bucket = kind === 'search' && !accountWide ? `hubspot-search:${this.session.accountId}` : this.bucket;
        await this.deps.limiter.holdOff(bucket, error.retryAfterMs ?? RATE_LIMIT_WINDOW_MS.TEN_SECONDLY_ROLLING);
      }
      throw error;
    }
  }

  private async send(method: string, path: string, body: unknown, token: string) {
    const call = this.sdk.apiRequest({ method, path, body, headers: { Authorization: `Bearer ${token}` } }).then(async (response) => ({
      status: response.status,
      text: await response.text(),
      retryAfter: response.headers.get('retry-after'),
    }));
    let answer: { status: number; text: string; retryAfter: string | null };
    try {
      answer = await withTimeout(call, this.options.requestTimeoutMs);
    } catch (cause) {
      throw toCrmError({ status: 0, cause }, `HubSpot ${method} ${path}`);
    }
    let parsed: unknown = answer.text;
    try {
      parsed = answer.text ? JSON.parse(answer.text) : undefined;
    } catch {
      // keep the text for the error message
    }
    return { status: answer.status, body: parsed, retryAfter: answer.retryAfter };
  }

  /**
   * A usable access token: refreshed ahead of expiry, or because HubSpot refused `rejected`
   * (unless a concurrent call refreshed it already). One refresh at a time per client.
   */
  private async accessToken(rejected?: string): Promise<string> {
    const tokens = await this.session.tokens();
    const expiresAt = tokens.expiresAt ? Date.parse(tokens.expiresAt) : Number.POSITIVE_INFINITY;
    const usable = rejected === undefined ? expiresAt - Date.now() > REFRESH_MARGIN_MS : tokens.accessToken !== rejected;
    if (usable) return tokens.accessToken;
    this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async refresh(): Promise<string> {
    const tokens = await this.session.tokens();
    if (!tokens.refreshToken) {
      throw new CrmError('auth_expired', 'HubSpot refused the access token and there is no refresh token: reconnect the installation', {
        retryable: false,
      });
    }
    try {
      const next = await this.options.oauth.refresh(tokens);
      await this.session.saveTokens(next);
      return next.accessToken;
    } catch (error) {
      if (error instanceof CrmError && error.code === 'auth_revoked') await this.session.markDisconnected(error.message);
      throw error;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Batched building blocks
  // ---------------------------------------------------------------------------------------------

  /** Batch read by id (or by the unique `email`); ids HubSpot does not have come back in `missing`. */
  private async readBatch(type: HsObjectType, ids: string[], properties: string[], idProperty?: 'email') {
    const records: HsObject[] = [];
    const missing: string[] = [];
    for (const chunk of chunks(unique(ids), BATCH_SIZE)) {
      // https://developers.hubspot.com/docs/api/crm/contacts (batch read; idProperty for unique values)
      const reply = await this.request<BatchBody<HsObject>>('POST', paths.batch(type, 'read'), {
        inputs: chunk.map((id) => ({ id })),
        properties,
        propertiesWithHistory: [],
        ...(idProperty ? { idProperty } : {}),
      });
      records.push(...reply.body.results);
      for (const failure of reply.body.errors ?? []) {
        const error = fromBatchError(failure, `HubSpot batch read ${type}`);
        if (error.code !== 'not_found') throw error;
        missing.push(...batchErrorIds(failure));
      }
    }
    return { records, missing };
  }

  /** Associated ids per record, following per-record paging. */
  private async associated(from: HsObjectType, to: HsObjectType, ids: string[]): Promise<Map<string, string[]>> {
    const found = new Map<string, string[]>(ids.map((id) => [id, []]));
    let inputs: { id: string; after?: string }[] = unique(ids).map((id) => ({ id }));
    while (inputs.length) {
      const next: { id: string; after: string }[] = [];
      for (const chunk of chunks(inputs, BATCH_SIZE)) {
        // https://developers.hubspot.com/docs/api/crm/associations (v4 batch read)
        const reply = await this.request<AssociationsBody>('POST', paths.associationsRead(from, to), { inputs: chunk });
        for (const result of reply.body.results) {
          found.get(result.from.id)?.push(...result.to.map((target) => String(target.toObjectId)));
          const after = result.paging?.next?.after;
          if (after) next.push({ id: result.from.id, after });
        }
      }
      inputs = next;
    }
    for (const [id, targets] of found) found.set(id, unique(targets));
    return found;
  }

  private async search(type: HsObjectType, request: SearchRequest, after: string | null) {
    // https://developers.hubspot.com/docs/api/crm/search
    const reply = await this.request<SearchBody>(
      'POST',
      paths.search(type),
      { ...request, limit: SEARCH_PAGE_SIZE, after: after ?? '0' },
      'search',
    );
    return { results: reply.body.results, after: reply.body.paging?.next?.after ?? null };
  }

  private async searchAll(type: HsObjectType, request: SearchRequest): Promise<HsObject[]> {
    const all: HsObject[] = [];
    let after: string | null = null;
    do {
      const page = await this.search(type, request, after);
      all.push(...page.results);
      after = page.after;
    } while (after);
    return all;
  }

  private async peopleByEmail(emails: string[]): Promise<Map<string, CrmPerson>> {
    const { records } = await this.readBatch('contacts', unique(emails.map(normalizeEmail)), CONTACT_PROPERTIES, 'email');
    const companies = await this.associated(
      'contacts',
      'companies',
      records.map((r) => r.id),
    );
    return new Map(records.map((r) => [normalizeEmail(r.properties.email ?? ''), toPerson(r, companies.get(r.id) ?? [])]));
  }

  private async stageIndex(deals: HsObject[]): Promise<Map<string, PipelineStage>> {
    const fresh = this.stages && Date.now() - this.stages.at < PIPELINE_CACHE_MS;
    const known = (d: HsObject) => this.stages?.byKey.has(stageKey(d.properties.pipeline ?? 'default', d.properties.dealstage ?? ''));
    if (!fresh || !deals.every(known)) await this.listPipelineStages();
    return this.stages?.byKey ?? new Map();
  }

  // ---------------------------------------------------------------------------------------------
  // CrmClient
  // ---------------------------------------------------------------------------------------------

  provision(): Promise<ProvisionReport> {
    return provisionReferloop({
      groupNames: async (type) => {
        // https://developers.hubspot.com/docs/api/crm/properties (property groups)
        const reply = await this.request<{ results: { name: string }[] }>('GET', paths.propertyGroups(type));
        return reply.body.results.map((group) => group.name);
      },
      createGroup: async (type, group) => {
        try {
          // https://developers.hubspot.com/docs/api/crm/properties (create a property group)
          await this.request('POST', paths.propertyGroups(type), group);
          return true;
        } catch (error) {
          if (error instanceof CrmError && error.code === 'conflict') return false;
          throw error;
        }
      },
      existingProperties: async (type, names) => {
        // https://developers.hubspot.com/docs/api/crm/properties (batch read)
        const reply = await this.request<BatchBody<{ name: string }>>('POST', paths.propertiesBatch(type, 'read'), {
          archived: false,
          dataSensitivity: 'non_sensitive',
          inputs: names.map((name) => ({ name })),
        });
        return reply.body.results.map((property) => property.name);
      },
      createProperties: async (type, definitions) => {
        // https://developers.hubspot.com/docs/api/crm/properties (batch create)
        const reply = await this.request<BatchBody<{ name: string }>>('POST', paths.propertiesBatch(type, 'create'), {
          inputs: definitions,
        });
        for (const failure of reply.body.errors ?? []) {
          const error = fromBatchError(failure, `HubSpot create ${type} properties`);
          if (error.code !== 'conflict') throw error;
        }
        return reply.body.results.map((property) => property.name);
      },
    });
  }

  async listPipelineStages(): Promise<PipelineStage[]> {
    // https://developers.hubspot.com/docs/api/crm/pipelines
    const reply = await this.request<{ results: HsPipeline[] }>('GET', paths.pipelines('deals'));
    const stages = toPipelineStages(reply.body.results);
    this.stages = { at: Date.now(), byKey: new Map(stages.map((s) => [stageKey(s.pipelineId, s.stageId), s])) };
    return stages;
  }

  async ensureReferees(referees: RefereeToEnsure[]): Promise<EnsuredReferee[]> {
    if (!referees.length) return [];
    const emailOf = (r: RefereeToEnsure) => normalizeEmail(r.email);
    const people = await this.peopleByEmail(referees.map(emailOf));
    const companies = await this.findCompaniesByDomain(referees.flatMap((r) => (r.domain ? [r.domain] : [])));
    const companyByDomain = new Map(companies.map((c) => [c.domain, c]));
    const created = new Set<string>();

    const toCreate = [...new Map(referees.filter((r) => !people.has(emailOf(r))).map((r) => [emailOf(r), r])).values()];
    for (const chunk of chunks(toCreate, BATCH_SIZE)) {
      try {
        // https://developers.hubspot.com/docs/api/crm/contacts (batch create)
        const reply = await this.request<BatchBody<HsObject>>('POST', paths.batch('contacts', 'create'), {
          inputs: chunk.map((r) => ({
            properties: Object.fromEntries(
              Object.entries({ email: emailOf(r), firstname: r.firstName, lastname: r.lastName, company: r.company }).filter(([, v]) => v),
            ),
            associations: [],
          })),
        });
        for (const contact of reply.body.results) {
          people.set(normalizeEmail(contact.properties.email ?? ''), toPerson(contact, []));
          created.add(contact.id);
        }
        const failure = reply.body.errors?.[0];
        if (failure) throw fromBatchError(failure, 'HubSpot batch create contacts');
      } catch (error) {
        // Someone created one of these contacts since we looked (a rep, another worker): read again.
        if (!(error instanceof CrmError && error.code === 'conflict')) throw error;
        for (const [email, person] of await this.peopleByEmail(chunk.map(emailOf))) people.set(email, person);
        if (chunk.some((r) => !people.has(emailOf(r)))) throw error;
      }
    }

    const companyOf = (r: RefereeToEnsure) => (r.domain ? companyByDomain.get(normalizeDomain(r.domain)) : undefined) ?? null;
    const links = new Map<string, { person: CrmPerson; company: CrmCompany }>();
    for (const r of referees) {
      const person = people.get(emailOf(r));
      const company = companyOf(r);
      if (person && company && !person.companyIds.includes(company.id)) links.set(`${person.id}>${company.id}`, { person, company });
    }
    for (const chunk of chunks([...links.values()], BATCH_SIZE)) {
      // https://developers.hubspot.com/docs/api/crm/associations (v4 default associations, batch)
      await this.request('POST', paths.associateDefault('contacts', 'companies'), {
        inputs: chunk.map(({ person, company }) => ({ from: { id: person.id }, to: { id: company.id } })),
      });
      for (const { person, company } of chunk) person.companyIds = unique([...person.companyIds, company.id]);
    }

    return referees.map((r) => {
      const person = people.get(emailOf(r));
      if (!person) throw new CrmError('unavailable', `HubSpot did not return contact ${r.email}`, { retryable: true });
      return { key: r.key, person, created: created.has(person.id), company: companyOf(r) };
    });
  }

  async findPeopleByEmail(emails: string[]): Promise<CrmPerson[]> {
    return emails.length ? [...(await this.peopleByEmail(emails)).values()] : [];
  }

  /** The installation's eligibility properties (a portal's own NPS property), read with every company. */
  private async mappedCompanyProperties(): Promise<readonly string[]> {
    return (await this.session.eligibilityFields?.()) ?? [];
  }

  private async companyProperties(): Promise<string[]> {
    return unique([...COMPANY_PROPERTIES, ...(await this.mappedCompanyProperties())]);
  }

  async closedWonDeals(range: { from: string; to: string }): Promise<CrmClosedDeal[]> {
    // One search per calendar month of the range: a search pages through at most 10,000 results
    // (https://developers.hubspot.com/docs/api/crm/search). closedate is a datetime, so each window
    // covers its days whole, in milliseconds since the epoch.
    const deals: HsObject[] = [];
    for (const window of monthWindows(range.from, range.to)) {
      deals.push(
        ...(await this.searchAll('deals', {
          filterGroups: [
            {
              filters: [
                { propertyName: 'hs_is_closed_won', operator: 'EQ', value: 'true' },
                { propertyName: 'closedate', operator: 'BETWEEN', value: String(window.fromMs), highValue: String(window.toMs) },
              ],
            },
          ],
          sorts: [{ propertyName: 'closedate', direction: 'ASCENDING' }],
          properties: ['pipeline', 'createdate', 'closedate'],
        })),
      );
    }
    return deals.flatMap((deal) => {
      const { pipeline, createdate, closedate } = deal.properties;
      if (!createdate || !closedate) return [];
      return [
        {
          id: deal.id,
          pipelineId: pipeline ?? 'default',
          createdAt: new Date(toEpochMs(createdate)).toISOString(),
          closeDate: new Date(toEpochMs(closedate)).toISOString().slice(0, 10),
        },
      ];
    });
  }

  async countCustomerAccounts(): Promise<number> {
    // One search call with the smallest page: HubSpot's `total` counts every match.
    const reply = await this.request<SearchBody>(
      'POST',
      paths.search('companies'),
      {
        filterGroups: [{ filters: [{ propertyName: 'lifecyclestage', operator: 'EQ', value: 'customer' }] }],
        properties: ['lifecyclestage'],
        limit: 1,
      },
      'search',
    );
    return reply.body.total ?? reply.body.results.length;
  }

  async describeAccountFields(): Promise<CrmAccountField[]> {
    const { body } = await this.request<{ results: HsProperty[] }>('GET', paths.properties('companies'));
    return body.results.map(toAccountField);
  }

  async findCompaniesByDomain(domains: string[]): Promise<CrmCompany[]> {
    const wanted = unique(domains.map(normalizeDomain).filter(Boolean));
    const found: HsObject[] = [];
    for (const chunk of chunks(wanted, SEARCH_IN_VALUES)) {
      found.push(
        ...(await this.searchAll('companies', {
          // IN values must be lowercase (https://developers.hubspot.com/docs/api/crm/search); normalizeDomain lowercases.
          filterGroups: [{ filters: [{ propertyName: 'domain', operator: 'IN', values: chunk }] }],
          sorts: [],
          properties: await this.companyProperties(),
        })),
      );
    }
    const mapped = await this.mappedCompanyProperties();
    return [...new Map(found.map((c) => [c.id, toCompany(c, mapped)])).values()];
  }

  async getPeople(objectType: 'contact' | 'lead', ids: string[]): Promise<{ records: CrmPerson[]; gone: CrmGone[] }> {
    if (objectType !== 'contact')
      throw new CrmError('invalid', 'HubSpot has no lead records in Referloop; ask for contacts', { retryable: false });
    const { records } = await this.readBatch('contacts', ids, CONTACT_PROPERTIES);
    const companies = await this.associated('contacts', 'companies', unique(records.map((r) => r.id)));
    const byId = new Map(records.map((r) => [r.id, r]));
    const people: CrmPerson[] = [];
    const gone: CrmGone[] = [];
    for (const id of unique(ids)) {
      const direct = byId.get(id);
      // A merged-away id reads as the surviving contact, which lists it in hs_merged_object_ids.
      const winner = direct ?? records.find((r) => mergedIds(r).includes(id));
      if (!winner) gone.push({ objectType: 'contact', id });
      else if (direct) people.push(toPerson(direct, companies.get(id) ?? []));
      else people.push({ ...toPerson(winner, companies.get(winner.id) ?? []), id, mergedIntoId: winner.id });
    }
    return { records: people, gone };
  }

  async getCompanies(ids: string[]): Promise<{ records: CrmCompany[]; gone: CrmGone[] }> {
    const { records } = await this.readBatch('companies', ids, await this.companyProperties());
    const byId = new Map(records.map((r) => [r.id, r]));
    const wanted = unique(ids);
    const mapped = await this.mappedCompanyProperties();
    return {
      records: wanted.flatMap((id) => (byId.has(id) ? [toCompany(byId.get(id) as HsObject, mapped)] : [])),
      gone: wanted.filter((id) => !byId.has(id)).map((id) => ({ objectType: 'company', id })),
    };
  }

  async getDeals(ids: string[]): Promise<{ records: CrmDeal[]; gone: CrmGone[] }> {
    const wanted = unique(ids);
    const sourceProperties = [DEAL_SOURCE_PROPERTY, ...((await this.session.dealSourceFields?.()) ?? [])];
    const { records } = await this.readBatch('deals', wanted, [...new Set([...DEAL_PROPERTIES, ...sourceProperties])]);
    const deals = records.filter((r) => wanted.includes(r.id));
    const dealIds = deals.map((d) => d.id);
    const [contacts, companies, stages] = await Promise.all([
      this.associated('deals', 'contacts', dealIds),
      this.associated('deals', 'companies', dealIds),
      this.stageIndex(deals),
    ]);
    const found = new Set(dealIds);
    // A deal without a currency code is in the portal's company currency, whatever it is.
    const defaultCurrency = deals.some((d) => !d.properties.deal_currency_code)
      ? await this.companyCurrency()
      : this.options.defaultCurrency;
    return {
      records: deals.map((deal) =>
        toDeal(deal, {
          stage: stages.get(stageKey(deal.properties.pipeline ?? 'default', deal.properties.dealstage ?? '')),
          contactIds: contacts.get(deal.id) ?? [],
          companyIds: companies.get(deal.id) ?? [],
          defaultCurrency,
          sourceProperties,
        }),
      ),
      gone: wanted.filter((id) => !found.has(id)).map((id) => ({ objectType: 'deal', id })),
    };
  }

  async findDealIdsFor(refs: { contactIds: string[]; companyIds: string[] }): Promise<string[]> {
    const [viaContacts, viaCompanies] = await Promise.all([
      this.associated('contacts', 'deals', refs.contactIds),
      this.associated('companies', 'deals', refs.companyIds),
    ]);
    return unique([...viaContacts.values(), ...viaCompanies.values()].flat());
  }

  /**
   * One search page per call, contacts then companies then deals, each by its modified-date
   * property ≥ the last round's newest (so nothing at the boundary millisecond is skipped; the
   * repeats are harmless), restarting a query before HubSpot's 10,000-result cap.
   */
  async changedSince(cursor: string | null, since: Date): Promise<ChangedRecords> {
    const state: Cursor = cursor
      ? decodeCursor(cursor)
      : { phase: 0, from: [0, 0, 0].map(() => since.getTime()), max: [0, 0, 0].map(() => since.getTime()), after: null, offset: 0 };
    const records: ChangedRecords['records'] = [];
    while (state.phase < CHANGE_TYPES.length && !records.length) {
      const type = CHANGE_TYPES[state.phase] as (typeof CHANGE_TYPES)[number];
      const property = MODIFIED_PROPERTY[type];
      const page = await this.search(
        type,
        {
          filterGroups: [{ filters: [{ propertyName: property, operator: 'GTE', value: String(state.from[state.phase]) }] }],
          sorts: [{ propertyName: property, direction: 'ASCENDING' }],
          properties: [property],
        },
        state.after,
      );
      for (const record of page.results) {
        const modifiedAt = new Date(record.properties[property] ?? record.updatedAt ?? 0);
        records.push({ objectType: CHANGE_OBJECT[type], id: record.id, modifiedAt: modifiedAt.toISOString() });
        state.max[state.phase] = Math.max(state.max[state.phase] ?? 0, modifiedAt.getTime());
      }
      state.offset += page.results.length;
      if (!page.after) {
        state.phase += 1;
        state.after = null;
        state.offset = 0;
      } else if (state.offset + SEARCH_PAGE_SIZE > SEARCH_RESULT_CAP) {
        const max = state.max[state.phase] ?? 0;
        // Over 10,000 records in one millisecond cannot page; move past it rather than loop forever.
        state.from[state.phase] = max === state.from[state.phase] ? max + 1 : max;
        state.after = null;
        state.offset = 0;
      } else {
        state.after = page.after;
      }
    }
    const done = state.phase >= CHANGE_TYPES.length;
    const next: Cursor = done ? { phase: 0, from: [...state.max], max: [...state.max], after: null, offset: 0 } : state;
    return { records, nextCursor: encodeCursor(next), hasMore: !done };
  }

  async write(writes: CrmWrite[]): Promise<WriteOutcome[]> {
    const outcomes: WriteOutcome[] = writes.map((_, index) => ({ index, ok: false }));
    // HubSpot refuses duplicate ids in one batch, so writes to one record are merged (later fields win).
    const groups = new Map<HsUpdate['objectType'], Map<string, { properties: Record<string, string>; indices: number[] }>>();
    writes.forEach((write, index) => {
      const update = toUpdate(write);
      if (update instanceof CrmError) {
        outcomes[index] = { index, ok: false, error: update };
        return;
      }
      const byId = groups.get(update.objectType) ?? new Map();
      groups.set(update.objectType, byId);
      const entry = byId.get(update.id) ?? { properties: {}, indices: [] };
      byId.set(update.id, { properties: { ...entry.properties, ...update.properties }, indices: [...entry.indices, index] });
    });

    for (const [objectType, byId] of groups) {
      for (const chunk of chunks([...byId.entries()], BATCH_SIZE)) {
        const settle = (id: string, error?: CrmError) => {
          for (const index of byId.get(id)?.indices ?? []) outcomes[index] = error ? { index, ok: false, error } : { index, ok: true };
        };
        let body: BatchBody<HsObject>;
        try {
          // https://developers.hubspot.com/docs/api/crm/contacts (batch update; 207 on partial failure)
          body = (
            await this.request<BatchBody<HsObject>>('POST', paths.batch(objectType, 'update'), {
              inputs: chunk.map(([id, { properties }]) => ({ id, properties })),
            })
          ).body;
        } catch (error) {
          // A refused batch (validation, missing record) is an outcome for its items; the rest is for the worker.
          if (!(error instanceof CrmError && ['invalid', 'not_found', 'conflict'].includes(error.code))) throw error;
          for (const [id] of chunk) settle(id, error);
          continue;
        }
        const failed = new Map<string, CrmError>();
        for (const failure of body.errors ?? []) {
          for (const id of batchErrorIds(failure)) failed.set(id, fromBatchError(failure, `HubSpot update ${objectType} ${id}`));
        }
        const updated = new Set(body.results.map((r) => r.id));
        for (const [id] of chunk) {
          settle(
            id,
            updated.has(id)
              ? undefined
              : (failed.get(id) ??
                  new CrmError('unavailable', `HubSpot did not confirm the update of ${objectType} ${id}`, { retryable: true })),
          );
        }
      }
    }
    return outcomes;
  }

  /**
   * Idempotent through the note itself: its body ends with a marker derived from the key, and the
   * contact's notes (associations v4 + batch read, both read-after-write consistent, unlike
   * search) are checked for it before creating.
   */
  async addTimelineNote(note: TimelineNote): Promise<void> {
    if (note.person.objectType !== 'contact') throw new CrmError('invalid', 'HubSpot notes go on contacts', { retryable: false });
    const contactId = note.person.id;
    const marker = `Referloop ref ${createHash('sha256').update(note.idempotencyKey).digest('hex').slice(0, 24)}`;
    const noteIds = (await this.associated('contacts', 'notes', [contactId])).get(contactId) ?? [];
    const { records } = await this.readBatch('notes', noteIds, ['hs_note_body']);
    if (records.some((n) => (n.properties.hs_note_body ?? '').includes(marker))) return;
    const html = [note.title, ...note.body.split('\n')].map((line, i) =>
      i === 0 ? `<p><strong>${escapeHtml(line)}</strong></p>` : `<p>${escapeHtml(line)}</p>`,
    );
    // https://developers.hubspot.com/docs/api/crm/notes (create with an association to the contact)
    await this.request('POST', paths.object('notes'), {
      properties: { hs_timestamp: new Date().toISOString(), hs_note_body: [...html, `<p>${marker}</p>`].join('') },
      associations: [{ to: { id: contactId }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: NOTE_TO_CONTACT }] }],
    });
  }

  async addCompanyNote(note: CompanyNote): Promise<void> {
    const marker = `Referloop ref ${createHash('sha256').update(note.idempotencyKey).digest('hex').slice(0, 24)}`;
    const noteIds = (await this.associated('companies', 'notes', [note.companyId])).get(note.companyId) ?? [];
    const { records } = await this.readBatch('notes', noteIds, ['hs_note_body']);
    if (records.some((n) => (n.properties.hs_note_body ?? '').includes(marker))) return;
    const html = [
      `<p><strong>${escapeHtml(note.title)}</strong></p>`,
      ...note.body.split('\n').map((line) => `<p>${escapeHtml(line)}</p>`),
    ];
    // https://developers.hubspot.com/docs/api/crm/notes (create with an association to the company)
    await this.request('POST', paths.object('notes'), {
      properties: { hs_timestamp: new Date().toISOString(), hs_note_body: [...html, `<p>${marker}</p>`].join('') },
      associations: [
        { to: { id: note.companyId }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: NOTE_TO_COMPANY }] },
      ],
    });
  }

  /** The contact whose company association carries the Primary label, else the first associated one. */
  async primaryContact(companyId: string): Promise<CrmPerson | null> {
    let first: string | undefined;
    let primary: string | undefined;
    // The label may sit on any page of a large company's contacts.
    for (let after: string | undefined, more = true; more && !primary; ) {
      // https://developers.hubspot.com/docs/api/crm/associations (v4 batch read, with association types)
      const reply = await this.request<AssociationsBody>('POST', paths.associationsRead('companies', 'contacts'), {
        inputs: [{ id: companyId, ...(after ? { after } : {}) }],
      });
      const result = reply.body.results.find((r) => r.from.id === companyId);
      const links = result?.to ?? [];
      first ??= links[0] && String(links[0].toObjectId);
      const labelled = links.find((l) =>
        l.associationTypes?.some((t) => t.category === 'HUBSPOT_DEFINED' && t.typeId === COMPANY_TO_PRIMARY_CONTACT),
      );
      primary = labelled && String(labelled.toObjectId);
      after = result?.paging?.next?.after;
      more = after !== undefined;
    }
    const chosen = primary ?? first;
    if (!chosen) return null;
    const { records } = await this.getPeople('contact', [chosen]);
    return records[0] ?? null;
  }

  /** The owners API has no batch read; internal notices name few owners, each read once. */
  async ownerEmails(ownerIds: string[]): Promise<Record<string, { email: string; name: string | null }>> {
    const owners: Record<string, { email: string; name: string | null }> = {};
    for (const ownerId of [...new Set(ownerIds)]) {
      try {
        // https://developers.hubspot.com/docs/api/crm/owners
        const { body } = await this.request<{ email?: string; firstName?: string; lastName?: string }>('GET', paths.owner(ownerId));
        const name = [body.firstName, body.lastName].filter(Boolean).join(' ') || null;
        if (body.email) owners[ownerId] = { email: body.email, name };
      } catch (error) {
        if (!(error instanceof CrmError && error.code === 'not_found')) throw error;
      }
    }
    return owners;
  }

  /** The portal's company currency (account details need no extra scope); the configured default when it names none. */
  private async companyCurrency(): Promise<string> {
    const cached = companyCurrencies.get(this.session.accountId);
    if (cached && Date.now() - cached.at < COMPANY_CURRENCY_CACHE_MS) return cached.currency;
    // https://developers.hubspot.com/docs/api-reference/legacy/account/account-information/get-account-details
    const { body } = await this.request<AccountDetailsBody>('GET', paths.accountDetails);
    const currency = body.companyCurrency && /^[A-Z]{3}$/.test(body.companyCurrency) ? body.companyCurrency : this.options.defaultCurrency;
    companyCurrencies.set(this.session.accountId, { at: Date.now(), currency });
    return currency;
  }

  async currencies(): Promise<CrmCurrencies> {
    const companyCurrency = await this.companyCurrency();
    const rows: ExchangeRatesBody['results'] = [];
    let after: string | undefined;
    try {
      do {
        // https://developers.hubspot.com/docs/api-reference/legacy/account/settings/multicurrency/exchange-rates/get-exchange-rates
        const query = after ? `?after=${encodeURIComponent(after)}` : '';
        const { body } = await this.request<ExchangeRatesBody>('GET', `${paths.exchangeRates}${query}`);
        rows.push(...body.results);
        after = body.paging?.next?.after;
      } while (after);
    } catch (error) {
      // The scope is optional: without it the company currency still holds, and other currencies wait for a rate.
      if (error instanceof CrmError && error.options.status === 403) {
        return { companyCurrency, rates: [], limitation: `the ${CURRENCIES_SCOPE} scope was not granted` };
      }
      throw error;
    }
    return { companyCurrency, rates: datedRates(rows, companyCurrency), limitation: null };
  }
}

/** HubSpot's datetimes come as epoch milliseconds or ISO text. */
function toEpochMs(value: string): number {
  return /^\d+$/.test(value) ? Number(value) : Date.parse(value);
}

/** The range's days cut at month ends, each window as epoch milliseconds from its first day's start to its last day's end. */
function monthWindows(from: string, to: string): { fromMs: number; toMs: number }[] {
  const end = Date.parse(`${to}T23:59:59.999Z`);
  const windows: { fromMs: number; toMs: number }[] = [];
  for (let start = Date.parse(`${from}T00:00:00.000Z`); start <= end; ) {
    const day = new Date(start);
    const nextMonth = Date.UTC(day.getUTCFullYear(), day.getUTCMonth() + 1, 1);
    windows.push({ fromMs: start, toMs: Math.min(end, nextMonth - 1) });
    start = nextMonth;
  }
  return windows;
}
