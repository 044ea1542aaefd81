import { isSalesforceId, toId18 } from '../ids.ts';
import { STANDARD_STAGES, buildSchema, type FieldDef, type ObjectDef, type SfValue } from './schema.ts';

export type SfRecord = Record<string, SfValue>;

/**
 * A Salesforce error as the REST API reports it: `[{message, errorCode, fields?}]` with a status.
 * Record (DML) errors carry `fields`, even empty; query, session and limit errors do not.
 */
export class SfFailure extends Error {
  constructor(
    readonly errorCode: string,
    message: string,
    readonly status = 400,
    readonly fields?: string[],
  ) {
    super(message);
  }

  body() {
    return [{ message: this.message, errorCode: this.errorCode, ...(this.fields ? { fields: this.fields } : {}) }];
  }
}

export const notFound = () => new SfFailure('NOT_FOUND', 'The requested resource does not exist', 404);

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A valid 18-char id: key prefix, pod, base62 sequence (so ids sort by creation), checksum. */
export function makeId(keyPrefix: string, sequence: number): string {
  let n = sequence;
  let tail = '';
  for (let i = 0; i < 6; i++) {
    tail = BASE62[n % 62] + tail;
    n = Math.floor(n / 62);
  }
  return toId18(`${keyPrefix}5g0000${tail}`);
}

/** Datetimes as Salesforce writes them: second precision, `+0000`. */
export function sfDateTime(date: Date): string {
  return `${new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString().slice(0, 19)}.000+0000`;
}

export function parseSfDateTime(value: string): number {
  return Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
}

interface WriteOptions {
  /** Platform-side writes (conversion, seeding) skip field-level access and converted-lead checks. */
  system?: boolean;
}

export interface StoreOptions {
  namespace: string;
  multiCurrency: boolean;
  currency: string;
  orgId: string;
  now: () => Date;
}

/** The org's data: records per sObject, with Salesforce's validation and system fields. */
export class OrgStore {
  readonly schema: Map<string, ObjectDef>;
  readonly userId: string;
  private readonly tables = new Map<string, Map<string, SfRecord>>();
  private sequence = 0;
  /** Records created or updated since the last drain, for Outbound Messages. */
  private changes: { sobject: string; id: string }[] = [];
  /** Live records by lower-cased value of each unique field (`Type.Field`), so upserts stay O(1). */
  private readonly unique = new Map<string, Map<string, string>>();
  /** Undo log since the last drain: what each write replaced. */
  private journal: { sobject: string; id: string; before: SfRecord | undefined }[] = [];

  constructor(private readonly options: StoreOptions) {
    this.schema = buildSchema(options);
    const admin = { Name: 'Sandbox Admin', Email: 'admin@sandbox.example', Username: 'admin@sandbox.example' };
    this.userId = this.insert('User', admin, { system: true }).Id as string;
    // Another admin of the org, so a test can sign in to Referloop as someone other than the installer.
    this.insert(
      'User',
      { Name: 'Second Admin', Email: 'second.admin@sandbox.example', Username: 'second.admin@sandbox.example' },
      { system: true },
    );
    STANDARD_STAGES.forEach(([name, probability, forecast], i) => {
      this.insert(
        'OpportunityStage',
        {
          ApiName: name,
          MasterLabel: name,
          IsActive: true,
          IsClosed: name.startsWith('Closed'),
          IsWon: name === 'Closed Won',
          DefaultProbability: probability,
          ForecastCategoryName: forecast,
          SortOrder: i + 1,
        },
        { system: true },
      );
    });
    this.insert('Organization', { Name: 'Sandbox Org', DefaultCurrencyIsoCode: options.currency }, { system: true });
    if (options.multiCurrency) {
      this.insert(
        'CurrencyType',
        { IsoCode: options.currency, ConversionRate: 1, DecimalPlaces: 2, IsActive: true, IsCorporate: true },
        { system: true },
      );
    }
    this.drainChanges();
  }

  /** Object names are case-insensitive in SOQL and URLs. */
  objectDef(name: string): ObjectDef | undefined {
    const lower = name.toLowerCase();
    return [...this.schema.values()].find((o) => o.name.toLowerCase() === lower);
  }

  fieldDef(def: ObjectDef, name: string): FieldDef | undefined {
    const lower = name.toLowerCase();
    return [...def.fields.values()].find((f) => f.name.toLowerCase() === lower);
  }

  typeOfId(id: string): ObjectDef | undefined {
    return [...this.schema.values()].find((o) => id.startsWith(o.keyPrefix));
  }

