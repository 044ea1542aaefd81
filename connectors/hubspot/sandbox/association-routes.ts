import { invalid, isRecord, standardError } from './http.ts';
import { SINGULAR, type CrmModel } from './model.ts';
import { batchInputs, batchReply, objectScopes, typeOf, type Route } from './routes.ts';

/** Associated records per page of a v4 batch read (then `paging.next.after`). */
const ASSOCIATION_PAGE = 100;

/** Associations v4: default associations, per-record and batch reads, removal. */
export function associationRoutes(model: CrmModel): Route[] {
  const obj = objectScopes;
  return [
    // Associations v4 — https://developers.hubspot.com/docs/api/crm/associations
    [
      'PUT',
      /^\/crm\/v4\/objects\/([^/]+)\/([^/]+)\/associations\/default\/([^/]+)\/([^/]+)$/,
      (c) => obj(c, 'write'),
      (ctx) => {
        const [from, fromId = '', to, toId = ''] = ctx.params;
        const fromType = typeOf(from);
        const toType = typeOf(to);
        model.associate(fromType, fromId, toType, toId, undefined, 'API');
        const typeId = model.defaultTypeId(fromType, toType);
        return batchReply(
          200,
          [
            {
              from: { id: fromId },
              to: { id: toId },
              associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: typeId },
            },
          ],
          [],
        );
      },
    ],
    [
      'GET',
      /^\/crm\/v4\/objects\/([^/]+)\/([^/]+)\/associations\/([^/]+)$/,
      (c) => obj(c, 'read'),
      (ctx) => {
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
      },
    ],
    [
      'DELETE',
      /^\/crm\/v4\/objects\/([^/]+)\/([^/]+)\/associations\/([^/]+)\/([^/]+)$/,
      (c) => obj(c, 'write'),
      (ctx) => {
        model.dissociate(typeOf(ctx.params[0]), ctx.params[1] ?? '', typeOf(ctx.params[2]), ctx.params[3] ?? '', 'API');
        return { status: 204 };
      },
    ],
    [
      'POST',
      /^\/crm\/v4\/associations\/([^/]+)\/([^/]+)\/batch\/read$/,
      (c) => obj(c, 'read'),
      (ctx) => {
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
          return [
            {
              from: { id },
              to: links.slice(offset, next).map((l) => ({ toObjectId: l.toId, associationTypes: l.types })),
              ...(next < links.length ? { paging: { next: { after: String(next), link: `?after=${next}` } } } : {}),
            },
          ];
        });
        const errors = missing.length
          ? [standardError('OBJECT_NOT_FOUND', `No ${SINGULAR[from]} found for these ids`, { ids: missing })]
          : [];
        return batchReply(200, results, errors);
      },
    ],
    [
      'POST',
      /^\/crm\/v4\/associations\/([^/]+)\/([^/]+)\/batch\/associate\/default$/,
      (c) => obj(c, 'write'),
      (ctx) => {
        const from = typeOf(ctx.params[0]);
        const to = typeOf(ctx.params[1]);
        const inputs = batchInputs(ctx.body).map((input) => ({
          from: String(isRecord(input.from) ? input.from.id : ''),
          to: String(isRecord(input.to) ? input.to.id : ''),
        }));
        for (const { from: a, to: b } of inputs) {
          if (!model.find(from, a) || !model.find(to, b))
            throw invalid(`No ${!model.find(from, a) ? SINGULAR[from] : SINGULAR[to]} with id ${!model.find(from, a) ? a : b}`);
        }
        const typeId = model.defaultTypeId(from, to);
        for (const { from: a, to: b } of inputs) model.associate(from, a, to, b, typeId, 'API');
        return batchReply(
          200,
          inputs.map(({ from: a, to: b }) => ({
            from: { id: a },
            to: { id: b },
            associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: typeId },
          })),
          [],
        );
      },
    ],
    [
      'POST',
      /^\/crm\/v4\/associations\/([^/]+)\/([^/]+)\/batch\/archive$/,
      (c) => obj(c, 'write'),
      (ctx) => {
        const from = typeOf(ctx.params[0]);
        const to = typeOf(ctx.params[1]);
        for (const input of batchInputs(ctx.body)) {
          const fromId = String(isRecord(input.from) ? input.from.id : '');
          for (const target of Array.isArray(input.to) ? input.to : []) {
            if (isRecord(target) && model.find(from, fromId) && model.find(to, String(target.id)))
              model.dissociate(from, fromId, to, String(target.id), 'API');
          }
        }
        return { status: 204 };
      },
    ],
  ];
}
