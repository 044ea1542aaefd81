import { describe, expect, it } from 'vitest';
import {
  classifyDealSource,
  defaultHubSpotSourceMapping,
  defaultSalesforceSourceMapping,
  type DealSource,
  type DealSourceMapping,
  type SourceValue,
} from '../../../src/domain/deal-source.ts';

const hubspot = defaultHubSpotSourceMapping();
const salesforce = defaultSalesforceSourceMapping();
/** An admin who names their own "Deal source" property ahead of HubSpot's original source. */
const hubspotWithDealSource: DealSourceMapping = {
  fields: [{ field: 'deal_source', values: { Outbound: 'rep', 'Partner sourced': 'partner' } }, ...hubspot.fields],
};

describe('classifyDealSource', () => {
  it.each<[string, SourceValue[], DealSourceMapping, DealSource, string]>([
    [
      "HubSpot REFERRALS is a referring website's traffic: marketing, not a partner",
      [{ field: 'hs_analytics_source', value: 'REFERRALS' }],
      hubspot,
      'marketing',
      'hs_analytics_source is "REFERRALS", which the installation maps to marketing',
    ],
    [
      'HubSpot OFFLINE says nothing about who sourced it',
      [{ field: 'hs_analytics_source', value: 'OFFLINE' }],
      hubspot,
      'unknown',
      'no mapped source value (hs_analytics_source "OFFLINE")',
    ],
    [
      "an admin-named property is read before HubSpot's original source",
      [
        { field: 'hs_analytics_source', value: 'ORGANIC_SEARCH' },
        { field: 'deal_source', value: 'outbound' },
      ],
      hubspotWithDealSource,
      'rep',
      'deal_source is "outbound", which the installation maps to rep',
    ],
    [
      'an admin-named property without a value falls back to the original source',
      [
        { field: 'deal_source', value: '' },
        { field: 'hs_analytics_source', value: 'PAID_SEARCH' },
      ],
      hubspotWithDealSource,
      'marketing',
      'hs_analytics_source is "PAID_SEARCH", which the installation maps to marketing',
    ],
    [
      'Salesforce Partner Referral',
      [{ field: 'Opportunity.LeadSource', value: 'Partner Referral' }],
      salesforce,
      'partner',
      'Opportunity.LeadSource is "Partner Referral", which the installation maps to partner',
    ],
    [
      "the opportunity's own source wins over the converted lead's",
      [
        { field: 'Lead.LeadSource', value: 'Web' },
        { field: 'Opportunity.LeadSource', value: 'Cold Call' },
      ],
      salesforce,
      'rep',
      'Opportunity.LeadSource is "Cold Call", which the installation maps to rep',
    ],
    [
      "the converted lead's source when the opportunity has none",
      [{ field: 'Lead.LeadSource', value: 'Employee Referral' }],
      salesforce,
      'referral',
      'Lead.LeadSource is "Employee Referral", which the installation maps to referral',
    ],
    [
      'Salesforce Other stays unknown',
      [{ field: 'Opportunity.LeadSource', value: 'Other' }],
      salesforce,
      'unknown',
      'no mapped source value (Opportunity.LeadSource "Other")',
    ],
    ['no source at all', [], salesforce, 'unknown', 'the CRM records no source for the deal'],
  ])('%s', (_name, values, mapping, source, reason) => {
    expect(classifyDealSource(values, mapping)).toEqual({ source, reason });
  });
});
