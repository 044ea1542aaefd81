import type {
  CompanyNote,
  CrmAccountField,
  CrmChange,
  CrmCompany,
  CrmCurrencies,
  CrmDeal,
  CrmEvent,
  CrmObjectType,
  CrmPerson,
  PipelineStage,
  ReferralFields,
} from '../connector.ts';

/**
 * The fake CRM's records and the events their changes would send. Every change made through the
 * test-facing API (see `index.ts`) bumps the record's `modifiedAt` (strictly increasing, so stale
 * and fresh reads can be told apart) and queues the event a real CRM would deliver.
 */

export type PersonType = 'contact' | 'lead';

export interface StoredPerson extends CrmPerson {
  deleted: boolean;
}
export interface StoredCompany extends CrmCompany {
  deleted: boolean;
}
export interface StoredDeal extends CrmDeal {
  deleted: boolean;
}

/** What Referloop wrote back, per record: the fields of its last write, by target. */
export interface Written {
  referral?: ReferralFields;
  deal?: { referralId: string; referrerName: string; attributedAmountCents: number; currency: string };
  company?: { eligible: boolean; eligibilityReason: string };
}

export interface StoredNote {
  person: { objectType: PersonType; id: string };
  title: string;
  body: string;
  idempotencyKey: string;
}

export interface Owner {
  id: string;
  email: string;
  name: string | null;
}

/** Two pipelines, so stage ids are only meaningful with their pipeline, as in HubSpot. */
export const DEFAULT_PIPELINES: PipelineStage[] = [
  { pipelineId: 'sales', pipelineLabel: 'Sales', stageId: 'new', label: 'New', displayOrder: 0, isClosed: false, isWon: false },
  { pipelineId: 'sales', pipelineLabel: 'Sales', stageId: 'qualified', label: 'Qualified', displayOrder: 1, isClosed: false, isWon: false },
  { pipelineId: 'sales', pipelineLabel: 'Sales', stageId: 'proposal', label: 'Proposal', displayOrder: 2, isClosed: false, isWon: false },
  { pipelineId: 'sales', pipelineLabel: 'Sales', stageId: 'won', label: 'Closed won', displayOrder: 3, isClosed: true, isWon: true },
  { pipelineId: 'sales', pipelineLabel: 'Sales', stageId: 'lost', label: 'Closed lost', displayOrder: 4, isClosed: true, isWon: false },
  {
    pipelineId: 'partners',
    pipelineLabel: 'Partner deals',
    stageId: 'registered',
    label: 'Registered',
    displayOrder: 0,
    isClosed: false,
    isWon: false,
  },
  {
    pipelineId: 'partners',
    pipelineLabel: 'Partner deals',
    stageId: 'signed',
    label: 'Signed',
    displayOrder: 1,
    isClosed: true,
    isWon: true,
  },
  {
    pipelineId: 'partners',
    pipelineLabel: 'Partner deals',
    stageId: 'dropped',
    label: 'Dropped',
    displayOrder: 2,
    isClosed: true,
    isWon: false,
  },
];

export const ID_PREFIX: Record<CrmObjectType, string> = { contact: 'ct_', lead: 'ld_', company: 'co_', deal: 'dl_' };

export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

/** `https://www.Acme.example/about` → `acme.example`. */
export function normalizeDomain(value: string): string {
  return value
    .trim()
    .toLowerCase()
    .replace(/^[a-z]+:\/\//, '')
    .replace(/^www\./, '')
    .replace(/[/?#].*$/, '');
}

/**
 * The fake's standard company fields, named as its records read them (`nps` is `CrmCompany.nps`),
 * so a mapping detected from them reads the same facts as the connector's own.
 */
export const STANDARD_ACCOUNT_FIELDS: readonly CrmAccountField[] = [
  { name: 'nps', label: 'NPS', kind: 'number', options: [] },
  { name: 'customer_since', label: 'Customer since', kind: 'date', options: [] },
  { name: 'health_score', label: 'Health score', kind: 'number', options: [] },
  { name: 'open_escalations', label: 'Open escalations', kind: 'number', options: [] },
  { name: 'lifecycle_stage', label: 'Lifecycle stage', kind: 'choice', options: ['lead', 'opportunity', 'customer', 'evangelist'] },
];

/** A standard field's value on a stored company, or undefined for a field the fake has no column for. */
export function standardFieldValue(company: CrmCompany, name: string): string | number | null | undefined {
  const values: Record<string, string | number | null> = {
    nps: company.nps,
    customer_since: company.customerSince,
    health_score: company.healthScore,
    open_escalations: company.openEscalations,
    lifecycle_stage: company.lifecycleStage,
  };
  return values[name];
}

export class FakeState {
  readonly people = new Map<string, StoredPerson>();
  readonly companies = new Map<string, StoredCompany>();
  readonly deals = new Map<string, StoredDeal>();
  readonly written = new Map<string, Written>();
  readonly notes: StoredNote[] = [];
  readonly companyNotes: CompanyNote[] = [];
  readonly owners = new Map<string, Owner>();
  readonly stages: PipelineStage[];
  /** A single-currency account until a test sets rates. */
  currencies: CrmCurrencies = { companyCurrency: 'USD', rates: [], limitation: null };
  /** The company fields the fake CRM's schema has: its standard ones until a test adds its own. */
  readonly accountFields: CrmAccountField[] = STANDARD_ACCOUNT_FIELDS.map((f) => structuredClone(f));
  /** Events the changes so far would send, oldest first, until a test takes them. */
  readonly pending: CrmEvent[] = [];
  private nextId = 1;
  private nextEvent = 1;
  private lastStamp = 0;

  constructor(
    readonly accountId: string,
    private readonly clock: () => Date,
    stages: PipelineStage[],
  ) {
    this.stages = stages.map((s) => ({ ...s }));
  }

  newId(type: CrmObjectType): string {
    return `${ID_PREFIX[type]}${this.nextId++}`;
  }

  /** The clock's time, moved past the previous stamp: two changes never share a modifiedAt. */
  stamp(): string {
    const at = Math.max(this.clock().getTime(), this.lastStamp + 1);
    this.lastStamp = at;
    return new Date(at).toISOString();
  }

  stage(pipelineId: string, stageId: string): PipelineStage | undefined {
    return this.stages.find((s) => s.pipelineId === pipelineId && s.stageId === stageId);
  }

  emit(
    objectType: CrmObjectType,
    objectId: string,
    change: CrmChange,
    occurredAt: string,
    extra: Pick<CrmEvent, 'related' | 'property'> = {},
  ): CrmEvent {
    const event: CrmEvent = {
      accountId: this.accountId,
      eventKey: `fake-${this.nextEvent++}`,
      objectType,
      objectId,
      change,
      occurredAt,
      ...extra,
    };
    this.pending.push(event);
    return event;
  }

  /** A live (not deleted) record of a type, or undefined. */
  live(objectType: CrmObjectType, id: string): StoredPerson | StoredCompany | StoredDeal | undefined {
    const record = objectType === 'company' ? this.companies.get(id) : objectType === 'deal' ? this.deals.get(id) : this.people.get(id);
    if (!record || record.deleted) return undefined;
    if ((objectType === 'contact' || objectType === 'lead') && (record as StoredPerson).objectType !== objectType) return undefined;
    return record;
  }

  /** Deals linked to a person or company, for the `related` hints of their events. */
  dealsOf(objectType: CrmObjectType, id: string): StoredDeal[] {
    return [...this.deals.values()].filter(
      (d) => !d.deleted && (objectType === 'company' ? d.companyIds.includes(id) : d.contactIds.includes(id)),
    );
  }
}
