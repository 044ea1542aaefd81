import { CrmError } from '../connector.ts';
import type {
  CompanyNote,
  CrmAccountField,
  CrmCompany,
  CrmCurrencies,
  CrmConnector,
  CrmDeal,
  CrmErrorCode,
  CrmEvent,
  CrmObjectType,
  CrmPerson,
  InboundRequest,
  PipelineStage,
  TokenSet,
} from '../connector.ts';
import { createFakeClient, type FakeClientContext } from './client.ts';
import { createFakeOAuth, FakeAuth } from './oauth.ts';
import {
  DEFAULT_PIPELINES,
  FakeState,
  normalizeDomain,
  normalizeEmail,
  type Owner,
  type PersonType,
  type StoredCompany,
  type StoredDeal,
  type StoredNote,
  type StoredPerson,
  type Written,
} from './state.ts';
import { createFakeWebhooks, signedRequest } from './webhooks.ts';

export { FAKE_FIELDS, FAKE_PAGE_SIZE, FAKE_RATE_LIMIT } from './client.ts';
export { FAKE_SCOPES } from './oauth.ts';
export { DEFAULT_PIPELINES } from './state.ts';
export { SIGNATURE_HEADER, TIMESTAMP_HEADER } from './webhooks.ts';
export type { Owner, StoredNote, Written } from './state.ts';

/**
 * An in-process, stateful CRM behind the whole `CrmConnector` interface, for use-case tests and
 * the client conformance suite. No network: the connector's client reads and writes the same
 * in-memory records the test-facing methods below change.
 *
 * ```ts
 * const crm = createFakeCrm();
 * const acme = crm.createCompany({ name: 'Acme', domain: 'acme.example' });
 * const pat = crm.createPerson({ email: 'pat@acme.example', companyIds: [acme.id] });
 * const deal = crm.createDeal({ amountCents: 2_500_000, contactIds: [pat.id], companyIds: [acme.id] });
 * crm.moveStage(deal.id, 'won');
 * const events = crm.takeEvents();          // what the CRM would have sent: created…, updated
 * const client = crm.connector.client(crm.session(), { limiter });
 * ```
 *
 * Every change bumps the record's `modifiedAt` (strictly increasing) and queues the event a CRM
 * would send; `takeEvents()` drains them, `webhookRequest()` wraps them in a signed delivery.
 * Reads return copies: changing a returned record changes nothing in the fake.
 */
export interface FakeCrmOptions {
  /** The account (portal, org) id of this CRM; `fake-account-1` by default. */
  accountId?: string;
  accountName?: string;
  /** Key of webhook signatures. */
  webhookSecret?: string;
  /** Pipelines and stages with their won/closed metadata; `DEFAULT_PIPELINES` by default. */
  stages?: PipelineStage[];
  /** Source of `modifiedAt` and event times (always moved forward by at least 1 ms per change). */
  now?: () => Date;
}

export interface NewPerson {
  objectType?: PersonType;
  email: string | null;
  firstName?: string | null;
  lastName?: string | null;
  companyIds?: string[];
  ownerId?: string | null;
  lifecycleStage?: string | null;
  emailOptOut?: boolean;
  /** The referral link code a form captured on the record. */
  referralCode?: string | null;
}

export interface NewCompany {
  name: string | null;
  domain?: string | null;
  isCustomer?: boolean;
  customerSince?: string | null;
  lifecycleStage?: string | null;
  nps?: number | null;
  healthScore?: number | null;
  openEscalations?: number | null;
  ownerId?: string | null;
  /** Values of fields added with `addAccountField` (an org's own `NPS__c`). */
  fields?: Record<string, string | number | boolean | null>;
}

export interface NewDeal {
  name?: string | null;
  /** `sales` by default. */
  pipelineId?: string;
  /** The pipeline's first stage by default. */
  stageId?: string;
  amountCents?: number | null;
  /** Defaults to `amountCents`. */
  firstYearValueCents?: number | null;
  currency?: string;
  closeDate?: string | null;
  ownerId?: string | null;
  sources?: CrmDeal['sources'];
  dealType?: string | null;
  contactIds?: string[];
  companyIds?: string[];
}

export type PersonChange = Partial<Omit<CrmPerson, 'id' | 'objectType' | 'modifiedAt' | 'converted' | 'mergedIntoId'>>;
export type CompanyChange = Partial<Omit<CrmCompany, 'id' | 'modifiedAt'>>;
export type DealChange = Partial<Omit<CrmDeal, 'id' | 'modifiedAt' | 'isClosed' | 'isWon' | 'createdAt'>>;

