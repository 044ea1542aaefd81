/**
 * Who sourced a deal, read from the CRM's own source fields, so the program's channel-conflict
 * policy can act on rep-sourced deals.
 */
export const DEAL_SOURCES = ['rep', 'partner', 'referral', 'marketing', 'unknown'] as const;
export type DealSource = (typeof DEAL_SOURCES)[number];

/** One source field as the connector read it: HubSpot deal properties, Salesforce LeadSource fields. */
export interface SourceValue {
  /** The CRM's field name: `hs_analytics_source`, `Opportunity.LeadSource`, `Lead.LeadSource`, or one an admin named. */
  field: string;
  value: string;
}

/**
 * Per installation: which fields to read, in order of trust, and what each value means. Values
 * compare case-insensitively; a value the mapping does not name says nothing.
 */
export interface DealSourceMapping {
  fields: { field: string; values: Record<string, DealSource> }[];
}

/**
 * HubSpot's original traffic source (`hs_analytics_source`) describes how the first visitor
 * arrived, so it never makes a deal rep- or partner-sourced by itself: `REFERRALS` is traffic from
 * a referring *website*, i.e. marketing, not a partner. `OFFLINE` covers imports, integrations and
 * records typed in by hand alike, so it stays unknown. An admin names a deal property their team
 * fills in (e.g. "Deal source": Outbound → rep) to make the policy fire.
 */
export function defaultHubSpotSourceMapping(): DealSourceMapping {
  const marketing = [
    'ORGANIC_SEARCH',
    'PAID_SEARCH',
    'EMAIL_MARKETING',
    'SOCIAL_MEDIA',
    'PAID_SOCIAL',
    'REFERRALS',
    'DIRECT_TRAFFIC',
    'OTHER_CAMPAIGNS',
    'AI_REFERRALS',
  ];
  return {
    fields: [{ field: 'hs_analytics_source', values: Object.fromEntries(marketing.map((v) => [v, 'marketing' as const])) }],
  };
}

/**
 * Salesforce's standard `LeadSource` picklist, on the opportunity and on the lead it was converted
 * from (the opportunity's own value first). Only values that name a channel plainly are mapped;
 * 'Other' and custom values stay unknown until the admin maps them.
 */
export function defaultSalesforceSourceMapping(): DealSourceMapping {
  const values: Record<string, DealSource> = {
    'Partner Referral': 'partner',
    Partner: 'partner',
    'Employee Referral': 'referral',
    'External Referral': 'referral',
    'Word of mouth': 'referral',
    'Cold Call': 'rep',
    Web: 'marketing',
    'Phone Inquiry': 'marketing',
    'Purchased List': 'marketing',
    Advertisement: 'marketing',
    'Trade Show': 'marketing',
    'Public Relations': 'marketing',
    'Seminar - Internal': 'marketing',
  };
  return {
    fields: [
      { field: 'Opportunity.LeadSource', values },
      { field: 'Lead.LeadSource', values },
    ],
  };
}

/** The careful defaults of a CRM (none for a CRM without known source fields). */
export function defaultDealSourceMapping(crm: string): DealSourceMapping {
  if (crm === 'hubspot') return defaultHubSpotSourceMapping();
  if (crm === 'salesforce') return defaultSalesforceSourceMapping();
  return { fields: [] };
}

export interface DealSourceDecision {
  source: DealSource;
  reason: string;
}

/** The first field in the mapping's order whose value the mapping names decides. */
export function classifyDealSource(values: readonly SourceValue[], mapping: DealSourceMapping): DealSourceDecision {
  for (const { field, values: meanings } of mapping.fields) {
    const read = values.find((v) => v.field === field);
    if (!read || read.value.trim() === '') continue;
    const key = Object.keys(meanings).find((k) => k.toLowerCase() === read.value.trim().toLowerCase());
    if (key) return { source: meanings[key]!, reason: `${field} is "${read.value}", which the installation maps to ${meanings[key]}` };
  }
  const seen = values.filter((v) => v.value.trim() !== '').map((v) => `${v.field} "${v.value}"`);
  return {
    source: 'unknown',
    reason: seen.length ? `no mapped source value (${seen.join(', ')})` : 'the CRM records no source for the deal',
  };
}
