import type { ProvisionReport } from '../connector.ts';
import type { SalesforceNames } from './settings.ts';

/** The slice of a describe result provisioning reads. */
export interface DescribedObject {
  name: string;
  createable: boolean;
  fields: {
    name: string;
    type: string;
    externalId: boolean;
    unique: boolean;
    createable: boolean;
    updateable: boolean;
    referenceTo?: string[] | null;
  }[];
}

interface FieldNeed {
  name: string;
  /** Referloop writes it. */
  writes?: boolean;
  externalIdUnique?: boolean;
  referenceTo?: string;
}

interface ObjectNeed {
  object: string;
  /** Referloop creates records of it. */
  creates?: boolean;
  fields: FieldNeed[];
}

/** Objects and fields Referloop reads and writes. The managed package ships the custom ones. */
export function requiredMetadata(n: SalesforceNames): ObjectNeed[] {
  const writes = true;
  return [
    {
      object: n.referral.object,
      creates: true,
      fields: [
        { name: n.referral.referloopId, writes, externalIdUnique: true },
        { name: n.referral.status, writes },
        { name: n.referral.referrerName, writes },
        { name: n.referral.referrerEmail, writes },
        { name: n.referral.referrerType, writes },
        { name: n.referral.lead, writes, referenceTo: 'Lead' },
        { name: n.referral.contact, writes, referenceTo: 'Contact' },
        { name: n.referral.opportunity, referenceTo: 'Opportunity' },
      ],
    },
    {
      object: 'Opportunity',
      fields: [
        { name: 'IsWon' },
        { name: 'IsClosed' },
        { name: n.opportunity.referralId, writes },
        { name: n.opportunity.referrerName, writes },
        { name: n.opportunity.attributedAmount, writes },
      ],
    },
    {
      object: 'Account',
      fields: [
        { name: n.account.eligible, writes },
        { name: n.account.eligibilityReason, writes },
      ],
    },
    { object: 'Lead', creates: true, fields: [{ name: 'Email', writes }, { name: 'ConvertedContactId' }, { name: n.lead.referralCode }] },
    { object: 'Contact', fields: [{ name: 'Email' }] },
    {
      object: 'Task',
      creates: true,
      fields: [
        { name: 'WhoId', writes },
        { name: 'Subject', writes },
      ],
    },
  ];
}

const FIX_PACKAGE = 'install or upgrade the Referloop package';
const ASSIGN = 'assign the Referloop Integration permission set to the connected user';

/**
 * Referloop creates no metadata in Salesforce (the package does): this only reports, in words
 * an admin can act on, what is missing or not accessible to the connected user.
 */
export function checkMetadata(needs: ObjectNeed[], described: Map<string, DescribedObject | null>): ProvisionReport {
  const report: ProvisionReport = { created: [], existing: [], missing: [] };
  for (const need of needs) {
    const object = described.get(need.object);
    if (!object) {
      report.missing.push(`object ${need.object} is missing: ${FIX_PACKAGE}, or ${ASSIGN}`);
      continue;
    }
    if (need.creates && !object.createable) report.missing.push(`object ${need.object} is not createable: ${ASSIGN}`);
    for (const f of need.fields) {
      const path = `${need.object}.${f.name}`;
      const field = object.fields.find((d) => d.name === f.name);
      if (!field) {
        report.missing.push(`field ${path} is missing: ${FIX_PACKAGE}, or ${ASSIGN}`);
      } else if (f.externalIdUnique && !(field.externalId && field.unique)) {
        report.missing.push(`field ${path} must be an External ID marked Unique: ${FIX_PACKAGE}`);
      } else if (f.referenceTo && !field.referenceTo?.includes(f.referenceTo)) {
        report.missing.push(`field ${path} must be a lookup to ${f.referenceTo}: ${FIX_PACKAGE}`);
      } else if (f.writes && !(field.createable && field.updateable)) {
        report.missing.push(`field ${path} is read-only for the connected user: ${ASSIGN}`);
      } else {
        report.existing.push(path);
      }
    }
  }
  return report;
}
