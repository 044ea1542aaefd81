import {
  CREATED,
  DEFAULT_GROUPS,
  DEFAULT_READ,
  MODIFIED,
  OBJECT_NAMES,
  defaultPipelines,
  defaultProperties,
  type ObjectName,
  type PipelineDef,
  type PropertyDef,
} from './defaults.ts';
import { hubspotError, invalid, isRecord, notFound } from './http.ts';

/** The portal's CRM data. Every change is reported to `emit`, which feeds the webhooks. */

export interface StoredRecord {
  type: ObjectName;
  id: string;
  properties: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
  /** Set on the losing record of a merge; reads by its id resolve to the winner. */
  mergedInto?: string;
}

/** Who made a change: the app through the API, a person in HubSpot (tests playing the sales team), or a form submission. */
export type ChangeSource = 'API' | 'CRM_UI' | 'FORM';

export type Change = { occurredAt: number; source: ChangeSource } & (
  | { kind: 'creation' | 'deletion'; type: ObjectName; id: string }
  | { kind: 'propertyChange'; type: ObjectName; id: string; propertyName: string; propertyValue: string }
  | { kind: 'merge'; type: ObjectName; id: string; mergedIds: string[]; propertiesMoved: number }
  | { kind: 'associationChange'; type: ObjectName; id: string; toType: ObjectName; toId: string; removed: boolean; primary: boolean }
);

export const TYPE_IDS: Record<ObjectName, string> = { contacts: '0-1', companies: '0-2', deals: '0-3', notes: '0-46' };
export const SINGULAR: Record<ObjectName, string> = { contacts: 'contact', companies: 'company', deals: 'deal', notes: 'note' };

/** `contacts`, `contact` and `0-1` all name contacts, as in HubSpot's paths. */
export function objectName(segment: string): ObjectName | undefined {
  return OBJECT_NAMES.find((name) => segment === name || segment === SINGULAR[name] || segment === TYPE_IDS[name]);
}

interface AssociationType {
  from: ObjectName;
  to: ObjectName;
  typeId: number;
  inverse: number;
  label?: string;
}

// HUBSPOT_DEFINED default types (https://developers.hubspot.com/docs/api/crm/associations). Unlabeled first: that is the default.
const PAIRS: [ObjectName, ObjectName, number, number, string?][] = [
  ['contacts', 'companies', 279, 280],
  ['contacts', 'companies', 1, 2, 'Primary'],
  ['deals', 'contacts', 3, 4],
  ['deals', 'companies', 341, 342],
  ['deals', 'companies', 5, 6, 'Primary'],
  ['notes', 'contacts', 202, 201],
  ['notes', 'companies', 190, 189],
  ['notes', 'deals', 214, 213],
];
const ASSOCIATION_TYPES: AssociationType[] = PAIRS.flatMap(([from, to, typeId, inverse, label]) => [
  { from, to, typeId, inverse, label },
  { from: to, to: from, typeId: inverse, inverse: typeId, label },
]);

const SYSTEM = new Set([
  'hs_object_id',
  'createdate',
  'hs_createdate',
  'lastmodifieddate',
  'hs_lastmodifieddate',
  'hs_merged_object_ids',
  'hs_additional_emails',
  'hs_is_closed',
  'hs_is_closed_won',
]);

export class CrmModel {
  readonly records = Object.fromEntries(OBJECT_NAMES.map((t) => [t, new Map<string, StoredRecord>()])) as Record<
    ObjectName,
    Map<string, StoredRecord>
  >;
  readonly properties = Object.fromEntries(OBJECT_NAMES.map((t) => [t, new Map(defaultProperties(t).map((p) => [p.name, p]))])) as Record<
    ObjectName,
    Map<string, PropertyDef>
  >;
  readonly groups = Object.fromEntries(
    OBJECT_NAMES.map((t) => [t, new Map(DEFAULT_GROUPS[t].map((g, i) => [g.name, { ...g, displayOrder: i }]))]),
  ) as Record<ObjectName, Map<string, { name: string; label: string; displayOrder: number }>>;
  readonly pipelines: PipelineDef[] = defaultPipelines();
  private readonly edges = new Map<string, Map<string, Set<number>>>();
  private readonly emails = new Map<string, string>();
  private lastId = 1000;

