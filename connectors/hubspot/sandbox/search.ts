import type { PropertyDef } from './defaults.ts';
import { invalid, isRecord } from './http.ts';
import type { StoredRecord } from './model.ts';

/**
 * CRM search semantics (https://developers.hubspot.com/docs/api/crm/search): groups OR'd,
 * filters AND'd; at most 5 groups × 6 filters, 18 in all; `limit` ≤ 200; no paging past 10,000.
 */

const OPERATORS = [
  'EQ',
  'NEQ',
  'LT',
  'LTE',
  'GT',
  'GTE',
  'BETWEEN',
  'IN',
  'NOT_IN',
  'HAS_PROPERTY',
  'NOT_HAS_PROPERTY',
  'CONTAINS_TOKEN',
  'NOT_CONTAINS_TOKEN',
] as const;

interface Filter {
  propertyName: string;
  operator: (typeof OPERATORS)[number];
  value?: string;
  highValue?: string;
  values?: string[];
}

export interface SearchQuery {
  groups: Filter[][];
  sorts: { propertyName: string; direction: 'ASCENDING' | 'DESCENDING' }[];
  properties: string[] | undefined;
  limit: number;
  offset: number;
  query: string | undefined;
}

const MAX_RESULTS = 10_000;

/** The guide's `{propertyName, direction}` form; a bare string sorts ascending by that property. */
function parseSort(sort: unknown): SearchQuery['sorts'][number] {
  if (typeof sort === 'string') return { propertyName: sort, direction: 'ASCENDING' };
  if (isRecord(sort) && typeof sort.propertyName === 'string') {
    return { propertyName: sort.propertyName, direction: sort.direction === 'DESCENDING' ? 'DESCENDING' : 'ASCENDING' };
  }
  throw invalid('sorts items need propertyName and direction');
}

export function parseSearch(body: unknown): SearchQuery {
  if (!isRecord(body)) throw invalid('search body must be a JSON object');
  const groups = Array.isArray(body.filterGroups) ? body.filterGroups : [];
  const filters = groups.map((g) => (isRecord(g) && Array.isArray(g.filters) ? g.filters : null));
  if (filters.some((f) => f === null)) throw invalid('each filterGroup needs a filters array');
  const total = filters.reduce((n, f) => n + (f?.length ?? 0), 0);
  if (groups.length > 5 || filters.some((f) => (f?.length ?? 0) > 6) || total > 18) {
    throw invalid('Too many filters: at most 5 filterGroups with 6 filters each, 18 filters in total');
  }
  const parsed = (filters as unknown[][]).map((group) =>
    group.map((f) => {
      if (!isRecord(f) || typeof f.propertyName !== 'string' || !OPERATORS.includes(f.operator as Filter['operator'])) {
        throw invalid(`Invalid filter ${JSON.stringify(f)}: needs propertyName and an operator of ${OPERATORS.join(', ')}`);
      }
      const values = Array.isArray(f.values) ? f.values.map(String) : undefined;
      if ((f.operator === 'IN' || f.operator === 'NOT_IN') && !values) throw invalid(`${f.operator} needs values`);
      return {
        propertyName: f.propertyName,
        operator: f.operator as Filter['operator'],
        value: f.value === undefined ? undefined : String(f.value),
        highValue: f.highValue === undefined ? undefined : String(f.highValue),
        values,
      };
    }),
  );
  const sorts = (Array.isArray(body.sorts) ? body.sorts : []).map(parseSort);
  const limit = body.limit === undefined ? 10 : Number(body.limit);
  if (!Number.isInteger(limit) || limit < 0 || limit > 200) throw invalid('limit must be between 0 and 200');
  const offset = body.after === undefined || body.after === '' ? 0 : Number(body.after);
  if (!Number.isInteger(offset) || offset < 0) throw invalid('after must be a paging token from a previous response');
  if (offset >= MAX_RESULTS) throw invalid(`Search can page through at most ${MAX_RESULTS} results; narrow the filters instead`);
  if (typeof body.query === 'string' && body.query.length > 3000) throw invalid('query is limited to 3000 characters');
  return {
    groups: parsed,
    sorts,
    properties: Array.isArray(body.properties) ? body.properties.map(String) : undefined,
    limit,
    offset,
    query: typeof body.query === 'string' && body.query ? body.query.toLowerCase() : undefined,
  };
}

