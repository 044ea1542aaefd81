import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HUBSPOT_SCOPES } from '../../../connectors/hubspot/index.ts';
import { createHubSpotSandbox, type HubSpotSandbox } from '../../../connectors/hubspot/sandbox/index.ts';
import { install } from '../../fixtures/hubspot/install.ts';
import { connectSandbox, type Connected } from '../../fixtures/salesforce/harness.ts';

/** The documented shapes (with their sources) in tests/fixtures/currencies/README.md. */
const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../../fixtures/currencies/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;

describe('the HubSpot sandbox serves the currencies API as documented', () => {
  let sandbox: HubSpotSandbox;
  let url: string;
  const get = async (path: string, scopes: string[]) => {
    const { accessToken } = sandbox.state.issueToken(scopes);
    const response = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${accessToken}` } });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    sandbox = createHubSpotSandbox();
    ({ url } = await sandbox.listen());
    sandbox.state.currencies.addRate('EUR', 1.05, '2026-01-01T00:00:00Z');
    sandbox.state.currencies.addRate('EUR', 1.085, '2026-03-01T00:00:00Z');
  });
  afterAll(() => sandbox.close());

  it('account details carry the company currency, with any token', async () => {
    expect(await get('/account-info/v3/details', [...HUBSPOT_SCOPES])).toEqual({
      status: 200,
      body: fixture('hubspot-account-details.json'),
    });
  });

  it('exchange rates need settings.currencies.read', async () => {
    expect(await get('/settings/v3/currencies/exchange-rates', [...HUBSPOT_SCOPES, 'settings.currencies.read'])).toEqual({
      status: 200,
      body: fixture('hubspot-exchange-rates.json'),
    });
    const refused = await get('/settings/v3/currencies/exchange-rates', [...HUBSPOT_SCOPES]);
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ ...fixture('hubspot-missing-scopes.json'), correlationId: expect.any(String) });
  });

  it('refuses an unknown currency, a negative or absurdly precise rate with a 400 and the reason, adding nothing', async () => {
    const { accessToken } = sandbox.state.issueToken(['settings.currencies.write']);
    const post = async (body: unknown) => {
      const response = await fetch(`${url}/settings/v3/currencies/exchange-rates`, {
        method: 'POST',
        headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as { message: string; category: string } };
    };
    const count = sandbox.state.currencies.rates.length;
    expect(await post({ fromCurrencyCode: 'XYZ', conversionRate: 1.2 })).toMatchObject({
      status: 400,
      body: { category: 'VALIDATION_ERROR', message: expect.stringMatching(/fromCurrencyCode/) },
    });
    expect(await post({ fromCurrencyCode: 'GBP', conversionRate: -1.2 })).toMatchObject({
      status: 400,
      body: { message: expect.stringMatching(/greater than 0/) },
    });
    expect(await post({ fromCurrencyCode: 'GBP', conversionRate: 1.1234567 })).toMatchObject({
      status: 400,
      body: { message: expect.stringMatching(/6 decimal/) },
    });
    expect(sandbox.state.currencies.rates).toHaveLength(count);
  });

  it('the client reads the dated history; without the optional scope it keeps the company currency and says why', async () => {
    const { client } = await install(sandbox, url);
    expect(await client.currencies()).toEqual({
      companyCurrency: 'USD',
      limitation: null,
      rates: [
        {
          currency: 'EUR',
          rate: '1.05',
          meaning: 'company_per_unit',
          from: '2026-01-01',
          until: '2026-03-01',
          source: 'HubSpot exchange rate 1',
        },
        { currency: 'EUR', rate: '1.085', meaning: 'company_per_unit', from: '2026-03-01', until: null, source: 'HubSpot exchange rate 2' },
      ],
    });
    sandbox.state.auth.withheldScopes.add('settings.currencies.read');
    try {
      const scopeless = await install(sandbox, url);
      expect(scopeless.grant.tokens.scopes).not.toContain('settings.currencies.read');
      expect(await scopeless.client.currencies()).toEqual({
        companyCurrency: 'USD',
        rates: [],
        limitation: 'the settings.currencies.read scope was not granted',
      });
    } finally {
      sandbox.state.auth.withheldScopes.clear();
    }
  });
});

describe('a HubSpot deal without a currency of its own', () => {
  it('is in the portal’s company currency, not USD', async () => {
    const portal = createHubSpotSandbox({ portalId: 7_070_707 });
    const { url } = await portal.listen();
    try {
      portal.state.currencies.companyCurrency = 'EUR';
      const { client } = await install(portal, url);
      const deal = portal.state.create('deals', { dealname: 'Berlin', amount: '1000.50', pipeline: 'default', dealstage: 'closedwon' });
      const { records } = await client.getDeals([deal.id]);
      expect(records[0]).toMatchObject({ currency: 'EUR', amountCents: 100_050 });
    } finally {
      await portal.close();
    }
  });
});

describe('the Salesforce sandbox serves CurrencyType and DatedConversionRate as documented', () => {
  let env: Connected;
  const soql = async (q: string) => {
    const tokens = await env.session.tokens();
    const response = await fetch(`${tokens.instanceUrl}/services/data/v62.0/query?q=${encodeURIComponent(q)}`, {
      headers: { authorization: `Bearer ${tokens.accessToken}` },
    });
    return (await response.json()) as Record<string, unknown>;
  };
  /** The fixture with each record's own id left open. */
  const shaped = (name: string) => {
    const body = fixture(name);
    return {
      ...body,
      records: (body.records as { attributes: { type: string } }[]).map((r) => ({
        ...r,
        attributes: {
          type: r.attributes.type,
          url: expect.stringMatching(new RegExp(`^/services/data/v62.0/sobjects/${r.attributes.type}/\\w{18}$`)),
        },
      })),
    };
  };

  beforeAll(async () => {
    env = await connectSandbox({ multiCurrency: true });
    env.sandbox.actions.addCurrency({ isoCode: 'EUR', conversionRate: 0.9 });
    env.sandbox.actions.addDatedRate({ isoCode: 'EUR', conversionRate: 0.8, startDate: '2026-03-01' });
    env.sandbox.actions.addDatedRate({ isoCode: 'EUR', conversionRate: 0.952381, startDate: '2026-01-01' });
  });
  afterAll(() => env.close());

  it('answers the documented queries in the documented shape', async () => {
    expect(await soql('SELECT IsoCode, ConversionRate, IsCorporate FROM CurrencyType WHERE IsActive = true')).toEqual(
      shaped('salesforce-currency-type.json'),
    );
    expect(await soql('SELECT IsoCode, ConversionRate, StartDate, NextStartDate FROM DatedConversionRate ORDER BY StartDate')).toEqual(
      shaped('salesforce-dated-conversion-rate.json'),
    );
  });

  it('the client reads the corporate currency, the undated and the dated rates', async () => {
    const book = await env.client.currencies();
    expect(book.companyCurrency).toBe('USD');
    expect(book.rates.map(({ rate, from, until, meaning }) => ({ rate, from, until, meaning }))).toEqual([
      { rate: '0.9', from: null, until: null, meaning: 'units_per_company' },
      { rate: '0.8', from: '2026-03-01', until: null, meaning: 'units_per_company' },
      { rate: '0.952381', from: '2026-01-01', until: '2026-03-01', meaning: 'units_per_company' },
    ]);
    expect(book.rates[1]!.source).toMatch(/^Salesforce DatedConversionRate 04w\w{15}$/);
  });

  it('refuses an unknown currency or a negative or absurd rate, adding nothing', () => {
    const before = env.sandbox.state.records('DatedConversionRate').length;
    expect(() => env.sandbox.actions.addDatedRate({ isoCode: 'XYZ', conversionRate: 1.1, startDate: '2026-05-01' })).toThrow(
      /restricted picklist/,
    );
    expect(() => env.sandbox.actions.addDatedRate({ isoCode: 'EUR', conversionRate: -0.8, startDate: '2026-05-01' })).toThrow(
      /must be positive/,
    );
    expect(() => env.sandbox.actions.addCurrency({ isoCode: 'GBP', conversionRate: 1e15 })).toThrow(/must be positive/);
    expect(env.sandbox.state.records('DatedConversionRate')).toHaveLength(before);
  });

  it('a single-currency org has its own currency (not the configured default) and no rates; its deals are in it', async () => {
    const single = await connectSandbox({ currency: 'EUR' });
    try {
      expect(await single.client.currencies()).toEqual({ companyCurrency: 'EUR', rates: [], limitation: 'a single-currency org' });
      const account = single.sandbox.actions.createAccount({ Name: 'Berlin GmbH' });
      const { opportunityId } = single.sandbox.actions.createOpportunity({ accountId: account.Id as string, amount: 1000.5 });
      const { records } = await single.client.getDeals([opportunityId]);
      expect(records[0]).toMatchObject({ currency: 'EUR', amountCents: 100_050 });
    } finally {
      await single.close();
    }
  });
});
