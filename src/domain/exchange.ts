// Exchange rates as the CRM keeps them, and exact conversion between currencies' minor units.
import type { DateOnly } from './dates.ts';
import { isCurrencyCode, minorUnitDigits } from './money.ts';

/**
 * One rate of a currency against the company currency, as the CRM states it. HubSpot states how
 * much company currency one unit buys (`company_per_unit`: 1 EUR = 1.085 USD); Salesforce how many
 * units one company unit buys (`units_per_company`: 1 USD = 0.92 EUR). The rate stays the CRM's
 * exact decimal text; it is never turned into a float.
 */
export interface ExchangeRate {
  currency: string;
  rate: string;
  meaning: 'company_per_unit' | 'units_per_company';
  /** First day in force; null: since always. */
  from: DateOnly | null;
  /** First day no longer in force; null: until replaced. */
  until: DateOnly | null;
  /** Where the rate comes from, for reasons ("HubSpot exchange rate 42", "Salesforce DatedConversionRate"). */
  source: string;
}

/** An installation's currencies: the company (corporate) currency and every rate the CRM gave. */
export interface CurrencyBook {
  companyCurrency: string;
  rates: ExchangeRate[];
  /** Why rates may be missing (a scope not granted, single-currency org), for reasons. */
  limitation: string | null;
}

/** A conversion between minor units as an exact fraction: target = source × numerator / denominator. */
export interface Conversion {
  from: string;
  to: string;
  numerator: bigint;
  denominator: bigint;
  /** The CRM rates used, in order, with their date and source. */
  rates: ExchangeRate[];
  /** "1 EUR = 1.085 USD (HubSpot exchange rate 42, in force since 2026-03-01)". */
  description: string;
}

export type ConversionResult = { ok: true; conversion: Conversion } | { ok: false; reason: string };

/** Largest rate accepted either way: beyond it a rate is a typo, not an exchange rate. */
const ABSURD_RATE = 1_000_000_000n;
const DECIMAL = /^(\d{1,15})(?:\.(\d{1,12}))?$/;

/** A rate's decimal text as a fraction; throws RangeError for a rate that is not positive, not a plain decimal, or absurd. */
export function parseRate(rate: string): { numerator: bigint; denominator: bigint } {
  const match = DECIMAL.exec(rate.trim());
  if (!match) throw new RangeError(`exchange rate "${rate}" is not a positive decimal number`);
  const fraction = match[2] ?? '';
  const numerator = BigInt(`${match[1]}${fraction}`);
  const denominator = 10n ** BigInt(fraction.length);
  if (numerator === 0n) throw new RangeError(`exchange rate "${rate}" must be greater than zero`);
  if (numerator > ABSURD_RATE * denominator || denominator > ABSURD_RATE * numerator) {
    throw new RangeError(`exchange rate "${rate}" is absurd (beyond 1:${ABSURD_RATE})`);
  }
  return { numerator, denominator };
}

/** Whether a rate can be used: a known currency code and a sane rate; the reason when not. */
export function rateProblem(rate: Pick<ExchangeRate, 'currency' | 'rate'>): string | null {
  if (!isCurrencyCode(rate.currency)) return `"${rate.currency}" is not an ISO 4217 currency code`;
  try {
    parseRate(rate.rate);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

/** The rate of a currency in force on a day: the latest-starting dated rate covering it, else an undated one. */
export function rateInForce(rates: readonly ExchangeRate[], currency: string, day: DateOnly): ExchangeRate | null {
  const covering = rates.filter(
    (r) => r.currency === currency && rateProblem(r) === null && (r.from === null || r.from <= day) && (r.until === null || day < r.until),
  );
  const dated = covering.filter((r) => r.from !== null).sort((a, b) => (a.from! < b.from! ? 1 : -1));
  return dated[0] ?? covering.find((r) => r.from === null) ?? null;
}

/** Company currency per unit of the rate's currency, as a fraction. */
function companyPerUnit(rate: ExchangeRate): { numerator: bigint; denominator: bigint } {
  const { numerator, denominator } = parseRate(rate.rate);
  return rate.meaning === 'company_per_unit' ? { numerator, denominator } : { numerator: denominator, denominator: numerator };
}

function describeRate(rate: ExchangeRate, companyCurrency: string): string {
  const pair =
    rate.meaning === 'company_per_unit'
      ? `1 ${rate.currency} = ${rate.rate} ${companyCurrency}`
      : `1 ${companyCurrency} = ${rate.rate} ${rate.currency}`;
  const since = rate.from ? `, in force since ${rate.from}` : '';
  return `${pair} (${rate.source}${since})`;
}

/**
 * How to convert an amount from one currency to another on a day, through the company currency
 * when neither is it: exact, with every rate used named. Not ok, with the reason, when a rate is missing.
 */
export function conversionOn(book: CurrencyBook, from: string, to: string, day: DateOnly): ConversionResult {
  if (!isCurrencyCode(from) || !isCurrencyCode(to))
    return { ok: false, reason: `"${isCurrencyCode(from) ? to : from}" is not an ISO 4217 currency code` };
  let numerator = 10n ** BigInt(minorUnitDigits(to));
  let denominator = 10n ** BigInt(minorUnitDigits(from));
  const used: ExchangeRate[] = [];
  const missing: string[] = [];
  if (from !== to) {
    const { companyCurrency } = book;
    if (from !== companyCurrency) {
      const rate = rateInForce(book.rates, from, day);
      if (rate) {
        const f = companyPerUnit(rate);
        numerator *= f.numerator;
        denominator *= f.denominator;
        used.push(rate);
      } else missing.push(from);
    }
    if (to !== companyCurrency) {
      const rate = rateInForce(book.rates, to, day);
      if (rate) {
        const f = companyPerUnit(rate);
        numerator *= f.denominator;
        denominator *= f.numerator;
        used.push(rate);
      } else missing.push(to);
    }
  }
  if (missing.length > 0) {
    const limitation = book.limitation ? ` (${book.limitation})` : '';
    return {
      ok: false,
      reason: `no ${missing.join(' or ')} exchange rate against the company currency ${book.companyCurrency} is in force on ${day}${limitation}`,
    };
  }
  const description = used.length === 0 ? `same currency` : used.map((r) => describeRate(r, book.companyCurrency)).join(', then ');
  return { ok: true, conversion: { from, to, numerator, denominator, rates: used, description } };
}

/**
 * `amountMinor` in the conversion's source currency, times an optional exact factor (a percentage
 * as basis points over 10 000), in the target currency's minor units: ONE half-up rounding at the end.
 */
export function convertMinorUnits(amountMinor: number, conversion: Conversion, factor = { numerator: 1n, denominator: 1n }): number {
  if (!Number.isSafeInteger(amountMinor)) throw new RangeError(`amount must be a safe integer, got ${amountMinor}`);
  const n = BigInt(amountMinor) * conversion.numerator * factor.numerator;
  const d = conversion.denominator * factor.denominator;
  const negative = n < 0n;
  const abs = negative ? -n : n;
  const q = (abs * 2n + d) / (d * 2n);
  const result = Number(negative ? -q : q);
  if (!Number.isSafeInteger(result)) throw new RangeError('converted amount overflows a safe integer');
  return result;
}
