import type { AccountFacts } from './eligibility.ts';

/** One account field as the CRM's own schema describes it (Salesforce describe, HubSpot properties). */
export interface AccountFieldInfo {
  name: string;
  label: string;
  kind: 'number' | 'date' | 'choice' | 'text' | 'other';
  /** Values a choice field allows. */
  options: string[];
}

/**
 * Which account fields of one installation the eligibility rules read. A null field is not read: its
 * rule sees no value. `accountType` names the field whose values say "customer", and which values do.
 */
export interface EligibilityFieldMapping {
  nps: string | null;
  customerSince: string | null;
  healthScore: string | null;
  openEscalations: string | null;
  accountType: { field: string; customerValues: string[] } | null;
}

export type AccountFieldValue = string | number | boolean | null;

const PATTERNS = {
  nps: /\bnps\b|net.?promoter/i,
  customerSince: /customer.?since|became.?a?.?customer|customer.?(start|date)/i,
  healthScore: /health/i,
  openEscalations: /escalation/i,
  accountType: /^(type|account.?type|lifecycle.?stage)$/i,
} as const;

/** Words and name both tried: `NPS__c`, `referloop_nps`, a label "Net Promoter Score". */
const matches = (field: AccountFieldInfo, pattern: RegExp) =>
  pattern.test(field.label) || pattern.test(field.name.replace(/__c$/i, '').replaceAll('_', ' '));

function pick(fields: readonly AccountFieldInfo[], kinds: AccountFieldInfo['kind'][], pattern: RegExp): string | null {
  return fields.find((f) => kinds.includes(f.kind) && matches(f, pattern))?.name ?? null;
}

/**
 * The mapping a fresh installation starts with, read from the CRM's account schema: the first field
 * of the right kind whose name or label says NPS, customer since, health or escalation, and the
 * account type (or lifecycle stage) field with the values that contain "customer".
 */
export function detectEligibilityFields(fields: readonly AccountFieldInfo[]): EligibilityFieldMapping {
  const typeField = fields.find((f) => f.kind === 'choice' && matches(f, PATTERNS.accountType) && f.options.some(isCustomerWord));
  return {
    nps: pick(fields, ['number'], PATTERNS.nps),
    customerSince: pick(fields, ['date'], PATTERNS.customerSince),
    healthScore: pick(fields, ['number'], PATTERNS.healthScore),
    openEscalations: pick(fields, ['number'], PATTERNS.openEscalations),
    accountType: typeField ? { field: typeField.name, customerValues: typeField.options.filter(isCustomerWord) } : null,
  };
}

const isCustomerWord = (value: string) => /customer/i.test(value);

/** Every account field a mapping reads, once. */
export function mappedFieldNames(mapping: EligibilityFieldMapping): string[] {
  const names = [mapping.nps, mapping.customerSince, mapping.healthScore, mapping.openEscalations, mapping.accountType?.field];
  return [...new Set(names.filter((n): n is string => Boolean(n)))];
}

/** Why a mapping does not fit the CRM's schema: fields it lacks, fields of the wrong kind, type values it does not offer. */
export function mappingProblems(
  mapping: EligibilityFieldMapping,
  fields: readonly AccountFieldInfo[],
): { field: string; reason: string }[] {
  const byName = new Map(fields.map((f) => [f.name.toLowerCase(), f]));
  const problems: { field: string; reason: string }[] = [];
  const check = (key: string, name: string | null, kinds: AccountFieldInfo['kind'][]) => {
    if (!name) return;
    const found = byName.get(name.toLowerCase());
    if (!found) problems.push({ field: key, reason: `the CRM has no account field ${name}` });
    else if (!kinds.includes(found.kind))
      problems.push({ field: key, reason: `${name} is a ${found.kind} field, not a ${kinds.join(' or ')} field` });
  };
  check('nps', mapping.nps, ['number']);
  check('customerSince', mapping.customerSince, ['date']);
  check('healthScore', mapping.healthScore, ['number']);
  check('openEscalations', mapping.openEscalations, ['number']);
  check('accountType.field', mapping.accountType?.field ?? null, ['choice', 'text']);
  const typeField = mapping.accountType && byName.get(mapping.accountType.field.toLowerCase());
  if (mapping.accountType && typeField?.kind === 'choice') {
    for (const value of mapping.accountType.customerValues)
      if (!typeField.options.includes(value))
        problems.push({ field: 'accountType.customerValues', reason: `${typeField.name} has no value ${value}` });
  }
  return problems;
}

const numberOf = (v: AccountFieldValue | undefined): number | null => {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string' || v.trim() === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
};
const textOf = (v: AccountFieldValue | undefined): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

/** An account's facts read through the installation's mapping from the raw field values the CRM returned. */
export function accountFactsThrough(mapping: EligibilityFieldMapping, values: Readonly<Record<string, AccountFieldValue>>): AccountFacts {
  const value = (name: string | null) => (name ? values[name] : undefined);
  const type = textOf(value(mapping.accountType?.field ?? null));
  const customerSince = textOf(value(mapping.customerSince));
  const isCustomer = type !== null && (mapping.accountType?.customerValues ?? []).some((c) => c.toLowerCase() === type.toLowerCase());
  return {
    nps: numberOf(value(mapping.nps)),
    // A date field reads 'YYYY-MM-DD'; a datetime an instant, or HubSpot's epoch milliseconds.
    customerSince: customerSince && /^\d+$/.test(customerSince) ? new Date(Number(customerSince)).toISOString() : customerSince,
    healthScore: numberOf(value(mapping.healthScore)),
    openEscalations: numberOf(value(mapping.openEscalations)),
    lifecycleStage: type,
    isCustomer,
    stageMeansCustomer: isCustomer,
  };
}