  constructor(private readonly emit: (change: Change) => void) {}

  // --- reads -----------------------------------------------------------------------------------

  /** The live record for an id, following merges; archived records are not found. */
  find(type: ObjectName, id: string): StoredRecord | undefined {
    let record = this.records[type].get(id);
    for (let hops = 0; record?.mergedInto && hops < 100; hops++) record = this.records[type].get(record.mergedInto);
    return record && !record.archived ? record : undefined;
  }

  require(type: ObjectName, id: string): StoredRecord {
    const record = this.find(type, id);
    if (!record) throw notFound(`Object not found.  objectId are usually numeric.`);
    return record;
  }

  /** Lookup by `idProperty`; contacts' `email` is the unique property HubSpot ships. */
  findBy(type: ObjectName, idProperty: string | undefined, value: string): StoredRecord | undefined {
    if (!idProperty || idProperty === 'hs_object_id') return this.find(type, value);
    if (!this.properties[type].get(idProperty)?.hasUniqueValue) {
      throw invalid(`Unable to perform read by non-unique ${TYPE_IDS[type]} property ${idProperty}`);
    }
    const id = this.emails.get(value.trim().toLowerCase());
    return id === undefined ? undefined : this.find(type, id);
  }

  live(type: ObjectName): StoredRecord[] {
    return [...this.records[type].values()].filter((r) => !r.archived && !r.mergedInto);
  }

  project(record: StoredRecord, properties?: string[]) {
    const names = new Set([
      ...(properties?.length ? properties : DEFAULT_READ[record.type]),
      'hs_object_id',
      CREATED[record.type],
      MODIFIED[record.type],
    ]);
    // Empty properties are left out (the spec types values as strings, never null).
    const values = Object.fromEntries([...names].flatMap((name) => (record.properties[name] ? [[name, record.properties[name]]] : [])));
    return {
      id: record.id,
      properties: values,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      archived: record.archived,
      ...(record.archivedAt ? { archivedAt: record.archivedAt } : {}),
    };
  }

  // --- writes ----------------------------------------------------------------------------------

  /** HubSpot's write validation: known, writable properties with values of the right type. */
  validate(type: ObjectName, input: unknown, existing?: StoredRecord): Record<string, string> {
    if (!isRecord(input)) throw invalid('properties must be an object of property names to string values');
    const problems: { name: string; error: string; message: string }[] = [];
    const values: Record<string, string> = {};
    for (const [name, raw] of Object.entries(input)) {
      const def = this.properties[type].get(name);
      const value = raw === null ? '' : typeof raw === 'object' ? undefined : String(raw).trim();
      if (!def) problems.push({ name, error: 'PROPERTY_DOESNT_EXIST', message: `Property "${name}" does not exist` });
      else if (def.readOnlyValue)
        problems.push({ name, error: 'READ_ONLY_VALUE', message: `"${name}" is a read only property; its value cannot be set.` });
      else if (value === undefined) problems.push({ name, error: 'INVALID_STRING', message: `${name} must be a string` });
      else if (value === '') values[name] = '';
      else if (def.type === 'number' && !Number.isFinite(Number(value)))
        problems.push({ name, error: 'INVALID_FLOAT', message: `${value} was not a valid number.` });
      else if (def.type === 'bool' && value !== 'true' && value !== 'false')
        problems.push({ name, error: 'INVALID_OPTION', message: `${value} was not one of the allowed options: [true, false]` });
      else if ((def.type === 'datetime' || def.type === 'date') && Number.isNaN(/^\d+$/.test(value) ? Number(value) : Date.parse(value))) {
        problems.push({ name, error: 'INVALID_DATE', message: `${value} is not a valid date` });
      } else if (def.type === 'enumeration' && def.options.length && !def.options.some((o) => o.value === value)) {
        problems.push({ name, error: 'INVALID_OPTION', message: `${value} was not one of the allowed options` });
      } else if (def.type === 'datetime') values[name] = new Date(/^\d+$/.test(value) ? Number(value) : Date.parse(value)).toISOString();
      else values[name] = name === 'email' ? value.toLowerCase() : value;
    }
    if (type === 'deals' && (values.dealstage !== undefined || values.pipeline !== undefined || !existing)) {
      const pipelineId = values.pipeline || existing?.properties.pipeline || 'default';
      const stageId = values.dealstage ?? existing?.properties.dealstage ?? '';
      const pipeline = this.pipelines.find((p) => p.id === pipelineId);
      if (!pipeline) problems.push({ name: 'pipeline', error: 'INVALID_OPTION', message: `${pipelineId} is not a valid pipeline` });
      else if (!pipeline.stages.some((s) => s.id === stageId)) {
        problems.push({
          name: 'dealstage',
          error: 'INVALID_OPTION',
          message: `${stageId || '(empty)'} is not a valid stage of pipeline ${pipelineId}`,
        });
      }
      values.pipeline = pipelineId;
    }
    if (problems.length) {
      throw invalid(`Property values were not valid: ${JSON.stringify(problems.map((p) => ({ isValid: false, ...p })))}`, {
        errors: problems.map((p) => ({ message: p.message, code: p.error, context: { propertyName: [p.name] } })),
      });
    }
    return values;
  }

