/**
 * What a fresh HubSpot portal has: the standard properties Referloop touches, their groups, and
 * the deal pipelines. Stage ids and metadata follow https://developers.hubspot.com/docs/api/crm/pipelines
 * (metadata values are strings, as HubSpot returns them).
 */

export type ObjectName = 'contacts' | 'companies' | 'deals' | 'notes';
export const OBJECT_NAMES: ObjectName[] = ['contacts', 'companies', 'deals', 'notes'];

export interface PropertyDef {
  name: string;
  label: string;
  description: string;
  groupName: string;
  type: 'string' | 'number' | 'date' | 'datetime' | 'enumeration' | 'bool';
  fieldType: string;
  options: { label: string; value: string; hidden: boolean; displayOrder: number; description?: string }[];
  displayOrder: number;
  readOnlyValue: boolean;
  hasUniqueValue: boolean;
  calculated: boolean;
  hubspotDefined: boolean;
  createdAt: string;
}

export interface PipelineDef {
  id: string;
  label: string;
  displayOrder: number;
  stages: { id: string; label: string; displayOrder: number; metadata: { isClosed: string; probability: string } }[];
}

export const DEFAULT_GROUPS: Record<ObjectName, { name: string; label: string }[]> = {
  contacts: [{ name: 'contactinformation', label: 'Contact information' }],
  companies: [{ name: 'companyinformation', label: 'Company information' }],
  deals: [{ name: 'dealinformation', label: 'Deal information' }],
  notes: [{ name: 'engagement', label: 'Engagement' }],
};

const EPOCH = new Date(0).toISOString();

type Spec = [
  name: string,
  type: PropertyDef['type'],
  flags?: { readOnly?: boolean; unique?: boolean; calculated?: boolean; options?: string[] },
];

const FIELD_TYPES: Record<PropertyDef['type'], string> = {
  string: 'text',
  number: 'number',
  date: 'date',
  datetime: 'date',
  enumeration: 'select',
  bool: 'booleancheckbox',
};

const LIFECYCLE = ['subscriber', 'lead', 'marketingqualifiedlead', 'salesqualifiedlead', 'opportunity', 'customer', 'evangelist', 'other'];

const SPECS: Record<ObjectName, Spec[]> = {
  contacts: [
    ['email', 'string', { unique: true }],
    ['firstname', 'string'],
    ['lastname', 'string'],
    ['company', 'string'],
    ['phone', 'string'],
    ['lifecyclestage', 'enumeration', { options: LIFECYCLE }],
    ['hs_lifecyclestage_customer_date', 'datetime'],
    ['hubspot_owner_id', 'string'],
    ['createdate', 'datetime', { readOnly: true }],
    ['lastmodifieddate', 'datetime', { readOnly: true }],
    ['hs_object_id', 'number', { readOnly: true }],
    ['hs_merged_object_ids', 'string', { readOnly: true }],
    ['hs_additional_emails', 'string', { readOnly: true }],
    ['hs_email_optout', 'bool'],
  ],
  companies: [
    ['name', 'string'],
    ['domain', 'string'],
    ['lifecyclestage', 'enumeration', { options: LIFECYCLE }],
    ['hs_lifecyclestage_customer_date', 'datetime'],
    ['hubspot_owner_id', 'string'],
    ['createdate', 'datetime', { readOnly: true }],
    ['hs_lastmodifieddate', 'datetime', { readOnly: true }],
    ['hs_object_id', 'number', { readOnly: true }],
    ['hs_merged_object_ids', 'string', { readOnly: true }],
  ],
  deals: [
    ['dealname', 'string'],
    ['amount', 'number'],
    ['pipeline', 'enumeration'],
    ['dealstage', 'enumeration'],
    ['closedate', 'datetime'],
    // Calculated from line items in HubSpot; writable here because the sandbox has no line items.
    ['hs_acv', 'number', { calculated: true }],
    ['hs_num_of_associated_line_items', 'number', { calculated: true }],
    // Original traffic source: calculated by HubSpot's analytics; writable here, where there are no visits.
    ['hs_analytics_source', 'enumeration', { calculated: true }],
    ['dealtype', 'enumeration', { options: ['newbusiness', 'existingbusiness'] }],
    ['deal_currency_code', 'string'],
    ['hubspot_owner_id', 'string'],
    ['createdate', 'datetime', { readOnly: true }],
    ['hs_lastmodifieddate', 'datetime', { readOnly: true }],
    ['hs_object_id', 'number', { readOnly: true }],
    ['hs_is_closed', 'bool', { readOnly: true, calculated: true }],
    ['hs_is_closed_won', 'bool', { readOnly: true, calculated: true }],
    ['hs_merged_object_ids', 'string', { readOnly: true }],
  ],
  notes: [
    ['hs_note_body', 'string'],
    ['hs_timestamp', 'datetime'],
    ['hubspot_owner_id', 'string'],
    ['hs_createdate', 'datetime', { readOnly: true }],
    ['hs_lastmodifieddate', 'datetime', { readOnly: true }],
    ['hs_object_id', 'number', { readOnly: true }],
  ],
};

