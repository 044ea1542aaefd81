import { describe, expect, it } from 'vitest';
import { toId18 } from '../../../connectors/salesforce/ids.ts';
import { normalizeDomain, toDeal, toIsoInstant, toPerson } from '../../../connectors/salesforce/map.ts';
import { decimalToMinorUnits, toMajorUnits } from '../../../src/domain/money.ts';
import { resolveSettings, salesforceNames } from '../../../connectors/salesforce/settings.ts';
import { chunkForSoql, likeContains, quote } from '../../../connectors/salesforce/soql.ts';

const settings = resolveSettings({ clientId: 'id', clientSecret: 's', loginUrl: 'https://login.example.test' });
const single = { multiCurrency: false, firstYearValueField: null };
const opportunity = {
  Id: '0065g00000RfRl1',
  Name: 'Globex - Platform Expansion',
  StageName: 'Contrat signé',
  IsClosed: true,
  IsWon: true,
  Amount: 48000.0,
  CloseDate: '2026-09-21',
  CreatedDate: '2026-09-18T10:21:44.000+0000',
  AccountId: '0015g00000ZkM3hAAF',
  ContactId: '0035g00000PqLx7AAF',
  LeadSource: 'Partner Referral',
  SystemModstamp: '2026-09-21T14:13:20.000+0000',
  OpportunityContactRoles: {
    totalSize: 2,
    done: true,
    records: [{ ContactId: '0035g00000PqLx7AAF' }, { ContactId: '0035g00000PqLy9AAF' }],
  },
};

describe('Salesforce deal mapping', () => {
  it('takes won and closed from IsWon/IsClosed, whatever the stage is called', () => {
    expect(toDeal(opportunity, single, settings)).toMatchObject({
      isWon: true,
      isClosed: true,
      stageId: 'Contrat signé',
      pipelineId: 'default',
    });
    expect(toDeal({ ...opportunity, StageName: 'Closed Won', IsWon: false, IsClosed: false }, single, settings)).toMatchObject({
      isWon: false,
      isClosed: false,
    });
  });

  it('reads Opportunity.Type as the deal type', () => {
    expect(toDeal({ ...opportunity, Type: 'Existing Customer - Upgrade' }, single, settings).dealType).toBe('Existing Customer - Upgrade');
    expect(toDeal({ ...opportunity, Type: null }, single, settings).dealType).toBeNull();
  });

  it('keeps amounts in minor units of the org currency, first-year value = amount by default', () => {
    expect(toDeal(opportunity, single, settings)).toMatchObject({
      amountCents: 4_800_000,
      firstYearValueCents: 4_800_000,
      currency: 'USD',
    });
    expect(toDeal({ ...opportunity, Amount: 12345.67 }, single, settings).amountCents).toBe(1_234_567);
    expect(toDeal({ ...opportunity, Amount: null }, single, settings).amountCents).toBeNull();
  });

  it("honours each record's CurrencyIsoCode in multi-currency orgs", () => {
    const multi = { multiCurrency: true, firstYearValueField: null };
    expect(toDeal({ ...opportunity, CurrencyIsoCode: 'JPY', Amount: 5_000_000 }, multi, settings)).toMatchObject({
      currency: 'JPY',
      amountCents: 5_000_000,
    });
    expect(toDeal({ ...opportunity, CurrencyIsoCode: 'EUR' }, multi, settings)).toMatchObject({ currency: 'EUR', amountCents: 4_800_000 });
    const eurOrg = resolveSettings({ clientId: 'id', clientSecret: 's', loginUrl: 'x', defaultCurrency: 'EUR' });
    expect(toDeal(opportunity, single, eurOrg).currency).toBe('EUR');
  });

  it('uses the configured first-year value field when the org has it', () => {
    const org = { multiCurrency: false, firstYearValueField: 'ACV__c' };
    expect(toDeal({ ...opportunity, ACV__c: 25_000 }, org, settings)).toMatchObject({
      amountCents: 4_800_000,
      firstYearValueCents: 2_500_000,
    });
  });

  it('collects contacts from ContactId and contact roles, companies from AccountId, 18-char ids', () => {
    expect(toDeal(opportunity, single, settings)).toMatchObject({
      id: '0065g00000RfRl1AAF',
      contactIds: ['0035g00000PqLx7AAF', '0035g00000PqLy9AAF'],
      companyIds: ['0015g00000ZkM3hAAF'],
      // Who sourced it is the installation's reading of this (deal-source.test.ts: Partner Referral → partner).
      sources: [{ field: 'Opportunity.LeadSource', value: 'Partner Referral' }],
      createdAt: '2026-09-18T10:21:44.000Z',
    });
    expect(toDeal({ ...opportunity, OpportunityContactRoles: null, ContactId: null }, single, settings).contactIds).toEqual([]);
  });

  it.each([
    [100, 'USD', 1],
    [100, 'JPY', 100],
    [1234, 'KWD', 1.234],
  ])('turns %i minor units of %s back into %d', (minor, currency, major) => {
    expect(toMajorUnits(minor, currency)).toBe(major);
    expect(decimalToMinorUnits(major, currency)).toBe(minor);
  });

  it.each([
    [1.005, 'USD', 101], // float arithmetic read 1.005 × 100 as 100.49999999999999 and rounded it to 100
    [1234.565, 'USD', 123_457],
    [0.5, 'JPY', 1],
    [1.2345, 'KWD', 1_235],
  ])('reads Amount %d %s as the digits the JSON carried, half up: %i', (amount, currency, minor) => {
    expect(
      toDeal({ ...opportunity, CurrencyIsoCode: currency, Amount: amount }, { multiCurrency: true, firstYearValueField: null }, settings)
        .amountCents,
    ).toBe(minor);
  });

  it('refuses an amount beyond a safe integer of minor units with a clear error', () => {
    expect(() => toDeal({ ...opportunity, Amount: 1e21 }, single, settings)).toThrow(/overflows a safe integer/);
  });
});

