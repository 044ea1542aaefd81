import { decimalToMinorUnits, minorUnitsToDecimal } from '../../src/domain/money.ts';
import { CrmError } from '../connector.ts';
import type { CrmAccountField, CrmCompany, CrmDeal, CrmPerson, CrmWrite, PipelineStage } from '../connector.ts';

/** HubSpot records ↔ the normalized records of connector.ts. Pure functions, no I/O. */

export type HsObjectType = 'contacts' | 'companies' | 'deals' | 'notes';

/** `SimplePublicObject` of the CRM v3 object APIs; empty properties may be missing or null. */
export interface HsObject {
  id: string;
  properties: Record<string, string | null | undefined>;
  createdAt?: string;
  updatedAt?: string;
}

export interface HsPipeline {
  id: string;
  label: string;
  archived?: boolean;
  stages: { id: string; label: string; displayOrder: number; archived?: boolean; metadata: Record<string, string | undefined> }[];
}

/** Names of the properties Referloop provisions and writes (see provision.ts). */
export const RL = {
  referralId: 'referloop_referral_id',
  referralStatus: 'referloop_referral_status',
  referrer: 'referloop_referrer',
  referrerEmail: 'referloop_referrer_email',
  referrerType: 'referloop_referrer_type',
  attributedAmount: 'referloop_attributed_amount',
  attributedCurrency: 'referloop_attributed_currency',
  eligible: 'referloop_referral_eligible',
  eligibilityReason: 'referloop_eligibility_reason',
  nps: 'referloop_nps',
  healthScore: 'referloop_health_score',
  openEscalations: 'referloop_open_escalations',
  referralCode: 'referloop_referral_code',
} as const;

/** Contacts keep `lastmodifieddate`; the other objects use `hs_lastmodifieddate` (https://developers.hubspot.com/docs/api/crm/search). */
export const MODIFIED_PROPERTY: Record<'contacts' | 'companies' | 'deals', string> = {
  contacts: 'lastmodifieddate',
  companies: 'hs_lastmodifieddate',
  deals: 'hs_lastmodifieddate',
};

export const CONTACT_PROPERTIES = [
  'email',
  'firstname',
  'lastname',
  'lifecyclestage',
  'hubspot_owner_id',
  'lastmodifieddate',
  'hs_merged_object_ids',
  'hs_email_optout',
  RL.referralCode,
];
/**
 * The company properties eligibility reads on a HubSpot installation by default (what the
 * mapping detects once Referloop's properties are provisioned): Referloop's own NPS, health and
 * escalations, HubSpot's customer-since date and lifecycle stage. Each has a
 * `company.propertyChange` subscription in the app manifest (a unit test keeps them equal), so a
 * change re-evaluates the account at once. A portal keeping these facts in its own properties
 * copies them in with a workflow (README).
 */
export const COMPANY_ELIGIBILITY_PROPERTIES = [
  RL.nps,
  RL.healthScore,
  RL.openEscalations,
  'hs_lifecyclestage_customer_date',
  'lifecyclestage',
] as const;

export const COMPANY_PROPERTIES = ['name', 'domain', 'hubspot_owner_id', 'hs_lastmodifieddate', ...COMPANY_ELIGIBILITY_PROPERTIES];
/**
 * The deal's original traffic source: how its first visitor reached the site (REFERRALS is a
 * referring website, OFFLINE covers imports and records typed in), read as a deal source field.
 */
export const DEAL_SOURCE_PROPERTY = 'hs_analytics_source';
/** HubSpot's default deal property: newbusiness or existingbusiness. */
export const DEAL_TYPE_PROPERTY = 'dealtype';
export const DEAL_PROPERTIES = [
  'dealname',
  'pipeline',
  'dealstage',
  'amount',
  'hs_acv',
  'hs_num_of_associated_line_items',
  'deal_currency_code',
  'closedate',
  'createdate',
  'hubspot_owner_id',
  'hs_lastmodifieddate',
  'hs_is_closed',
  'hs_is_closed_won',
  RL.referralId,
  DEAL_SOURCE_PROPERTY,
  DEAL_TYPE_PROPERTY,
];

