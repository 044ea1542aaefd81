import type { Reply } from './oauth.ts';
import { describeGlobalEntry, describeObject } from './schema.ts';
import { runQuery } from './soql.ts';
import { SfFailure, makeId, notFound, type OrgStore } from './store.ts';

export interface RestOptions {
  store: OrgStore;
  batchSize: number;
  apiUsage: () => { used: number; limit: number };
  identityUrl: () => string;
  /** Collections fault hook: the statusCode the next record should fail with, if any. */
  nextRecordFault: () => string | undefined;
}

type Json = Record<string, unknown>;
type ItemResult = Json & { success: boolean };

const MAX_COLLECTION_RECORDS = 200;
const MAX_COMPOSITE_SUBREQUESTS = 25;
const ok = (body?: unknown, status = 200, headers?: Record<string, string>): Reply => ({ status, body, headers });
const fail = (e: SfFailure): Reply => ({ status: e.status, body: e.body() });
const itemError = (statusCode: string, message: string, fields: string[] = []) => ({ statusCode, message, fields });
const halted = (message: string): Reply => ({ status: 400, body: [{ errorCode: 'PROCESSING_HALTED', message }] });

/** The REST data API below `/services/data/vXX.X`. Bodies are parsed JSON; replies are JSON values. */
export class RestApi {
  private cursors = new Map<string, Json[]>();
  private cursorSequence = 0;

  constructor(private readonly o: RestOptions) {}

  dispatch(method: string, version: string, path: string, search: URLSearchParams, body: unknown): Reply {
    try {
      return this.route(method.toUpperCase(), version, path.split('/').filter(Boolean).map(decodeURIComponent), search, body);
    } catch (err) {
      if (err instanceof SfFailure) return fail(err);
      throw err;
    }
  }

  private route(method: string, version: string, seg: string[], search: URLSearchParams, body: unknown): Reply {
    const base = `/services/data/v${version}`;
    const [head, a, b, c] = seg;
    if (seg.length > 4 || (head === 'composite' && a !== undefined && a !== 'sobjects')) throw notFound();
    const key = `${method} ${[head, a !== undefined ? '*' : '', b !== undefined ? '*' : '', c !== undefined ? '*' : ''].filter(Boolean).join('/')}`;
    switch (key) {
      case 'GET ':
        return ok({
          identity: this.o.identityUrl(),
          ...Object.fromEntries(['sobjects', 'query', 'queryAll', 'composite', 'limits'].map((r) => [r, `${base}/${r}`])),
        });
      case 'GET limits': {
        const { used, limit } = this.o.apiUsage();
        return ok({ DailyApiRequests: { Max: limit, Remaining: Math.max(0, limit - used) } });
      }
      case 'GET query':
      case 'GET queryAll': {
        const soql = search.get('q');
        if (!soql) throw new SfFailure('MALFORMED_QUERY', 'A query string has to be specified');
        // `SELECT COUNT() FROM …` answers the count in totalSize and no records
        // (https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_count.htm).
        const counting = /^\s*SELECT\s+COUNT\(\s*\)\s+FROM\s/i.exec(soql);
        if (counting) {
          const rows = runQuery(this.queryContext(base, head === 'queryAll'), `SELECT Id ${soql.slice(counting[0].length - 5)}`);
          return ok({ totalSize: rows.length, done: true, records: [] });
        }
        const rows = runQuery(this.queryContext(base, head === 'queryAll'), soql);
        return this.page(base, rows, 0);
      }
      case 'GET query/*':
      case 'GET queryAll/*':
        return this.queryMore(base, a as string);
      case 'GET sobjects':
        return ok({
          encoding: 'UTF-8',
          maxBatchSize: MAX_COLLECTION_RECORDS,
          sobjects: [...this.o.store.schema.values()].map((d) => describeGlobalEntry(d, base)),
        });
      case 'GET sobjects/*':
        return ok({ objectDescribe: describeGlobalEntry(this.def(a), base), recentItems: [] });
      case 'POST sobjects/*': {
        const def = this.def(a);
        const record = this.o.store.insert(def.name, this.object(body));
        return ok({ id: record.Id, success: true, errors: [] }, 201, { Location: `${base}/sobjects/${def.name}/${String(record.Id)}` });
      }
      case 'GET sobjects/*/*':
        if (b === 'describe') return ok(describeObject(this.def(a), this.o.store.schema, base));
        return ok(this.readRecord(base, this.def(a).name, b as string, search.get('fields')));
      case 'PATCH sobjects/*/*':
        this.o.store.update(this.def(a).name, b as string, this.object(body));
        return ok(undefined, 204);
      case 'DELETE sobjects/*/*':
        this.o.store.delete(this.def(a).name, b as string);
        return ok(undefined, 204);
      case 'GET sobjects/*/*/*': {
        const def = this.def(a);
        const f = this.o.store.fieldDef(def, b as string);
        const [match] = f ? this.o.store.matchesExternalId(def, f, c as string) : [];
        if (!match) throw notFound();
        return ok(this.readRecord(base, def.name, String(match.Id), search.get('fields')));
      }
      case 'PATCH sobjects/*/*/*':
        return this.upsertOne(base, a as string, b as string, c as string, body);
      case 'POST composite':
        return this.composite(body);
      case 'POST composite/*':
        return this.collection(body, (r) => this.createItem(r));
      case 'PATCH composite/*':
      case 'PATCH composite/*/*':
        return this.collection(body, (r) => this.updateItem(r));
      case 'PATCH composite/*/*/*':
        return this.upsertCollection(b as string, c as string, body);
      case 'DELETE composite/*':
      case 'DELETE composite/*/*':
        return this.deleteCollection(search);
      default:
        throw notFound();
    }
  }

