// Money is integer minor units (cents, yen, fils) everywhere; floats only at the API edge.

/** ISO 4217 currencies whose minor unit is not 2 digits; everything else has 2. */
const MINOR_DIGITS: Readonly<Record<string, number>> = {
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  CLF: 4,
  UYW: 4,
};

export const PPM_WHOLE = 1_000_000;
export const BASIS_POINTS_WHOLE = 10_000;

export function isCurrencyCode(currency: string): boolean {
  return /^[A-Z]{3}$/.test(currency);
}

/** Currencies the runtime's ICU knows (ISO 4217 active codes): "XYZ" has the form but is no currency. */
const KNOWN_CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf('currency'));

export function isKnownCurrency(currency: string): boolean {
  return KNOWN_CURRENCIES.has(currency);
}

export function minorUnitDigits(currency: string): number {
  if (!isCurrencyCode(currency)) throw new RangeError(`not an ISO 4217 currency code: "${currency}"`);
  return MINOR_DIGITS[currency] ?? 2;
}

function assertSafeInteger(value: number, name: string): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${name} must be a safe integer, got ${value}`);
}

function toSafeNumber(value: bigint, name: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`${name} overflows a safe integer`);
  return n;
}

/** numerator / denominator rounded half away from zero (half up for the usual non-negative amounts). */
function divRoundHalfUp(numerator: bigint, denominator: bigint): bigint {
  const negative = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  const q = (n * 2n + d) / (d * 2n);
  return negative ? -q : q;
}

/** rateBasisPoints/10000 of an amount, rounded half up to a whole minor unit (1000 bp = 10%). */
export function percentOfCents(amountCents: number, rateBasisPoints: number): number {
  assertSafeInteger(amountCents, 'amountCents');
  assertSafeInteger(rateBasisPoints, 'rateBasisPoints');
  // BigInt: amount × rate can exceed 2^53 for large deals.
  const result = divRoundHalfUp(BigInt(amountCents) * BigInt(rateBasisPoints), BigInt(BASIS_POINTS_WHOLE));
  return toSafeNumber(result, 'percentOfCents');
}

/**
 * One party's part of an amount for a share in parts per million, rounded DOWN so that
 * independently computed parts of a split never add up to more than the whole.
 */
export function shareOfCents(amountCents: number, sharePpm: number): number {
  assertSafeInteger(amountCents, 'amountCents');
  assertSafeInteger(sharePpm, 'sharePpm');
  if (sharePpm < 0 || sharePpm > PPM_WHOLE) throw new RangeError(`sharePpm must be 0..${PPM_WHOLE}, got ${sharePpm}`);
  return toSafeNumber((BigInt(amountCents) * BigInt(sharePpm)) / BigInt(PPM_WHOLE), 'shareOfCents');
}

/**
 * Splits a total in proportion to the given shares (parts per million, or any weights) with the
 * largest-remainder method: the parts always sum exactly to the total; ties go to the earlier share.
 */
export function splitCents(totalCents: number, sharesPpm: readonly number[]): number[] {
  assertSafeInteger(totalCents, 'totalCents');
  sharesPpm.forEach((s, i) => {
    assertSafeInteger(s, `sharesPpm[${i}]`);
    if (s < 0) throw new RangeError(`sharesPpm[${i}] must not be negative`);
  });
  const weightSum = sharesPpm.reduce((sum, s) => sum + BigInt(s), 0n);
  if (weightSum === 0n) throw new RangeError('splitCents needs at least one positive share');

  const sign = totalCents < 0 ? -1n : 1n;
  const total = BigInt(totalCents) * sign;
  const parts = sharesPpm.map((s, index) => {
    const exact = total * BigInt(s);
    return { index, floor: exact / weightSum, remainder: exact % weightSum };
  });
  let left = total - parts.reduce((sum, p) => sum + p.floor, 0n);
  const byRemainder = [...parts].sort((a, b) => (a.remainder === b.remainder ? a.index - b.index : a.remainder > b.remainder ? -1 : 1));
  const extra = new Set<number>();
  for (const p of byRemainder) {
    if (left === 0n) break;
    extra.add(p.index);
    left -= 1n;
  }
  return parts.map((p) => toSafeNumber((p.floor + (extra.has(p.index) ? 1n : 0n)) * sign, 'splitCents'));
}

/** Minor units to a major-unit number for display and the JSON API (250000 USD → 2500). */
export function toMajorUnits(cents: number, currency: string): number {
  assertSafeInteger(cents, 'cents');
  return cents / 10 ** minorUnitDigits(currency);
}

/**
 * Major units from the API to minor units (2500 USD → 250000). Throws when the value has more
 * decimals than the currency allows (12.345 USD): silently rounding money hides input bugs.
 */
export function toMinorUnits(major: number, currency: string): number {
  const digits = minorUnitDigits(currency);
  if (!Number.isFinite(major)) throw new RangeError(`amount must be a finite number, got ${major}`);
  const text = String(Math.abs(major));
  // Exponent notation only appears for |x| < 1e-6 (too precise) or ≥ 1e21 (too large).
  if (text.includes('e')) throw new RangeError(`amount ${major} is out of range for ${currency}`);
  const [whole = '0', fraction = ''] = text.split('.');
  if (fraction.length > digits) {
    throw new RangeError(`amount ${major} has more than ${digits} decimals, which ${currency} does not allow`);
  }
  const minor = BigInt(whole + fraction.padEnd(digits, '0'));
  return toSafeNumber(major < 0 ? -minor : minor, 'amount');
}

/** A CRM's decimal text: sign, digits, an optional fraction ("1234.565", ".5", "5."); no grouping or exponent. */
const DECIMAL_TEXT = /^([+-])?(\d*)(?:\.(\d*))?$/;
/** A number's shortest round-trip representation, which JavaScript writes with an exponent below 1e-6 and from 1e21. */
const NUMBER_TEXT = /^(-)?(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/;

/**
 * Minor units of an amount as a CRM sends it: HubSpot number properties are decimal strings
 * ("1234.565"); Salesforce amounts arrive through jsforce as JSON numbers and are read through
 * their shortest decimal representation (`String(n)`, the digits the JSON carried), so no float is
 * ever multiplied. Rounded once, half up at the currency's ISO 4217 digits (USD 2, JPY 0, KWD 3):
 * 1234.565 USD → 123457, 0.5 JPY → 1; half up means half away from zero, so -10.005 USD → -1001.
 * Surrounding blanks are ignored.
 *
 * @throws RangeError when the text is not a plain decimal ("1,000", "1e5", "abc", ""), the number
 * is not finite, the currency is not an ISO 4217 code, or the minor units exceed a safe integer.
 */
export function decimalToMinorUnits(amount: string | number, currency: string): number {
  const digits = minorUnitDigits(currency);
  const { significand, exponent } = exactDecimal(amount);
  const shift = digits + exponent;
  const minor = shift >= 0 ? significand * 10n ** BigInt(shift) : divRoundHalfUp(significand, 10n ** BigInt(-shift));
  return toSafeNumber(minor, `amount ${amount} ${currency}`);
}

/** A decimal amount exactly, as significand × 10^exponent (1234.565 → 1234565 × 10^-3); throws RangeError when it is not one. */
function exactDecimal(amount: string | number): { significand: bigint; exponent: number } {
  if (typeof amount === 'number' && !Number.isFinite(amount)) throw new RangeError(`amount must be a finite number, got ${amount}`);
  const match = typeof amount === 'number' ? NUMBER_TEXT.exec(String(amount)) : DECIMAL_TEXT.exec(amount.trim());
  if (!match || (!match[2] && !match[3])) throw new RangeError(`amount "${amount}" is not a decimal number`);
  const [, sign, whole = '', fraction = '', exponent = '0'] = match;
  const digits = BigInt(`${whole}${fraction}` || '0');
  return { significand: sign === '-' ? -digits : digits, exponent: Number(exponent) - fraction.length };
}

/** Minor units as exact decimal text with the currency's digits, for CRM fields (250000 USD → "2500.00"). */
export function minorUnitsToDecimal(minor: number, currency: string): string {
  assertSafeInteger(minor, 'minor');
  const digits = minorUnitDigits(currency);
  const padded = String(Math.abs(minor)).padStart(digits + 1, '0');
  const whole = padded.slice(0, padded.length - digits);
  const text = digits > 0 ? `${whole}.${padded.slice(-digits)}` : whole;
  return minor < 0 ? `-${text}` : text;
}

/** Human-readable amount for reasons, e.g. "$2,500.00" or "¥2,500". */
export function formatMoney(cents: number, currency: string): string {
  let format = formats.get(currency);
  if (!format) {
    const digits = minorUnitDigits(currency);
    format = new Intl.NumberFormat('en-US', { style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits });
    formats.set(currency, format);
  }
  return format.format(toMajorUnits(cents, currency));
}

/** Building a formatter costs tens of microseconds; reasons format money on every decision. */
const formats = new Map<string, Intl.NumberFormat>();
