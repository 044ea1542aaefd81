import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_API_VERSION } from '../settings.ts';
import { SandboxOAuth, type Reply } from './oauth.ts';
import { OutboundMessenger, type DeliveredMessage } from './outbound.ts';
import { RestApi } from './rest.ts';
import { WebToLead } from './web-to-lead.ts';
import { OrgStore, SfFailure, notFound, sfDateTime, type SfRecord } from './store.ts';
import { customField, type FieldType } from './schema.ts';

export interface SalesforceSandboxOptions {
  clientId?: string;
  clientSecret?: string;
  /** Where Outbound Messages go; they queue (and are retried) until one is set. */
  outboundUrl?: string;
  orgId?: string;
  /** Highest REST version served (62.0). */
  apiVersion?: string;
  /** Daily API allocation reported in Sforce-Limit-Info (15,000, a Developer Edition). */
  dailyApiLimit?: number;
  /** First outbound retry interval; it doubles up to 64× (Salesforce: up to 2 h over 24 h). */
  outboundRetryMs?: number;
  /** How long changes gather before a notifications() call goes out (20 ms). */
  outboundBatchDelayMs?: number;
  /** Public base URL for instance_url, identity and outbound URLs. Default: `http://<Host>` + basePath (or express's req.baseUrl). */
  publicUrl?: string;
  basePath?: string;
  /** Managed-package namespace of the Referloop object and fields ('' by default). */
  namespace?: string;
  /** Records per query page before nextRecordsUrl (2000); tiny values exercise queryMore. */
  queryBatchSize?: number;
  /** Adds CurrencyIsoCode to Account and Opportunity. */
  multiCurrency?: boolean;
  /** Corporate currency (USD). */
  currency?: string;
  rotateRefreshTokens?: boolean;
  now?: () => Date;
}

export interface RequestLogEntry {
  method: string;
  /** Path below /services/data/vXX.X, e.g. `/composite/sobjects`. */
  path: string;
  status: number;
}

export interface ConvertLeadInput {
  leadId: string;
  accountId?: string;
  contactId?: string;
  createOpportunity?: boolean;
  opportunityName?: string;
  convertedStatus?: string;
}

export interface CreateOpportunityInput {
  name?: string;
  accountId?: string;
  contactIds?: string[];
  stageName?: string;
  amount?: number;
  closeDate?: string;
  currency?: string;
  fields?: Record<string, unknown>;
}

const DAY_MS = 86_400_000;
const DEFAULT_ORG_ID = '00D5g00000KqRfLEAV';
const JSON_TYPE = 'application/json;charset=UTF-8';
const STATUS_BY_FAULT: Record<string, number> = {
  INVALID_SESSION_ID: 401,
  REQUEST_LIMIT_EXCEEDED: 403,
  NOT_FOUND: 404,
  UNKNOWN_EXCEPTION: 500,
  SERVER_UNAVAILABLE: 503,
};
const FAULTS_BY_STATUS = Object.fromEntries(Object.entries(STATUS_BY_FAULT).map(([code, status]) => [status, code])) as Record<
  number,
  string
>;
/** Texts from samples/errors. */
const FAULT_MESSAGES: Record<string, string> = {
  INVALID_SESSION_ID: 'Session expired or invalid',
  REQUEST_LIMIT_EXCEEDED: 'TotalRequests Limit exceeded.',
  UNABLE_TO_LOCK_ROW: 'unable to obtain exclusive access to this record or 1 records',
  DUPLICATE_VALUE: 'duplicate value found',
  ENTITY_IS_DELETED: 'entity is deleted',
  REQUIRED_FIELD_MISSING: 'Required fields are missing: [CloseDate]',
  MALFORMED_QUERY: 'unexpected token',
  SERVER_UNAVAILABLE: 'Server unavailable',
};

/**
 * An in-memory Salesforce org: OAuth (web-server flow + PKCE, refresh, revoke, identity), the
 * REST data API Referloop uses (SOQL with paging, sObject CRUD and upsert, describe, sObject
 * Collections, Composite, limits), Outbound Messages, plus test faults and sales-team actions.
 */
