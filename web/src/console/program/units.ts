import { minorUnitDigits, minorUnitsToDecimal } from '../../../../src/domain/money.ts';

// What an admin types and what the program stores: percentages as basis points, amounts as minor
// units of the program's currency, periods as whole numbers. Every conversion is exact (digits moved
// in text, never multiplied as floats) and refuses what it would otherwise have to round.

/** A value read from a field, or what is wrong with the text. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const DECIMAL = /^(\d*)(?:\.(\d*))?$/;

/** Digits of an unsigned decimal text with at most `digits` decimals, as an integer scaled by 10^digits. */
function scaled(text: string, digits: number, what: string): Parsed<number> {
  const trimmed = text.trim();
  if (trimmed.startsWith('-')) return { ok: false, error: 'must not be negative' };
  const match = DECIMAL.exec(trimmed.replace(/^\+/, ''));
  if (!trimmed || !match || (!match[1] && !match[2])) return { ok: false, error: `“${text}” is not ${what}` };
  const [, whole = '', fraction = ''] = match;
  if (fraction.length > digits) {
    return { ok: false, error: digits === 0 ? 'must be a whole number, without decimals' : `has more than ${digits} decimals` };
  }
  const value = Number(`${whole || '0'}${fraction.padEnd(digits, '0')}`);
  if (!Number.isSafeInteger(value)) return { ok: false, error: 'is too large' };
  return { ok: true, value };
}

/** "12.5" (percent) → 1250 basis points; at most two decimals, from 0 to 100. */
export function percentToBasisPoints(text: string): Parsed<number> {
  const parsed = scaled(text, 2, 'a percentage (write 10 or 12.5)');
  if (!parsed.ok) return parsed;
  if (parsed.value > 10_000) return { ok: false, error: 'must be between 0 and 100%' };
  return parsed;
}

/** 1250 basis points → "12.5" (percent), with no trailing zeros. */
export function basisPointsToPercent(basisPoints: number): string {
  if (!Number.isSafeInteger(basisPoints)) throw new RangeError(`basis points must be a whole number, got ${basisPoints}`);
  const sign = basisPoints < 0 ? '-' : '';
  const padded = String(Math.abs(basisPoints)).padStart(3, '0');
  const fraction = padded.slice(-2).replace(/0+$/, '');
  return `${sign}${padded.slice(0, -2)}${fraction ? `.${fraction}` : ''}`;
}

/** "1500.5" USD → 150050 minor units; no more decimals than the currency's ISO 4217 digits, never negative. */
export function amountToMinorUnits(text: string, currency: string): Parsed<number> {
  const digits = minorUnitDigits(currency);
  return scaled(text, digits, `an amount (write it as 1500${digits ? ` or 1500.${'0'.repeat(digits)}` : ''})`);
}

/** Minor units as the amount an admin types (150050 USD → "1500.50"); empty for no amount. */
export function minorUnitsToAmount(minor: number | undefined, currency: string): string {
  return minor === undefined ? '' : minorUnitsToDecimal(minor, currency);
}

/** A whole number (days, counts) from `min` to `max`. */
export function wholeNumber(text: string, min = 0, max = Number.MAX_SAFE_INTEGER): Parsed<number> {
  const parsed = scaled(text, 0, 'a whole number');
  if (!parsed.ok) return parsed;
  if (parsed.value < min) return { ok: false, error: `must be at least ${min}` };
  if (parsed.value > max) return { ok: false, error: `must be at most ${max}` };
  return parsed;
}

/** A list typed as comma-separated words ("gold, platinum") → its trimmed, non-empty items. */
export function listOf(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}