const prop = (object: HsObject, name: string): string | null => {
  const value = object.properties[name];
  return value === undefined || value === null || value === '' ? null : value;
};

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** `https://www.Acme.com/` → `acme.com`, the form HubSpot keeps in the company `domain` property. */
export function normalizeDomain(domain: string): string {
  return domain
    .trim()
    .toLowerCase()
    .replace(/^[a-z]+:\/\//, '')
    .replace(/^www\./, '')
    .replace(/[/?#].*$/, '');
}

function isoDay(value: string | null): string | null {
  if (!value) return null;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString().slice(0, 10);
}

function number(value: string | null): number | null {
  if (value === null) return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/**
 * A HubSpot number property ("24000", "1234.565") in the deal currency's minor units, rounded half
 * up at its ISO 4217 digits by the domain's one conversion. Empty, or not a plain decimal, is no
 * amount: the record is still applied, without the amount.
 */
export function amountToMinorUnits(value: string | null | undefined, currency: string): number | null {
  if (value === null || value === undefined || value.trim() === '') return null;
  try {
    return decimalToMinorUnits(value, currency);
  } catch (err) {
    if (err instanceof RangeError) return null;
    throw err;
  }
}

/** Ids merged into this record, from `hs_merged_object_ids` ("1;2;3"). */
export function mergedIds(object: HsObject): string[] {
  return (prop(object, 'hs_merged_object_ids') ?? '').split(';').filter(Boolean);
}

export function toPerson(contact: HsObject, companyIds: string[]): CrmPerson {
  return {
    objectType: 'contact',
    id: contact.id,
    email: prop(contact, 'email'),
    firstName: prop(contact, 'firstname'),
    lastName: prop(contact, 'lastname'),
    companyIds,
    ownerId: prop(contact, 'hubspot_owner_id'),
    lifecycleStage: prop(contact, 'lifecyclestage'),
    emailOptOut: prop(contact, 'hs_email_optout') === 'true',
    referralCode: prop(contact, RL.referralCode),
    modifiedAt: prop(contact, 'lastmodifieddate') ?? contact.updatedAt ?? new Date(0).toISOString(),
  };
}

/** `mapped`: the installation's eligibility properties, whose raw values go into `fields`. */
export function toCompany(company: HsObject, mapped: readonly string[] = []): CrmCompany {
  const lifecycleStage = prop(company, 'lifecyclestage');
  const domain = prop(company, 'domain');
  return {
    id: company.id,
    name: prop(company, 'name'),
    domain: domain === null ? null : normalizeDomain(domain),
    isCustomer: lifecycleStage === 'customer',
    customerSince: isoDay(prop(company, 'hs_lifecyclestage_customer_date')),
    lifecycleStage,
    nps: number(prop(company, RL.nps)),
    healthScore: number(prop(company, RL.healthScore)),
    openEscalations: number(prop(company, RL.openEscalations)),
    ownerId: prop(company, 'hubspot_owner_id'),
    modifiedAt: prop(company, 'hs_lastmodifieddate') ?? company.updatedAt ?? new Date(0).toISOString(),
    fields: Object.fromEntries(mapped.map((name) => [name, prop(company, name)])),
  };
}

/** A property as https://developers.hubspot.com/docs/api/crm/properties lists it. */
export interface HsProperty {
  name: string;
  label: string;
  type: string;
  options?: { value: string; hidden?: boolean }[];
}

const PROPERTY_KINDS: Record<string, CrmAccountField['kind']> = {
  number: 'number',
  date: 'date',
  datetime: 'date',
  enumeration: 'choice',
  string: 'text',
};

export function toAccountField(p: HsProperty): CrmAccountField {
  const kind = PROPERTY_KINDS[p.type] ?? 'other';
  return {
    name: p.name,
    label: p.label,
    kind,
    options: kind === 'choice' ? (p.options ?? []).filter((o) => !o.hidden).map((o) => o.value) : [],
  };
}

export const stageKey = (pipelineId: string, stageId: string) => `${pipelineId}\u0000${stageId}`;

/**
 * Closed/won come from each pipeline's stage metadata: `isClosed` plus `probability` 1.0 for won
 * (https://developers.hubspot.com/docs/api/crm/pipelines). Archived pipelines and
 * stages stay in the list so old deals still resolve.
 */
export function toPipelineStages(pipelines: HsPipeline[]): PipelineStage[] {
  return pipelines.flatMap((pipeline) =>
    pipeline.stages.map((stage) => {
      const isClosed = stage.metadata.isClosed === 'true';
      return {
        pipelineId: pipeline.id,
        pipelineLabel: pipeline.label,
        stageId: stage.id,
        label: stage.label,
        displayOrder: stage.displayOrder,
        isClosed,
        isWon: isClosed && Number(stage.metadata.probability) === 1,
      };
    }),
  );
}

export interface DealContext {
  /** The deal's stage from the pipelines API; when unknown, HubSpot's computed hs_is_closed(_won) decide. */
  stage: PipelineStage | undefined;
  contactIds: string[];
  companyIds: string[];
  defaultCurrency: string;
  /** The properties read as the deal's source: the original source and those the installation names. */
  sourceProperties: readonly string[];
}

export function toDeal(deal: HsObject, ctx: DealContext): CrmDeal {
  const currency = prop(deal, 'deal_currency_code') ?? ctx.defaultCurrency;
  const amountCents = amountToMinorUnits(prop(deal, 'amount'), currency);
  const hasLineItems = (number(prop(deal, 'hs_num_of_associated_line_items')) ?? 0) > 0;
  const acvCents = hasLineItems ? amountToMinorUnits(prop(deal, 'hs_acv'), currency) : null;
  const isClosed = ctx.stage ? ctx.stage.isClosed : prop(deal, 'hs_is_closed') === 'true';
  return {
    id: deal.id,
    name: prop(deal, 'dealname'),
    pipelineId: prop(deal, 'pipeline') ?? 'default',
    stageId: prop(deal, 'dealstage') ?? '',
    isClosed,
    isWon: ctx.stage ? ctx.stage.isWon : prop(deal, 'hs_is_closed_won') === 'true',
    amountCents,
    firstYearValueCents: acvCents ?? amountCents,
    currency,
    closeDate: isoDay(prop(deal, 'closedate')),
    createdAt: prop(deal, 'createdate') ?? deal.createdAt ?? new Date(0).toISOString(),
    ownerId: prop(deal, 'hubspot_owner_id'),
    sources: ctx.sourceProperties.flatMap((field) => {
      const value = prop(deal, field);
      return value ? [{ field, value }] : [];
    }),
    dealType: prop(deal, DEAL_TYPE_PROPERTY),
    contactIds: ctx.contactIds,
    companyIds: ctx.companyIds,
    modifiedAt: prop(deal, 'hs_lastmodifieddate') ?? deal.updatedAt ?? new Date(0).toISOString(),
  };
}

export interface HsUpdate {
  objectType: 'contacts' | 'companies' | 'deals';
  id: string;
  properties: Record<string, string>;
}

/** A logical write to the HubSpot record and properties it lands on. */
export function toUpdate(write: CrmWrite): HsUpdate | CrmError {
  switch (write.target) {
    case 'referral':
      if (write.person.objectType !== 'contact') {
        return new CrmError('invalid', `HubSpot has no ${write.person.objectType} records; referral fields go on contacts`, {
          retryable: false,
        });
      }
      return {
        objectType: 'contacts',
        id: write.person.id,
        properties: {
          [RL.referralId]: write.fields.referralId,
          [RL.referralStatus]: write.fields.status,
          [RL.referrer]: write.fields.referrerName,
          [RL.referrerEmail]: write.fields.referrerEmail,
          [RL.referrerType]: write.fields.referrerType,
        },
      };
    case 'deal':
      return {
        objectType: 'deals',
        id: write.dealId,
        properties: {
          [RL.referralId]: write.fields.referralId,
          [RL.referrer]: write.fields.referrerName,
          [RL.attributedAmount]: minorUnitsToDecimal(write.fields.attributedAmountCents, write.fields.currency),
          [RL.attributedCurrency]: write.fields.currency,
        },
      };
    case 'company':
      return {
        objectType: 'companies',
        id: write.companyId,
        properties: {
          [RL.eligible]: String(write.fields.eligible),
          [RL.eligibilityReason]: write.fields.eligibilityReason,
        },
      };
  }
}