export interface FakeCrm {
  /** Its kind is `fake`, the registry's name for it. */
  readonly connector: CrmConnector & { readonly kind: 'fake' };
  readonly accountId: string;
  readonly webhookSecret: string;

  // Installation ---------------------------------------------------------------------------
  /** Tokens as an approved OAuth install would hand them out. */
  issueTokens(): TokenSet;
  /** A session over fresh tokens, recording saves and disconnection (for client tests). */
  session(installationId?: string): FakeSession;
  /** Every access token stops working (the client refreshes once). */
  expireAccessTokens(): void;
  /** Every refresh token stops working (the client marks the installation disconnected). */
  revokeRefreshTokens(): void;

  // Changes, each queuing its event --------------------------------------------------------
  createPerson(input: NewPerson): CrmPerson;
  updatePerson(id: string, change: PersonChange): CrmPerson;
  createCompany(input: NewCompany): CrmCompany;
  updateCompany(id: string, change: CompanyChange): CrmCompany;
  createDeal(input?: NewDeal): CrmDeal;
  /** Any field but the stage's won/closed flags, which follow `stageId` and `pipelineId`. */
  updateDeal(id: string, change: DealChange): CrmDeal;
  /** The deal enters a stage (of its pipeline unless `pipelineId` says otherwise). */
  moveStage(dealId: string, stageId: string, pipelineId?: string): CrmDeal;
  /** Deletes a record; reads then report it `gone`. */
  deleteRecord(objectType: CrmObjectType, id: string): void;
  /** Restores a deleted record (a CRM's recycle bin). */
  restoreRecord(objectType: CrmObjectType, id: string): void;
  /** The loser reads as the winner (with `mergedIntoId`); its deals and companies move to the winner. */
  mergePeople(winnerId: string, loserId: string): CrmPerson;
  /**
   * Converts a lead into a contact, under `companyId` or a new company named after the lead's
   * email domain, with a new deal unless `deal: false`. The lead stays, with `converted`.
   */
  convertLead(
    leadId: string,
    options?: { companyId?: string; deal?: NewDeal | false },
  ): { contactId: string; companyId: string; dealId: string | null };
  addOwner(owner: Owner): void;
  /** The account's company currency and exchange rates, as `CrmClient.currencies()` will return them. */
  setCurrencies(currencies: CrmCurrencies): void;
  /** A company field the account's admin created (what `describeAccountFields` then lists). */
  addAccountField(field: CrmAccountField): void;

  // Events ---------------------------------------------------------------------------------
  /** The events the changes since the last call would have sent, oldest first; clears them. */
  takeEvents(): CrmEvent[];
  /** A signed delivery of `events` (by default, `takeEvents()`) to `url`, as the CRM sends it. */
  webhookRequest(options?: { events?: CrmEvent[]; url?: string; now?: Date }): InboundRequest;

  // Inspection -----------------------------------------------------------------------------
  person(id: string): CrmPerson | undefined;
  company(id: string): CrmCompany | undefined;
  deal(id: string): CrmDeal | undefined;
  /** What Referloop last wrote on a record (referral fields, deal attribution, company eligibility). */
  written(id: string): Written | undefined;
  /** Timeline notes on a person, in the order they were added. */
  notes(personId: string): StoredNote[];
  /** Timeline notes on a company, in the order they were added. */
  companyNotes(companyId: string): CompanyNote[];
  /** Client method names in call order (one per round trip), for tests that count calls. */
  readonly calls: readonly string[];

  // Faults ---------------------------------------------------------------------------------
  /** The next `times` client calls fail with this error (a `CrmErrorCode` gets a typical one). */
  failNext(error: CrmErrorCode | CrmError, times?: number): void;
}

export interface FakeSession {
  readonly installationId: string;
  readonly accountId: string;
  readonly saved: TokenSet[];
  disconnected: string | null;
  tokens(): Promise<TokenSet>;
  saveTokens(tokens: TokenSet): Promise<void>;
  markDisconnected(reason: string): Promise<void>;
}

