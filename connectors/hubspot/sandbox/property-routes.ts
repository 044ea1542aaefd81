import { HttpError, isRecord, notFound, standardError } from './http.ts';
import type { CrmModel } from './model.ts';
import { batchInputs, batchReply, ids, objectScopes, typeOf, type Route } from './routes.ts';

/** Properties and property groups: what `provision` reads and creates. */
export function propertyRoutes(model: CrmModel): Route[] {
  const obj = objectScopes;
  return [
    // Properties — https://developers.hubspot.com/docs/api/crm/properties
    [
      'GET',
      /^\/crm\/v3\/properties\/([^/]+)\/groups$/,
      (c) => obj(c, 'schema-read'),
      (ctx) => ({
        status: 200,
        body: { results: [...model.groups[typeOf(ctx.params[0])].values()].map((g) => ({ ...g, archived: false })) },
      }),
    ],
    [
      'POST',
      /^\/crm\/v3\/properties\/([^/]+)\/groups$/,
      (c) => obj(c, 'schema-write'),
      (ctx) => ({
        status: 201,
        body: { ...model.createGroup(typeOf(ctx.params[0]), ctx.body), archived: false },
      }),
    ],
    [
      'GET',
      /^\/crm\/v3\/properties\/([^/]+)\/groups\/([^/]+)$/,
      (c) => obj(c, 'schema-read'),
      (ctx) => {
        const group = model.groups[typeOf(ctx.params[0])].get(ctx.params[1] ?? '');
        if (!group) throw notFound(`Property group ${ctx.params[1]} does not exist`);
        return { status: 200, body: { ...group, archived: false } };
      },
    ],
    [
      'POST',
      /^\/crm\/v3\/properties\/([^/]+)\/batch\/read$/,
      (c) => obj(c, 'schema-read'),
      (ctx) => {
        const type = typeOf(ctx.params[0]);
        const names = ids(isRecord(ctx.body) ? ctx.body.inputs : undefined, 'name');
        const found = names.flatMap((n) => {
          const def = model.properties[type].get(n);
          return def ? [model.propertyJson(def)] : [];
        });
        const missing = names.filter((n) => !model.properties[type].has(n));
        return batchReply(
          200,
          found,
          missing.length ? [standardError('OBJECT_NOT_FOUND', 'Some properties do not exist', { properties: missing })] : [],
        );
      },
    ],
    [
      'POST',
      /^\/crm\/v3\/properties\/([^/]+)\/batch\/create$/,
      (c) => obj(c, 'schema-write'),
      (ctx) => {
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
      },
    ],
    [
      'GET',
      /^\/crm\/v3\/properties\/([^/]+)$/,
      (c) => obj(c, 'schema-read'),
      (ctx) => ({
        status: 200,
        body: { results: [...model.properties[typeOf(ctx.params[0])].values()].map((p) => model.propertyJson(p)) },
      }),
    ],
    [
      'POST',
      /^\/crm\/v3\/properties\/([^/]+)$/,
      (c) => obj(c, 'schema-write'),
      (ctx) => ({
        status: 201,
        body: model.propertyJson(model.createProperty(typeOf(ctx.params[0]), ctx.body)),
      }),
    ],
    [
      'GET',
      /^\/crm\/v3\/properties\/([^/]+)\/([^/]+)$/,
      (c) => obj(c, 'schema-read'),
      (ctx) => {
        const def = model.properties[typeOf(ctx.params[0])].get(ctx.params[1] ?? '');
        if (!def) throw notFound(`Property ${ctx.params[1]} does not exist`);
        return { status: 200, body: model.propertyJson(def) };
      },
    ],
  ];
}
