import { createRequire } from 'node:module';
import type { FieldType as SoqlField, OrderByClause, Query, Subquery, WhereClause } from '@jetstreamapp/soql-parser-js';
import { isSalesforceId, toId18 } from '../ids.ts';
import type { FieldDef, ObjectDef, SfValue } from './schema.ts';
import { SfFailure, parseSfDateTime, type OrgStore, type SfRecord } from './store.ts';

/** The SOQL subset Referloop issues: fields, parent paths, child subqueries, WHERE with AND/OR/NOT, IN, LIKE, semi-joins, ORDER BY, LIMIT, OFFSET. */
export interface QueryContext {
  store: OrgStore;
  includeDeleted: boolean;
  recordUrl: (sobject: string, id: string) => string;
}

type Row = Record<string, unknown>;

type SoqlParser = typeof import('@jetstreamapp/soql-parser-js');
let soqlParser: SoqlParser | undefined;
/**
 * The parser builds its grammar when it is loaded, most of a second of CPU: loaded at the first
 * query rather than at every start of a service that serves the sandbox.
 */
function loadSoqlParser(): SoqlParser {
  soqlParser ??= createRequire(import.meta.url)('@jetstreamapp/soql-parser-js') as SoqlParser;
  return soqlParser;
}
type Predicate = (record: SfRecord) => boolean;

const malformed = (message: string) => new SfFailure('MALFORMED_QUERY', message);

function noSuchColumn(def: ObjectDef, path: string): SfFailure {
  return new SfFailure(
    'INVALID_FIELD',
    `No such column '${path}' on entity '${def.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name.`,
  );
}

/** A field path (`Name`, `Account.Website`, `Who.Name`) checked against the schema, read per record. */
interface Path {
  field: FieldDef;
  read(record: SfRecord): SfValue;
}

function resolvePath(ctx: QueryContext, def: ObjectDef, path: string): Path {
  const parts = path.split('.');
  const leaf = parts.pop() as string;
  const hops: FieldDef[] = [];
  let targets = [def];
  for (const part of parts) {
    const lower = part.toLowerCase();
    const ref = targets.flatMap((t) => [...t.fields.values()]).find((f) => f.relationshipName?.toLowerCase() === lower);
    if (!ref) throw noSuchColumn(def, path);
    hops.push(ref);
    targets = ref.referenceTo.map((name) => ctx.store.objectDef(name)).filter((d): d is ObjectDef => d !== undefined);
  }
  const field = targets.map((t) => ctx.store.fieldDef(t, leaf)).find((f) => f !== undefined);
  if (!field) throw noSuchColumn(def, path);
  return {
    field,
    read(record) {
      let current: SfRecord | undefined = record;
      for (const hop of hops) current = parentOf(ctx, current, hop);
      return current ? (current[field.name] ?? null) : null;
    },
  };
}

function parentOf(ctx: QueryContext, record: SfRecord | undefined, ref: FieldDef): SfRecord | undefined {
  const id = record?.[ref.name];
  if (typeof id !== 'string') return undefined;
  const type = ctx.store.typeOfId(id);
  return type ? ctx.store.get(type.name, id) : undefined;
}