type Defs = Map<string, PropertyDef>;

/** Comparable form of a value: epoch ms for dates, numbers for numbers, lowercase text otherwise. */
function comparable(def: PropertyDef | undefined, value: string): number | string {
  if (def?.type === 'datetime' || def?.type === 'date') return /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (def?.type === 'number') return Number(value);
  // Enumeration filters are case-sensitive; text matches ignore case.
  return def?.type === 'enumeration' ? value : value.toLowerCase();
}

function tokens(value: string): string[] {
  return value
    .toLowerCase()
    .split(/[^a-z0-9@._-]+/)
    .filter(Boolean);
}

function matchesToken(stored: string, wanted: string): boolean {
  const pattern = wanted.toLowerCase();
  if (!pattern.includes('*')) return tokens(stored).includes(pattern);
  const regex = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return regex.test(stored.toLowerCase()) || tokens(stored).some((t) => regex.test(t));
}

function matches(record: StoredRecord, filter: Filter, defs: Defs): boolean {
  const def = defs.get(filter.propertyName);
  const stored = record.properties[filter.propertyName];
  if (filter.operator === 'HAS_PROPERTY') return stored !== undefined;
  if (filter.operator === 'NOT_HAS_PROPERTY') return stored === undefined;
  if (filter.operator === 'NOT_IN')
    return stored === undefined || !(filter.values ?? []).includes(def?.type === 'enumeration' ? stored : stored.toLowerCase());
  if (filter.operator === 'NEQ') return stored === undefined || comparable(def, stored) !== comparable(def, filter.value ?? '');
  if (filter.operator === 'NOT_CONTAINS_TOKEN') return stored === undefined || !matchesToken(stored, filter.value ?? '');
  if (stored === undefined) return false;
  // IN compares with the values as sent, so uppercase string values never match (https://developers.hubspot.com/docs/api/crm/search).
  if (filter.operator === 'IN') return (filter.values ?? []).includes(def?.type === 'enumeration' ? stored : stored.toLowerCase());
  if (filter.operator === 'CONTAINS_TOKEN') return matchesToken(stored, filter.value ?? '');
  const a = comparable(def, stored);
  const b = comparable(def, filter.value ?? '');
  switch (filter.operator) {
    case 'EQ':
      return a === b;
    case 'LT':
      return a < b;
    case 'LTE':
      return a <= b;
    case 'GT':
      return a > b;
    case 'GTE':
      return a >= b;
    case 'BETWEEN':
      return a >= b && a <= comparable(def, filter.highValue ?? '');
  }
}

const SEARCHABLE = ['email', 'firstname', 'lastname', 'name', 'domain', 'dealname', 'phone', 'hs_note_body'];

export function runSearch(records: StoredRecord[], search: SearchQuery, defs: Defs): StoredRecord[] {
  const hits = records.filter(
    (r) =>
      (!search.groups.length || search.groups.some((group) => group.every((f) => matches(r, f, defs)))) &&
      (!search.query || SEARCHABLE.some((name) => (r.properties[name] ?? '').toLowerCase().includes(search.query ?? ''))),
  );
  return hits.sort((x, y) => {
    for (const { propertyName, direction } of search.sorts) {
      const def = defs.get(propertyName);
      const a = x.properties[propertyName];
      const b = y.properties[propertyName];
      if (a === b) continue;
      if (a === undefined) return 1;
      if (b === undefined) return -1;
      const order = comparable(def, a) < comparable(def, b) ? -1 : comparable(def, a) > comparable(def, b) ? 1 : 0;
      if (order) return direction === 'DESCENDING' ? -order : order;
    }
    return Number(x.id) - Number(y.id);
  });
}