  get(sobject: string, id: string): SfRecord | undefined {
    return this.tables.get(sobject)?.get(toId18(id));
  }

  rows(sobject: string, includeDeleted = false): SfRecord[] {
    return [...(this.tables.get(sobject)?.values() ?? [])].filter((r) => includeDeleted || r.IsDeleted !== true);
  }

  /** Commit point: returns what changed since the last one; nothing before it can be rolled back. */
  drainChanges(): { sobject: string; id: string }[] {
    const out = this.changes;
    this.changes = [];
    this.journal = [];
    return out;
  }

  /** Returns a function that rolls the org back to this point (allOrNone, composite, failed actions). */
  snapshot(): () => void {
    const mark = this.journal.length;
    const changes = this.changes.length;
    return () => {
      for (const entry of this.journal.splice(mark).reverse()) {
        this.place(entry.sobject, entry.id, entry.before);
      }
      this.changes.length = changes;
    };
  }

  /** Records are replaced, never mutated, so the journal can restore them. */
  private put(sobject: string, record: SfRecord, notify = true): void {
    const id = record.Id as string;
    this.journal.push({ sobject, id, before: this.table(sobject).get(id) });
    this.place(sobject, id, record);
    if (notify) this.changes.push({ sobject, id });
  }

  addField(sobject: string, field: FieldDef): void {
    const def = this.requireDef(sobject);
    if (this.fieldDef(def, field.name))
      throw new SfFailure('DUPLICATE_DEVELOPER_NAME', `${sobject} already has a field ${field.name}`, 400, [field.name]);
    def.fields.set(field.name, field);
  }

  removeField(sobject: string, field: string): void {
    const def = this.objectDef(sobject);
    const f = def && this.fieldDef(def, field);
    if (!def || !f) throw notFound();
    def.fields.delete(f.name);
  }

  private newId(def: ObjectDef): string {
    this.sequence += 1;
    return makeId(def.keyPrefix, this.sequence);
  }

  private requireDef(sobject: string): ObjectDef {
    const def = this.objectDef(sobject);
    if (!def) throw new SfFailure('INVALID_TYPE', `sObject type '${sobject}' is not supported.`, 400, []);
    return def;
  }

