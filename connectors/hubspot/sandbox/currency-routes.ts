import { invalid, isRecord } from './http.ts';
import type { Route } from './routes.ts';

/** One row of the portal's exchange-rate history, as HubSpot's currencies API returns it. */
export interface SandboxExchangeRate {
  id: string;
  fromCurrencyCode: string;
  toCurrencyCode: string;
  conversionRate: number;
  effectiveAt: string;
  createdAt: string;
  updatedAt: string;
  visibleInUI: boolean;
}

/** The portal's currency settings: its company currency and every exchange rate added, oldest first. */
export class SandboxCurrencies {
  companyCurrency = 'USD';
  readonly rates: SandboxExchangeRate[] = [];

  /** As an admin adds a rate in Settings → Currencies: from a currency to the company currency, from a day on. */
  addRate(fromCurrencyCode: string, conversionRate: number, effectiveAt: string): SandboxExchangeRate {
    if (!KNOWN_CURRENCIES.has(fromCurrencyCode) || fromCurrencyCode === this.companyCurrency) {
      throw invalid(`fromCurrencyCode must be a currency other than the company currency ${this.companyCurrency}`);
    }
    // "The value must be greater than 0 and can contain up to 6 decimal values."
    if (!(conversionRate > 0) || !/^\d+(\.\d{1,6})?$/.test(String(conversionRate))) {
      throw invalid('conversionRate must be greater than 0 with up to 6 decimal values');
    }
    // HubSpot writes instants without milliseconds.
    if (Number.isNaN(Date.parse(effectiveAt))) throw invalid('effectiveAt must be a date-time');
    const at = new Date(effectiveAt).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const rate = {
      id: String(this.rates.length + 1),
      fromCurrencyCode,
      toCurrencyCode: this.companyCurrency,
      conversionRate,
      effectiveAt: at,
      createdAt: at,
      updatedAt: at,
      visibleInUI: true,
    };
    this.rates.push(rate);
    return rate;
  }
}

const PAGE = 100;
/** HubSpot's supported codes are ISO 4217 ones (GET /settings/v3/currencies/codes). */
const KNOWN_CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));

/**
 * Account details and the currencies API (settings.currencies.read):
 * https://developers.hubspot.com/docs/api-reference/legacy/account/account-information/get-account-details,
 * https://developers.hubspot.com/docs/api-reference/legacy/account/settings/multicurrency/exchange-rates/get-exchange-rates.
 */
export function currencyRoutes(currencies: SandboxCurrencies, portalId: number): Route[] {
  return [
    [
      'GET',
      /^\/account-info\/v3\/details$/,
      // Any valid token of the portal may read its details.
      () => [],
      () => ({
        status: 200,
        body: {
          accountType: 'STANDARD',
          additionalCurrencies: [...new Set(currencies.rates.map((r) => r.fromCurrencyCode))],
          companyCurrency: currencies.companyCurrency,
          dataHostingLocation: 'na1',
          portalId,
          timeZone: 'US/Eastern',
          uiDomain: 'app.hubspot.com',
          utcOffset: '-05:00',
          utcOffsetMilliseconds: -18_000_000,
        },
      }),
    ],
    [
      'GET',
      /^\/settings\/v3\/currencies\/exchange-rates$/,
      () => ['settings.currencies.read'],
      (ctx) => {
        const offset = Number(ctx.query.get('after') ?? '0');
        const page = currencies.rates.slice(offset, offset + PAGE);
        const next = offset + PAGE < currencies.rates.length ? String(offset + PAGE) : null;
        return {
          status: 200,
          body: { results: page, ...(next ? { paging: { next: { after: next, link: `?after=${next}` } } } : {}) },
        };
      },
    ],
    // https://developers.hubspot.com/docs/api-reference/legacy/account/settings/multicurrency/exchange-rates/create-exchange-rate
    [
      'POST',
      /^\/settings\/v3\/currencies\/exchange-rates$/,
      () => ['settings.currencies.write'],
      (ctx) => {
        const body = isRecord(ctx.body) ? ctx.body : {};
        const { fromCurrencyCode, conversionRate, effectiveAt } = body;
        if (typeof fromCurrencyCode !== 'string') throw invalid('fromCurrencyCode is required');
        if (typeof conversionRate !== 'number') throw invalid('conversionRate must be a number');
        const at = typeof effectiveAt === 'string' ? effectiveAt : new Date().toISOString();
        return { status: 201, body: currencies.addRate(fromCurrencyCode, conversionRate, at) };
      },
    ],
  ];
}
