import type { ObjectName } from './defaults.ts';
import { invalid, isRecord, standardError } from './http.ts';
import { SINGULAR, type CrmModel, type StoredRecord } from './model.ts';
import {
  associationInputs,
  batchInputs,
  batchReply,
  fullRecord,
  ids,
  lookup as lookupIn,
  objectScopes,
  propertyList,
  typeOf,
  type Route,
} from './routes.ts';
import { parseSearch, runSearch } from './search.ts';

/** CRM objects v3: batch read/create/update/archive, search, merge, list, single-record CRUD. */
export function objectRoutes(model: CrmModel): Route[] {
  const obj = objectScopes;
  const full = (record: StoredRecord) => fullRecord(model, record);
  const lookup = (type: ObjectName, id: string, query: URLSearchParams) => lookupIn(model, type, id, query);
  return [
    // CRM objects v3 — https://developers.hubspot.com/docs/api/crm/understanding-the-crm
    [
      'POST',
      /^\/crm\/v3\/objects\/([^/]+)\/batch\/read$/,
      (c) => obj(c, 'read'),
      (ctx) => {
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
        const errors = missing.length
          ? [
              standardError(
                'OBJECT_NOT_FOUND',
                `Could not get some ${SINGULAR[type].toUpperCase()} objects, they may be deleted or not exist. Check that ids are valid.`,
                { ids: missing },
              ),
            ]
          : [];
        return batchReply(200, results, errors);
      },
    ],
    [
      'POST',
      /^\/crm\/v3\/objects\/([^/]+)\/batch\/create$/,
      (c) => obj(c, 'write'),
      (ctx) => {
        const type = typeOf(ctx.params[0]);
        const inputs = batchInputs(ctx.body).map((input) => ({
          properties: input.properties,
          associations: associationInputs(input.associations),
        }));
        return batchReply(201, model.createMany(type, inputs, 'API').map(full), []);
      },
    ],
    [
      'POST',
      /^\/crm\/v3\/objects\/([^/]+)\/batch\/update$/,
      (c) => obj(c, 'write'),
      (ctx) => {
        const type = typeOf(ctx.params[0]);
        const inputs = batchInputs(ctx.body);
        const wanted = ids(inputs);
        const duplicates = wanted.filter((id, i) => wanted.indexOf(id) !== i);
        if (duplicates.length) throw invalid(`Duplicate IDs found in batch input: ${JSON.stringify(duplicates)}. IDs must be unique`);
        const targets = inputs.map((input, i) => ({
          input,
          record: model.findBy(type, typeof input.idProperty === 'string' ? input.idProperty : undefined, wanted[i] ?? ''),
        }));
        // All or nothing on validation, like HubSpot; missing records are reported per id.
        for (const { input, record } of targets) if (record) model.validate(type, input.properties, record);
        const results = targets.flatMap(({ input, record }) =>
          record ? [full(model.update(type, record.id, input.properties, 'API'))] : [],
        );
        const missing = targets.flatMap(({ record }, i) => (record ? [] : [wanted[i] ?? '']));
        const errors = missing.length
          ? [
              standardError(
                'OBJECT_NOT_FOUND',
                `Could not update some ${SINGULAR[type].toUpperCase()} objects, they may be deleted or not exist.`,
                { ids: missing },
              ),
            ]
          : [];
        return batchReply(200, results, errors);
      },
    ],
    [
      'POST',
      /^\/crm\/v3\/objects\/([^/]+)\/batch\/archive$/,
      (c) => obj(c, 'write'),
      (ctx) => {
        const type = typeOf(ctx.params[0]);
        for (const id of ids(isRecord(ctx.body) ? ctx.body.inputs : undefined)) model.archive(type, id, 'API');
        return { status: 204 };
      },
    ],
    [
      'POST',
      /^\/crm\/v3\/objects\/([^/]+)\/search$/,
      (c) => obj(c, 'read'),
      (ctx) => {
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
      },
    ],
    [
      'POST',
      /^\/crm\/v3\/objects\/([^/]+)\/merge$/,
      (c) => obj(c, 'write'),
      (ctx) => {
        const body = isRecord(ctx.body) ? ctx.body : {};
        if (body.primaryObjectId === undefined || body.objectIdToMerge === undefined)
          throw invalid('primaryObjectId and objectIdToMerge are required');
        return {
          status: 200,
          body: full(model.merge(typeOf(ctx.params[0]), String(body.primaryObjectId), String(body.objectIdToMerge), 'API')),
        };
      },
    ],
    [
      'GET',
      /^\/crm\/v3\/objects\/([^/]+)$/,
      (c) => obj(c, 'read'),
      (ctx) => {
        const type = typeOf(ctx.params[0]);
        const limit = Number(ctx.query.get('limit') ?? 10);
        const offset = Number(ctx.query.get('after') ?? 0);
        if (!Number.isInteger(limit) || limit < 1 || limit > 100 || !Number.isInteger(offset) || offset < 0)
          throw invalid('limit must be 1..100 and after a paging token');
        const all = model.live(type);
        const next = offset + limit;
        return {
          status: 200,
          body: {
            results: all.slice(offset, next).map((r) => model.project(r, propertyList(ctx.query.getAll('properties').join(',')))),
            ...(next < all.length ? { paging: { next: { after: String(next), link: `?after=${next}` } } } : {}),
          },
        };
      },
    ],
    [
      'POST',
      /^\/crm\/v3\/objects\/([^/]+)$/,
      (c) => obj(c, 'write'),
      (ctx) => {
        const body = isRecord(ctx.body) ? ctx.body : {};
        const [record] = model.createMany(
          typeOf(ctx.params[0]),
          [{ properties: body.properties, associations: associationInputs(body.associations) }],
          'API',
        );
        return { status: 201, body: record ? full(record) : undefined };
      },
    ],
    [
      'GET',
      /^\/crm\/v3\/objects\/([^/]+)\/([^/]+)$/,
      (c) => obj(c, 'read'),
      (ctx) => {
        const type = typeOf(ctx.params[0]);
        return {
          status: 200,
          body: model.project(lookup(type, ctx.params[1] ?? '', ctx.query), propertyList(ctx.query.getAll('properties').join(','))),
        };
      },
    ],
    [
      'PATCH',
      /^\/crm\/v3\/objects\/([^/]+)\/([^/]+)$/,
      (c) => obj(c, 'write'),
      (ctx) => {
        const type = typeOf(ctx.params[0]);
        const record = lookup(type, ctx.params[1] ?? '', ctx.query);
        return { status: 200, body: full(model.update(type, record.id, isRecord(ctx.body) ? ctx.body.properties : undefined, 'API')) };
      },
    ],
    [
      'DELETE',
      /^\/crm\/v3\/objects\/([^/]+)\/([^/]+)$/,
      (c) => obj(c, 'write'),
      (ctx) => {
        model.archive(typeOf(ctx.params[0]), ctx.params[1] ?? '', 'API');
        return { status: 204 };
      },
    ],
  ];
}
