import { CrmError } from '../connector.ts';
import type {
  ChangedRecords,
  CrmClient,
  CrmClientDeps,
  CrmCompany,
  CrmDeal,
  CrmGone,
  CrmObjectType,
  CrmOAuth,
  CrmPerson,
  CrmSession,
  CrmWrite,
  EnsuredReferee,
  PipelineStage,
  ProvisionReport,
  RateLimit,
  RefereeToEnsure,
  TimelineNote,
  CompanyNote,
  WriteOutcome,
} from '../connector.ts';
import type { FakeAuth } from './oauth.ts';
import {
  normalizeDomain,
  normalizeEmail,
  standardFieldValue,
  type FakeState,
  type StoredCompany,
  type StoredDeal,
  type StoredPerson,
} from './state.ts';

/** Generous, so tests never wait unless they set a tighter `rateLimit`. */
export const FAKE_RATE_LIMIT: RateLimit = { points: 1_000, durationMs: 1_000 };
export const FAKE_PAGE_SIZE = 100;

/** The fields the fake "provisions": what Referloop writes, per record kind. */
export const FAKE_FIELDS = [
  'person.referral_id',
  'person.referral_status',
  'person.referrer_name',
  'person.referrer_email',
  'person.referrer_type',
  'deal.referral_id',
  'deal.referrer_name',
  'deal.attributed_amount',
  'company.referral_eligible',
  'company.eligibility_reason',
] as const;

/** Faults a test queued: each call of the client takes the next one, if any. */
export interface FaultQueue {
  next(): CrmError | undefined;
}

export interface FakeClientContext {
  state: FakeState;
  auth: FakeAuth;
  oauth: CrmOAuth;
  faults: FaultQueue;
  provisioned: Set<string>;
  /** Names of client methods as they are called, for tests that count round trips. */
  calls: string[];
}

const unique = <T>(values: Iterable<T>): T[] => [...new Set(values)];
const copy = <T>(value: T): T => structuredClone(value);

function person({ deleted: _, ...record }: StoredPerson): CrmPerson {
  return copy(record);
}
/** `mapped`: the session's eligibility fields, read from the company's own values or the standard columns. */
function company({ deleted: _, ...record }: StoredCompany, mapped: readonly string[] = []): CrmCompany {
  const fields = Object.fromEntries(mapped.map((name) => [name, record.fields?.[name] ?? standardFieldValue(record, name) ?? null]));
  return copy({ ...record, fields });
}
function deal({ deleted: _, ...record }: StoredDeal): CrmDeal {
  return copy(record);
}

interface Cursor {
  at: string;
  key: string;
}

function encodeCursor(cursor: Cursor): string {
  return `fake1.${Buffer.from(JSON.stringify(cursor)).toString('base64url')}`;
}

function decodeCursor(value: string): Cursor {
  if (value.startsWith('fake1.')) {
    try {
      const cursor = JSON.parse(Buffer.from(value.slice(6), 'base64url').toString('utf8')) as Cursor;
      if (typeof cursor.at === 'string' && typeof cursor.key === 'string') return cursor;
    } catch {
      // fall through to the error below
    }
  }
  throw new CrmError('invalid', 'not a fake CRM reconciliation cursor', { retryable: false });
}

