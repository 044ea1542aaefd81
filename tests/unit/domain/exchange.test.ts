import { describe, expect, it } from 'vitest';
import {
  conversionOn,
  convertMinorUnits,
  parseRate,
  rateInForce,
  type CurrencyBook,
  type ExchangeRate,
} from '../../../src/domain/exchange.ts';

const hubspotRate = (currency: string, rate: string, from: string | null, until: string | null = null): ExchangeRate => ({
  currency,
  rate,
  meaning: 'company_per_unit',
  from,
  until,
  source: 'HubSpot exchange rate',
});
const salesforceRate = (currency: string, rate: string): ExchangeRate => ({
  currency,
  rate,
  meaning: 'units_per_company',
  from: null,
  until: null,
  source: 'Salesforce CurrencyType',
});

const usdBook: CurrencyBook = {
  companyCurrency: 'USD',
  limitation: null,
  rates: [
    hubspotRate('EUR', '1.05', '2026-01-01', '2026-03-01'),
    hubspotRate('EUR', '1.085', '2026-03-01'),
    hubspotRate('JPY', '0.0067', '2026-01-01'),
    hubspotRate('KWD', '3.25', '2026-01-01'),
  ],
};

/** 10% of an amount, converted: what a percentage reward pays. */
const tenPercent = { numerator: 1_000n, denominator: 10_000n };

describe('conversion of deal amounts into the program currency (one half-up rounding at the end)', () => {
  const cases: {
    name: string;
    book: CurrencyBook;
    from: string;
    to: string;
    day: string;
    amount: number;
    factor?: typeof tenPercent;
    expected: number;
  }[] = [
    {
      name: 'EUR 10,000.00 → USD at the March rate',
      book: usdBook,
      from: 'EUR',
      to: 'USD',
      day: '2026-03-15',
      amount: 1_000_000,
      expected: 1_085_000,
    },
    {
      name: 'EUR 10,000.00 → USD at the February rate',
      book: usdBook,
      from: 'EUR',
      to: 'USD',
      day: '2026-02-28',
      amount: 1_000_000,
      expected: 1_050_000,
    },
    {
      name: '10% of EUR 12,345.67 → USD, rounded once',
      book: usdBook,
      from: 'EUR',
      to: 'USD',
      day: '2026-03-15',
      amount: 1_234_567,
      factor: tenPercent,
      expected: 133_951,
    },
    {
      // Rounding the conversion first ($10,850.25) and then its 10% would pay $1,085.03.
      name: '10% of EUR 10,000.23 → USD: exactly $1,085.024955, rounded once to $1,085.02',
      book: usdBook,
      from: 'EUR',
      to: 'USD',
      day: '2026-03-15',
      amount: 1_000_023,
      factor: tenPercent,
      expected: 108_502,
    },
    {
      name: 'JPY 1,000,000 (0 digits) → USD',
      book: usdBook,
      from: 'JPY',
      to: 'USD',
      day: '2026-03-15',
      amount: 1_000_000,
      expected: 670_000,
    },
    { name: 'KWD 1.000 (3 digits) → USD', book: usdBook, from: 'KWD', to: 'USD', day: '2026-03-15', amount: 1_000, expected: 325 },
    {
      name: 'USD 100.00 → KWD, half up at 3 digits',
      book: usdBook,
      from: 'USD',
      to: 'KWD',
      day: '2026-03-15',
      amount: 10_000,
      expected: 30_769,
    },
    {
      name: 'EUR → JPY through the company currency USD',
      book: usdBook,
      from: 'EUR',
      to: 'JPY',
      day: '2026-03-15',
      amount: 100,
      expected: 162,
    },
    {
      name: 'Salesforce CurrencyType: EUR → USD when 1 USD = 0.92 EUR',
      book: { companyCurrency: 'USD', limitation: null, rates: [salesforceRate('EUR', '0.92')] },
      from: 'EUR',
      to: 'USD',
      day: '2026-03-15',
      amount: 920_000,
      expected: 1_000_000,
    },
    {
      name: 'same currency is exact',
      book: usdBook,
      from: 'USD',
      to: 'USD',
      day: '2026-03-15',
      amount: 12_345,
      factor: tenPercent,
      expected: 1_235,
    },
  ];
  it.each(cases)('$name', ({ book, from, to, day, amount, factor, expected }) => {
    const result = conversionOn(book, from, to, day);
    if (!result.ok) throw new Error(result.reason);
    expect(convertMinorUnits(amount, result.conversion, factor)).toBe(expected);
  });

  it('names the rate, its source and its date', () => {
    const result = conversionOn(usdBook, 'EUR', 'USD', '2026-03-15');
    expect(result.ok && result.conversion.description).toBe('1 EUR = 1.085 USD (HubSpot exchange rate, in force since 2026-03-01)');
  });

  it('has no conversion, with the reason, when no rate is in force', () => {
    expect(conversionOn(usdBook, 'GBP', 'USD', '2026-03-15')).toEqual({
      ok: false,
      reason: 'no GBP exchange rate against the company currency USD is in force on 2026-03-15',
    });
    expect(conversionOn(usdBook, 'EUR', 'USD', '2025-12-31').ok).toBe(false);
    const scopeless: CurrencyBook = { companyCurrency: 'EUR', rates: [], limitation: 'the settings.currencies.read scope was not granted' };
    expect(conversionOn(scopeless, 'EUR', 'USD', '2026-03-15')).toEqual({
      ok: false,
      reason:
        'no USD exchange rate against the company currency EUR is in force on 2026-03-15 (the settings.currencies.read scope was not granted)',
    });
  });

  it('has no conversion, with the reason, for a currency code that is not one (the reward waits, never pays 0)', () => {
    expect(conversionOn(usdBook, 'EURO', 'USD', '2026-03-15')).toEqual({ ok: false, reason: '"EURO" is not an ISO 4217 currency code' });
    expect(conversionOn(usdBook, 'EUR', 'usd', '2026-03-15')).toEqual({ ok: false, reason: '"usd" is not an ISO 4217 currency code' });
    expect(conversionOn(usdBook, 'XYZ', 'USD', '2026-03-15')).toEqual({
      ok: false,
      reason: 'no XYZ exchange rate against the company currency USD is in force on 2026-03-15',
    });
  });

  it('prefers the dated rate covering the day over an undated one', () => {
    const rates = [salesforceRate('EUR', '0.9'), { ...salesforceRate('EUR', '0.8'), from: '2026-01-01', until: '2026-04-01' }];
    expect(rateInForce(rates, 'EUR', '2026-03-31')?.rate).toBe('0.8');
    expect(rateInForce(rates, 'EUR', '2026-04-01')?.rate).toBe('0.9');
  });
});

describe('parseRate', () => {
  it('reads decimal text exactly', () => {
    expect(parseRate('1.085')).toEqual({ numerator: 1085n, denominator: 1000n });
  });
  it.each(['-1.2', '0', '0.000', 'abc', '1e3', '', '2000000000', '0.0000000001'])('refuses %j', (rate) => {
    expect(() => parseRate(rate)).toThrow(RangeError);
  });
  it('skips a bad rate from the CRM rather than using it', () => {
    expect(rateInForce([hubspotRate('EUR', '-1', null)], 'EUR', '2026-03-15')).toBeNull();
  });
});