export function defaultProperties(type: ObjectName): PropertyDef[] {
  const groupName = DEFAULT_GROUPS[type][0]?.name ?? 'default';
  return SPECS[type].map(([name, kind, flags = {}], displayOrder) => ({
    name,
    label: name,
    description: '',
    groupName,
    type: kind,
    fieldType: FIELD_TYPES[kind],
    options: (flags.options ?? (kind === 'bool' ? ['true', 'false'] : [])).map((value, i) => ({
      label: value,
      value,
      hidden: false,
      displayOrder: i,
    })),
    displayOrder,
    readOnlyValue: flags.readOnly ?? false,
    hasUniqueValue: flags.unique ?? false,
    calculated: flags.calculated ?? false,
    hubspotDefined: true,
    createdAt: EPOCH,
  }));
}

/** Properties a read returns when none are asked for. */
export const DEFAULT_READ: Record<ObjectName, string[]> = {
  contacts: ['firstname', 'lastname', 'email', 'createdate', 'lastmodifieddate', 'hs_object_id'],
  companies: ['name', 'domain', 'createdate', 'hs_lastmodifieddate', 'hs_object_id'],
  deals: ['dealname', 'amount', 'closedate', 'pipeline', 'dealstage', 'createdate', 'hs_lastmodifieddate', 'hs_object_id'],
  notes: ['hs_createdate', 'hs_lastmodifieddate', 'hs_object_id'],
};

export const MODIFIED: Record<ObjectName, string> = {
  contacts: 'lastmodifieddate',
  companies: 'hs_lastmodifieddate',
  deals: 'hs_lastmodifieddate',
  notes: 'hs_lastmodifieddate',
};
export const CREATED: Record<ObjectName, string> = {
  contacts: 'createdate',
  companies: 'createdate',
  deals: 'createdate',
  notes: 'hs_createdate',
};

const stage = (id: string, label: string, displayOrder: number, probability: string, isClosed = false) => ({
  id,
  label,
  displayOrder,
  metadata: { isClosed: String(isClosed), probability },
});

/** HubSpot's default "Sales Pipeline", and a custom one with numeric ids to prove per-pipeline mapping. */
export function defaultPipelines(): PipelineDef[] {
  return [
    {
      id: 'default',
      label: 'Sales Pipeline',
      displayOrder: 0,
      stages: [
        stage('appointmentscheduled', 'Appointment Scheduled', 0, '0.2'),
        stage('qualifiedtobuy', 'Qualified To Buy', 1, '0.4'),
        stage('presentationscheduled', 'Presentation Scheduled', 2, '0.6'),
        stage('decisionmakerboughtin', 'Decision Maker Bought-In', 3, '0.8'),
        stage('contractsent', 'Contract Sent', 4, '0.9'),
        stage('closedwon', 'Closed Won', 5, '1.0', true),
        stage('closedlost', 'Closed Lost', 6, '0.0', true),
      ],
    },
    {
      id: '1071658799',
      label: 'Partner Pipeline',
      displayOrder: 1,
      stages: [
        stage('1071658800', 'Discovery', 0, '0.1'),
        stage('1071658801', 'Proposal', 1, '0.5'),
        stage('1071658802', 'Lost', 2, '0.0', true),
        stage('1071658803', 'Signed', 3, '1.0', true),
        // Closed but not won: probability decides, not the label.
        stage('1071658804', 'Closed - on hold', 4, '0.3', true),
      ],
    },
  ];
}