  private def(name: string | undefined) {
    const def = name ? this.o.store.objectDef(name) : undefined;
    if (!def) throw notFound();
    return def;
  }

  private object(body: unknown): Json {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new SfFailure('JSON_PARSER_ERROR', 'Expected a JSON object');
    return body as Json;
  }

  private queryContext(base: string, includeDeleted: boolean) {
    return { store: this.o.store, includeDeleted, recordUrl: (sobject: string, id: string) => `${base}/sobjects/${sobject}/${id}` };
  }

  /** At most `batchSize` rows a page; `nextRecordsUrl` is `<locator>-<offset>`. */
  private page(base: string, rows: Json[], offset: number, locator?: string): Reply {
    const end = offset + this.o.batchSize;
    const done = end >= rows.length;
    let next: string | undefined;
    if (!done) {
      const id = locator ?? makeId('01g', ++this.cursorSequence);
      this.cursors.set(id, rows);
      next = `${base}/query/${id}-${end}`;
    } else if (locator) {
      this.cursors.delete(locator);
    }
    return ok({ totalSize: rows.length, done, ...(next ? { nextRecordsUrl: next } : {}), records: rows.slice(offset, end) });
  }

  private queryMore(base: string, locatorAndOffset: string): Reply {
    const i = locatorAndOffset.lastIndexOf('-');
    const locator = locatorAndOffset.slice(0, i);
    const rows = this.cursors.get(locator);
    const offset = Number(locatorAndOffset.slice(i + 1));
    if (i < 0 || !rows || !Number.isInteger(offset)) throw new SfFailure('INVALID_QUERY_LOCATOR', 'invalid query locator');
    return this.page(base, rows, offset, locator);
  }

  private readRecord(base: string, sobject: string, id: string, fields: string | null): Json {
    const record = this.o.store.get(sobject, id);
    if (!record || record.IsDeleted === true) throw notFound();
    const def = this.def(sobject);
    const names = fields ? fields.split(',').map((f) => this.o.store.fieldDef(def, f.trim())?.name ?? f.trim()) : [...def.fields.keys()];
    const missing = names.filter((n) => !def.fields.has(n));
    if (missing.length > 0) throw new SfFailure('INVALID_FIELD', `No such column '${missing[0]}' on entity '${sobject}'`);
    const values = Object.fromEntries(names.map((n) => [n, record[n] ?? null]));
    return { attributes: { type: sobject, url: `${base}/sobjects/${sobject}/${id}` }, ...values };
  }

  private upsertOne(base: string, sobject: string, field: string, value: string, body: unknown): Reply {
    const def = this.def(sobject);
    try {
      const { record, created } = this.o.store.upsert(def.name, field, value, this.object(body));
      const location = { Location: `${base}/sobjects/${def.name}/${String(record.Id)}` };
      return ok({ id: record.Id, success: true, errors: [], created }, created ? 201 : 200, location);
    } catch (err) {
      if (!(err instanceof SfFailure) || err.errorCode !== 'MULTIPLE_CHOICES') throw err;
      const f = this.o.store.fieldDef(def, field);
      const matches = f ? this.o.store.matchesExternalId(def, f, value) : [];
      return ok(
        matches.map((r) => `${base}/sobjects/${def.name}/${String(r.Id)}`),
        300,
      );
    }
  }

