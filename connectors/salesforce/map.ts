import { decimalToMinorUnits } from '../../src/domain/money.ts';
import type { CrmAccountField, CrmCompany, CrmDeal, CrmPerson } from '../connector.ts';
import { toId18 } from './ids.ts';
import type { SalesforceSettings } from './settings.ts';

/** A record as the REST API returns it: field values plus `attributes`. */
export type SfRow = Record<string, unknown>;

/** What the org looks like, read once from the Opportunity describe. */
export interface OrgShape {
  multiCurrency: boolean;
  /** A single-currency org's currency (Organization.DefaultCurrencyIsoCode), when read. */
  currency?: string | null;
  /** The configured first-year value field, when the org really has it. */
  firstYearValueField: string | null;
}

export const CONTACT_FIELDS = ['Id', 'FirstName', 'LastName', 'Email', 'HasOptedOutOfEmail', 'AccountId', 'OwnerId', 'SystemModstamp'];
export const LEAD_FIELDS = [
  'Id',
  'FirstName',
  'LastName',
  'Email',
  'Status',
  'OwnerId',
  'IsConverted',
  'ConvertedContactId',
  'ConvertedAccountId',
  'ConvertedOpportunityId',
  'SystemModstamp',
];

/** `mapped`: the installation's eligibility fields, read besides the configured ones. */
export function accountFieldList(settings: SalesforceSettings, mapped: readonly string[] = []): string[] {
  const extra = Object.values(settings.accountFields).filter((f): f is string => Boolean(f));
  return [...new Set(['Id', 'Name', 'Website', 'Type', 'OwnerId', 'SystemModstamp', ...extra, ...mapped])];
}

/** Won/closed come from IsWon/IsClosed, which Salesforce derives from the stage's metadata. */
export function opportunityFieldList(org: OrgShape): string[] {
  return [
    'Id',
    'Name',
    'StageName',
    'IsClosed',
    'IsWon',
    'Amount',
    'CloseDate',
    'CreatedDate',
    'OwnerId',
    'LeadSource',
    'Type',
    'AccountId',
    'ContactId',
    'SystemModstamp',
    ...(org.multiCurrency ? ['CurrencyIsoCode'] : []),
    ...(org.firstYearValueField ? [org.firstYearValueField] : []),
    '(SELECT ContactId FROM OpportunityContactRoles)',
  ];
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const id = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? toId18(v) : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Salesforce writes datetimes as `2026-09-21T14:13:20.000+0000`; Referloop uses ISO 8601 UTC. */
export function toIsoInstant(value: unknown): string {
  const text = typeof value === 'string' ? value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2') : '';
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? new Date(0).toISOString() : date.toISOString();
}

export function normalizeDomain(website: string | null): string | null {
  if (!website) return null;
  try {
    const host = new URL(website.includes('://') ? website : `http://${website}`).hostname.toLowerCase();
    return host.replace(/^www\./, '') || null;
  } catch {
    return null;
  }
}

/** A currency field's value (a JSON number, or null) in minor units, by the domain's one conversion. */
function minorUnits(value: unknown, currency: string): number | null {
  const amount = num(value);
  return amount === null ? null : decimalToMinorUnits(amount, currency);
}

/** `codeField`: the lead field holding a referral link's code, when it was read. */
export function toPerson(objectType: 'contact' | 'lead', row: SfRow, codeField?: string): CrmPerson {
  const accountId = id(row.AccountId);
  const person: CrmPerson = {
    objectType,
    id: toId18(String(row.Id)),
    email: str(row.Email)?.toLowerCase() ?? null,
    firstName: str(row.FirstName),
    lastName: str(row.LastName),
    companyIds: objectType === 'contact' && accountId ? [accountId] : [],
    ownerId: id(row.OwnerId),
    lifecycleStage: objectType === 'lead' ? str(row.Status) : null,
    ...('HasOptedOutOfEmail' in row ? { emailOptOut: row.HasOptedOutOfEmail === true } : {}),
    ...(codeField && codeField in row ? { referralCode: str(row[codeField]) } : {}),
    modifiedAt: toIsoInstant(row.SystemModstamp),
  };
  if (objectType === 'lead' && row.IsConverted === true) {
    person.converted = {
      contactId: id(row.ConvertedContactId),
      companyId: id(row.ConvertedAccountId),
      dealId: id(row.ConvertedOpportunityId),
    };
  }
  return person;
}

export function toCompany(row: SfRow, settings: SalesforceSettings, mapped: readonly string[] = []): CrmCompany {
  const f = settings.accountFields;
  const customerSince = f.customerSince ? str(row[f.customerSince]) : null;
  return {
    id: toId18(String(row.Id)),
    name: str(row.Name),
    domain: normalizeDomain(str(row.Website)),
    // Standard Account.Type values: "Customer - Direct", "Customer - Channel", "Prospect", …
    isCustomer: /^customer/i.test(str(row.Type) ?? ''),
    customerSince: customerSince ? customerSince.slice(0, 10) : null,
    lifecycleStage: str(row.Type),
    nps: f.nps ? num(row[f.nps]) : null,
    healthScore: f.healthScore ? num(row[f.healthScore]) : null,
    openEscalations: f.openEscalations ? num(row[f.openEscalations]) : null,
    ownerId: id(row.OwnerId),
    modifiedAt: toIsoInstant(row.SystemModstamp),
    fields: Object.fromEntries(mapped.map((name) => [name, fieldValue(row[name])])),
  };
}

const fieldValue = (v: unknown): string | number | boolean | null =>
  typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)) ? v : null;