/** One installation's client over the fake's in-memory records; same rules as the real ones. */
export function createFakeClient(context: FakeClientContext, session: CrmSession, deps: CrmClientDeps): CrmClient {
  const { state } = context;
  const bucket = `fake:${session.accountId}`;
  const mapped = async () => (await session.eligibilityFields?.()) ?? [];
  let refreshing: Promise<void> | null = null;

  async function refresh(): Promise<void> {
    try {
      const next = await context.oauth.refresh(await session.tokens());
      await session.saveTokens(next);
    } catch (error) {
      if (error instanceof CrmError && error.code === 'auth_revoked') await session.markDisconnected(error.message);
      throw error;
    }
  }

  /** Every call: a limiter slot, a queued fault, a usable token (refreshed once if not). */
  async function call(name: string): Promise<void> {
    context.calls.push(name);
    await deps.limiter.take(bucket, deps.rateLimit ?? FAKE_RATE_LIMIT);
    const fault = context.faults.next();
    if (fault) {
      if (fault.code === 'rate_limited') await deps.limiter.holdOff(bucket, fault.retryAfterMs ?? 1_000);
      throw fault;
    }
    if (context.auth.accepts((await session.tokens()).accessToken)) return;
    refreshing ??= refresh().finally(() => {
      refreshing = null;
    });
    await refreshing;
  }

  function readPeople(ids: string[], objectType: 'contact' | 'lead'): { records: CrmPerson[]; gone: CrmGone[] } {
    const records: CrmPerson[] = [];
    const gone: CrmGone[] = [];
    for (const id of unique(ids)) {
      const found = state.people.get(id);
      if (!found || found.deleted || found.objectType !== objectType) {
        gone.push({ objectType, id });
        continue;
      }
      // A merged-away person reads as the survivor, with its own id and a forward (HubSpot's way).
      const winner = found.mergedIntoId ? state.people.get(found.mergedIntoId) : undefined;
      records.push(winner && !winner.deleted ? { ...person(winner), id, mergedIntoId: winner.id } : person(found));
    }
    return { records, gone };
  }

  function peopleByEmail(emails: string[]): Map<string, StoredPerson> {
    const wanted = new Set(emails.map(normalizeEmail));
    const found = new Map<string, StoredPerson>();
    // Contacts first: a converted lead's person is its contact.
    for (const type of ['contact', 'lead'] as const) {
      for (const p of state.people.values()) {
        const email = p.email ? normalizeEmail(p.email) : null;
        if (email && wanted.has(email) && !found.has(email) && p.objectType === type && !p.deleted && !p.mergedIntoId && !p.converted)
          found.set(email, p);
      }
    }
    return found;
  }

  function companiesByDomain(domains: string[]): StoredCompany[] {
    const wanted = new Set(domains.map(normalizeDomain).filter(Boolean));
    return [...state.companies.values()].filter((c) => !c.deleted && c.domain && wanted.has(normalizeDomain(c.domain)));
  }

  function applyWrite(write: CrmWrite): CrmError | null {
    const missing = (what: string) => new CrmError('not_found', `the fake CRM has no ${what}`, { retryable: false, status: 404 });
    const at = state.stamp();
    if (write.target === 'referral') {
      const target = state.live(write.person.objectType, write.person.id) as StoredPerson | undefined;
      if (!target) return missing(`${write.person.objectType} ${write.person.id}`);
      target.modifiedAt = at;
      state.written.set(target.id, { ...state.written.get(target.id), referral: { ...write.fields } });
    } else if (write.target === 'deal') {
      const target = state.live('deal', write.dealId) as StoredDeal | undefined;
      if (!target) return missing(`deal ${write.dealId}`);
      if (!Number.isInteger(write.fields.attributedAmountCents)) {
        return new CrmError('invalid', `attributed amount must be integer cents, got ${write.fields.attributedAmountCents}`, {
          retryable: false,
          status: 400,
        });
      }
      target.modifiedAt = at;
      state.written.set(target.id, { ...state.written.get(target.id), deal: { ...write.fields } });
    } else {
      const target = state.live('company', write.companyId) as StoredCompany | undefined;
      if (!target) return missing(`company ${write.companyId}`);
      target.modifiedAt = at;
      state.written.set(target.id, { ...state.written.get(target.id), company: { ...write.fields } });
    }
    return null;
  }

  return {
    async provision(): Promise<ProvisionReport> {
      await call('provision');
      const created = FAKE_FIELDS.filter((f) => !context.provisioned.has(f));
      for (const field of created) context.provisioned.add(field);
      return { created: [...created], existing: FAKE_FIELDS.filter((f) => !created.includes(f)), missing: [] };
    },

    async listPipelineStages(): Promise<PipelineStage[]> {
      await call('listPipelineStages');
      return copy(state.stages);
    },

    async ensureReferees(referees: RefereeToEnsure[]): Promise<EnsuredReferee[]> {
      if (!referees.length) return [];
      await call('ensureReferees');
      const people = peopleByEmail(referees.map((r) => r.email));
      const created = new Set<string>();
      const fields = await mapped();
      return referees.map((r) => {
        const email = normalizeEmail(r.email);
        let found = people.get(email);
        if (!found) {
          found = {
            objectType: 'contact',
            id: state.newId('contact'),
            email,
            firstName: r.firstName,
            lastName: r.lastName,
            companyIds: [],
            ownerId: null,
            lifecycleStage: 'lead',
            modifiedAt: state.stamp(),
            deleted: false,
          };
          state.people.set(found.id, found);
          people.set(email, found);
          created.add(found.id);
          state.emit('contact', found.id, 'created', found.modifiedAt);
        }
        const [match] = r.domain ? companiesByDomain([r.domain]) : [];
        if (match && !found.companyIds.includes(match.id)) {
          found.companyIds.push(match.id);
          found.modifiedAt = state.stamp();
        }
        return { key: r.key, person: person(found), created: created.has(found.id), company: match ? company(match, fields) : null };
      });
    },

    async findPeopleByEmail(emails: string[]): Promise<CrmPerson[]> {
      if (!emails.length) return [];
      await call('findPeopleByEmail');
      return [...peopleByEmail(emails).values()].map(person);
    },

    async findCompaniesByDomain(domains: string[]): Promise<CrmCompany[]> {
      if (!domains.length) return [];
      await call('findCompaniesByDomain');
      const fields = await mapped();
      return companiesByDomain(domains).map((c) => company(c, fields));
    },

    async getPeople(objectType, ids) {
      await call('getPeople');
      return readPeople(ids, objectType);
    },

    async getCompanies(ids) {
      await call('getCompanies');
      const wanted = unique(ids);
      const live = (id: string) => state.live('company', id) as StoredCompany | undefined;
      const fields = await mapped();
      return {
        records: wanted.flatMap((id) => (live(id) ? [company(live(id) as StoredCompany, fields)] : [])),
        gone: wanted.filter((id) => !live(id)).map((id) => ({ objectType: 'company' as const, id })),
      };
    },

    async getDeals(ids) {
      await call('getDeals');
      const wanted = unique(ids);
      const live = (id: string) => state.live('deal', id) as StoredDeal | undefined;
      return {
        records: wanted.flatMap((id) => (live(id) ? [deal(live(id) as StoredDeal)] : [])),
        gone: wanted.filter((id) => !live(id)).map((id) => ({ objectType: 'deal' as const, id })),
      };
    },

    async findDealIdsFor(refs) {
      if (!refs.contactIds.length && !refs.companyIds.length) return [];
      await call('findDealIdsFor');
      return [...state.deals.values()]
        .filter(
          (d) =>
            !d.deleted &&
            (d.contactIds.some((id) => refs.contactIds.includes(id)) || d.companyIds.some((id) => refs.companyIds.includes(id))),
        )
        .map((d) => d.id);
    },

    /** Pages of records ordered by (modifiedAt, type:id), strictly after the cursor's position. */
    async changedSince(cursor: string | null, since: Date): Promise<ChangedRecords> {
      const from: Cursor = cursor ? decodeCursor(cursor) : { at: new Date(since.getTime() - 1).toISOString(), key: '\uffff' };
      await call('changedSince');
      const all: { objectType: CrmObjectType; id: string; modifiedAt: string; key: string }[] = [];
      for (const p of state.people.values())
        if (!p.deleted) all.push({ objectType: p.objectType, id: p.id, modifiedAt: p.modifiedAt, key: `${p.objectType}:${p.id}` });
      for (const c of state.companies.values())
        if (!c.deleted) all.push({ objectType: 'company', id: c.id, modifiedAt: c.modifiedAt, key: `company:${c.id}` });
      for (const d of state.deals.values())
        if (!d.deleted) all.push({ objectType: 'deal', id: d.id, modifiedAt: d.modifiedAt, key: `deal:${d.id}` });
      const after = all
        .filter((r) => r.modifiedAt > from.at || (r.modifiedAt === from.at && r.key > from.key))
        .sort((a, b) => a.modifiedAt.localeCompare(b.modifiedAt) || a.key.localeCompare(b.key));
      const page = after.slice(0, FAKE_PAGE_SIZE);
      const last = page.at(-1);
      return {
        records: page.map(({ objectType, id, modifiedAt }) => ({ objectType, id, modifiedAt })),
        nextCursor: encodeCursor(last ? { at: last.modifiedAt, key: last.key } : from),
        hasMore: after.length > page.length,
      };
    },

    async write(writes: CrmWrite[]): Promise<WriteOutcome[]> {
      if (!writes.length) return [];
      await call('write');
      return writes.map((write, index) => {
        const error = applyWrite(write);
        return error ? { index, ok: false, error } : { index, ok: true };
      });
    },

    async addTimelineNote(note: TimelineNote): Promise<void> {
      await call('addTimelineNote');
      if (!state.live(note.person.objectType, note.person.id)) {
        throw new CrmError('not_found', `the fake CRM has no ${note.person.objectType} ${note.person.id}`, {
          retryable: false,
          status: 404,
        });
      }
      if (state.notes.some((n) => n.idempotencyKey === note.idempotencyKey && n.person.id === note.person.id)) return;
      state.notes.push(copy(note));
    },

    async addCompanyNote(note: CompanyNote): Promise<void> {
      await call('addCompanyNote');
      if (!state.live('company', note.companyId))
        throw new CrmError('not_found', `the fake CRM has no company ${note.companyId}`, { retryable: false, status: 404 });
      if (state.companyNotes.some((n) => n.idempotencyKey === note.idempotencyKey && n.companyId === note.companyId)) return;
      state.companyNotes.push(copy(note));
    },

    /** The fake has no association labels: its earliest contact of the company is the primary one. */
    async primaryContact(companyId: string): Promise<CrmPerson | null> {
      await call('primaryContact');
      const found = [...state.people.values()].find((p) => !p.deleted && p.objectType === 'contact' && p.companyIds.includes(companyId));
      return found ? person(found) : null;
    },

    async ownerEmails(ownerIds: string[]) {
      if (!ownerIds.length) return {};
      await call('ownerEmails');
      const found: Record<string, { email: string; name: string | null }> = {};
      for (const id of unique(ownerIds)) {
        const owner = state.owners.get(id);
        if (owner) found[id] = { email: owner.email, name: owner.name };
      }
      return found;
    },

    async currencies() {
      await call('currencies');
      return copy(state.currencies);
    },

    async describeAccountFields() {
      await call('describeAccountFields');
      return copy(state.accountFields);
    },

    async closedWonDeals(range) {
      await call('closedWonDeals');
      return [...state.deals.values()]
        .filter((d) => !d.deleted && d.isWon && d.closeDate !== null && d.closeDate >= range.from && d.closeDate <= range.to)
        .map((d) => ({ id: d.id, pipelineId: d.pipelineId, createdAt: d.createdAt, closeDate: d.closeDate as string }));
    },

    async countCustomerAccounts() {
      await call('countCustomerAccounts');
      return [...state.companies.values()].filter((c) => !c.deleted && c.isCustomer).length;
    },
  };
}