describe('Salesforce person and helpers', () => {
  it('follows a converted lead to its contact, account and opportunity', () => {
    const lead = toPerson('lead', {
      Id: '00Q5g00000MnBv3EAF',
      Email: 'Pat.Lee@Globex.example',
      IsConverted: true,
      Status: 'Closed - Converted',
      ConvertedContactId: '0035g00000PqLx7AAF',
      ConvertedAccountId: '0015g00000ZkM3hAAF',
      ConvertedOpportunityId: null,
      SystemModstamp: '2026-09-18T10:21:44.000+0000',
    });
    expect(lead).toMatchObject({
      email: 'pat.lee@globex.example',
      lifecycleStage: 'Closed - Converted',
      converted: { contactId: '0035g00000PqLx7AAF', companyId: '0015g00000ZkM3hAAF', dealId: null },
    });
  });

  it('normalizes ids, instants, domains and SOQL literals', () => {
    expect(toId18('0035g00000PqLx7')).toBe('0035g00000PqLx7AAF');
    expect(toId18('0035g00000PqLx7AAF')).toBe('0035g00000PqLx7AAF');
    expect(toIsoInstant('2026-09-21T14:13:20.000+0000')).toBe('2026-09-21T14:13:20.000Z');
    expect(normalizeDomain('https://www.Globex.example/about')).toBe('globex.example');
    expect(normalizeDomain('globex.example')).toBe('globex.example');
    expect(quote("O'Brien \\ co")).toBe("'O\\'Brien \\\\ co'");
    expect(likeContains('my_co%')).toBe("'%my\\_co\\%%'");
  });

  it('chunks IN lists by encoded size', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `0035g00000Pq${String(i).padStart(3, '0')}AAF`);
    const chunks = chunkForSoql(ids);
    expect(chunks.flat()).toEqual(ids);
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) expect(encodeURIComponent(c.map(quote).join(',')).length).toBeLessThanOrEqual(6_000);
  });

  it('prefixes package names with the namespace', () => {
    expect(salesforceNames('rl').referral).toMatchObject({
      object: 'rl__Referral__c',
      referloopId: 'rl__Referloop_Id__c',
      lead: 'rl__Lead__c',
    });
    expect(salesforceNames('').opportunity.attributedAmount).toBe('Attributed_Amount__c');
  });
});
