import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SandboxAuth } from './auth.ts';
import type { ObjectName } from './defaults.ts';
import { HttpError, hubspotError, invalid, isRecord, notFound, parseJson, readBody, standardError } from './http.ts';
import { CrmModel, objectName, SINGULAR, type StoredRecord } from './model.ts';
import { parseSearch, runSearch } from './search.ts';
import { DEFAULT_SUBSCRIPTIONS, WebhookDispatcher, type Subscription } from './webhooks.ts';

/**
 * A HubSpot portal in memory, over real HTTP: the CRM v3/v4 paths @hubspot/api-client 13.5 calls,
 * OAuth, rate limits and signed webhooks. One sandbox is one portal with one installed app.
 */

export type { ObjectName } from './defaults.ts';
export type { Delivery, Subscription } from './webhooks.ts';
export { DEFAULT_SUBSCRIPTIONS } from './webhooks.ts';

export interface HubSpotSandboxOptions {
  clientId?: string;
  clientSecret?: string;
  appId?: number | string;
  webhookUrl?: string;
  portalId?: number;
  /** The per-account API limit (default HubSpot's 110 per 10 s for OAuth apps). */
  rateLimit?: { points: number; durationMs: number };
  /** The search limit (default 5 per second), separate from `rateLimit`. */
  searchRateLimit?: { points: number; durationMs: number };
  /** How long events gather into one batch (default 50 ms). */
  webhookBatchMs?: number;
  /** First retry delay; doubles per attempt up to 30× (default 200 ms, HubSpot spreads ten retries over a day). */
  webhookRetryMs?: number;
  shuffleWebhooks?: boolean;
  /** Default: the app manifest's subscriptions. */
  subscriptions?: Subscription[];
  accessTokenTtlSeconds?: number;
  /** Keep every request/response in `recorded` (contract tests). */
  record?: boolean;
}