const FIELD_KINDS: Record<string, CrmAccountField['kind']> = {
  double: 'number',
  int: 'number',
  long: 'number',
  percent: 'number',
  currency: 'number',
  date: 'date',
  datetime: 'date',
  picklist: 'choice',
  string: 'text',
  textarea: 'text',
};

/** An Account describe's field (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_sobject_describe.htm). */
export function toAccountField(f: {
  name: string;
  label: string;
  type: string;
  picklistValues?: { value: string; active: boolean }[] | null;
}): CrmAccountField {
  const kind = FIELD_KINDS[f.type] ?? 'other';
  return {
    name: f.name,
    label: f.label,
    kind,
    options: kind === 'choice' ? (f.picklistValues ?? []).filter((v) => v.active).map((v) => v.value) : [],
  };
}

export function toDeal(row: SfRow, org: OrgShape, settings: SalesforceSettings): CrmDeal {
  const currency = (org.multiCurrency ? str(row.CurrencyIsoCode) : null) ?? org.currency ?? settings.defaultCurrency;
  const amountCents = minorUnits(row.Amount, currency);
  const firstYear = org.firstYearValueField ? minorUnits(row[org.firstYearValueField], currency) : null;
  const roles = (row.OpportunityContactRoles as { records?: SfRow[] } | null)?.records ?? [];
  const contactIds = [row.ContactId, ...roles.map((r) => r.ContactId)].map(id).filter((c): c is string => c !== null);
  const accountId = id(row.AccountId);
  return {
    id: toId18(String(row.Id)),
    name: str(row.Name),
    // Stage sets per record type live in sales-process metadata; Referloop maps one stage list.
    pipelineId: 'default',
    stageId: String(row.StageName ?? ''),
    isClosed: row.IsClosed === true,
    isWon: row.IsWon === true,
    amountCents,
    firstYearValueCents: firstYear ?? amountCents,
    currency,
    closeDate: str(row.CloseDate),
    createdAt: toIsoInstant(row.CreatedDate),
    ownerId: id(row.OwnerId),
    sources: str(row.LeadSource) ? [{ field: 'Opportunity.LeadSource', value: str(row.LeadSource)! }] : [],
    dealType: str(row.Type),
    contactIds: [...new Set(contactIds)],
    companyIds: accountId ? [accountId] : [],
    modifiedAt: toIsoInstant(row.SystemModstamp),
  };
}
