/**
 * Whether a deal is new business, a renewal or an expansion of an existing customer. Only the
 * installation's rule says so (its pipelines, HubSpot's `dealtype`, Salesforce's `Opportunity.Type`):
 * a later deal on a referred company is not a renewal merely because it is later. A renewal or
 * expansion earns only revenue-share rules, never a second new-business reward.
 */
export const DEAL_KINDS = ['new_business', 'renewal', 'expansion'] as const;
export type DealKind = (typeof DEAL_KINDS)[number];

/**
 * Per installation: pipelines whose deals are all renewals or expansions (checked first), then
 * what the CRM's deal-type values mean. Values compare case-insensitively; a deal whose pipeline
 * and type the rule does not name is new business, as every deal was before this rule existed.
 */
export interface DealKindMapping {
  pipelines: Record<string, Exclude<DealKind, 'new_business'>>;
  typeValues: Record<string, DealKind>;
}

/** HubSpot's default `dealtype` property: New Business / Existing Business (renewals and upsells alike). */
export function defaultHubSpotKindMapping(): DealKindMapping {
  return { pipelines: {}, typeValues: { newbusiness: 'new_business', existingbusiness: 'renewal' } };
}

/** Salesforce's standard `Opportunity.Type` picklist. */
export function defaultSalesforceKindMapping(): DealKindMapping {
  return {
    pipelines: {},
    typeValues: {
      'New Customer': 'new_business',
      'Existing Customer - Upgrade': 'expansion',
      'Existing Customer - Replacement': 'renewal',
      'Existing Customer - Downgrade': 'renewal',
    },
  };
}

/** The defaults of a CRM (none for a CRM without a known deal-type field). */
export function defaultDealKindMapping(crm: string): DealKindMapping {
  if (crm === 'hubspot') return defaultHubSpotKindMapping();
  if (crm === 'salesforce') return defaultSalesforceKindMapping();
  return { pipelines: {}, typeValues: {} };
}

export interface DealKindDecision {
  kind: DealKind;
  reason: string;
}

/** The deal's kind by the installation's mapping: its pipeline first, then its deal-type value. */
export function classifyDealKind(deal: { pipelineId: string; dealType: string | null }, mapping: DealKindMapping): DealKindDecision {
  const byPipeline = mapping.pipelines[deal.pipelineId];
  if (byPipeline) return { kind: byPipeline, reason: `pipeline ${deal.pipelineId} holds ${byPipeline} deals by the installation's rule` };
  const type = deal.dealType?.trim() ?? '';
  if (type === '') return { kind: 'new_business', reason: 'the CRM records no deal type, so the deal is new business' };
  const key = Object.keys(mapping.typeValues).find((k) => k.toLowerCase() === type.toLowerCase());
  if (!key)
    return { kind: 'new_business', reason: `the deal type "${type}" is not one the installation maps, so the deal is new business` };
  const kind = mapping.typeValues[key]!;
  return { kind, reason: `the deal type "${type}" is ${kind.replace('_', ' ')} by the installation's rule` };
}

export const isRecurringKind = (kind: DealKind): boolean => kind !== 'new_business';