const TYPICAL_ERRORS: Record<CrmErrorCode, () => CrmError> = {
  auth_revoked: () => new CrmError('auth_revoked', 'the fake CRM app was uninstalled', { retryable: false, status: 401 }),
  auth_expired: () => new CrmError('auth_expired', 'the fake CRM refused the access token', { retryable: true, status: 401 }),
  rate_limited: () =>
    new CrmError('rate_limited', 'the fake CRM rate limit was exceeded', { retryable: true, retryAfterMs: 1_000, status: 429 }),
  not_found: () => new CrmError('not_found', 'the fake CRM has no such record', { retryable: false, status: 404 }),
  conflict: () => new CrmError('conflict', 'the fake CRM record is locked by another write', { retryable: false, status: 409 }),
  invalid: () => new CrmError('invalid', 'the fake CRM refused the request', { retryable: false, status: 400 }),
  unavailable: () => new CrmError('unavailable', 'the fake CRM is unavailable', { retryable: true, status: 503 }),
};

export function createFakeCrm(options: FakeCrmOptions = {}): FakeCrm {
  const accountId = options.accountId ?? 'fake-account-1';
  const webhookSecret = options.webhookSecret ?? 'fake-webhook-secret';
  const state = new FakeState(accountId, options.now ?? (() => new Date()), options.stages ?? DEFAULT_PIPELINES);
  const auth = new FakeAuth(accountId, options.accountName ?? 'Fake CRM account');
  const oauth = createFakeOAuth(auth);
  const faults: CrmError[] = [];
  const context: FakeClientContext = { state, auth, oauth, faults: { next: () => faults.shift() }, provisioned: new Set(), calls: [] };
  const connector: FakeCrm['connector'] = {
    kind: 'fake',
    oauth,
    webhooks: createFakeWebhooks(webhookSecret),
    client: async (session, deps) => createFakeClient(context, session, deps),
  };

  const get = <T>(map: Map<string, T & { deleted: boolean }>, what: string, id: string): T & { deleted: boolean } => {
    const record = map.get(id);
    if (!record || record.deleted) throw new Error(`the fake CRM has no ${what} ${id}`);
    return record;
  };
  const livePerson = (id: string) => get<CrmPerson>(state.people, 'person', id);
  const liveCompany = (id: string) => get<CrmCompany>(state.companies, 'company', id);
  const liveDeal = (id: string) => get<CrmDeal>(state.deals, 'deal', id);
  const strip = <T extends { deleted: boolean }>({ deleted: _, ...rest }: T): Omit<T, 'deleted'> => structuredClone(rest);
  const stageOf = (pipelineId: string, stageId: string) => {
    const stage = state.stage(pipelineId, stageId);
    if (!stage) throw new Error(`the fake CRM has no stage ${stageId} in pipeline ${pipelineId}`);
    return stage;
  };
  const related = (ids: { objectType: CrmObjectType; objectId: string }[]) => (ids.length ? { related: ids } : {});
  const checkIds = (ids: string[], map: Map<string, { deleted: boolean }>, what: string) => {
    for (const id of ids) if (!map.get(id) || map.get(id)?.deleted) throw new Error(`the fake CRM has no ${what} ${id}`);
  };

  function createPerson(input: NewPerson): CrmPerson {
    checkIds(input.companyIds ?? [], state.companies, 'company');
    const objectType = input.objectType ?? 'contact';
    const record: StoredPerson = {
      objectType,
      id: state.newId(objectType),
      email: input.email === null ? null : normalizeEmail(input.email),
      firstName: input.firstName ?? null,
      lastName: input.lastName ?? null,
      companyIds: [...(input.companyIds ?? [])],
      ownerId: input.ownerId ?? null,
      lifecycleStage: input.lifecycleStage ?? null,
      ...(input.emailOptOut !== undefined ? { emailOptOut: input.emailOptOut } : {}),
      ...(input.referralCode !== undefined ? { referralCode: input.referralCode } : {}),
      modifiedAt: state.stamp(),
      deleted: false,
    };
    state.people.set(record.id, record);
    state.emit(objectType, record.id, 'created', record.modifiedAt);
    return strip(record);
  }

  function createCompany(input: NewCompany): CrmCompany {
    const record: StoredCompany = {
      id: state.newId('company'),
      name: input.name,
      domain: input.domain ? normalizeDomain(input.domain) : null,
      isCustomer: input.isCustomer ?? false,
      customerSince: input.customerSince ?? null,
      lifecycleStage: input.lifecycleStage ?? null,
      nps: input.nps ?? null,
      healthScore: input.healthScore ?? null,
      openEscalations: input.openEscalations ?? null,
      ownerId: input.ownerId ?? null,
      modifiedAt: state.stamp(),
      ...(input.fields ? { fields: structuredClone(input.fields) } : {}),
      deleted: false,
    };
    state.companies.set(record.id, record);
    state.emit('company', record.id, 'created', record.modifiedAt);
    return strip(record);
  }

  function createDeal(input: NewDeal = {}): CrmDeal {
    checkIds(input.contactIds ?? [], state.people, 'person');
    checkIds(input.companyIds ?? [], state.companies, 'company');
    const pipelineId = input.pipelineId ?? 'sales';
    const first = state.stages.filter((s) => s.pipelineId === pipelineId).sort((a, b) => a.displayOrder - b.displayOrder)[0];
    const stage = stageOf(pipelineId, input.stageId ?? first?.stageId ?? '');
    const at = state.stamp();
    const amountCents = input.amountCents ?? null;
    const record: StoredDeal = {
      id: state.newId('deal'),
      name: input.name ?? null,
      pipelineId,
      stageId: stage.stageId,
      isClosed: stage.isClosed,
      isWon: stage.isWon,
      amountCents,
      firstYearValueCents: input.firstYearValueCents === undefined ? amountCents : input.firstYearValueCents,
      currency: input.currency ?? 'USD',
      closeDate: input.closeDate ?? null,
      createdAt: at,
      ownerId: input.ownerId ?? null,
      sources: [...(input.sources ?? [])],
      dealType: input.dealType ?? null,
      contactIds: [...(input.contactIds ?? [])],
      companyIds: [...(input.companyIds ?? [])],
      modifiedAt: at,
      deleted: false,
    };
    state.deals.set(record.id, record);
    state.emit(
      'deal',
      record.id,
      'created',
      at,
      related([
        ...record.contactIds.map((objectId) => ({ objectType: 'contact' as const, objectId })),
        ...record.companyIds.map((objectId) => ({ objectType: 'company' as const, objectId })),
      ]),
    );
    return strip(record);
  }

  function updateDeal(id: string, change: DealChange): CrmDeal {
    const record = liveDeal(id);
    checkIds(change.contactIds ?? [], state.people, 'person');
    checkIds(change.companyIds ?? [], state.companies, 'company');
    const pipelineId = change.pipelineId ?? record.pipelineId;
    const stage = stageOf(pipelineId, change.stageId ?? record.stageId);
    Object.assign(record, structuredClone(change), {
      pipelineId,
      stageId: stage.stageId,
      isClosed: stage.isClosed,
      isWon: stage.isWon,
      modifiedAt: state.stamp(),
    });
    const property = Object.keys(change).length === 1 ? Object.keys(change)[0] : undefined;
    state.emit('deal', id, 'updated', record.modifiedAt, property ? { property } : {});
    return strip(record);
  }

  function setDeleted(objectType: CrmObjectType, id: string, deleted: boolean): void {
    const map: Map<string, { deleted: boolean; modifiedAt: string; objectType?: string }> =
      objectType === 'company' ? state.companies : objectType === 'deal' ? state.deals : state.people;
    const record = map.get(id);
    if (!record || record.deleted === deleted || (record.objectType && record.objectType !== objectType)) {
      throw new Error(`the fake CRM has no ${deleted ? '' : 'deleted '}${objectType} ${id}`);
    }
    record.deleted = deleted;
    record.modifiedAt = state.stamp();
    state.emit(objectType, id, deleted ? 'deleted' : 'restored', record.modifiedAt);
  }

  const fakeSession = (installationId = 'fake-installation-1'): FakeSession => {
    let current = auth.issueTokens();
    return {
      installationId,
      accountId,
      saved: [],
      disconnected: null,
      tokens: async () => current,
      async saveTokens(tokens) {
        this.saved.push(tokens);
        current = tokens;
      },
      async markDisconnected(reason) {
        this.disconnected = reason;
      },
    };
  };

  return {
    connector,
    accountId,
    webhookSecret,
    issueTokens: () => auth.issueTokens(),
    session: fakeSession,
    expireAccessTokens: () => auth.expireAccessTokens(),
    revokeRefreshTokens: () => auth.revokeRefreshTokens(),

    createPerson,
    updatePerson(id, change) {
      const record = livePerson(id);
      checkIds(change.companyIds ?? [], state.companies, 'company');
      Object.assign(record, structuredClone(change), change.email ? { email: normalizeEmail(change.email) } : {}, {
        modifiedAt: state.stamp(),
      });
      state.emit(record.objectType, id, 'updated', record.modifiedAt);
      return strip(record);
    },
    createCompany,
    updateCompany(id, change) {
      const record = liveCompany(id);
      Object.assign(record, structuredClone(change), change.domain ? { domain: normalizeDomain(change.domain) } : {}, {
        modifiedAt: state.stamp(),
      });
      state.emit(
        'company',
        id,
        'updated',
        record.modifiedAt,
        related(state.dealsOf('company', id).map((d) => ({ objectType: 'deal' as const, objectId: d.id }))),
      );
      return strip(record);
    },
    createDeal,
    updateDeal,
    moveStage: (dealId, stageId, pipelineId) => updateDeal(dealId, { stageId, ...(pipelineId ? { pipelineId } : {}) }),
    deleteRecord: (objectType, id) => setDeleted(objectType, id, true),
    restoreRecord: (objectType, id) => setDeleted(objectType, id, false),

    mergePeople(winnerId, loserId) {
      const winner = livePerson(winnerId);
      const loser = livePerson(loserId);
      if (winnerId === loserId || winner.objectType !== loser.objectType)
        throw new Error('the fake CRM merges two different records of one type');
      const at = state.stamp();
      winner.companyIds = [...new Set([...winner.companyIds, ...loser.companyIds])];
      winner.lastName ??= loser.lastName;
      winner.firstName ??= loser.firstName;
      winner.modifiedAt = at;
      for (const d of state.dealsOf(loser.objectType, loserId)) {
        d.contactIds = [...new Set(d.contactIds.map((c) => (c === loserId ? winnerId : c)))];
        d.modifiedAt = at;
      }
      loser.mergedIntoId = winnerId;
      loser.modifiedAt = at;
      state.emit(loser.objectType, loserId, 'merged', at, { related: [{ objectType: winner.objectType, objectId: winnerId }] });
      return strip(winner);
    },

    convertLead(leadId, options = {}) {
      const lead = livePerson(leadId);
      if (lead.objectType !== 'lead' || lead.converted) throw new Error(`the fake CRM cannot convert ${leadId}: not an unconverted lead`);
      const companyId = options.companyId
        ? liveCompany(options.companyId).id
        : createCompany({ name: lead.email?.split('@')[1] ?? lead.lastName, domain: lead.email?.split('@')[1] ?? null }).id;
      const contact = createPerson({
        email: lead.email,
        firstName: lead.firstName,
        lastName: lead.lastName,
        companyIds: [companyId],
        ownerId: lead.ownerId,
        lifecycleStage: 'opportunity',
      });
      const dealId =
        options.deal === false
          ? null
          : createDeal({ name: lead.lastName, ownerId: lead.ownerId, ...options.deal, contactIds: [contact.id], companyIds: [companyId] })
              .id;
      lead.converted = { contactId: contact.id, companyId, dealId };
      lead.modifiedAt = state.stamp();
      state.emit('lead', leadId, 'updated', lead.modifiedAt, {
        property: 'converted',
        related: [
          { objectType: 'contact', objectId: contact.id },
          { objectType: 'company', objectId: companyId },
          ...(dealId ? [{ objectType: 'deal' as const, objectId: dealId }] : []),
        ],
      });
      return { contactId: contact.id, companyId, dealId };
    },

    addOwner: (owner) => {
      state.owners.set(owner.id, { ...owner });
    },
    addAccountField: (field) => {
      state.accountFields.push(structuredClone(field));
    },
    setCurrencies: (currencies) => {
      state.currencies = structuredClone(currencies);
    },

    takeEvents: () => state.pending.splice(0),
    webhookRequest({ events, url = 'http://localhost/webhooks/fake', now = new Date() } = {}) {
      return signedRequest(webhookSecret, url, events ?? state.pending.splice(0), now);
    },

    person: (id) => {
      const record = state.people.get(id);
      return record && !record.deleted ? strip(record) : undefined;
    },
    company: (id) => {
      const record = state.companies.get(id);
      return record && !record.deleted ? strip(record) : undefined;
    },
    deal: (id) => {
      const record = state.deals.get(id);
      return record && !record.deleted ? strip(record) : undefined;
    },
    written: (id) => structuredClone(state.written.get(id)),
    notes: (personId) => state.notes.filter((n) => n.person.id === personId).map((n) => structuredClone(n)),
    companyNotes: (companyId) => state.companyNotes.filter((n) => n.companyId === companyId).map((n) => structuredClone(n)),
    calls: context.calls,

    failNext(error, times = 1) {
      for (let i = 0; i < times; i++) faults.push(typeof error === 'string' ? TYPICAL_ERRORS[error]() : error);
    },
  };
}
