import type { ObjectName } from './defaults.ts';
import { invalid, isRecord, notFound } from './http.ts';
import { objectName, type CrmModel, type StoredRecord } from './model.ts';

/** What a route answers; the server writes it as JSON. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** One request as a route sees it. */
export interface Ctx {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  raw: Buffer;
  params: string[];
}

export type Access = 'read' | 'write' | 'schema-read' | 'schema-write';

/** [method, pattern, the scopes that allow the call (null: no bearer auth), handler]. */
export type Route = [string, RegExp, ((ctx: Ctx) => string[]) | null, (ctx: Ctx) => Reply];

/** Scopes that allow a call (any one suffices), after the security sections of the specs. */
export function scopesFor(type: ObjectName, access: Access): string[] {
  // Notes are engagements: HubSpot checks the scopes of the records they hang on.
  const object = type === 'notes' ? 'contacts' : type;
  if (access === 'schema-write') return [`crm.schemas.${object}.write`];
  if (access === 'schema-read') return [`crm.objects.${object}.read`, `crm.schemas.${object}.read`];
  return [`crm.objects.${object}.${access}`];
}

export function typeOf(segment: string | undefined): ObjectName {
  const type = objectName(segment ?? '');
  if (!type) throw invalid(`Unable to infer object type from: ${segment}`);
  return type;
}

/** The scopes of a call on the object type named by the path's first parameter. */
export const objectScopes = (ctx: Ctx, access: Access): string[] => scopesFor(typeOf(ctx.params[0]), access);

/** A record with every property it has. */
export const fullRecord = (model: CrmModel, record: StoredRecord) => model.project(record, Object.keys(record.properties));

export function lookup(model: CrmModel, type: ObjectName, id: string, query: URLSearchParams): StoredRecord {
  const record = model.findBy(type, query.get('idProperty') ?? undefined, id);
  if (!record) throw notFound(`Object not found.  objectId are usually numeric.`);
  return record;
}

export function ids(inputs: unknown, field = 'id'): string[] {
  if (!Array.isArray(inputs)) throw invalid('inputs must be an array');
  if (inputs.length > 100) throw invalid(`Batch input limit is 100; got ${inputs.length} inputs`);
  return inputs.map((input) => {
    const value = isRecord(input) ? input[field] : undefined;
    if (typeof value !== 'string' && typeof value !== 'number') throw invalid(`each input needs ${field}`);
    return String(value);
  });
}

export function batchInputs(body: unknown): Record<string, unknown>[] {
  const inputs = isRecord(body) ? body.inputs : undefined;
  if (!Array.isArray(inputs) || !inputs.every(isRecord)) throw invalid('inputs must be an array of objects');
  if (inputs.length > 100) throw invalid(`Batch input limit is 100; got ${inputs.length} inputs`);
  return inputs;
}

export function propertyList(value: unknown): string[] | undefined {
  if (Array.isArray(value)) return value.map(String);
  return typeof value === 'string' && value ? value.split(',') : undefined;
}

export const batchReply = (status: number, results: unknown[], errors: unknown[]): Reply => {
  const now = new Date().toISOString();
  const body = { status: 'COMPLETE', results, requestedAt: now, startedAt: now, completedAt: now, links: {} };
  return errors.length ? { status: 207, body: { ...body, numErrors: errors.length, errors } } : { status, body };
};

/** `associations` of a create input: `[{to: {id}, types: [{associationCategory, associationTypeId}]}]`. */
export function associationInputs(value: unknown): { to: string; typeId: number }[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid('associations must be an array');
  return value.flatMap((a) => {
    const to = isRecord(a) && isRecord(a.to) ? String(a.to.id) : undefined;
    const types = isRecord(a) && Array.isArray(a.types) ? a.types : [];
    if (!to || !types.length) throw invalid('each association needs to.id and types');
    return types.map((t) => ({ to, typeId: Number(isRecord(t) ? t.associationTypeId : NaN) }));
  });
}
