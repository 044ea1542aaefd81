import { salesforceNames } from '../settings.ts';

export type FieldType =
  | 'id'
  | 'string'
  | 'email'
  | 'url'
  | 'picklist'
  | 'textarea'
  | 'reference'
  | 'boolean'
  | 'currency'
  | 'double'
  | 'percent'
  | 'int'
  | 'date'
  | 'datetime';

export type SfValue = string | number | boolean | null;

export interface FieldDef {
  name: string;
  label: string;
  type: FieldType;
  length: number;
  createable: boolean;
  updateable: boolean;
  nillable: boolean;
  /** Must be given on create (nillable, createable and not defaulted). */
  required: boolean;
  defaultValue: SfValue;
  externalId: boolean;
  unique: boolean;
  referenceTo: string[];
  /** `Account` for AccountId, `Lead__r` for Lead__c. */
  relationshipName: string | null;
  /** The lookup seen from the parent: `OpportunityContactRoles`, `Referrals__r`. */
  childRelationshipName: string | null;
  picklistValues: string[];
}

export interface ObjectDef {
  name: string;
  label: string;
  labelPlural: string;
  keyPrefix: string;
  custom: boolean;
  createable: boolean;
  fields: Map<string, FieldDef>;
}

const SOAP_TYPES: Record<FieldType, string> = {
  id: 'tns:ID',
  reference: 'tns:ID',
  string: 'xsd:string',
  email: 'xsd:string',
  url: 'xsd:string',
  picklist: 'xsd:string',
  textarea: 'xsd:string',
  boolean: 'xsd:boolean',
  currency: 'xsd:double',
  double: 'xsd:double',
  percent: 'xsd:double',
  int: 'xsd:int',
  date: 'xsd:date',
  datetime: 'xsd:dateTime',
};