  private emailOwner(email: string | undefined, self?: string): string | undefined {
    const owner = email ? this.emails.get(email) : undefined;
    return owner !== undefined && owner !== self && this.find('contacts', owner) ? owner : undefined;
  }

  private derive(record: StoredRecord): void {
    if (record.type !== 'deals') return;
    const stage = this.pipelines.find((p) => p.id === record.properties.pipeline)?.stages.find((s) => s.id === record.properties.dealstage);
    record.properties.hs_is_closed = String(stage?.metadata.isClosed === 'true');
    record.properties.hs_is_closed_won = String(stage?.metadata.isClosed === 'true' && Number(stage.metadata.probability) === 1);
  }

  private prepareCreate(type: ObjectName, input: unknown): Record<string, string> {
    const values = this.validate(type, input);
    if (type === 'contacts' && !values.email && !values.firstname && !values.lastname) {
      throw invalid('A contact needs at least one of email, firstname or lastname');
    }
    const existing = this.emailOwner(values.email);
    if (type === 'contacts' && existing) throw hubspotError(409, 'CONFLICT', `Contact already exists. Existing ID: ${existing}`);
    return values;
  }

  /** Creates all or nothing, like HubSpot's batch create. */
  createMany(
    type: ObjectName,
    inputs: { properties: unknown; associations?: { to: string; typeId: number }[] }[],
    source: ChangeSource,
  ): StoredRecord[] {
    const prepared = inputs.map((input) => this.prepareCreate(type, input.properties));
    const emails = prepared.map((v) => v.email).filter(Boolean);
    if (new Set(emails).size !== emails.length)
      throw hubspotError(409, 'CONFLICT', 'Contact already exists. Duplicate emails in batch input');
    for (const input of inputs) for (const link of input.associations ?? []) this.checkAssociation(type, link.typeId, link.to);
    return prepared.map((values, i) => {
      const now = new Date().toISOString();
      const id = String(++this.lastId);
      const record: StoredRecord = {
        type,
        id,
        createdAt: now,
        updatedAt: now,
        archived: false,
        properties: {
          ...Object.fromEntries(Object.entries(values).filter(([, v]) => v !== '')),
          hs_object_id: id,
          [CREATED[type]]: now,
          [MODIFIED[type]]: now,
        },
      };
      this.derive(record);
      this.records[type].set(id, record);
      if (type === 'contacts' && values.email) this.emails.set(values.email, id);
      const occurredAt = Date.now();
      this.emit({ kind: 'creation', type, id, source, occurredAt });
      for (const [propertyName, propertyValue] of Object.entries(values)) {
        if (propertyValue) this.emit({ kind: 'propertyChange', type, id, propertyName, propertyValue, source, occurredAt });
      }
      for (const link of inputs[i]?.associations ?? []) {
        const spec = this.associationType(link.typeId);
        if (spec) this.associate(type, id, spec.to, link.to, link.typeId, source);
      }
      return record;
    });
  }

