import { describe, expect, it } from 'vitest';
import { evaluateEligibility } from '../../../src/domain/eligibility.ts';
import {
  type AccountFieldInfo,
  accountFactsThrough,
  detectEligibilityFields,
  mappedFieldNames,
  mappingProblems,
} from '../../../src/domain/eligibility-fields.ts';
import { defaultEligibilityRules } from '../../../src/domain/program.ts';

const f = (name: string, label: string, kind: AccountFieldInfo['kind'], options: string[] = []): AccountFieldInfo => ({
  name,
  label,
  kind,
  options,
});

/** A Salesforce org's Account as its describe lists it: standard fields plus the admin's own. */
const SALESFORCE_ACCOUNT = [
  f('Id', 'Account ID', 'other'),
  f('Name', 'Account Name', 'text'),
  f('Type', 'Account Type', 'choice', ['Prospect', 'Customer - Direct', 'Customer - Channel', 'Channel Partner / Reseller', 'Other']),
  f('Industry', 'Industry', 'choice', ['Banking', 'Retail']),
  f('AnnualRevenue', 'Annual Revenue', 'number'),
  f('Net_Promoter_Score__c', 'Net Promoter Score', 'number'),
  f('NPS_Comment__c', 'NPS comment', 'text'),
  f('Customer_Since__c', 'Customer Since', 'date'),
  f('Health__c', 'Account Health', 'number'),
  f('Open_Escalations__c', 'Open Escalations', 'number'),
];

/** A HubSpot portal's company properties: standard ones and those Referloop provisions. */
const HUBSPOT_COMPANY = [
  f('name', 'Company name', 'text'),
  f('lifecyclestage', 'Lifecycle Stage', 'choice', ['subscriber', 'lead', 'opportunity', 'customer', 'evangelist', 'other']),
  f('hs_lifecyclestage_customer_date', 'Became a Customer Date', 'date'),
  f('referloop_nps', 'NPS (for Referloop)', 'number'),
  f('referloop_health_score', 'Health score (for Referloop)', 'number'),
  f('referloop_open_escalations', 'Open escalations (for Referloop)', 'number'),
];

describe('detectEligibilityFields', () => {
  it("finds a Salesforce org's own NPS, customer-since, health and escalation fields, and the Type values that mean customer", () => {
    expect(detectEligibilityFields(SALESFORCE_ACCOUNT)).toEqual({
      nps: 'Net_Promoter_Score__c',
      customerSince: 'Customer_Since__c',
      healthScore: 'Health__c',
      openEscalations: 'Open_Escalations__c',
      accountType: { field: 'Type', customerValues: ['Customer - Direct', 'Customer - Channel'] },
    });
  });

  it("finds HubSpot's provisioned properties, its became-a-customer date and the customer lifecycle stage", () => {
    expect(detectEligibilityFields(HUBSPOT_COMPANY)).toEqual({
      nps: 'referloop_nps',
      customerSince: 'hs_lifecyclestage_customer_date',
      healthScore: 'referloop_health_score',
      openEscalations: 'referloop_open_escalations',
      accountType: { field: 'lifecyclestage', customerValues: ['customer'] },
    });
  });

  it('maps nothing it cannot find: a text field named NPS is not a score, a Type without customer values says nothing', () => {
    const bare = [f('NPS__c', 'NPS', 'text'), f('Type', 'Account Type', 'choice', ['Prospect', 'Partner'])];
    expect(detectEligibilityFields(bare)).toEqual({
      nps: null,
      customerSince: null,
      healthScore: null,
      openEscalations: null,
      accountType: null,
    });
  });
});

describe('mappingProblems', () => {
  const mapping = detectEligibilityFields(SALESFORCE_ACCOUNT);

  it('accepts the detected mapping, whatever the case of the names', () => {
    expect(mappingProblems(mapping, SALESFORCE_ACCOUNT)).toEqual([]);
    expect(mappingProblems({ ...mapping, nps: 'net_promoter_score__c' }, SALESFORCE_ACCOUNT)).toEqual([]);
  });

  it('names each field the CRM does not have, one of the wrong kind, and a type value the picklist does not offer', () => {
    const problems = mappingProblems(
      { ...mapping, nps: 'NPS__c', customerSince: 'AnnualRevenue', accountType: { field: 'Type', customerValues: ['Customer'] } },
      SALESFORCE_ACCOUNT,
    );
    expect(problems).toEqual([
      { field: 'nps', reason: 'the CRM has no account field NPS__c' },
      { field: 'customerSince', reason: 'AnnualRevenue is a number field, not a date field' },
      { field: 'accountType.customerValues', reason: 'Type has no value Customer' },
    ]);
  });
});

describe('accountFactsThrough', () => {
  const mapping = detectEligibilityFields(SALESFORCE_ACCOUNT);
  const today = '2026-03-02';

  it('makes a Salesforce "Customer - Direct" account with NPS 9 and a year of tenure eligible under the default rules', () => {
    const facts = accountFactsThrough(mapping, { Net_Promoter_Score__c: 9, Customer_Since__c: '2025-01-10', Type: 'Customer - Direct' });
    expect(facts).toMatchObject({ nps: 9, customerSince: '2025-01-10', isCustomer: true, lifecycleStage: 'Customer - Direct' });
    const result = evaluateEligibility(facts, defaultEligibilityRules(), today);
    expect(result.eligible).toBe(true);
    expect(result.reasons.find((r) => r.rule === 'lifecycle_stage')?.detail).toBe(
      'lifecycle stage is Customer - Direct, which means customer',
    );
  });

  it('a Prospect is not a customer, and an empty NPS fails the NPS rule', () => {
    const facts = accountFactsThrough(mapping, { Net_Promoter_Score__c: null, Customer_Since__c: '2025-01-10', Type: 'Prospect' });
    const result = evaluateEligibility(facts, defaultEligibilityRules(), today);
    expect(result.eligible).toBe(false);
    expect(result.summary).toBe(
      'Not eligible to refer: no NPS score recorded; the account is not a customer; lifecycle stage is Prospect, not customer.',
    );
  });

  it("reads HubSpot's string values: numbers in text and a customer date in epoch milliseconds", () => {
    const hubspot = detectEligibilityFields(HUBSPOT_COMPANY);
    const facts = accountFactsThrough(hubspot, {
      referloop_nps: '10',
      hs_lifecyclestage_customer_date: String(Date.parse('2025-06-01T00:00:00Z')),
      lifecyclestage: 'customer',
      referloop_open_escalations: '',
    });
    expect(facts).toMatchObject({ nps: 10, customerSince: '2025-06-01T00:00:00.000Z', isCustomer: true, openEscalations: null });
  });

  it('lists every field it reads once', () => {
    expect(mappedFieldNames(mapping)).toEqual(['Net_Promoter_Score__c', 'Customer_Since__c', 'Health__c', 'Open_Escalations__c', 'Type']);
  });
});
