import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CrmError, type CrmClient, type CrmObjectType } from '../../connectors/connector.ts';
import { detectEligibilityFields } from '../../src/domain/eligibility-fields.ts';
import { conversionOn, convertMinorUnits } from '../../src/domain/exchange.ts';
import type { TestSession } from '../support/crm-session.ts';
import type { RecordingLimiter } from '../support/rate-limiter.ts';

/**
 * One contract for every CrmClient: what use cases may rely on whichever CRM sits behind it. Each
 * target (a sandbox, the fake) seeds records in its CRM's own terms and installs a client; the
 * cases below speak to the client only. CRM-specific behaviour (call counts, vendor payloads,
 * merges, lead conversion) stays in each CRM's own tests.
 */
export interface ClientTarget {
  client: CrmClient;
  session: TestSession;
  limiter: RecordingLimiter;
  /** What `ensureReferees` creates for an unknown email (HubSpot and the fake: contact; Salesforce: lead). */
  createdPersonType: 'contact' | 'lead';
  seed: {
    /** `customer`: the CRM's own customer mark (HubSpot lifecycle stage, Salesforce Account.Type). */
    company(input: { name: string; domain?: string; customer?: boolean }): string;
    contact(input: { email: string; lastName: string; firstName?: string; companyId?: string; emailOptOut?: boolean }): string;
    /** `amount` in whole currency units, in the CRM's default currency (USD). */
    deal(input: { name: string; amount: number; stage: DealStage; contactIds?: string[]; companyId?: string; closeDate?: string }): string;
    moveDeal(dealId: string, stage: DealStage): void;
    renameContact(contactId: string, lastName: string): void;
    remove(objectType: 'contact' | 'company' | 'deal', id: string): void;
    /** Dated EUR rates against the company currency USD, given both ways so each CRM stores its own form. */
    eurRates(rates: { from: string; usdPerEur: string; eurPerUsd: string }[]): void;
  };
  /** An id of the CRM's own form that no record has. */
  unknownId(objectType: CrmObjectType): string;
  /** Timeline notes on a person, as the CRM stores them. */
  noteCount(person: { objectType: 'contact' | 'lead'; id: string }): number;
  /** Timeline notes on a company, as the CRM stores them. */
  companyNoteCount(companyId: string): number;
  faults: {
    expireAccessTokens(): void;
    revokeRefreshTokens(): void;
    /** The CRM answers the next calls with a server error (enough of them to outlast the client's own retries). */
    unavailable(): void;
  };
  close(): Promise<void>;
}

export type DealStage = 'open' | 'won' | 'lost';