  private coerce(f: FieldDef, value: unknown): SfValue {
    const bad = () =>
      new SfFailure('INVALID_TYPE_ON_FIELD_IN_RECORD', `${f.label}: value not of required type: ${String(value)}`, 400, [f.name]);
    if (value === null || value === undefined || value === '') return null;
    switch (f.type) {
      case 'boolean':
        if (typeof value !== 'boolean') throw bad();
        return value;
      case 'currency':
      case 'double':
      case 'percent':
      case 'int': {
        const num = typeof value === 'number' ? value : Number(value);
        if (!Number.isFinite(num)) throw bad();
        return num;
      }
      case 'date':
        if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) throw bad();
        return value;
      case 'datetime': {
        const ms = typeof value === 'string' ? parseSfDateTime(value) : Number.NaN;
        if (Number.isNaN(ms)) throw bad();
        return sfDateTime(new Date(ms));
      }
      case 'id':
      case 'reference': {
        if (typeof value !== 'string' || !isSalesforceId(value)) {
          throw new SfFailure('MALFORMED_ID', `${f.label}: id value of incorrect type: ${String(value)}`, 400, [f.name]);
        }
        const id = toId18(value);
        const target = this.typeOfId(id);
        const record = target && f.referenceTo.includes(target.name) ? this.get(target.name, id) : undefined;
        if (!record) throw new SfFailure('INVALID_CROSS_REFERENCE_KEY', `invalid cross reference id`, 400, [f.name]);
        if (record.IsDeleted === true) throw new SfFailure('ENTITY_IS_DELETED', 'entity is deleted', 400, [f.name]);
        return id;
      }
      default: {
        const text = typeof value === 'string' ? value : String(value);
        if (f.length > 0 && text.length > f.length) {
          throw new SfFailure('STRING_TOO_LONG', `${f.label}: data value too large: ${text} (max length=${f.length})`, 400, [f.name]);
        }
        if (f.type === 'email' && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(text)) {
          throw new SfFailure('INVALID_EMAIL_ADDRESS', `${f.label}: invalid email address: ${text}`, 400, [f.name]);
        }
        return text;
      }
    }
  }

  /** Resolves names case-insensitively, checks access and types; `attributes` is ignored. */
  private fieldsFrom(def: ObjectDef, input: Record<string, unknown>, mode: 'create' | 'update', opts: WriteOptions): SfRecord {
    const out: SfRecord = {};
    const locked: string[] = [];
    for (const [name, value] of Object.entries(input)) {
      if (name === 'attributes' || (mode === 'update' && name.toLowerCase() === 'id')) continue;
      const f = this.fieldDef(def, name);
      if (!f) {
        throw new SfFailure('INVALID_FIELD', `No such column '${name}' on sobject of type ${def.name}`, 400, [name]);
      }
      if (!opts.system && !(mode === 'create' ? f.createable : f.updateable)) locked.push(f.name);
      out[f.name] = this.coerce(f, value);
    }
    if (locked.length > 0) {
      throw new SfFailure(
        'INVALID_FIELD_FOR_INSERT_UPDATE',
        `Unable to create/update fields: ${locked.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`,
        400,
        locked,
      );
    }
    return out;
  }

  private checkUnique(def: ObjectDef, record: SfRecord): void {
    for (const f of def.fields.values()) {
      const value = record[f.name];
      if (!f.unique || value === null || value === undefined) continue;
      const clash = this.uniqueIndex(def.name, f.name).get(String(value).toLowerCase());
      if (clash && clash !== record.Id) {
        const message = `duplicate value found: ${f.name} duplicates value on record with id: ${clash}`;
        throw new SfFailure('DUPLICATE_VALUE', message, 400, [f.name]);
      }
    }
  }

  /** What the platform derives: names, stage metadata, one primary contact role. */
  private derive(def: ObjectDef, record: SfRecord): void {
    if (def.name === 'Contact' || def.name === 'Lead') {
      record.Name = [record.FirstName, record.LastName].filter(Boolean).join(' ');
    }
    if (def.name === 'Opportunity') {
      const stage = this.rows('OpportunityStage').find((s) => s.ApiName === record.StageName);
      if (!stage) {
        const message = `Stage: bad value for restricted picklist field: ${String(record.StageName)}`;
        throw new SfFailure('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', message, 400, ['StageName']);
      }
      record.IsClosed = stage.IsClosed as boolean;
      record.IsWon = stage.IsWon as boolean;
      record.ForecastCategoryName = stage.ForecastCategoryName as string;
    }
    if (def.name === 'OpportunityContactRole' && record.IsPrimary === true) {
      for (const other of this.rows(def.name)) {
        const sibling = other.OpportunityId === record.OpportunityId && other.Id !== record.Id;
        if (sibling && other.IsPrimary === true) this.put(def.name, { ...other, IsPrimary: false });
      }
    }
  }

  private place(sobject: string, id: string, record: SfRecord | undefined): void {
    const table = this.table(sobject);
    const live = (r: SfRecord | undefined) => (r && r.IsDeleted !== true ? r : undefined);
    const before = live(table.get(id));
    for (const f of this.schema.get(sobject)?.fields.values() ?? []) {
      if (!f.unique) continue;
      const index = this.uniqueIndex(sobject, f.name);
      if (before?.[f.name] != null) index.delete(String(before[f.name]).toLowerCase());
      const value = live(record)?.[f.name];
      if (value != null) index.set(String(value).toLowerCase(), id);
    }
    if (record) table.set(id, record);
    else table.delete(id);
  }

  private uniqueIndex(sobject: string, field: string): Map<string, string> {
    const key = `${sobject}.${field}`;
    let index = this.unique.get(key);
    if (!index) this.unique.set(key, (index = new Map()));
    return index;
  }

  private table(sobject: string): Map<string, SfRecord> {
    let t = this.tables.get(sobject);
    if (!t) this.tables.set(sobject, (t = new Map()));
    return t;
  }

  insert(sobject: string, input: Record<string, unknown>, opts: WriteOptions = {}): SfRecord {
    const def = this.requireDef(sobject);
    if (!def.createable && !opts.system) {
      throw new SfFailure('INSUFFICIENT_ACCESS_OR_READONLY', `entity type cannot be inserted: ${def.name}`, 400, []);
    }
    if (Object.keys(input).some((k) => k.toLowerCase() === 'id')) {
      throw new SfFailure('INVALID_FIELD_FOR_INSERT_UPDATE', 'cannot specify Id in an insert call', 400, ['Id']);
    }
    const given = this.fieldsFrom(def, input, 'create', opts);
    const missing = [...def.fields.values()].filter((f) => f.required && (given[f.name] ?? null) === null).map((f) => f.name);
    if (missing.length > 0)
      throw new SfFailure('REQUIRED_FIELD_MISSING', `Required fields are missing: [${missing.join(', ')}]`, 400, missing);
    const now = sfDateTime(this.options.now());
    const record: SfRecord = {};
    for (const f of def.fields.values()) record[f.name] = f.defaultValue;
    Object.assign(record, given, {
      Id: this.newId(def),
      IsDeleted: false,
      CreatedDate: now,
      CreatedById: this.userId ?? null,
      LastModifiedDate: now,
      LastModifiedById: this.userId ?? null,
      SystemModstamp: now,
    });
    if (def.fields.has('OwnerId')) record.OwnerId = given.OwnerId ?? this.userId ?? null;
    if (def.name === 'Opportunity' && def.fields.has('CurrencyIsoCode')) record.CurrencyIsoCode ??= this.options.currency;
    if (def.custom && def.fields.has('Name')) record.Name = `R-${String(this.sequence).padStart(6, '0')}`;
    if (def.name === 'Opportunity' && record.Probability === null) {
      record.Probability = this.rows('OpportunityStage').find((s) => s.ApiName === record.StageName)?.DefaultProbability ?? null;
    }
    this.derive(def, record);
    this.checkUnique(def, record);
    this.put(def.name, record);
    return record;
  }

  update(sobject: string, id: string, input: Record<string, unknown>, opts: WriteOptions = {}): SfRecord {
    const def = this.requireDef(sobject);
    const current = isSalesforceId(id) ? this.get(def.name, id) : undefined;
    if (!current) throw notFound();
    if (current.IsDeleted === true) throw new SfFailure('ENTITY_IS_DELETED', 'entity is deleted', 400, []);
    if (def.name === 'Lead' && current.IsConverted === true && !opts.system) {
      throw new SfFailure('CANNOT_UPDATE_CONVERTED_LEAD', 'cannot reference converted lead', 400, []);
    }
    const record = { ...current, ...this.fieldsFrom(def, input, 'update', opts) };
    const now = sfDateTime(this.options.now());
    Object.assign(record, { LastModifiedDate: now, LastModifiedById: this.userId, SystemModstamp: now });
    this.derive(def, record);
    this.checkUnique(def, record);
    this.put(def.name, record);
    return record;
  }

  /** Upsert by external id: 0 matches create, 1 updates, more are ambiguous (300). */
  upsert(sobject: string, fieldName: string, value: string, input: Record<string, unknown>): { record: SfRecord; created: boolean } {
    const def = this.requireDef(sobject);
    const f = this.fieldDef(def, fieldName);
    if (!f) throw new SfFailure('NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${fieldName}`, 404);
    if (!f.externalId && f.type !== 'id') {
      throw new SfFailure('INVALID_FIELD', `Field ${f.name} is not an External ID or indexed field for ${def.name}`, 400, [f.name]);
    }
    const matches = this.matchesExternalId(def, f, value);
    if (matches.length > 1) throw new SfFailure('MULTIPLE_CHOICES', `more than one record found for external id field ${f.name}`, 300);
    const fields = Object.fromEntries(Object.entries(input).filter(([k]) => k.toLowerCase() !== f.name.toLowerCase()));
    const [match] = matches;
    if (match) return { record: this.update(def.name, match.Id as string, fields), created: false };
    return { record: this.insert(def.name, f.type === 'id' ? fields : { ...fields, [f.name]: value }), created: true };
  }

  matchesExternalId(def: ObjectDef, f: FieldDef, value: string): SfRecord[] {
    if (f.type === 'id') return [this.get(def.name, value)].filter((r): r is SfRecord => r !== undefined && r.IsDeleted !== true);
    if (f.unique) {
      const id = this.uniqueIndex(def.name, f.name).get(value.toLowerCase());
      return id ? [this.get(def.name, id) as SfRecord] : [];
    }
    return this.rows(def.name).filter((r) => String(r[f.name] ?? '').toLowerCase() === value.toLowerCase());
  }

  /** Deleted records go to the recycle bin: invisible to query, visible to queryAll. */
  delete(sobject: string, id: string): void {
    const def = this.requireDef(sobject);
    const record = isSalesforceId(id) ? this.get(def.name, id) : undefined;
    if (!record) throw notFound();
    if (record.IsDeleted === true) throw new SfFailure('ENTITY_IS_DELETED', 'entity is deleted', 400, []);
    this.put(def.name, { ...record, IsDeleted: true, SystemModstamp: sfDateTime(this.options.now()) }, false);
  }
}