  update(type: ObjectName, id: string, input: unknown, source: ChangeSource): StoredRecord {
    const record = this.require(type, id);
    const values = this.validate(type, input, record);
    const owner = this.emailOwner(values.email, record.id);
    if (type === 'contacts' && owner) throw hubspotError(409, 'CONFLICT', `Contact already exists. Existing ID: ${owner}`);
    const changed = Object.entries(values).filter(([name, value]) => (record.properties[name] ?? '') !== value);
    if (!changed.length) return record;
    const now = new Date();
    for (const [name, value] of changed) {
      if (name === 'email' && record.properties.email) this.emails.delete(record.properties.email);
      if (value === '') delete record.properties[name];
      else record.properties[name] = value;
      if (name === 'email' && value) this.emails.set(value, record.id);
    }
    record.properties[MODIFIED[type]] = record.updatedAt = now.toISOString();
    this.derive(record);
    for (const [propertyName, propertyValue] of changed) {
      this.emit({ kind: 'propertyChange', type, id: record.id, propertyName, propertyValue, source, occurredAt: now.getTime() });
    }
    return record;
  }

  archive(type: ObjectName, id: string, source: ChangeSource): void {
    const record = this.find(type, id);
    if (!record) return;
    record.archived = true;
    record.archivedAt = new Date().toISOString();
    if (record.properties.email) this.emails.delete(record.properties.email);
    const key = `${type}:${record.id}`;
    for (const other of this.edges.get(key)?.keys() ?? []) this.edges.get(other)?.delete(key);
    this.edges.delete(key);
    this.emit({ kind: 'deletion', type, id: record.id, source, occurredAt: Date.now() });
  }

  /** The loser's blank-on-winner values, merged ids, emails and associations move to the winner. */
  merge(type: ObjectName, primaryId: string, mergedId: string, source: ChangeSource): StoredRecord {
    if (type === 'notes') throw invalid('notes cannot be merged');
    const primary = this.require(type, primaryId);
    const loser = this.require(type, mergedId);
    if (primary === loser) throw invalid('Cannot merge an object into itself');
    let moved = 0;
    for (const [name, value] of Object.entries(loser.properties)) {
      if (!SYSTEM.has(name) && name !== 'email' && !primary.properties[name]) {
        primary.properties[name] = value;
        moved += 1;
      }
    }
    const list = (r: StoredRecord, name: string) => (r.properties[name] ?? '').split(';').filter(Boolean);
    primary.properties.hs_merged_object_ids = [
      ...new Set([...list(primary, 'hs_merged_object_ids'), loser.id, ...list(loser, 'hs_merged_object_ids')]),
    ].join(';');
    if (type === 'contacts' && loser.properties.email) {
      primary.properties.hs_additional_emails = [...new Set([...list(primary, 'hs_additional_emails'), loser.properties.email])].join(';');
      this.emails.set(loser.properties.email, primary.id);
    }
    const loserKey = `${type}:${loser.id}`;
    const primaryKey = `${type}:${primary.id}`;
    for (const [other, typeIds] of this.edges.get(loserKey) ?? []) {
      const back = this.edges.get(other)?.get(loserKey) ?? new Set<number>();
      this.edges.get(other)?.delete(loserKey);
      if (other === primaryKey) continue;
      for (const t of typeIds) this.edgeSet(primaryKey, other).add(t);
      for (const t of back) this.edgeSet(other, primaryKey).add(t);
    }
    this.edges.delete(loserKey);
    loser.mergedInto = primary.id;
    primary.properties[MODIFIED[type]] = primary.updatedAt = new Date().toISOString();
    this.derive(primary);
    this.emit({ kind: 'merge', type, id: primary.id, mergedIds: [loser.id], propertiesMoved: moved, source, occurredAt: Date.now() });
    return primary;
  }