export function describeCrmClientConformance(name: string, start: () => Promise<ClientTarget>): void {
  describe(`CrmClient conformance: ${name}`, () => {
    let t: ClientTarget;
    beforeEach(async () => {
      t = await start();
    });
    afterEach(async () => {
      await t.close();
    });

    it('lists pipeline stages with won and closed from the CRM’s stage metadata', async () => {
      const stages = await t.client.listPipelineStages();
      expect(stages.some((s) => s.isWon && s.isClosed)).toBe(true);
      expect(stages.some((s) => s.isClosed && !s.isWon)).toBe(true);
      expect(stages.some((s) => !s.isClosed)).toBe(true);
      expect(stages.filter((s) => s.isWon && !s.isClosed)).toEqual([]);
      for (const stage of stages)
        expect(stage).toMatchObject({ pipelineId: expect.any(String), stageId: expect.any(String), label: expect.any(String) });
    });

    it('describes its account fields so eligibility finds the customer values, and reads a mapped field with each company', async () => {
      const detected = detectEligibilityFields(await t.client.describeAccountFields());
      expect(detected.accountType?.customerValues.some((v) => /customer/i.test(v))).toBe(true);
      const typeField = detected.accountType!.field;
      const id = t.seed.company({ name: 'Mapped Fields Inc', domain: 'mapped-fields.example' });
      t.session.mappedAccountFields = [typeField];
      const { records } = await t.client.getCompanies([id]);
      expect(records.map((c) => Object.keys(c.fields ?? {}))).toEqual([[typeField]]);
      const [found] = await t.client.findCompaniesByDomain(['mapped-fields.example']);
      expect(Object.keys(found?.fields ?? {})).toEqual([typeField]);
    });

    it('provisions idempotently: nothing is missing, and a second run creates nothing', async () => {
      const first = await t.client.provision();
      expect(first.missing).toEqual([]);
      const second = await t.client.provision();
      expect(second).toMatchObject({ created: [], missing: [] });
      expect([...second.existing].sort()).toEqual([...first.created, ...first.existing].sort());
    });

    it('ensureReferees finds people by email (any case), creates the rest once, and finds the company by domain', async () => {
      const acme = t.seed.company({ name: 'Acme Robotics', domain: 'acme-robotics.example' });
      const pat = t.seed.contact({ email: 'pat@acme-robotics.example', firstName: 'Pat', lastName: 'Lee', companyId: acme });
      const referees = [
        {
          key: 'r1',
          email: 'Dana@Acme-Robotics.example',
          firstName: 'Dana',
          lastName: 'Cole',
          company: 'Acme Robotics',
          domain: 'acme-robotics.example',
        },
        {
          key: 'r2',
          email: 'PAT@acme-robotics.example',
          firstName: 'Patricia',
          lastName: null,
          company: null,
          domain: 'acme-robotics.example',
        },
        { key: 'r3', email: 'sam@unknown.example', firstName: null, lastName: 'Sam', company: null, domain: 'unknown.example' },
        {
          key: 'r4',
          email: 'dana@acme-robotics.example',
          firstName: 'Dana',
          lastName: 'Cole',
          company: null,
          domain: 'https://www.acme-robotics.example/',
        },
      ];
      const first = await t.client.ensureReferees(referees);
      expect(first.map((r) => [r.key, r.created, r.person.objectType, r.company?.id ?? null])).toEqual([
        ['r1', true, t.createdPersonType, acme],
        ['r2', false, 'contact', acme],
        ['r3', true, t.createdPersonType, null],
        ['r4', true, t.createdPersonType, acme],
      ]);
      expect(first[0]?.person).toMatchObject({ email: 'dana@acme-robotics.example', firstName: 'Dana', lastName: 'Cole' });
      expect(first[3]?.person.id).toBe(first[0]?.person.id);
      // An existing person keeps its own values.
      expect(first[1]?.person).toMatchObject({ id: pat, firstName: 'Pat' });

      const again = await t.client.ensureReferees(referees);
      expect(again.map((r) => [r.created, r.person.id])).toEqual(first.map((r) => [false, r.person.id]));
      expect(await t.client.ensureReferees([])).toEqual([]);
    });

    it('finds people by email and companies by exact domain, leaving unknown ones out', async () => {
      const acme = t.seed.company({ name: 'Acme', domain: 'acme.example' });
      t.seed.company({ name: 'Not Acme', domain: 'notacme.example' });
      const pat = t.seed.contact({ email: 'pat@acme.example', lastName: 'Lee', companyId: acme });
      expect((await t.client.findPeopleByEmail(['PAT@acme.example', 'nobody@acme.example'])).map((p) => p.id)).toEqual([pat]);
      expect(await t.client.findPeopleByEmail([])).toEqual([]);
      const companies = await t.client.findCompaniesByDomain(['acme.example', 'missing.example']);
      expect(companies.map((c) => [c.id, c.name, c.domain])).toEqual([[acme, 'Acme', 'acme.example']]);
      expect(await t.client.findCompaniesByDomain([])).toEqual([]);
    });

    it('batch reads return what exists and report ids the CRM no longer has as gone', async () => {
      const kept = t.seed.company({ name: 'Kept', domain: 'kept.example' });
      const removed = t.seed.company({ name: 'Removed', domain: 'removed.example' });
      t.seed.remove('company', removed);
      const contact = t.seed.contact({ email: 'kept@kept.example', lastName: 'Kept', companyId: kept });
      const missingContact = t.unknownId('contact');

      const companies = await t.client.getCompanies([kept, removed]);
      expect(companies.records.map((c) => c.id)).toEqual([kept]);
      expect(companies.gone).toEqual([{ objectType: 'company', id: removed }]);

      const people = await t.client.getPeople('contact', [contact, missingContact]);
      expect(people.records).toEqual([
        expect.objectContaining({ id: contact, objectType: 'contact', email: 'kept@kept.example', lastName: 'Kept', companyIds: [kept] }),
      ]);
      expect(people.gone).toEqual([{ objectType: 'contact', id: missingContact }]);
    });

    it('reads deals with won/closed from stage metadata, amounts in cents, and their people and company', async () => {
      const company = t.seed.company({ name: 'Deal Co', domain: 'deal.example' });
      const buyer = t.seed.contact({ email: 'buyer@deal.example', lastName: 'Buyer', companyId: company });
      const won = t.seed.deal({ name: 'Won', amount: 25_000, stage: 'won', contactIds: [buyer], companyId: company });
      const lost = t.seed.deal({ name: 'Lost', amount: 1_000, stage: 'lost', companyId: company });
      const open = t.seed.deal({ name: 'Open', amount: 500, stage: 'open', contactIds: [buyer] });
      const removed = t.seed.deal({ name: 'Removed', amount: 1, stage: 'open' });
      t.seed.remove('deal', removed);

      const { records, gone } = await t.client.getDeals([won, lost, open, removed]);
      expect(records.map((d) => [d.id, d.name, d.isClosed, d.isWon, d.amountCents, d.currency])).toEqual([
        [won, 'Won', true, true, 2_500_000, 'USD'],
        [lost, 'Lost', true, false, 100_000, 'USD'],
        [open, 'Open', false, false, 50_000, 'USD'],
      ]);
      expect(records[0]).toMatchObject({ contactIds: [buyer], companyIds: [company] });
      expect(gone).toEqual([{ objectType: 'deal', id: removed }]);

      t.seed.moveDeal(won, 'open');
      expect((await t.client.getDeals([won])).records[0]).toMatchObject({ isClosed: false, isWon: false });
    });

    it('reads the won deals closed in a range with their dates, and counts the customer accounts', async () => {
      t.seed.company({ name: 'Customer One', customer: true });
      t.seed.company({ name: 'Customer Two', customer: true });
      t.seed.company({ name: 'Prospect Co' });
      const won = t.seed.deal({ name: 'Won in March', amount: 100, stage: 'won', closeDate: '2026-03-15' });
      t.seed.deal({ name: 'Won in May', amount: 100, stage: 'won', closeDate: '2026-05-01' });
      t.seed.deal({ name: 'Lost in March', amount: 100, stage: 'lost', closeDate: '2026-03-10' });
      t.seed.deal({ name: 'Open in March', amount: 100, stage: 'open', closeDate: '2026-03-20' });

      const deals = await t.client.closedWonDeals({ from: '2026-03-01', to: '2026-03-31' });
      expect(deals.map((d) => [d.id, d.closeDate])).toEqual([[won, '2026-03-15']]);
      expect(Number.isNaN(Date.parse(deals[0]!.createdAt))).toBe(false);
      expect(await t.client.countCustomerAccounts()).toBe(2);
    });

    it('finds deal ids through people and through companies', async () => {
      const company = t.seed.company({ name: 'Assoc Co', domain: 'assoc.example' });
      const contact = t.seed.contact({ email: 'assoc@assoc.example', lastName: 'Assoc' });
      const viaContact = t.seed.deal({ name: 'A', amount: 1, stage: 'open', contactIds: [contact] });
      const viaBoth = t.seed.deal({ name: 'B', amount: 1, stage: 'open', contactIds: [contact], companyId: company });
      const viaCompany = t.seed.deal({ name: 'C', amount: 1, stage: 'open', companyId: company });
      t.seed.deal({ name: 'Unrelated', amount: 1, stage: 'open' });
      expect((await t.client.findDealIdsFor({ contactIds: [contact], companyIds: [] })).sort()).toEqual([viaContact, viaBoth].sort());
      expect((await t.client.findDealIdsFor({ contactIds: [], companyIds: [company] })).sort()).toEqual([viaBoth, viaCompany].sort());
      // Each deal once, however many of the records lead to it.
      expect((await t.client.findDealIdsFor({ contactIds: [contact], companyIds: [company] })).sort()).toEqual(
        [viaContact, viaBoth, viaCompany].sort(),
      );
      expect(await t.client.findDealIdsFor({ contactIds: [], companyIds: [] })).toEqual([]);
    });

    it('writes with one outcome per input, in order; a deal the CRM no longer has is not_found', async () => {
      // As at install: the fields Referloop writes exist.
      await t.client.provision();
      const company = t.seed.company({ name: 'Write Co', domain: 'write.example' });
      const contact = t.seed.contact({ email: 'written@write.example', lastName: 'Written' });
      const deal = t.seed.deal({ name: 'W', amount: 25_000, stage: 'won', companyId: company });
      const removed = t.seed.deal({ name: 'Gone', amount: 1, stage: 'open' });
      t.seed.remove('deal', removed);
      const fields = {
        referralId: 'R-1',
        status: 'accepted',
        referrerName: 'Bo Rivera',
        referrerEmail: 'bo@partner.example',
        referrerType: 'partner',
      };
      const outcomes = await t.client.write([
        { target: 'referral', person: { objectType: 'contact', id: contact }, fields },
        { target: 'deal', dealId: removed, fields: { referralId: 'R-1', referrerName: 'Bo', attributedAmountCents: 100, currency: 'USD' } },
        {
          target: 'deal',
          dealId: deal,
          fields: { referralId: 'R-1', referrerName: 'Bo Rivera', attributedAmountCents: 250_000, currency: 'USD' },
        },
        { target: 'company', companyId: company, fields: { eligible: true, eligibilityReason: 'NPS 10 ≥ 9' } },
      ]);
      expect(outcomes.map((o) => [o.index, o.ok, o.error?.code])).toEqual([
        [0, true, undefined],
        [1, false, 'not_found'],
        [2, true, undefined],
        [3, true, undefined],
      ]);
      expect(outcomes[1]?.error).toBeInstanceOf(CrmError);
    });

    it('adds a timeline note once per idempotency key', async () => {
      const contact = t.seed.contact({ email: 'noted@note.example', lastName: 'Noted' });
      const person = { objectType: 'contact' as const, id: contact };
      const note = { person, title: 'Referral won', body: 'Deal closed\nReward: $500', idempotencyKey: 'ref-9:closed_won' };
      await t.client.addTimelineNote(note);
      await t.client.addTimelineNote(note);
      expect(t.noteCount(person)).toBe(1);
      await t.client.addTimelineNote({ ...note, idempotencyKey: 'ref-9:reward_paid', title: 'Reward paid' });
      expect(t.noteCount(person)).toBe(2);
    });

    it('adds a company timeline note once per idempotency key', async () => {
      const company = t.seed.company({ name: 'Noted Co', domain: 'noted-co.example' });
      const note = {
        companyId: company,
        title: 'Referral ask sent',
        body: 'Casey asked Carla\nAsk id: ask_1',
        idempotencyKey: 'ask:ask_1',
      };
      await t.client.addCompanyNote(note);
      await t.client.addCompanyNote(note);
      expect(t.companyNoteCount(company)).toBe(1);
      await t.client.addCompanyNote({ ...note, idempotencyKey: 'ask:ask_2' });
      expect(t.companyNoteCount(company)).toBe(2);
    });

    it('reads a company’s primary contact (by default its first), with the contact’s email opt-out', async () => {
      const company = t.seed.company({ name: 'Champion Co', domain: 'champion-co.example' });
      expect(await t.client.primaryContact(company)).toBeNull();
      const first = t.seed.contact({ email: 'first@champion-co.example', lastName: 'First', companyId: company, emailOptOut: true });
      t.seed.contact({ email: 'second@champion-co.example', lastName: 'Second', companyId: company });
      const primary = await t.client.primaryContact(company);
      expect(primary).toMatchObject({ objectType: 'contact', id: first, email: 'first@champion-co.example', emailOptOut: true });
      expect(primary?.companyIds).toContain(company);
      const other = t.seed.contact({ email: 'alone@elsewhere.example', lastName: 'Alone' });
      const { records } = await t.client.getPeople('contact', [other]);
      expect(records[0]?.emailOptOut ?? false).toBe(false);
    });

    it('pages changes oldest first from `since`, then resumes from its cursor with what changed since', async () => {
      const since = new Date(Date.now() - 60_000);
      const company = t.seed.company({ name: 'Changed Co', domain: 'changed.example' });
      const contacts = ['a', 'b', 'c'].map((n) => t.seed.contact({ email: `${n}@changed.example`, lastName: n.toUpperCase() }));
      const deal = t.seed.deal({ name: 'Changing', amount: 10, stage: 'open', companyId: company });

      const seen: { objectType: string; id: string; modifiedAt: string }[] = [];
      let cursor: string | null = null;
      for (let more = true; more; ) {
        const page = await t.client.changedSince(cursor, since);
        seen.push(...page.records);
        ({ nextCursor: cursor, hasMore: more } = page);
      }
      const ids = seen.map((r) => r.id);
      expect(ids).toEqual(expect.arrayContaining([company, ...contacts, deal]));
      for (const type of ['contact', 'company', 'deal']) {
        const times = seen.filter((r) => r.objectType === type).map((r) => r.modifiedAt);
        expect([...times].sort()).toEqual(times);
      }

      await new Promise((resolve) => setTimeout(resolve, 5));
      t.seed.renameContact(contacts[1] ?? '', 'Renamed');
      t.seed.moveDeal(deal, 'won');
      const next: string[] = [];
      for (let more = true; more; ) {
        const page = await t.client.changedSince(cursor, since);
        next.push(...page.records.map((r) => `${r.objectType}:${r.id}`));
        ({ nextCursor: cursor, hasMore: more } = page);
      }
      expect(next).toEqual(expect.arrayContaining([`contact:${contacts[1]}`, `deal:${deal}`]));
      await expect(t.client.changedSince('garbage', since)).rejects.toMatchObject({ code: 'invalid', retryable: false });
    });

    it('refreshes an access token the CRM refused, once, and saves the new tokens', async () => {
      const company = t.seed.company({ name: 'Token Co', domain: 'token.example' });
      t.faults.expireAccessTokens();
      const before = (await t.session.tokens()).accessToken;
      expect((await t.client.getCompanies([company])).records.map((c) => c.id)).toEqual([company]);
      expect(t.session.saved).toHaveLength(1);
      expect((await t.session.tokens()).accessToken).not.toBe(before);
      expect(t.session.disconnects).toEqual([]);
    });

    it('a revoked grant fails with auth_revoked and marks the installation disconnected', async () => {
      const company = t.seed.company({ name: 'Revoked Co', domain: 'revoked.example' });
      t.faults.revokeRefreshTokens();
      t.faults.expireAccessTokens();
      const error = await t.client.getCompanies([company]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CrmError);
      expect(error).toMatchObject({ code: 'auth_revoked', retryable: false });
      expect(t.session.disconnects).toHaveLength(1);
    });

    it('a CRM that is down fails with retryable unavailable', async () => {
      const company = t.seed.company({ name: 'Down Co', domain: 'down.example' });
      t.faults.unavailable();
      await expect(t.client.getCompanies([company])).rejects.toMatchObject({ code: 'unavailable', retryable: true });
    });

    it('takes a limiter slot for its calls', async () => {
      const company = t.seed.company({ name: 'Limited Co', domain: 'limited.example' });
      const before = t.limiter.takes.length;
      await t.client.getCompanies([company]);
      expect(t.limiter.takes.length).toBeGreaterThan(before);
      expect(t.limiter.takes.at(-1)).toContain(t.session.accountId);
    });

    it('tells its company currency and exchange rates, so a EUR amount converts at the rate in force on a day', async () => {
      const before = await t.client.currencies();
      expect(before.companyCurrency).toBe('USD');
      expect(conversionOn(before, 'EUR', 'USD', '2026-03-15').ok).toBe(false);

      t.seed.eurRates([
        { from: '2026-01-01', usdPerEur: '1.25', eurPerUsd: '0.8' },
        { from: '2026-03-01', usdPerEur: '1.6', eurPerUsd: '0.625' },
      ]);
      const book = await t.client.currencies();
      expect(book.companyCurrency).toBe('USD');
      const euros100 = (day: string): number => {
        const result = conversionOn(book, 'EUR', 'USD', day);
        if (!result.ok) throw new Error(result.reason);
        return convertMinorUnits(10_000, result.conversion);
      };
      expect(euros100('2026-02-28')).toBe(12_500);
      expect(euros100('2026-03-01')).toBe(16_000);
      expect(euros100('2027-01-01')).toBe(16_000);
      for (const rate of book.rates) expect(rate.source).toMatch(/\S+ \S+/);
    });
  });
}