function labelOf(name: string): string {
  return name
    .replace(/^[a-z0-9]+__(?=.*__c$)/i, '')
    .replace(/__c$|Id$/, '')
    .replace(/_/g, ' ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .trim();
}

type FieldOptions = Partial<Omit<FieldDef, 'name' | 'type'>>;

function field(name: string, type: FieldType, o: FieldOptions = {}): FieldDef {
  const relationshipName = type === 'reference' ? (name.endsWith('__c') ? name.replace(/__c$/, '__r') : name.replace(/Id$/, '')) : null;
  return {
    name,
    label: labelOf(name) || name,
    type,
    length:
      type === 'textarea'
        ? 32_000
        : ['id', 'reference'].includes(type)
          ? 18
          : ['string', 'email', 'url', 'picklist'].includes(type)
            ? 255
            : 0,
    createable: true,
    updateable: true,
    nillable: !o.required && type !== 'boolean',
    required: false,
    defaultValue: type === 'boolean' ? false : null,
    externalId: false,
    unique: false,
    referenceTo: [],
    relationshipName,
    childRelationshipName: null,
    picklistValues: [],
    ...o,
  };
}

/** A custom field an org's admin created in Setup (`NPS__c`), with the label they gave it. */
export function customField(name: string, type: FieldType, o: { label?: string; picklistValues?: string[] } = {}): FieldDef {
  return field(name, type, { ...(o.label ? { label: o.label } : {}), picklistValues: o.picklistValues ?? [] });
}

const system = (name: string, type: FieldType, o: FieldOptions = {}) => field(name, type, { createable: false, updateable: false, ...o });
const lookup = (name: string, referenceTo: string[], childRelationshipName: string | null, o: FieldOptions = {}) =>
  field(name, 'reference', { referenceTo, childRelationshipName, ...o });

function standardFields(withOwner: boolean): FieldDef[] {
  return [
    system('Id', 'id', { nillable: false }),
    system('IsDeleted', 'boolean'),
    system('CreatedDate', 'datetime', { nillable: false }),
    system('CreatedById', 'reference', { referenceTo: ['User'] }),
    system('LastModifiedDate', 'datetime', { nillable: false }),
    system('LastModifiedById', 'reference', { referenceTo: ['User'] }),
    system('SystemModstamp', 'datetime', { nillable: false }),
    ...(withOwner ? [lookup('OwnerId', ['User'], null, { nillable: false })] : []),
  ];
}

interface ObjectOptions {
  withOwner?: boolean;
  createable?: boolean;
  labelPlural?: string;
}

function object(name: string, keyPrefix: string, fields: FieldDef[], o: ObjectOptions = {}): ObjectDef {
  const label = labelOf(name) || name;
  return {
    name,
    label,
    labelPlural: o.labelPlural ?? `${label}s`,
    keyPrefix,
    custom: name.endsWith('__c'),
    createable: o.createable ?? true,
    fields: new Map([...standardFields(o.withOwner ?? true), ...fields].map((f) => [f.name, f])),
  };
}

/** Standard stages of a new org; won and closed are stage metadata, not names. */
export const STANDARD_STAGES = [
  ['Prospecting', 10, 'Pipeline'],
  ['Qualification', 10, 'Pipeline'],
  ['Needs Analysis', 20, 'Pipeline'],
  ['Value Proposition', 50, 'Pipeline'],
  ['Id. Decision Makers', 60, 'Pipeline'],
  ['Perception Analysis', 70, 'Pipeline'],
  ['Proposal/Price Quote', 75, 'Pipeline'],
  ['Negotiation/Review', 90, 'Commit'],
  ['Closed Won', 100, 'Closed'],
  ['Closed Lost', 0, 'Omitted'],
] as const;

/** The objects Referloop touches, with the package's custom object and fields under `namespace`. */
export function buildSchema(options: { namespace: string; multiCurrency: boolean; currency: string }): Map<string, ObjectDef> {
  const n = salesforceNames(options.namespace);
  const p = options.namespace ? `${options.namespace}__` : '';
  const currency = options.multiCurrency
    ? [field('CurrencyIsoCode', 'picklist', { defaultValue: options.currency, picklistValues: [options.currency, 'EUR', 'GBP', 'JPY'] })]
    : [];
  const required = { required: true, nillable: false };
  const objects = [
    object('User', '005', [field('Name', 'string', required), field('Email', 'email', required), field('Username', 'string', required)], {
      withOwner: false,
    }),
    object('Account', '001', [
      field('Name', 'string', required),
      field('Website', 'url'),
      field('Type', 'picklist', { picklistValues: ['Prospect', 'Customer - Direct', 'Customer - Channel', 'Partner', 'Other'] }),
      field('Industry', 'picklist'),
      field(n.account.eligible, 'boolean'),
      field(n.account.eligibilityReason, 'string'),
      ...currency,
    ]),
    object('Contact', '003', [
      field('FirstName', 'string', { length: 40 }),
      field('LastName', 'string', { ...required, length: 80 }),
      system('Name', 'string'),
      field('Email', 'email'),
      field('HasOptedOutOfEmail', 'boolean'),
      lookup('AccountId', ['Account'], 'Contacts'),
      field('Title', 'string'),
      field('LeadSource', 'picklist'),
    ]),
    object('Lead', '00Q', [
      field('FirstName', 'string', { length: 40 }),
      field('LastName', 'string', { ...required, length: 80 }),
      system('Name', 'string'),
      field('Company', 'string', required),
      field('Email', 'email'),
      field('Website', 'url'),
      field('Status', 'picklist', { nillable: false, defaultValue: 'Open - Not Contacted' }),
      field('LeadSource', 'picklist'),
      system('IsConverted', 'boolean'),
      system('ConvertedDate', 'date'),
      system('ConvertedAccountId', 'reference', { referenceTo: ['Account'] }),
      system('ConvertedContactId', 'reference', { referenceTo: ['Contact'] }),
      system('ConvertedOpportunityId', 'reference', { referenceTo: ['Opportunity'] }),
      // The package's field (app-manifest/salesforce), filled by Web-to-Lead forms.
      field(n.lead.referralCode, 'string', { length: 40 }),
    ]),
    object(
      'Opportunity',
      '006',
      [
        field('Name', 'string', { ...required, length: 120 }),
        lookup('AccountId', ['Account'], 'Opportunities'),
        lookup('ContactId', ['Contact'], null),
        field('StageName', 'picklist', { ...required, picklistValues: STANDARD_STAGES.map(([s]) => s) }),
        field('CloseDate', 'date', required),
        field('Amount', 'currency'),
        field('Probability', 'percent'),
        system('IsClosed', 'boolean'),
        system('IsWon', 'boolean'),
        system('ForecastCategoryName', 'picklist'),
        field('LeadSource', 'picklist'),
        field('Type', 'picklist', {
          picklistValues: [
            'Existing Customer - Upgrade',
            'Existing Customer - Replacement',
            'Existing Customer - Downgrade',
            'New Customer',
          ],
        }),
        field(n.opportunity.referralId, 'string', { length: 80 }),
        field(n.opportunity.referrerName, 'string'),
        field(n.opportunity.attributedAmount, 'currency'),
        ...currency,
      ],
      { labelPlural: 'Opportunities' },
    ),
    object(
      'OpportunityContactRole',
      '00K',
      [
        lookup('OpportunityId', ['Opportunity'], 'OpportunityContactRoles', { ...required, updateable: false }),
        lookup('ContactId', ['Contact'], 'OpportunityContactRoles'),
        field('Role', 'picklist', { picklistValues: ['Business User', 'Decision Maker', 'Economic Buyer', 'Influencer', 'Other'] }),
        field('IsPrimary', 'boolean'),
      ],
      { withOwner: false },
    ),
    object(
      'OpportunityStage',
      '01J',
      [
        system('ApiName', 'string'),
        system('MasterLabel', 'string'),
        system('IsActive', 'boolean'),
        system('IsClosed', 'boolean'),
        system('IsWon', 'boolean'),
        system('DefaultProbability', 'percent'),
        system('ForecastCategoryName', 'picklist'),
        system('SortOrder', 'int'),
      ],
      { withOwner: false, createable: false },
    ),
    object('Task', '00T', [
      lookup('WhoId', ['Contact', 'Lead'], 'Tasks'),
      lookup('WhatId', ['Account', 'Opportunity'], 'Tasks'),
      field('Subject', 'string'),
      field('Description', 'textarea'),
      field('Status', 'picklist', {
        nillable: false,
        defaultValue: 'Not Started',
        picklistValues: ['Not Started', 'In Progress', 'Completed'],
      }),
      field('Priority', 'picklist', { nillable: false, defaultValue: 'Normal', picklistValues: ['High', 'Normal', 'Low'] }),
      field('ActivityDate', 'date'),
    ]),
    object(n.referral.object, 'a0X', [
      system('Name', 'string', { label: 'Referral Number' }),
      field(n.referral.referloopId, 'string', { length: 80, externalId: true, unique: true }),
      field(n.referral.status, 'picklist'),
      field(n.referral.referrerName, 'string'),
      field(n.referral.referrerEmail, 'email'),
      field(n.referral.referrerType, 'picklist'),
      lookup(n.referral.lead, ['Lead'], `${p}Referrals__r`),
      lookup(n.referral.contact, ['Contact'], `${p}Referrals__r`),
      lookup(n.referral.opportunity, ['Opportunity'], `${p}Referrals__r`),
    ]),
    // https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_organization.htm
    object('Organization', '00D', [system('Name', 'string'), system('DefaultCurrencyIsoCode', 'picklist')], {
      withOwner: false,
      createable: false,
    }),
    // Multi-currency orgs only; DatedConversionRate is there with advanced currency management.
    // https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_currencytype.htm
    ...(options.multiCurrency
      ? [
          object(
            'CurrencyType',
            '01L',
            [
              system('IsoCode', 'picklist'),
              system('ConversionRate', 'double'),
              system('DecimalPlaces', 'int'),
              system('IsActive', 'boolean'),
              system('IsCorporate', 'boolean'),
            ],
            { withOwner: false, createable: false },
          ),
          // https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_datedconversionrate.htm
          object(
            'DatedConversionRate',
            '04w',
            [
              system('IsoCode', 'picklist'),
              system('ConversionRate', 'double'),
              system('StartDate', 'date'),
              system('NextStartDate', 'date'),
            ],
            { withOwner: false, createable: false },
          ),
        ]
      : []),
  ];
  return new Map(objects.map((o) => [o.name, o]));
}

function describeField(f: FieldDef) {
  const numeric = ['currency', 'double', 'percent'].includes(f.type);
  return {
    name: f.name,
    label: f.label,
    type: f.type,
    soapType: SOAP_TYPES[f.type],
    custom: f.name.endsWith('__c'),
    createable: f.createable,
    updateable: f.updateable,
    nillable: f.nillable,
    filterable: f.type !== 'textarea',
    sortable: f.type !== 'textarea',
    groupable: !numeric && !['id', 'datetime', 'textarea'].includes(f.type),
    calculated: false,
    externalId: f.externalId,
    unique: f.unique,
    idLookup: f.type === 'id' || f.externalId,
    nameField: f.name === 'Name',
    defaultedOnCreate: !f.createable || f.defaultValue !== null,
    length: f.length,
    precision: f.type === 'percent' ? 3 : numeric ? 18 : 0,
    scale: numeric && f.type !== 'percent' ? 2 : 0,
    digits: f.type === 'int' ? 9 : 0,
    byteLength: ['id', 'reference'].includes(f.type) ? f.length : f.length * 3,
    referenceTo: f.referenceTo,
    relationshipName: f.relationshipName,
    picklistValues: f.picklistValues.map((value) => ({
      active: true,
      defaultValue: value === f.defaultValue,
      label: value,
      validFor: null,
      value,
    })),
    restrictedPicklist: false,
    deprecatedAndHidden: false,
  };
}

/** Shape of `GET /sobjects/{Type}/describe` (see samples/rest/describe-opportunity.excerpt.json). */
export function describeObject(def: ObjectDef, schema: Map<string, ObjectDef>, dataPath: string) {
  const childRelationships = [...schema.values()].flatMap((child) =>
    [...child.fields.values()]
      .filter((f) => f.childRelationshipName && f.referenceTo.includes(def.name))
      .map((f) => ({
        childSObject: child.name,
        field: f.name,
        relationshipName: f.childRelationshipName,
        cascadeDelete: false,
        restrictedDelete: false,
        deprecatedAndHidden: false,
        junctionIdListNames: [],
        junctionReferenceTo: [],
      })),
  );
  return {
    ...describeGlobalEntry(def, dataPath),
    customSetting: false,
    retrieveable: true,
    replicateable: true,
    searchable: true,
    triggerable: true,
    undeletable: true,
    layoutable: true,
    mergeable: false,
    feedEnabled: false,
    fields: [...def.fields.values()].map(describeField),
    childRelationships,
    recordTypeInfos: [
      {
        active: true,
        available: true,
        defaultRecordTypeMapping: true,
        master: true,
        name: 'Master',
        recordTypeId: '012000000000000AAA',
        developerName: 'Master',
        urls: { layout: `${dataPath}/sobjects/${def.name}/describe/layouts/012000000000000AAA` },
      },
    ],
  };
}

export function describeGlobalEntry(def: ObjectDef, dataPath: string) {
  return {
    name: def.name,
    label: def.label,
    labelPlural: def.labelPlural,
    keyPrefix: def.keyPrefix,
    custom: def.custom,
    createable: def.createable,
    updateable: def.createable,
    deletable: def.createable,
    queryable: true,
    urls: {
      sobject: `${dataPath}/sobjects/${def.name}`,
      describe: `${dataPath}/sobjects/${def.name}/describe`,
      rowTemplate: `${dataPath}/sobjects/${def.name}/{ID}`,
    },
  };
}