  /** sObject Collections: 200 records max, results in order, 200 even with failures; allOrNone rolls back. */
  private collection(body: unknown, item: (record: Json) => ItemResult): Reply {
    const { allOrNone = false, records } = this.object(body) as { allOrNone?: boolean; records?: unknown };
    if (!Array.isArray(records)) throw new SfFailure('JSON_PARSER_ERROR', 'records must be an array');
    if (records.length > MAX_COLLECTION_RECORDS) {
      throw new SfFailure(
        'EXCEEDED_ID_LIMIT',
        `record limit reached. cannot submit more than ${MAX_COLLECTION_RECORDS} records into this call`,
      );
    }
    const restore = allOrNone ? this.o.store.snapshot() : undefined;
    const results = records.map((r) => {
      const fault = this.o.nextRecordFault();
      if (fault) return { success: false, errors: [itemError(fault, faultMessage(fault, (r as Json).id))] };
      return item(r as Json);
    });
    if (!restore || results.every((r) => r.success)) return ok(results);
    restore();
    return ok(
      results.map((r) =>
        r.success
          ? {
              success: false,
              created: r.created,
              errors: [
                itemError(
                  'ALL_OR_NONE_OPERATION_ROLLED_BACK',
                  'Record rolled back because not all records were valid and the request was using AllOrNone header',
                ),
              ],
            }
          : r,
      ),
    );
  }

  private typeOf(record: Json): string {
    const type = (record.attributes as { type?: string } | undefined)?.type;
    if (!type) throw new SfFailure('INVALID_TYPE', 'Each record needs attributes.type');
    return type;
  }

  private attempt(run: () => ItemResult, failed: Json = {}): ItemResult {
    try {
      return run();
    } catch (err) {
      if (!(err instanceof SfFailure)) throw err;
      return { success: false, ...failed, errors: [itemError(err.errorCode, err.message, err.fields)] };
    }
  }

  private createItem(record: Json): ItemResult {
    return this.attempt(() => {
      const saved = this.o.store.insert(this.typeOf(record), record);
      return { id: saved.Id, success: true, errors: [] };
    });
  }

  private updateItem(record: Json): ItemResult {
    return this.attempt(() => {
      const id = record.id ?? record.Id;
      if (typeof id !== 'string') throw new SfFailure('MISSING_ARGUMENT', 'Id not specified in an update call', 400, ['Id']);
      const saved = this.o.store.update(this.typeOf(record), id, record);
      return { id: saved.Id, success: true, errors: [] };
    });
  }

  private upsertCollection(sobject: string, field: string, body: unknown): Reply {
    const def = this.def(sobject);
    const f = this.o.store.fieldDef(def, field);
    if (!f?.externalId) throw new SfFailure('INVALID_FIELD', `Field ${field} is not an External ID or indexed field for ${def.name}`);
    const records = (this.object(body).records ?? []) as Json[];
    const externalIdOf = (r: Json) => String(Object.entries(r).find(([k]) => k.toLowerCase() === f.name.toLowerCase())?.[1] ?? '');
    const counts = new Map<string, number>();
    for (const r of Array.isArray(records) ? records : [])
      counts.set(externalIdOf(r).toLowerCase(), (counts.get(externalIdOf(r).toLowerCase()) ?? 0) + 1);
    return this.collection(body, (record) => {
      const value = externalIdOf(record);
      const created = this.o.store.matchesExternalId(def, f, value).length === 0;
      return this.attempt(
        () => {
          if (!value) throw new SfFailure('MISSING_ARGUMENT', `${f.name} not specified`, 400, [f.name]);
          if ((counts.get(value.toLowerCase()) ?? 0) > 1) {
            throw new SfFailure('DUPLICATE_EXTERNAL_ID', `Duplicate external id specified: ${value}`, 400, [f.name]);
          }
          if (this.typeOf(record).toLowerCase() !== def.name.toLowerCase()) {
            throw new SfFailure('INVALID_TYPE', `Records must be of type ${def.name}`, 400, []);
          }
          const { record: saved, created: wasCreated } = this.o.store.upsert(def.name, f.name, value, record);
          return { id: saved.Id, success: true, errors: [], created: wasCreated };
        },
        { created },
      );
    });
  }