  // --- associations ----------------------------------------------------------------------------

  associationType(typeId: number): AssociationType | undefined {
    return ASSOCIATION_TYPES.find((t) => t.typeId === typeId);
  }

  defaultTypeId(from: ObjectName, to: ObjectName): number {
    const spec = ASSOCIATION_TYPES.find((t) => t.from === from && t.to === to);
    if (!spec) throw invalid(`${SINGULAR[from]} to ${SINGULAR[to]} associations are not supported`);
    return spec.typeId;
  }

  private checkAssociation(from: ObjectName, typeId: number, toId: string): void {
    const spec = this.associationType(typeId);
    if (!spec || spec.from !== from) throw invalid(`association type ${typeId} is not valid from ${SINGULAR[from]}`);
    if (!this.find(spec.to, toId)) throw invalid(`No ${SINGULAR[spec.to]} with ID ${toId} exists`);
  }

  private edgeSet(from: string, to: string): Set<number> {
    const targets = this.edges.get(from) ?? new Map<string, Set<number>>();
    this.edges.set(from, targets);
    const types = targets.get(to) ?? new Set<number>();
    targets.set(to, types);
    return types;
  }

  associate(from: ObjectName, fromId: string, to: ObjectName, toId: string, typeId: number | undefined, source: ChangeSource): void {
    const id = typeId ?? this.defaultTypeId(from, to);
    const spec = this.associationType(id);
    if (!spec || spec.from !== from || spec.to !== to)
      throw invalid(`association type ${id} does not link ${SINGULAR[from]} to ${SINGULAR[to]}`);
    const a = this.require(from, fromId);
    const b = this.require(to, toId);
    const forward = this.edgeSet(`${from}:${a.id}`, `${to}:${b.id}`);
    const isNew = forward.size === 0;
    // A primary association comes with the unlabeled one (https://developers.hubspot.com/docs/api/webhooks).
    const ids = spec.label === 'Primary' ? [id, this.defaultTypeId(from, to)] : [id];
    for (const t of ids) {
      forward.add(t);
      this.edgeSet(`${to}:${b.id}`, `${from}:${a.id}`).add(this.associationType(t)?.inverse ?? t);
    }
    if (!isNew) return;
    const occurredAt = Date.now();
    const primary = spec.label === 'Primary';
    this.emit({ kind: 'associationChange', type: from, id: a.id, toType: to, toId: b.id, removed: false, primary, source, occurredAt });
    this.emit({ kind: 'associationChange', type: to, id: b.id, toType: from, toId: a.id, removed: false, primary, source, occurredAt });
  }

  dissociate(from: ObjectName, fromId: string, to: ObjectName, toId: string, source: ChangeSource): void {
    const a = this.require(from, fromId).id;
    const b = this.require(to, toId).id;
    if (!this.edges.get(`${from}:${a}`)?.delete(`${to}:${b}`)) return;
    this.edges.get(`${to}:${b}`)?.delete(`${from}:${a}`);
    const occurredAt = Date.now();
    this.emit({ kind: 'associationChange', type: from, id: a, toType: to, toId: b, removed: true, primary: false, source, occurredAt });
    this.emit({ kind: 'associationChange', type: to, id: b, toType: from, toId: a, removed: true, primary: false, source, occurredAt });
  }

  associations(
    from: ObjectName,
    fromId: string,
    to: ObjectName,
  ): { toId: string; types: { category: 'HUBSPOT_DEFINED'; typeId: number; label?: string }[] }[] {
    const record = this.find(from, fromId);
    if (!record) return [];
    return [...(this.edges.get(`${from}:${record.id}`) ?? [])]
      .filter(([key]) => key.startsWith(`${to}:`))
      .map(([key, typeIds]) => ({
        toId: key.slice(to.length + 1),
        types: [...typeIds].map((typeId) => {
          const label = this.associationType(typeId)?.label;
          return { category: 'HUBSPOT_DEFINED' as const, typeId, ...(label ? { label } : {}) };
        }),
      }));
  }