export function createSalesforceSandbox(options: SalesforceSandboxOptions = {}) {
  const apiVersion = options.apiVersion ?? DEFAULT_API_VERSION;
  const orgId = options.orgId ?? DEFAULT_ORG_ID;
  const now = options.now ?? (() => new Date());
  const namespace = options.namespace ?? '';
  const store = new OrgStore({ namespace, multiCurrency: options.multiCurrency ?? false, currency: options.currency ?? 'USD', orgId, now });
  const usage = { used: 0, limit: options.dailyApiLimit ?? 15_000 };
  const requests: RequestLogEntry[] = [];
  const injected: { errorCode: string; status: number; remaining: number; method?: string; path?: string }[] = [];
  /** What the soak reads: REQUEST_LIMIT_EXCEEDED answers that were real, and the faults made up by `failAtRandom`. */
  const stats = { rateLimitBreaches: 0, injectedFaults: 0 };
  let randomFaultShare = 0;
  const recordFaults: string[] = [];
  let listenUrl: string | undefined;
  let lastSeenBase: string | undefined;
  let server: Server | undefined;

  const instanceUrl = () => options.publicUrl ?? listenUrl ?? lastSeenBase ?? 'http://127.0.0.1';
  const oauth = new SandboxOAuth({
    clientId: options.clientId ?? 'sandbox-client-id',
    clientSecret: options.clientSecret ?? 'sandbox-client-secret',
    orgId,
    userId: () => store.userId,
    users: () =>
      store
        .rows('User')
        .map((u) => ({ id: u.Id as string, name: u.Name as string, email: u.Email as string, username: u.Username as string })),
    rotateRefreshTokens: options.rotateRefreshTokens ?? false,
  });
  const rest = new RestApi({
    store,
    batchSize: options.queryBatchSize ?? 2_000,
    apiUsage: () => usage,
    identityUrl: () => `${instanceUrl()}/id/${orgId}/${store.userId}`,
    nextRecordFault: () => recordFaults.shift(),
  });
  const outbound = new OutboundMessenger({
    store,
    orgId,
    apiVersion,
    namespace,
    instanceUrl,
    url: options.outboundUrl,
    retryMs: options.outboundRetryMs ?? 1_000,
    batchDelayMs: options.outboundBatchDelayMs ?? 20,
  });

  const webToLead = new WebToLead({ store, orgId, insertLead: (fields) => void commit(() => store.insert('Lead', fields)) });

  /** Runs a change as one transaction; committed changes fire Outbound Messages. */
  function commit<T>(change: () => T): T {
    const restore = store.snapshot();
    try {
      return change();
    } catch (err) {
      restore();
      throw err;
    } finally {
      outbound.enqueue(store.drainChanges());
    }
  }

  const today = (offsetDays = 0) => sfDateTime(new Date(now().getTime() + offsetDays * DAY_MS)).slice(0, 10);

  /** What Setup → Manage Currencies accepts: an ISO 4217 code and a positive rate Salesforce can store (18 digits, 6 decimals). */
  const knownCurrencies = new Set(Intl.supportedValuesOf('currency'));
  const checkRate = (input: { isoCode: string; conversionRate: number }): void => {
    if (!knownCurrencies.has(input.isoCode)) {
      throw new SfFailure(
        'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST',
        `Currency ISO Code: bad value for restricted picklist field: ${input.isoCode}`,
        400,
        ['IsoCode'],
      );
    }
    if (!(input.conversionRate > 0) || input.conversionRate >= 1e12 || !/^\d+(\.\d{1,6})?$/.test(String(input.conversionRate))) {
      throw new SfFailure(
        'FIELD_INTEGRITY_EXCEPTION',
        `Conversion Rate: must be positive with at most 6 decimals, got ${input.conversionRate}`,
        400,
        ['ConversionRate'],
      );
    }
  };

  const actions = {
    createAccount: (fields: Record<string, unknown>): SfRecord => commit(() => store.insert('Account', fields)),
    createContact: (fields: Record<string, unknown>): SfRecord => commit(() => store.insert('Contact', fields)),
    createLead: (fields: Record<string, unknown>): SfRecord => commit(() => store.insert('Lead', fields)),
    /** Salesforce converts leads through SOAP/Apex convertLead(); there is no REST resource. */
    convertLead: (input: ConvertLeadInput) =>
      commit(() => {
        const lead = store.get('Lead', input.leadId);
        if (!lead || lead.IsDeleted === true) throw notFound();
        if (lead.IsConverted === true) throw new SfFailure('CANNOT_UPDATE_CONVERTED_LEAD', 'This lead was already converted');
        const system = { system: true };
        const accountId = input.accountId ?? (store.insert('Account', { Name: lead.Company, Website: lead.Website }, system).Id as string);
        const contactFields = {
          FirstName: lead.FirstName,
          LastName: lead.LastName,
          Email: lead.Email,
          AccountId: accountId,
          LeadSource: lead.LeadSource,
        };
        const contactId = input.contactId ?? (store.insert('Contact', contactFields, system).Id as string);
        let opportunityId: string | null = null;
        if (input.createOpportunity ?? true) {
          opportunityId = store.insert(
            'Opportunity',
            {
              Name: input.opportunityName ?? `${String(lead.Company)}-`,
              AccountId: accountId,
              ContactId: contactId,
              StageName: store.rows('OpportunityStage').find((s) => s.SortOrder === 1)?.ApiName,
              CloseDate: today(30),
              LeadSource: lead.LeadSource,
            },
            system,
          ).Id as string;
          store.insert('OpportunityContactRole', { OpportunityId: opportunityId, ContactId: contactId, IsPrimary: true }, system);
        }
        store.update(
          'Lead',
          input.leadId,
          {
            IsConverted: true,
            ConvertedDate: today(),
            ConvertedAccountId: accountId,
            ConvertedContactId: contactId,
            ConvertedOpportunityId: opportunityId,
            Status: input.convertedStatus ?? 'Closed - Converted',
          },
          system,
        );
        return { accountId, contactId, opportunityId };
      }),
    /** An opportunity with contact roles (the first one primary), as a rep would create it. */
    createOpportunity: (input: CreateOpportunityInput) =>
      commit(() => {
        const opportunity = store.insert('Opportunity', {
          Name: input.name ?? 'New Opportunity',
          AccountId: input.accountId,
          StageName: input.stageName ?? 'Prospecting',
          Amount: input.amount,
          CloseDate: input.closeDate ?? today(30),
          ...(input.currency ? { CurrencyIsoCode: input.currency } : {}),
          ...input.fields,
        });
        const contactRoleIds = (input.contactIds ?? []).map((contactId, i) => {
          const role = { OpportunityId: opportunity.Id, ContactId: contactId, IsPrimary: i === 0, Role: 'Decision Maker' };
          return store.insert('OpportunityContactRole', role).Id as string;
        });
        return { opportunityId: opportunity.Id as string, contactRoleIds };
      }),
    moveStage: (input: { opportunityId: string; stageName: string }): SfRecord =>
      commit(() => store.update('Opportunity', input.opportunityId, { StageName: input.stageName })),
    updateRecord: (input: { sobject: string; id: string; fields: Record<string, unknown> }): SfRecord =>
      commit(() => store.update(input.sobject, input.id, input.fields)),
    deleteRecord: (input: { sobject: string; id: string }): void => commit(() => store.delete(input.sobject, input.id)),
    /** Setup → Object Manager → Fields & Relationships → New: a custom field, from then on in describe, SOQL and writes. */
    addCustomField: (input: { sobject: string; name: string; type: FieldType; label?: string; picklistValues?: string[] }): void => {
      if (!input.name.endsWith('__c')) throw new Error(`custom field names end in __c: ${input.name}`);
      store.addField(input.sobject, customField(input.name, input.type, input));
    },
    /** Setup → Manage Currencies: an active currency with its rate against the corporate one (units per corporate unit). */
    addCurrency: (input: { isoCode: string; conversionRate: number }): SfRecord =>
      commit(() => {
        checkRate(input);
        const fields = {
          IsoCode: input.isoCode,
          ConversionRate: input.conversionRate,
          DecimalPlaces: 2,
          IsActive: true,
          IsCorporate: false,
        };
        return store.insert('CurrencyType', fields, { system: true });
      }),
    /**
     * Advanced currency management: a rate from `startDate` on. The rate in force before it now ends
     * there (its NextStartDate); the last one runs to 9999-12-31, as Salesforce shows it.
     */
    addDatedRate: (input: { isoCode: string; conversionRate: number; startDate: string }): SfRecord =>
      commit(() => {
        checkRate(input);
        if (!/^\d{4}-\d{2}-\d{2}$/.test(input.startDate))
          throw new SfFailure('INVALID_TYPE_ON_FIELD_IN_RECORD', 'Start Date: value not of required type', 400, ['StartDate']);
        const periods = store.rows('DatedConversionRate').filter((r) => r.IsoCode === input.isoCode);
        const later = periods
          .filter((r) => String(r.StartDate) > input.startDate)
          .sort((a, b) => String(a.StartDate).localeCompare(String(b.StartDate)));
        const before = periods.find((r) => String(r.StartDate) < input.startDate && String(r.NextStartDate) > input.startDate);
        if (before) store.update('DatedConversionRate', String(before.Id), { NextStartDate: input.startDate }, { system: true });
        const fields = {
          IsoCode: input.isoCode,
          ConversionRate: input.conversionRate,
          StartDate: input.startDate,
          NextStartDate: later[0]?.StartDate ?? '9999-12-31',
        };
        return store.insert('DatedConversionRate', fields, { system: true });
      }),
  };

  const faults = {
    /** Every access token answers 401 INVALID_SESSION_ID; the refresh grant still works. */
    expireAccessTokens: () => oauth.expireAccessTokens(),
    /** Refresh tokens answer invalid_grant, and their access tokens stop working. */
    revokeRefreshTokens: () => oauth.revokeRefreshTokens(),
    /** The next `count` REST calls (optionally only those matching) fail with this errorCode or HTTP status. */
    failNext: (codeOrStatus: string | number, count = 1, match: { method?: string; path?: string } = {}) => {
      const errorCode = typeof codeOrStatus === 'number' ? (FAULTS_BY_STATUS[codeOrStatus] ?? `ERROR_HTTP_${codeOrStatus}`) : codeOrStatus;
      const status = typeof codeOrStatus === 'number' ? codeOrStatus : (STATUS_BY_FAULT[codeOrStatus] ?? 400);
      injected.push({ errorCode, status, remaining: count, ...match });
    },
    /**
     * From now on `share` of the REST calls fail at random with 503 SERVER_UNAVAILABLE or 500
     * UNKNOWN_EXCEPTION (what a busy instance answers), labelled `x-sandbox-injected-fault: 1`; 0 stops it.
     */
    failAtRandom: (share: number) => {
      if (!(share >= 0 && share <= 1)) throw new RangeError(`failAtRandom takes a share from 0 to 1, not ${share}`);
      randomFaultShare = share;
    },
    /** The next `count` records in sObject Collections fail with this statusCode (e.g. UNABLE_TO_LOCK_ROW). */
    failNextRecords: (statusCode: string, count = 1) => recordFaults.push(...Array<string>(count).fill(statusCode)),
    /** The next `n` outbound messages are lost (never delivered, as after 24 h of failures). */
    dropNextOutbound: (n = 1) => {
      outbound.drop += n;
    },
    duplicateOutbound: (on = true) => {
      outbound.duplicate = on;
    },
    /** Messages of one flush go out last-first, notifications reversed. */
    reorderOutbound: (on = true) => {
      outbound.reorder = on;
    },
    setApiUsage: (used: number, limit?: number) => {
      usage.used = used;
      if (limit !== undefined) usage.limit = limit;
    },
    /** As if the field were not deployed or not visible to the user: gone from describe, SOQL and writes. */
    removeField: (sobject: string, field: string) => store.removeField(sobject, field),
  };

  function takeFault(method: string, path: string): Reply | undefined {
    const fault = injected.find((f) => (!f.method || f.method.toUpperCase() === method) && (!f.path || path.includes(f.path)));
    if (!fault) return randomFault();
    fault.remaining -= 1;
    if (fault.remaining <= 0) injected.splice(injected.indexOf(fault), 1);
    const message = FAULT_MESSAGES[fault.errorCode] ?? `${fault.errorCode} (injected by the sandbox)`;
    return { status: fault.status, body: [{ message, errorCode: fault.errorCode }] };
  }

  function randomFault(): Reply | undefined {
    if (randomFaultShare === 0 || Math.random() >= randomFaultShare) return undefined;
    stats.injectedFaults += 1;
    const errorCode = Math.random() < 0.5 ? 'SERVER_UNAVAILABLE' : 'UNKNOWN_EXCEPTION';
    return {
      status: STATUS_BY_FAULT[errorCode]!,
      headers: { 'x-sandbox-injected-fault': '1' },
      body: [{ message: `${FAULT_MESSAGES[errorCode] ?? errorCode} (injected by the sandbox)`, errorCode }],
    };
  }

  async function dataApi(req: IncomingMessage, version: string, path: string, search: URLSearchParams): Promise<Reply> {
    const method = (req.method ?? 'GET').toUpperCase();
    const reply = await dataReply(req, method, version, path, search);
    requests.push({ method, path, status: reply.status });
    return reply;
  }

  async function dataReply(req: IncomingMessage, method: string, version: string, path: string, search: URLSearchParams): Promise<Reply> {
    if (Number(version) > Number(apiVersion) || Number(version) < 20) return { status: 404, body: notFound().body() };
    const token = /^(?:Bearer|OAuth) (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token || !oauth.isValidAccessToken(token)) {
      return { status: 401, body: [{ message: FAULT_MESSAGES.INVALID_SESSION_ID, errorCode: 'INVALID_SESSION_ID' }] };
    }
    const limitInfo = () => ({ 'Sforce-Limit-Info': `api-usage=${usage.used}/${usage.limit}` });
    if (usage.used >= usage.limit) {
      stats.rateLimitBreaches += 1;
      return {
        status: 403,
        body: [{ message: FAULT_MESSAGES.REQUEST_LIMIT_EXCEEDED, errorCode: 'REQUEST_LIMIT_EXCEEDED' }],
        headers: limitInfo(),
      };
    }
    usage.used += 1;
    if (path === '/tooling/query' && method === 'GET') return { ...webToLead.toolingQuery(search.get('q')), headers: limitInfo() };
    let reply = takeFault(method, path);
    if (!reply) {
      const text = await readBody(req);
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch (err) {
        return { status: 400, body: [{ message: (err as Error).message, errorCode: 'JSON_PARSER_ERROR' }], headers: limitInfo() };
      }
      reply = commit(() => rest.dispatch(method, version, path, search, body));
    }
    return { ...reply, headers: { ...reply.headers, ...limitInfo() } };
  }

  async function sandboxApi(req: IncomingMessage, path: string): Promise<Reply> {
    const [, kind, name] = path.split('/').filter(Boolean);
    if (req.method === 'GET' && kind === 'state') {
      return { status: 200, body: { orgId, userId: store.userId, apiUsage: usage, requests: requests.length, outbound: outboundState() } };
    }
    if (req.method === 'GET' && kind === 'records' && name) return { status: 200, body: store.rows(name) };
    const text = await readBody(req);
    const input = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
    try {
      if (kind === 'actions' && name && Object.hasOwn(actions, name)) {
        return { status: 200, body: (actions[name as keyof typeof actions] as (i: unknown) => unknown)(input) ?? null };
      }
      if (kind === 'faults' && name && Object.hasOwn(faults, name)) {
        (faults[name as keyof typeof faults] as (...args: unknown[]) => unknown)(...((input.args as unknown[]) ?? []));
        return { status: 204 };
      }
    } catch (err) {
      if (err instanceof SfFailure) return { status: err.status, body: err.body() };
      if (err instanceof RangeError) return { status: 400, body: [{ message: err.message, errorCode: 'INVALID_INPUT' }] };
      throw err;
    }
    return { status: 404, body: notFound().body() };
  }

  const outboundState = () => ({
    delivered: outbound.delivered.length,
    dropped: outbound.dropped,
    failedAttempts: outbound.failedAttempts,
    pending: outbound.pendingCount(),
  });

  async function route(req: IncomingMessage): Promise<Reply> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const base =
      options.publicUrl ?? `http://${req.headers.host ?? '127.0.0.1'}${options.basePath ?? (req as { baseUrl?: string }).baseUrl ?? ''}`;
    lastSeenBase = base;
    const path = url.pathname;
    const data = /^\/services\/data\/v(\d+\.\d+)(\/.*)?$/.exec(path);
    if (data) return dataApi(req, data[1] as string, data[2] ?? '', url.searchParams);
    if (path === '/services/data' || path === '/services/data/') {
      return { status: 200, body: [{ label: 'Sandbox', url: `/services/data/v${apiVersion}`, version: apiVersion }] };
    }
    if (path === '/services/oauth2/authorize' && req.method === 'GET') return oauth.authorize(url.searchParams);
    if (path === '/services/oauth2/token' && req.method === 'POST') {
      return oauth.token(new URLSearchParams(await readBody(req)), req.headers.authorization, base);
    }
    if (path === '/services/oauth2/revoke' && req.method === 'POST') return oauth.revoke(new URLSearchParams(await readBody(req)));
    if (/^\/id\/[^/]+\/[^/]+$/.test(path) && req.method === 'GET') {
      const token = /^(?:Bearer|OAuth) (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? url.searchParams.get('oauth_token') ?? '';
      return oauth.identity(token, base, `${base}/services/data/v${apiVersion}`);
    }
    if (path === '/services/oauth2/userinfo' && req.method === 'GET') {
      return oauth.userinfo(/^(?:Bearer|OAuth) (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '', base);
    }
    if (path === '/servlet/servlet.WebToLead' && req.method === 'POST') return webToLead.submit(new URLSearchParams(await readBody(req)));
    if (path.startsWith('/_sandbox/')) return sandboxApi(req, path);
    return { status: 404, body: notFound().body() };
  }

  /** Mountable: `app.use('/sandbox/salesforce', sandbox.handler)` (before any body parser). */
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    route(req).then(
      (reply) => send(res, reply),
      (err: unknown) => send(res, { status: 500, body: [{ message: String(err), errorCode: 'UNKNOWN_EXCEPTION' }] }),
    );
  };

  return {
    handler,
    async listen(port = 0): Promise<{ url: string }> {
      server = createServer(handler);
      const s = server;
      await new Promise<void>((resolve) => s.listen(port, '127.0.0.1', resolve));
      listenUrl = `http://127.0.0.1:${(s.address() as AddressInfo).port}${options.basePath ?? ''}`;
      return { url: listenUrl };
    },
    async close(): Promise<void> {
      outbound.close();
      const s = server;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    setOutboundUrl: (url: string) => outbound.setUrl(url),
    /** Resolves once every queued notification was acknowledged or given up on. */
    async outboundSettled(timeoutMs = 10_000): Promise<void> {
      const until = Date.now() + timeoutMs;
      while (!outbound.isIdle()) {
        if (Date.now() > until) throw new Error(`outbound messages still pending after ${timeoutMs} ms`);
        await sleep(5);
      }
    },
    /** An access token with no refresh token, as a private-app `connect` would use. */
    issueAccessToken: () => oauth.issueAccessToken(),
    faults,
    actions,
    stats,
    state: {
      orgId,
      get userId() {
        return store.userId;
      },
      apiUsage: usage,
      requests,
      instanceUrl,
      records: (sobject: string): SfRecord[] => store.rows(sobject),
      record: (sobject: string, id: string): SfRecord | undefined => store.get(sobject, id),
      outbound: {
        delivered: outbound.delivered as readonly DeliveredMessage[],
        counts: outboundState,
      },
    },
  };
}

export type SalesforceSandbox = ReturnType<typeof createSalesforceSandbox>;

/** Reads the body, or takes what an outer body parser already read. */
async function readBody(req: IncomingMessage): Promise<string> {
  const parsed = (req as { body?: unknown }).body;
  if (req.readableEnded && parsed !== undefined) {
    if (typeof parsed === 'string') return parsed;
    if (Buffer.isBuffer(parsed)) return parsed.toString('utf8');
    const form = (req.headers['content-type'] ?? '').includes('x-www-form-urlencoded');
    return form ? new URLSearchParams(parsed as Record<string, string>).toString() : JSON.stringify(parsed);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { ...reply.headers };
  let payload: string | undefined;
  if (typeof reply.body === 'string') {
    payload = reply.body;
    headers['content-type'] ??= 'text/plain;charset=UTF-8';
  } else if (reply.body !== undefined) {
    payload = JSON.stringify(reply.body);
    headers['content-type'] ??= JSON_TYPE;
  }
  res.writeHead(reply.status, headers);
  res.end(payload);
}