  private deleteCollection(search: URLSearchParams): Reply {
    const ids = (search.get('ids') ?? '').split(',').filter(Boolean);
    if (ids.length > MAX_COLLECTION_RECORDS) throw new SfFailure('EXCEEDED_ID_LIMIT', 'cannot delete more than 200 records');
    const restore = search.get('allOrNone') === 'true' ? this.o.store.snapshot() : undefined;
    const results = ids.map((id) =>
      this.attempt(
        () => {
          const type = this.o.store.typeOfId(id);
          if (!type) throw new SfFailure('MALFORMED_ID', `malformed id ${id}`);
          this.o.store.delete(type.name, id);
          return { id, success: true, errors: [] };
        },
        { id },
      ),
    );
    if (restore && results.some((r) => !r.success)) restore();
    return ok(results);
  }

  /** Composite: up to 25 subrequests, `@{ref.path}` references, one API call. */
  private composite(body: unknown): Reply {
    const { allOrNone = false, compositeRequest } = this.object(body) as { allOrNone?: boolean; compositeRequest?: unknown };
    if (!Array.isArray(compositeRequest) || compositeRequest.length === 0) {
      throw new SfFailure('JSON_PARSER_ERROR', 'compositeRequest must be a non-empty array');
    }
    if (compositeRequest.length > MAX_COMPOSITE_SUBREQUESTS) {
      throw new SfFailure('LIMIT_EXCEEDED', `Composite request can contain at most ${MAX_COMPOSITE_SUBREQUESTS} subrequests`);
    }
    const restore = allOrNone ? this.o.store.snapshot() : undefined;
    const bodies = new Map<string, unknown>();
    const responses: { body: unknown; httpHeaders: Record<string, string>; httpStatusCode: number; referenceId: string }[] = [];
    let failedAt = -1;
    for (const [i, sub] of (compositeRequest as { method: string; url: string; referenceId: string; body?: unknown }[]).entries()) {
      const reply = this.subrequest(sub, bodies);
      responses.push({
        body: reply.body ?? null,
        httpHeaders: reply.headers ?? {},
        httpStatusCode: reply.status,
        referenceId: sub.referenceId,
      });
      if (reply.status < 300) bodies.set(sub.referenceId, reply.body);
      else if (allOrNone) {
        failedAt = i;
        break;
      }
    }
    if (restore && failedAt >= 0) {
      restore();
      const rolledBack = halted('The transaction was rolled back since another operation in the same transaction failed.');
      const all = (compositeRequest as { referenceId: string }[]).map((sub, i) =>
        i === failedAt
          ? (responses[i] as (typeof responses)[number])
          : { body: rolledBack.body, httpHeaders: {}, httpStatusCode: 400, referenceId: sub.referenceId },
      );
      return ok({ compositeResponse: all });
    }
    return ok({ compositeResponse: responses });
  }

  private subrequest(sub: { method: string; url: string; referenceId: string; body?: unknown }, bodies: Map<string, unknown>): Reply {
    let url: string;
    let body: unknown;
    try {
      url = resolveReferences(sub.url, bodies, encodeURIComponent);
      body = sub.body === undefined ? undefined : JSON.parse(resolveReferences(JSON.stringify(sub.body), bodies, (v) => v));
    } catch (err) {
      return halted(`Invalid reference specified. ${(err as Error).message}`);
    }
    const match = /^\/services\/data\/v(\d+\.\d+)(\/[^?]*)?(?:\?(.*))?$/.exec(url);
    if (!match) return fail(notFound());
    return this.dispatch(sub.method, match[1] as string, match[2] ?? '', new URLSearchParams(match[3] ?? ''), body);
  }
}

function faultMessage(statusCode: string, id: unknown): string {
  return statusCode === 'UNABLE_TO_LOCK_ROW'
    ? `unable to obtain exclusive access to this record or 1 records: ${typeof id === 'string' ? id : ''}`
    : `${statusCode} (injected by the sandbox)`;
}

/** Replaces `@{refId.path[0].field}` with values of earlier subrequest bodies. */
function resolveReferences(text: string, bodies: Map<string, unknown>, encode: (v: string) => string): string {
  return text.replace(/@\{([^}.[\]]+)((?:\.[^}.[\]]+|\[\d+\])*)\}/g, (whole, ref: string, path: string) => {
    let value: unknown = bodies.get(ref);
    for (const step of path.match(/[^.[\]]+/g) ?? []) value = (value as Record<string, unknown> | undefined)?.[step];
    if (value === undefined || value === null || typeof value === 'object') throw new Error(`No value for ${whole} found in ${ref}.`);
    return encode(String(value));
  });
}
