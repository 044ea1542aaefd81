import type { ProvisionReport } from '../connector.ts';
import { RL } from './map.ts';

/**
 * The "Referloop" property group and the properties the app writes or reads, per object.
 * Idempotent: what exists is left exactly as it is (an admin may have relabelled it).
 * https://developers.hubspot.com/docs/api/crm/properties
 */

export type SchemaObjectType = 'contacts' | 'companies' | 'deals';

export const REFERLOOP_GROUP = { name: 'referloop', label: 'Referloop', displayOrder: -1 } as const;

export interface PropertyDefinition {
  name: string;
  label: string;
  description: string;
  type: 'string' | 'number' | 'bool';
  fieldType: 'text' | 'textarea' | 'number' | 'booleancheckbox';
  groupName: string;
  options?: { label: string; value: string; hidden: boolean; displayOrder: number }[];
}

const text = (name: string, label: string, description: string, fieldType: 'text' | 'textarea' = 'text'): PropertyDefinition => ({
  name,
  label,
  description,
  type: 'string',
  fieldType,
  groupName: REFERLOOP_GROUP.name,
});
const num = (name: string, label: string, description: string): PropertyDefinition => ({
  name,
  label,
  description,
  type: 'number',
  fieldType: 'number',
  groupName: REFERLOOP_GROUP.name,
});

export const REFERLOOP_PROPERTIES: Record<SchemaObjectType, PropertyDefinition[]> = {
  contacts: [
    text(RL.referralId, 'Referral ID', 'Referloop referral that brought this contact in.'),
    text(
      RL.referralStatus,
      'Referral status',
      'Where the referral stands: submitted, accepted, contacted, qualified, in sales process, won, lost, expired.',
    ),
    text(RL.referrer, 'Referred by', 'Name of the referrer.'),
    text(RL.referrerEmail, 'Referrer email', 'Email of the referrer.'),
    text(RL.referrerType, 'Referrer type', 'customer, partner, consultant, advisor or employee.'),
    text(RL.referralCode, 'Referral code', "Referral link code a form captured (Referloop's capture script fills it in a hidden field)."),
  ],
  deals: [
    text(RL.referralId, 'Referral ID', 'Referloop referral this deal is attributed to.'),
    text(RL.referrer, 'Referred by', 'Referrer credited for this deal.'),
    num(RL.attributedAmount, 'Referral attributed amount', 'Amount of this deal attributed to referrals, in the currency below.'),
    text(RL.attributedCurrency, 'Referral attributed currency', 'ISO currency of the attributed amount.'),
  ],
  companies: [
    {
      name: RL.eligible,
      label: 'Eligible to refer',
      description: 'Referloop eligibility of this account to refer others.',
      type: 'bool',
      fieldType: 'booleancheckbox',
      groupName: REFERLOOP_GROUP.name,
      options: [
        { label: 'Yes', value: 'true', hidden: false, displayOrder: 0 },
        { label: 'No', value: 'false', hidden: false, displayOrder: 1 },
      ],
    },
    text(RL.eligibilityReason, 'Eligibility reason', 'Why the account is or is not eligible, rule by rule.', 'textarea'),
    num(RL.nps, 'NPS (for Referloop)', 'Latest NPS score; copy it here (e.g. with a workflow) for eligibility rules.'),
    num(RL.healthScore, 'Health score (for Referloop)', 'Customer health score used by eligibility rules.'),
    num(RL.openEscalations, 'Open escalations (for Referloop)', 'Number of open escalations; eligibility requires none.'),
  ],
};

/** The schema calls provisioning needs; client.ts implements them over the properties API. */
export interface SchemaApi {
  groupNames(objectType: SchemaObjectType): Promise<string[]>;
  /** false when the group already existed (a concurrent install won the race). */
  createGroup(objectType: SchemaObjectType, group: typeof REFERLOOP_GROUP): Promise<boolean>;
  existingProperties(objectType: SchemaObjectType, names: string[]): Promise<string[]>;
  /** Returns the names actually created; ones that already existed are left out. */
  createProperties(objectType: SchemaObjectType, definitions: PropertyDefinition[]): Promise<string[]>;
}

export async function provisionReferloop(api: SchemaApi): Promise<ProvisionReport> {
  const report: ProvisionReport = { created: [], existing: [], missing: [] };
  for (const objectType of Object.keys(REFERLOOP_PROPERTIES) as SchemaObjectType[]) {
    const groupLabel = `group ${objectType}/${REFERLOOP_GROUP.name}`;
    const hasGroup = (await api.groupNames(objectType)).includes(REFERLOOP_GROUP.name);
    const groupCreated = !hasGroup && (await api.createGroup(objectType, REFERLOOP_GROUP));
    (groupCreated ? report.created : report.existing).push(groupLabel);

    const definitions = REFERLOOP_PROPERTIES[objectType];
    const existing = new Set(
      await api.existingProperties(
        objectType,
        definitions.map((d) => d.name),
      ),
    );
    const toCreate = definitions.filter((d) => !existing.has(d.name));
    const created = new Set(toCreate.length ? await api.createProperties(objectType, toCreate) : []);
    for (const { name } of definitions) (created.has(name) ? report.created : report.existing).push(`property ${objectType}/${name}`);
  }
  return report;
}