  // --- schema ----------------------------------------------------------------------------------

  createGroup(type: ObjectName, input: unknown) {
    if (!isRecord(input) || typeof input.name !== 'string' || typeof input.label !== 'string' || !/^[a-z][a-z0-9_]*$/.test(input.name)) {
      throw invalid('A property group needs a lowercase name and a label');
    }
    if (this.groups[type].has(input.name))
      throw hubspotError(409, 'OBJECT_ALREADY_EXISTS', `A property group named '${input.name}' already exists.`);
    const group = { name: input.name, label: input.label, displayOrder: typeof input.displayOrder === 'number' ? input.displayOrder : -1 };
    this.groups[type].set(group.name, group);
    return group;
  }

  /** Validates a `PropertyCreate`; returns the stored definition or the reason it was refused. */
  createProperty(type: ObjectName, input: unknown): PropertyDef {
    const types: PropertyDef['type'][] = ['string', 'number', 'date', 'datetime', 'enumeration', 'bool'];
    if (
      !isRecord(input) ||
      typeof input.name !== 'string' ||
      typeof input.label !== 'string' ||
      typeof input.groupName !== 'string' ||
      typeof input.fieldType !== 'string' ||
      !types.includes(input.type as PropertyDef['type'])
    ) {
      throw invalid('A property needs name, label, groupName, type and fieldType');
    }
    if (!/^[a-z][a-z0-9_]*$/.test(input.name))
      throw invalid(`Property name ${input.name} must be lowercase letters, digits and underscores`);
    if (this.properties[type].has(input.name))
      throw hubspotError(409, 'OBJECT_ALREADY_EXISTS', `Property named '${input.name}' already exists.`);
    if (!this.groups[type].has(input.groupName)) throw invalid(`Property group ${input.groupName} does not exist`);
    const options = Array.isArray(input.options) ? input.options.filter(isRecord) : [];
    const def: PropertyDef = {
      name: input.name,
      label: input.label,
      description: typeof input.description === 'string' ? input.description : '',
      groupName: input.groupName,
      type: input.type as PropertyDef['type'],
      fieldType: input.fieldType,
      options: options.map((o, i) => ({
        label: String(o.label),
        value: String(o.value),
        hidden: o.hidden === true,
        displayOrder: typeof o.displayOrder === 'number' ? o.displayOrder : i,
      })),
      displayOrder: typeof input.displayOrder === 'number' ? input.displayOrder : -1,
      readOnlyValue: false,
      hasUniqueValue: input.hasUniqueValue === true,
      calculated: false,
      hubspotDefined: false,
      createdAt: new Date().toISOString(),
    };
    this.properties[type].set(def.name, def);
    return def;
  }

  /** `Property` as the properties API returns it. */
  propertyJson(def: PropertyDef) {
    return {
      name: def.name,
      label: def.label,
      description: def.description,
      groupName: def.groupName,
      type: def.type,
      fieldType: def.fieldType,
      options: def.options,
      displayOrder: def.displayOrder,
      calculated: def.calculated,
      externalOptions: false,
      hasUniqueValue: def.hasUniqueValue,
      hidden: false,
      formField: !def.readOnlyValue,
      hubspotDefined: def.hubspotDefined,
      createdAt: def.createdAt,
      updatedAt: def.createdAt,
      archived: false,
      modificationMetadata: { archivable: !def.hubspotDefined, readOnlyDefinition: def.hubspotDefined, readOnlyValue: def.readOnlyValue },
    };
  }

  pipelineJson(pipeline: PipelineDef) {
    const epoch = new Date(0).toISOString();
    return {
      id: pipeline.id,
      label: pipeline.label,
      displayOrder: pipeline.displayOrder,
      archived: false,
      createdAt: epoch,
      updatedAt: epoch,
      stages: pipeline.stages.map((s) => ({ ...s, archived: false, createdAt: epoch, updatedAt: epoch })),
    };
  }
}