function unquote(raw: string, forLike: boolean): string {
  const inner = raw.replace(/^'|'$/g, '');
  return inner.replace(/\\(.)/g, (_, c: string) => {
    if (forLike && (c === '%' || c === '_')) return `\\${c}`;
    return ({ n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' } as Record<string, string>)[c] ?? c;
  });
}

/** Comparable form of a value for a field's type: text case-insensitive, ids 18-char, datetimes as epoch. */
function comparable(field: FieldDef, value: SfValue): string | number | boolean | null {
  if (value === null) return null;
  switch (field.type) {
    case 'id':
    case 'reference':
      return typeof value === 'string' && isSalesforceId(value) ? toId18(value) : String(value);
    case 'datetime':
      return typeof value === 'number' ? value : parseSfDateTime(String(value));
    case 'boolean':
    case 'currency':
    case 'double':
    case 'percent':
    case 'int':
    case 'date':
      return value;
    default:
      return String(value).toLowerCase();
  }
}

function literal(raw: string, literalType: string): SfValue {
  switch (literalType) {
    case 'NULL':
      return null;
    case 'BOOLEAN':
      return raw.toUpperCase() === 'TRUE';
    case 'INTEGER':
    case 'DECIMAL':
      return Number(raw);
    case 'DATE':
      return raw;
    case 'DATETIME':
      return Date.parse(raw.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
    case 'STRING':
      return unquote(raw, false);
    default:
      throw malformed(`${literalType} literals are not supported by the sandbox`);
  }
}

function compare(a: string | number | boolean, b: string | number | boolean): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function likeRegex(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\' && i + 1 < pattern.length) source += (pattern[++i] as string).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (c === '%') source += '.*';
    else if (c === '_') source += '.';
    else source += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'is');
}

type Token = '(' | ')' | 'AND' | 'OR' | 'NOT' | Predicate;

function conditionPredicate(ctx: QueryContext, def: ObjectDef, condition: Record<string, unknown>): Predicate {
  if (typeof condition.field !== 'string') throw malformed('only field conditions are supported by the sandbox');
  const path = resolvePath(ctx, def, condition.field);
  const operator = String(condition.operator).toUpperCase();
  const comparableOf = (record: SfRecord) => comparable(path.field, path.read(record));

  if (condition.valueQuery) {
    const values = new Set(execute(ctx, condition.valueQuery as Query).map((r) => Object.values(r).find((v) => typeof v !== 'object')));
    const inSet = (record: SfRecord) => values.has(comparableOf(record) as SfValue);
    return operator === 'NOT IN' ? (r) => !inSet(r) : inSet;
  }
  const types = ([] as unknown[]).concat(condition.literalType ?? 'STRING') as string[];
  const raws = ([] as unknown[]).concat(condition.value) as string[];
  if (operator === 'LIKE') {
    const regex = likeRegex(unquote(raws[0] ?? '', true));
    return (record) => {
      const v = path.read(record);
      return v !== null && regex.test(String(v));
    };
  }
  const values = raws.map((raw, i) => comparable(path.field, literal(raw, types[i] ?? types[0] ?? 'STRING')));
  const first = values[0] ?? null;
  return (record) => {
    const v = comparableOf(record);
    switch (operator) {
      case '=':
        return v === first;
      case '!=':
        return v !== first;
      case 'IN':
        return values.includes(v);
      case 'NOT IN':
        return !values.includes(v);
      case '<':
      case '<=':
      case '>':
      case '>=': {
        if (v === null || first === null) return false;
        const c = compare(v, first);
        return operator === '<' ? c < 0 : operator === '<=' ? c <= 0 : operator === '>' ? c > 0 : c >= 0;
      }
      default:
        throw malformed(`operator ${operator} is not supported by the sandbox`);
    }
  };
}

/** The parser's WHERE is a right-leaning chain with paren counts; flatten it, then parse with precedence. */
function whereTokens(ctx: QueryContext, def: ObjectDef, where: WhereClause | undefined, out: Token[] = []): Token[] {
  if (!where) return out;
  const node = where as { left: Record<string, unknown> | null; operator?: string; right?: WhereClause };
  const left = node.left;
  const open = Number(left?.openParen ?? 0);
  for (let i = 0; i < open; i++) out.push('(');
  if (node.operator === 'NOT') {
    out.push('NOT');
    return whereTokens(ctx, def, node.right, out);
  }
  if (left) out.push(conditionPredicate(ctx, def, left));
  for (let i = 0; i < Number(left?.closeParen ?? 0); i++) out.push(')');
  if (node.operator) out.push(node.operator as Token);
  return whereTokens(ctx, def, node.right, out);
}

function whereParser(tokens: Token[]): Predicate {
  let i = 0;
  const primary = (): Predicate => {
    const t = tokens[i++];
    if (t === 'NOT') {
      const inner = primary();
      return (r) => !inner(r);
    }
    if (t === '(') {
      const inner = or();
      if (tokens[i++] !== ')') throw malformed('unbalanced parentheses');
      return inner;
    }
    if (typeof t !== 'function') throw malformed('unexpected token in WHERE');
    return t;
  };
  const and = (): Predicate => {
    let p = primary();
    while (tokens[i] === 'AND') {
      i++;
      const l = p;
      const r = primary();
      p = (x) => l(x) && r(x);
    }
    return p;
  };
  const or = (): Predicate => {
    let p = and();
    while (tokens[i] === 'OR') {
      i++;
      const l = p;
      const r = and();
      p = (x) => l(x) || r(x);
    }
    return p;
  };
  const result = tokens.length === 0 ? () => true : or();
  if (i !== tokens.length) throw malformed('unexpected token in WHERE');
  return result;
}

function sorter(ctx: QueryContext, def: ObjectDef, orderBy: OrderByClause | OrderByClause[] | undefined) {
  const clauses = ([] as OrderByClause[]).concat(orderBy ?? []).map((c) => {
    if (!('field' in c) || !c.field) throw malformed('ORDER BY functions are not supported by the sandbox');
    const path = resolvePath(ctx, def, c.field);
    const desc = c.order === 'DESC';
    const nullsFirst = c.nulls ? c.nulls === 'FIRST' : !desc;
    return { path, desc, nullsFirst };
  });
  return (a: SfRecord, b: SfRecord) => {
    for (const { path, desc, nullsFirst } of clauses) {
      const x = comparable(path.field, path.read(a));
      const y = comparable(path.field, path.read(b));
      if (x === y) continue;
      if (x === null) return nullsFirst ? -1 : 1;
      if (y === null) return nullsFirst ? 1 : -1;
      const c = compare(x, y);
      if (c !== 0) return desc ? -c : c;
    }
    return 0;
  };
}

function setNested(out: Row, ctx: QueryContext, def: ObjectDef, record: SfRecord, relationships: string[], leaf: string): void {
  let container = out;
  let current: SfRecord | undefined = record;
  let currentDef = def;
  for (const rel of relationships) {
    const ref = [...currentDef.fields.values()].find((f) => f.relationshipName?.toLowerCase() === rel.toLowerCase());
    if (!ref) throw noSuchColumn(def, [...relationships, leaf].join('.'));
    current = parentOf(ctx, current, ref);
    const key = ref.relationshipName as string;
    if (!current) {
      container[key] = null;
      return;
    }
    currentDef = ctx.store.typeOfId(String(current.Id)) as ObjectDef;
    const existing = container[key];
    container = (existing && typeof existing === 'object' ? existing : (container[key] = attributesOf(ctx, currentDef, current))) as Row;
  }
  const field = ctx.store.fieldDef(currentDef, leaf);
  if (!field) throw noSuchColumn(def, [...relationships, leaf].join('.'));
  container[field.name] = current?.[field.name] ?? null;
}

function attributesOf(ctx: QueryContext, def: ObjectDef, record: SfRecord): Row {
  return { attributes: { type: def.name, url: ctx.recordUrl(def.name, String(record.Id)) } };
}

function childQuery(ctx: QueryContext, def: ObjectDef, subquery: Subquery) {
  const lower = subquery.relationshipName.toLowerCase();
  for (const child of ctx.store.schema.values()) {
    for (const f of child.fields.values()) {
      if (f.childRelationshipName?.toLowerCase() === lower && f.referenceTo.includes(def.name)) return { child, field: f };
    }
  }
  throw new SfFailure('INVALID_TYPE', `Didn't understand relationship '${subquery.relationshipName}' in FROM part of query call.`);
}

function project(ctx: QueryContext, def: ObjectDef, fields: SoqlField[], record: SfRecord): Row {
  const out = attributesOf(ctx, def, record);
  for (const f of fields) {
    if (f.type === 'Field') {
      setNested(out, ctx, def, record, [], f.field);
    } else if (f.type === 'FieldRelationship') {
      setNested(out, ctx, def, record, f.relationships, f.field);
    } else if (f.type === 'FieldSubquery') {
      const { child, field } = childQuery(ctx, def, f.subquery);
      const rows = select(ctx, child, f.subquery, (r) => r[field.name] === record.Id);
      out[f.subquery.relationshipName] = rows.length === 0 ? null : { totalSize: rows.length, done: true, records: rows };
    } else {
      throw malformed(`${f.type} is not supported by the sandbox`);
    }
  }
  return out;
}

function select(ctx: QueryContext, def: ObjectDef, q: Query | Subquery, scope: Predicate = () => true): Row[] {
  for (const f of q.fields ?? []) {
    if (f.type === 'Field') resolvePath(ctx, def, f.field);
    if (f.type === 'FieldRelationship') resolvePath(ctx, def, [...f.relationships, f.field].join('.'));
  }
  const where = whereParser(whereTokens(ctx, def, q.where));
  const rows = ctx.store.rows(def.name, ctx.includeDeleted).filter((r) => scope(r) && where(r));
  rows.sort(sorter(ctx, def, q.orderBy));
  const offset = q.offset ?? 0;
  const limited = rows.slice(offset, q.limit === undefined ? undefined : offset + q.limit);
  return limited.map((r) => project(ctx, def, q.fields ?? [], r));
}

function execute(ctx: QueryContext, q: Query): Row[] {
  const def = q.sObject ? ctx.store.objectDef(q.sObject) : undefined;
  if (!def) {
    throw new SfFailure(
      'INVALID_TYPE',
      `sObject type '${q.sObject ?? ''}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name.`,
    );
  }
  return select(ctx, def, q);
}

export function runQuery(ctx: QueryContext, soql: string): Row[] {
  let q: Query;
  try {
    q = loadSoqlParser().parseQuery(soql);
  } catch (err) {
    throw malformed(`\n${soql}\nERROR: ${(err as Error).message.split('\n')[0] ?? 'unexpected token'}`);
  }
  return execute(ctx, q);
}