export interface RecordedExchange {
  method: string;
  path: string;
  query: Record<string, string[]>;
  requestContentType: string | undefined;
  requestBody: unknown;
  status: number;
  responseBody: unknown;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface Ctx {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  raw: Buffer;
  params: string[];
}

type Access = 'read' | 'write' | 'schema-read' | 'schema-write';

/** Scopes that allow a call (any one suffices), after the security sections of the specs. */
function scopesFor(type: ObjectName, access: Access): string[] {
  // Notes are engagements: HubSpot checks the scopes of the records they hang on.
  const object = type === 'notes' ? 'contacts' : type;
  if (access === 'schema-write') return [`crm.schemas.${object}.write`];
  if (access === 'schema-read') return [`crm.objects.${object}.read`, `crm.schemas.${object}.read`];
  return [`crm.objects.${object}.${access}`];
}

/** Associated records per page of a v4 batch read (then `paging.next.after`). */
const ASSOCIATION_PAGE = 100;

class SlidingWindow {
  private hits: number[] = [];
  constructor(readonly limit: { points: number; durationMs: number }) {}
  take(now: number): number | null {
    this.hits = this.hits.filter((t) => t > now - this.limit.durationMs);
    if (this.hits.length >= this.limit.points) return null;
    this.hits.push(now);
    return this.limit.points - this.hits.length;
  }
}

const TEN_SECONDLY_BODY = {
  status: 'error',
  message: 'You have reached your ten_secondly_rolling limit.',
  errorType: 'RATE_LIMIT',
  policyName: 'TEN_SECONDLY_ROLLING',
  // Not in the documented 429 sample, but the spec's Error requires a category.
  category: 'RATE_LIMITS',
};
const SEARCH_SECONDLY_BODY = { status: 'error', message: 'You have reached your secondly limit.', errorType: 'RATE_LIMIT', category: 'RATE_LIMITS' };

function ids(inputs: unknown, field = 'id'): string[] {
  if (!Array.isArray(inputs)) throw invalid('inputs must be an array');
  if (inputs.length > 100) throw invalid(`Batch input limit is 100; got ${inputs.length} inputs`);
  return inputs.map((input) => {
    const value = isRecord(input) ? input[field] : undefined;
    if (typeof value !== 'string' && typeof value !== 'number') throw invalid(`each input needs ${field}`);
    return String(value);
  });
}

function batchInputs(body: unknown): Record<string, unknown>[] {
  const inputs = isRecord(body) ? body.inputs : undefined;
  if (!Array.isArray(inputs) || !inputs.every(isRecord)) throw invalid('inputs must be an array of objects');
  if (inputs.length > 100) throw invalid(`Batch input limit is 100; got ${inputs.length} inputs`);
  return inputs;
}

function propertyList(value: unknown): string[] | undefined {
  if (Array.isArray(value)) return value.map(String);
  return typeof value === 'string' && value ? value.split(',') : undefined;
}

const batchReply = (status: number, results: unknown[], errors: unknown[]): Reply => {
  const now = new Date().toISOString();
  const body = { status: 'COMPLETE', results, requestedAt: now, startedAt: now, completedAt: now, links: {} };
  return errors.length ? { status: 207, body: { ...body, numErrors: errors.length, errors } } : { status, body };
};

export function createHubSpotSandbox(options: HubSpotSandboxOptions = {}) {
  const clientId = options.clientId ?? 'sandbox-client-id';
  const clientSecret = options.clientSecret ?? 'sandbox-client-secret';
  const appId = Number(options.appId ?? 3145926);
  const portalId = options.portalId ?? 24681357;
  const recorded: RecordedExchange[] = [];
  const apiWindow = new SlidingWindow(options.rateLimit ?? { points: 110, durationMs: 10_000 });
  const searchWindow = new SlidingWindow(options.searchRateLimit ?? { points: 5, durationMs: 1_000 });
  const failures: { status: number; count: number; body: unknown; headers: Record<string, string>; match?: string | RegExp }[] = [];

  const webhooks = new WebhookDispatcher({
    clientSecret, appId, portalId,
    subscriptions: options.subscriptions ?? DEFAULT_SUBSCRIPTIONS,
    batchMs: options.webhookBatchMs ?? 50,
    retryBaseMs: options.webhookRetryMs ?? 200,
    shuffle: options.shuffleWebhooks ?? false,
  });
  webhooks.setUrl(options.webhookUrl);
  const model = new CrmModel((change) => webhooks.enqueue(change));
  const auth = new SandboxAuth({ clientId, clientSecret, appId, portalId, accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 1800 });

  const typeOf = (segment: string | undefined): ObjectName => {
    const type = objectName(segment ?? '');
    if (!type) throw invalid(`Unable to infer object type from: ${segment}`);
    return type;
  };
  const full = (record: StoredRecord) => model.project(record, Object.keys(record.properties));
  const lookup = (type: ObjectName, id: string, query: URLSearchParams) => {
    const record = model.findBy(type, query.get('idProperty') ?? undefined, id);
    if (!record) throw notFound(`Object not found.  objectId are usually numeric.`);
    return record;
  };

  // --- routes: [method, pattern, access (null: no bearer auth), handler] ------------------------

  type Route = [string, RegExp, ((ctx: Ctx) => string[]) | null, (ctx: Ctx) => Reply];
  const obj = (ctx: Ctx, access: Access) => scopesFor(typeOf(ctx.params[0]), access);

  const routes: Route[] = [
    // Owners — https://developers.hubspot.com/docs/api/crm/owners
    ['GET', /^\/crm\/v3\/owners\/([^/]+)$/, () => ['crm.objects.owners.read'], (ctx) => {
      const owner = owners.find((o) => o.id === ctx.params[0]);
      if (!owner) throw notFound(`Owner ${ctx.params[0]} not found`);
      return { status: 200, body: owner };
    }],
    ['GET', /^\/oauth\/authorize$/, null, (ctx) => ({ status: 302, headers: { location: auth.authorize(ctx.query) } })],
    ['POST', /^\/oauth\/v1\/token$/, null, (ctx) => ({ status: 200, body: auth.grant(new URLSearchParams(ctx.raw.toString('utf8'))) })],
    ['GET', /^\/oauth\/v1\/access-tokens\/([^/]+)$/, null, (ctx) => ({ status: 200, body: auth.accessTokenInfo(ctx.params[0] ?? '') })],
    ['GET', /^\/oauth\/v1\/refresh-tokens\/([^/]+)$/, null, (ctx) => ({ status: 200, body: auth.refreshTokenInfo(ctx.params[0] ?? '') })],
    ['DELETE', /^\/oauth\/v1\/refresh-tokens\/([^/]+)$/, null, (ctx) => {
      if (!auth.revokeRefreshToken(ctx.params[0] ?? '')) throw notFound('refresh token not found');
      return { status: 204 };
    }],

    // CRM objects v3 — https://developers.hubspot.com/docs/api/crm/understanding-the-crm
    ['POST', /^\/crm\/v3\/objects\/([^/]+)\/batch\/read$/, (c) => obj(c, 'read'), (ctx) => {
      const type = typeOf(ctx.params[0]);
      const body = isRecord(ctx.body) ? ctx.body : {};
      const wanted = ids(body.inputs);
      const idProperty = typeof body.idProperty === 'string' ? body.idProperty : undefined;
      const found = new Map<string, StoredRecord>();
      const missing: string[] = [];
      for (const id of wanted) {
        const record = model.findBy(type, idProperty, id);
        if (record) found.set(record.id, record);
        else missing.push(id);
      }
      const results = [...found.values()].map((r) => model.project(r, propertyList(body.properties)));
      const errors = missing.length ? [standardError('OBJECT_NOT_FOUND', `Could not get some ${SINGULAR[type].toUpperCase()} objects, they may be deleted or not exist. Check that ids are valid.`, { ids: missing })] : [];
      return batchReply(200, results, errors);
    }],
    ['POST', /^\/crm\/v3\/objects\/([^/]+)\/batch\/create$/, (c) => obj(c, 'write'), (ctx) => {
      const type = typeOf(ctx.params[0]);
      const inputs = batchInputs(ctx.body).map((input) => ({ properties: input.properties, associations: associationInputs(input.associations) }));
      return batchReply(201, model.createMany(type, inputs, 'API').map(full), []);
    }],
    ['POST', /^\/crm\/v3\/objects\/([^/]+)\/batch\/update$/, (c) => obj(c, 'write'), (ctx) => {
      const type = typeOf(ctx.params[0]);
      const inputs = batchInputs(ctx.body);
      const wanted = ids(inputs);
      const duplicates = wanted.filter((id, i) => wanted.indexOf(id) !== i);
      if (duplicates.length) throw invalid(`Duplicate IDs found in batch input: ${JSON.stringify(duplicates)}. IDs must be unique`);
      const targets = inputs.map((input, i) => ({ input, record: model.findBy(type, typeof input.idProperty === 'string' ? input.idProperty : undefined, wanted[i] ?? '') }));
      // All or nothing on validation, like HubSpot; missing records are reported per id.
      for (const { input, record } of targets) if (record) model.validate(type, input.properties, record);
      const results = targets.flatMap(({ input, record }) => (record ? [full(model.update(type, record.id, input.properties, 'API'))] : []));
      const missing = targets.flatMap(({ record }, i) => (record ? [] : [wanted[i] ?? '']));
      const errors = missing.length ? [standardError('OBJECT_NOT_FOUND', `Could not update some ${SINGULAR[type].toUpperCase()} objects, they may be deleted or not exist.`, { ids: missing })] : [];
      return batchReply(200, results, errors);
    }],
    ['POST', /^\/crm\/v3\/objects\/([^/]+)\/batch\/archive$/, (c) => obj(c, 'write'), (ctx) => {
      const type = typeOf(ctx.params[0]);
      for (const id of ids(isRecord(ctx.body) ? ctx.body.inputs : undefined)) model.archive(type, id, 'API');
      return { status: 204 };
    }],
    ['POST', /^\/crm\/v3\/objects\/([^/]+)\/search$/, (c) => obj(c, 'read'), (ctx) => {
      const type = typeOf(ctx.params[0]);
      const search = parseSearch(ctx.body);
      const hits = runSearch(model.live(type), search, model.properties[type]);
      const page = hits.slice(search.offset, search.offset + search.limit);
      const next = search.offset + search.limit;
      return {
        status: 200,
        body: {
          total: hits.length,
          results: page.map((r) => model.project(r, search.properties)),
          ...(next < hits.length ? { paging: { next: { after: String(next), link: `?after=${next}` } } } : {}),
        },
      };
    }],
    ['POST', /^\/crm\/v3\/objects\/([^/]+)\/merge$/, (c) => obj(c, 'write'), (ctx) => {
      const body = isRecord(ctx.body) ? ctx.body : {};
      if (body.primaryObjectId === undefined || body.objectIdToMerge === undefined) throw invalid('primaryObjectId and objectIdToMerge are required');
      return { status: 200, body: full(model.merge(typeOf(ctx.params[0]), String(body.primaryObjectId), String(body.objectIdToMerge), 'API')) };
    }],
    ['GET', /^\/crm\/v3\/objects\/([^/]+)$/, (c) => obj(c, 'read'), (ctx) => {
      const type = typeOf(ctx.params[0]);
      const limit = Number(ctx.query.get('limit') ?? 10);
      const offset = Number(ctx.query.get('after') ?? 0);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100 || !Number.isInteger(offset) || offset < 0) throw invalid('limit must be 1..100 and after a paging token');
      const all = model.live(type);
      const next = offset + limit;
      return {
        status: 200,
        body: {
          results: all.slice(offset, next).map((r) => model.project(r, propertyList(ctx.query.getAll('properties').join(',')))),
          ...(next < all.length ? { paging: { next: { after: String(next), link: `?after=${next}` } } } : {}),
        },
      };
    }],
    ['POST', /^\/crm\/v3\/objects\/([^/]+)$/, (c) => obj(c, 'write'), (ctx) => {
      const body = isRecord(ctx.body) ? ctx.body : {};
      const [record] = model.createMany(typeOf(ctx.params[0]), [{ properties: body.properties, associations: associationInputs(body.associations) }], 'API');
      return { status: 201, body: record ? full(record) : undefined };
    }],
    ['GET', /^\/crm\/v3\/objects\/([^/]+)\/([^/]+)$/, (c) => obj(c, 'read'), (ctx) => {
      const type = typeOf(ctx.params[0]);
      return { status: 200, body: model.project(lookup(type, ctx.params[1] ?? '', ctx.query), propertyList(ctx.query.getAll('properties').join(','))) };
    }],
    ['PATCH', /^\/crm\/v3\/objects\/([^/]+)\/([^/]+)$/, (c) => obj(c, 'write'), (ctx) => {
      const type = typeOf(ctx.params[0]);
      const record = lookup(type, ctx.params[1] ?? '', ctx.query);
      return { status: 200, body: full(model.update(type, record.id, isRecord(ctx.body) ? ctx.body.properties : undefined, 'API')) };
    }],
    ['DELETE', /^\/crm\/v3\/objects\/([^/]+)\/([^/]+)$/, (c) => obj(c, 'write'), (ctx) => {
      model.archive(typeOf(ctx.params[0]), ctx.params[1] ?? '', 'API');
      return { status: 204 };
    }],

    // Associations v4 — https://developers.hubspot.com/docs/api/crm/associations
    ['PUT', /^\/crm\/v4\/objects\/([^/]+)\/([^/]+)\/associations\/default\/([^/]+)\/([^/]+)$/, (c) => obj(c, 'write'), (ctx) => {
      const [from, fromId = '', to, toId = ''] = ctx.params;
      const fromType = typeOf(from);
      const toType = typeOf(to);
      model.associate(fromType, fromId, toType, toId, undefined, 'API');
      const typeId = model.defaultTypeId(fromType, toType);
      return batchReply(200, [{ from: { id: fromId }, to: { id: toId }, associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: typeId } }], []);
    }],
    ['GET', /^\/crm\/v4\/objects\/([^/]+)\/([^/]+)\/associations\/([^/]+)$/, (c) => obj(c, 'read'), (ctx) => {
      const links = model.associations(typeOf(ctx.params[0]), ctx.params[1] ?? '', typeOf(ctx.params[2]));
      const limit = Math.min(Number(ctx.query.get('limit') ?? 500), 500);
      const offset = Number(ctx.query.get('after') ?? 0);
      const next = offset + limit;
      return {
        status: 200,
        body: {
          results: links.slice(offset, next).map((l) => ({ toObjectId: l.toId, associationTypes: l.types })),
          ...(next < links.length ? { paging: { next: { after: String(next), link: `?after=${next}` } } } : {}),
        },
      };
    }],
    ['DELETE', /^\/crm\/v4\/objects\/([^/]+)\/([^/]+)\/associations\/([^/]+)\/([^/]+)$/, (c) => obj(c, 'write'), (ctx) => {
      model.dissociate(typeOf(ctx.params[0]), ctx.params[1] ?? '', typeOf(ctx.params[2]), ctx.params[3] ?? '', 'API');
      return { status: 204 };
    }],
    ['POST', /^\/crm\/v4\/associations\/([^/]+)\/([^/]+)\/batch\/read$/, (c) => obj(c, 'read'), (ctx) => {
      const from = typeOf(ctx.params[0]);
      const to = typeOf(ctx.params[1]);
      const inputs = batchInputs(ctx.body);
      const missing: string[] = [];
      const results = inputs.flatMap((input) => {
        const id = String(input.id);
        if (!model.find(from, id)) {
          missing.push(id);
          return [];
        }
        const offset = Number(input.after ?? 0);
        const links = model.associations(from, id, to);
        const next = offset + ASSOCIATION_PAGE;
        if (!links.length) return [];
        return [{
          from: { id },
          to: links.slice(offset, next).map((l) => ({ toObjectId: l.toId, associationTypes: l.types })),
          ...(next < links.length ? { paging: { next: { after: String(next), link: `?after=${next}` } } } : {}),
        }];
      });
      const errors = missing.length ? [standardError('OBJECT_NOT_FOUND', `No ${SINGULAR[from]} found for these ids`, { ids: missing })] : [];
      return batchReply(200, results, errors);
    }],
    ['POST', /^\/crm\/v4\/associations\/([^/]+)\/([^/]+)\/batch\/associate\/default$/, (c) => obj(c, 'write'), (ctx) => {
      const from = typeOf(ctx.params[0]);
      const to = typeOf(ctx.params[1]);
      const inputs = batchInputs(ctx.body).map((input) => ({ from: String(isRecord(input.from) ? input.from.id : ''), to: String(isRecord(input.to) ? input.to.id : '') }));
      for (const { from: a, to: b } of inputs) {
        if (!model.find(from, a) || !model.find(to, b)) throw invalid(`No ${!model.find(from, a) ? SINGULAR[from] : SINGULAR[to]} with id ${!model.find(from, a) ? a : b}`);
      }
      const typeId = model.defaultTypeId(from, to);
      for (const { from: a, to: b } of inputs) model.associate(from, a, to, b, typeId, 'API');
      return batchReply(200, inputs.map(({ from: a, to: b }) => ({ from: { id: a }, to: { id: b }, associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: typeId } })), []);
    }],
    ['POST', /^\/crm\/v4\/associations\/([^/]+)\/([^/]+)\/batch\/archive$/, (c) => obj(c, 'write'), (ctx) => {
      const from = typeOf(ctx.params[0]);
      const to = typeOf(ctx.params[1]);
      for (const input of batchInputs(ctx.body)) {
        const fromId = String(isRecord(input.from) ? input.from.id : '');
        for (const target of Array.isArray(input.to) ? input.to : []) {
          if (isRecord(target) && model.find(from, fromId) && model.find(to, String(target.id))) model.dissociate(from, fromId, to, String(target.id), 'API');
        }
      }
      return { status: 204 };
    }],

    // Properties — https://developers.hubspot.com/docs/api/crm/properties
    ['GET', /^\/crm\/v3\/properties\/([^/]+)\/groups$/, (c) => obj(c, 'schema-read'), (ctx) => ({
      status: 200,
      body: { results: [...model.groups[typeOf(ctx.params[0])].values()].map((g) => ({ ...g, archived: false })) },
    })],
    ['POST', /^\/crm\/v3\/properties\/([^/]+)\/groups$/, (c) => obj(c, 'schema-write'), (ctx) => ({
      status: 201,
      body: { ...model.createGroup(typeOf(ctx.params[0]), ctx.body), archived: false },
    })],
    ['GET', /^\/crm\/v3\/properties\/([^/]+)\/groups\/([^/]+)$/, (c) => obj(c, 'schema-read'), (ctx) => {
      const group = model.groups[typeOf(ctx.params[0])].get(ctx.params[1] ?? '');
      if (!group) throw notFound(`Property group ${ctx.params[1]} does not exist`);
      return { status: 200, body: { ...group, archived: false } };
    }],
    ['POST', /^\/crm\/v3\/properties\/([^/]+)\/batch\/read$/, (c) => obj(c, 'schema-read'), (ctx) => {
      const type = typeOf(ctx.params[0]);
      const names = ids(isRecord(ctx.body) ? ctx.body.inputs : undefined, 'name');
      const found = names.flatMap((n) => {
        const def = model.properties[type].get(n);
        return def ? [model.propertyJson(def)] : [];
      });
      const missing = names.filter((n) => !model.properties[type].has(n));
      return batchReply(200, found, missing.length ? [standardError('OBJECT_NOT_FOUND', 'Some properties do not exist', { properties: missing })] : []);
    }],
    ['POST', /^\/crm\/v3\/properties\/([^/]+)\/batch\/create$/, (c) => obj(c, 'schema-write'), (ctx) => {
      const type = typeOf(ctx.params[0]);
      const created: unknown[] = [];
      const errors: unknown[] = [];
      for (const input of batchInputs(ctx.body)) {
        try {
          created.push(model.propertyJson(model.createProperty(type, input)));
        } catch (error) {
          if (!(error instanceof HttpError) || error.status !== 409) throw error;
          errors.push(standardError('OBJECT_ALREADY_EXISTS', error.message, { properties: [String(input.name)] }));
        }
      }
      return batchReply(201, created, errors);
    }],
    ['GET', /^\/crm\/v3\/properties\/([^/]+)$/, (c) => obj(c, 'schema-read'), (ctx) => ({
      status: 200,
      body: { results: [...model.properties[typeOf(ctx.params[0])].values()].map((p) => model.propertyJson(p)) },
    })],
    ['POST', /^\/crm\/v3\/properties\/([^/]+)$/, (c) => obj(c, 'schema-write'), (ctx) => ({
      status: 201,
      body: model.propertyJson(model.createProperty(typeOf(ctx.params[0]), ctx.body)),
    })],
    ['GET', /^\/crm\/v3\/properties\/([^/]+)\/([^/]+)$/, (c) => obj(c, 'schema-read'), (ctx) => {
      const def = model.properties[typeOf(ctx.params[0])].get(ctx.params[1] ?? '');
      if (!def) throw notFound(`Property ${ctx.params[1]} does not exist`);
      return { status: 200, body: model.propertyJson(def) };
    }],

    // Pipelines — https://developers.hubspot.com/docs/api/crm/pipelines
    ['GET', /^\/crm\/v3\/pipelines\/([^/]+)$/, () => scopesFor('deals', 'schema-read'), (ctx) => ({
      status: 200,
      body: { results: dealPipelines(ctx.params[0]).map((p) => model.pipelineJson(p)) },
    })],
    ['GET', /^\/crm\/v3\/pipelines\/([^/]+)\/([^/]+)$/, () => scopesFor('deals', 'schema-read'), (ctx) => ({
      status: 200,
      body: model.pipelineJson(pipeline(ctx.params[0], ctx.params[1])),
    })],
    ['GET', /^\/crm\/v3\/pipelines\/([^/]+)\/([^/]+)\/stages$/, () => scopesFor('deals', 'schema-read'), (ctx) => ({
      status: 200,
      body: { results: model.pipelineJson(pipeline(ctx.params[0], ctx.params[1])).stages },
    })],
  ];

  function dealPipelines(type: string | undefined) {
    if (typeOf(type) !== 'deals') throw invalid(`This portal has pipelines for deals only, not ${type}`);
    return model.pipelines;
  }
  function pipeline(type: string | undefined, id: string | undefined) {
    const found = dealPipelines(type).find((p) => p.id === id);
    if (!found) throw notFound(`Pipeline ${id} does not exist`);
    return found;
  }

  /** `associations` of a create input: `[{to: {id}, types: [{associationCategory, associationTypeId}]}]`. */
  function associationInputs(value: unknown): { to: string; typeId: number }[] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) throw invalid('associations must be an array');
    return value.flatMap((a) => {
      const to = isRecord(a) && isRecord(a.to) ? String(a.to.id) : undefined;
      const types = isRecord(a) && Array.isArray(a.types) ? a.types : [];
      if (!to || !types.length) throw invalid('each association needs to.id and types');
      return types.map((t) => ({ to, typeId: Number(isRecord(t) ? t.associationTypeId : NaN) }));
    });
  }

  // --- dispatch --------------------------------------------------------------------------------

  function takeFailure(path: string): Reply | undefined {
    const failure = failures.find((f) => f.count > 0 && (f.match === undefined || (typeof f.match === 'string' ? path.includes(f.match) : f.match.test(path))));
    if (!failure) return undefined;
    failure.count -= 1;
    return { status: failure.status, body: failure.body, headers: failure.headers };
  }

  async function dispatch(req: IncomingMessage): Promise<{ reply: Reply; ctx: Ctx }> {
    const url = new URL(req.url ?? '/', 'http://sandbox.local');
    const ctx: Ctx = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, body: undefined, raw: Buffer.alloc(0), params: [] };
    try {
      ctx.raw = await readBody(req);
      const form = String(req.headers['content-type'] ?? '').includes('x-www-form-urlencoded');
      ctx.body = form ? Object.fromEntries(new URLSearchParams(ctx.raw.toString('utf8'))) : parseJson(ctx.raw);
      const injected = ctx.path === '/oauth/authorize' ? undefined : takeFailure(ctx.path);
      if (injected) return { reply: injected, ctx };
      for (const [method, pattern, scopes, handle] of routes) {
        const match = pattern.exec(ctx.path);
        if (!match || method !== ctx.method) continue;
        ctx.params = match.slice(1).map(decodeURIComponent);
        if (!scopes) return { reply: handle(ctx), ctx };
        auth.authenticate(req.headers.authorization, scopes(ctx));
        return { reply: limited(ctx, handle), ctx };
      }
      throw hubspotError(404, 'NOT_FOUND', `No route for ${ctx.method} ${ctx.path}`);
    } catch (error) {
      if (error instanceof HttpError) return { reply: { status: error.status, body: error.body, headers: error.headers }, ctx };
      return { reply: { status: 500, body: { status: 'error', message: String(error), correlationId: randomUUID(), category: 'INTERNAL_ERROR' } }, ctx };
    }
  }

  /** Search has its own per-second limit and no rate-limit headers; everything else shares the ten-secondly window. */
  function limited(ctx: Ctx, handle: (ctx: Ctx) => Reply): Reply {
    const now = Date.now();
    stats.apiCalls += 1;
    if (ctx.path.endsWith('/search')) {
      stats.searchCalls += 1;
      if (searchWindow.take(now) === null) return breach({ status: 429, body: { ...SEARCH_SECONDLY_BODY, correlationId: randomUUID(), requestId: randomUUID() } });
      return handle(ctx);
    }
    const remaining = apiWindow.take(now);
    const headers = {
      'X-HubSpot-RateLimit-Interval-Milliseconds': String(apiWindow.limit.durationMs),
      'X-HubSpot-RateLimit-Max': String(apiWindow.limit.points),
      'X-HubSpot-RateLimit-Remaining': String(remaining ?? 0),
    };
    if (remaining === null) return breach({ status: 429, headers, body: { ...TEN_SECONDLY_BODY, correlationId: randomUUID(), requestId: randomUUID() } });
    try {
      const reply = handle(ctx);
      return { ...reply, headers: { ...headers, ...reply.headers } };
    } catch (error) {
      if (error instanceof HttpError) throw new HttpError(error.status, error.body, { ...headers, ...error.headers });
      throw error;
    }
  }

  /** A real (not injected) rate-limit answer: what a client that obeys the limits never sees. */
  function breach(reply: Reply): Reply {
    stats.rateLimitBreaches += 1;
    return reply;
  }

  function handler(req: IncomingMessage, res: ServerResponse): void {
    void dispatch(req).then(({ reply, ctx }) => {
      const json = reply.body !== undefined;
      if (options.record) {
        recorded.push({
          method: ctx.method, path: ctx.path,
          query: Object.fromEntries([...new Set(ctx.query.keys())].map((k) => [k, ctx.query.getAll(k)])),
          requestContentType: req.headers['content-type'], requestBody: ctx.body,
          status: reply.status, responseBody: reply.body,
        });
      }
      res.writeHead(reply.status, { ...(json ? { 'content-type': 'application/json;charset=utf-8' } : {}), ...reply.headers });
      res.end(json ? JSON.stringify(reply.body) : undefined);
    });
  }

  const server = createServer(handler);
  /** The portal's users: records name them in `hubspot_owner_id`. */
  const owners = [
    { id: '75000001', email: 'sam.seller@sandbox-portal.example', firstName: 'Sam', lastName: 'Seller', userId: 9000001, type: 'PERSON', archived: false, createdAt: '2026-01-05T09:00:00.000Z', updatedAt: '2026-01-05T09:00:00.000Z' },
    { id: '75000002', email: 'casey.success@sandbox-portal.example', firstName: 'Casey', lastName: 'Success', userId: 9000002, type: 'PERSON', archived: false, createdAt: '2026-01-05T09:00:00.000Z', updatedAt: '2026-01-05T09:00:00.000Z' },
  ];
  /** What the API was asked, for tests and the benchmark (injected failures are not counted). */
  const stats = { apiCalls: 0, searchCalls: 0, rateLimitBreaches: 0 };

  /** The portal as tests see it; changes made here come from "CRM_UI", like a rep at work. */
  const state = {
    portalId,
    appId,
    clientId,
    clientSecret,
    model,
    auth,
    deliveries: webhooks.deliveries,
    create(type: ObjectName, properties: Record<string, string>, associations: { type: ObjectName; id: string }[] = []) {
      const [record] = model.createMany(type, [{ properties }], 'CRM_UI');
      if (!record) throw new Error('create failed');
      for (const link of associations) model.associate(type, record.id, link.type, link.id, undefined, 'CRM_UI');
      return full(record);
    },
    update: (type: ObjectName, id: string, properties: Record<string, string>) => full(model.update(type, id, properties, 'CRM_UI')),
    archive: (type: ObjectName, id: string) => model.archive(type, id, 'CRM_UI'),
    merge: (type: ObjectName, primaryId: string, mergedId: string) => full(model.merge(type, primaryId, mergedId, 'CRM_UI')),
    associate: (from: ObjectName, fromId: string, to: ObjectName, toId: string) => model.associate(from, fromId, to, toId, undefined, 'CRM_UI'),
    dissociate: (from: ObjectName, fromId: string, to: ObjectName, toId: string) => model.dissociate(from, fromId, to, toId, 'CRM_UI'),
    get(type: ObjectName, id: string) {
      const record = model.find(type, id);
      return record ? full(record) : undefined;
    },
    list: (type: ObjectName) => model.live(type).map(full),
    associatedIds: (from: ObjectName, id: string, to: ObjectName) => model.associations(from, id, to).map((l) => l.toId),
    owners,
    /** Tokens without the consent page, e.g. for `referloop connect hubspot`. */
    issueToken: (scopes: string[], ttlSeconds?: number) => auth.issue(scopes, ttlSeconds),
    /** Resolves when no webhook is queued, waiting for a retry, or in flight. */
    webhooksIdle: () => webhooks.idle(),
  };

  return {
    handler,
    state,
    stats,
    recorded,
    /** `host` 0.0.0.0 serves other containers; the URL names the loopback address either way. */
    async listen(port = 0, host = '127.0.0.1'): Promise<{ url: string }> {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    },
    async close(): Promise<void> {
      webhooks.close();
      if (!server.listening) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    setWebhookUrl: (url: string | undefined) => webhooks.setUrl(url),
    faults: {
      /**
       * The next `count` requests (whose path contains / matches `match`) get this answer. `body`
       * may be a plain body or a sample file shaped `{_http: {headers}, body}`.
       */
      failNext(status: number, count = 1, body?: unknown, match?: string | RegExp) {
        const sample = isRecord(body) && isRecord(body._http) ? body : undefined;
        const headers = sample && isRecord(sample._http) && isRecord(sample._http.headers) ? (sample._http.headers as Record<string, string>) : {};
        const fallback = status === 429 ? TEN_SECONDLY_BODY : { status: 'error', message: `injected ${status}` };
        // HubSpot's error schema requires a category; documented samples sometimes leave it out.
        const category = status === 429 ? 'RATE_LIMITS' : status >= 500 ? 'INTERNAL_ERROR' : 'VALIDATION_ERROR';
        failures.push({ status, count, headers, match, body: { correlationId: randomUUID(), category, ...((sample ? sample.body : body) ?? fallback) as object } });
      },
      /** Lose the next `n` webhook events for good (HubSpot gives up or never sends); 0 stops dropping. */
      dropNextWebhooks(n: number) {
        webhooks.faults.drop = n;
      },
      duplicateWebhooks(on = true) {
        webhooks.faults.duplicate = on;
      },
      delayWebhooks(ms: number) {
        webhooks.faults.delayMs = ms;
      },
      shuffleWebhooks(on = true) {
        webhooks.faults.shuffle = on;
      },
      expireAccessTokens: () => auth.expireAccessTokens(),
      revokeRefreshTokens: () => auth.revokeAllRefreshTokens(),
    },
  };
}

export type HubSpotSandbox = ReturnType<typeof createHubSpotSandbox>;
