import { formatMoney, percentOfCents } from './money.ts';

/**
 * How a value (a deal's first-year value, in the program currency's minor units) becomes a fee:
 * a flat amount, or a percentage kept between an optional floor and cap ("2%, at least $1,000").
 */
export type Fee =
  | { kind: 'flat'; amountCents: number }
  | { kind: 'percent'; rateBasisPoints: number; minCents?: number; maxCents?: number };

/** One row of a bracket table: values from `fromCents` (inclusive) up to the next row's `fromCents` (exclusive). */
export interface FeeBracket {
  fromCents: number;
  fee: Fee;
}

export interface FeeOutcome {
  cents: number;
  reasons: string[];
}

/** A value and how to take a percentage of it: a converted value takes it of the deal's own amount, rounding once. */
export interface FeeBasis {
  cents: number;
  /** What the value is, in words ("first-year value"). */
  label: string;
  percentOf?: (rateBasisPoints: number) => number;
}

/** The fee a value earns, with the arithmetic spelled out. */
export function feeForValue(fee: Fee, value: FeeBasis, currency: string): FeeOutcome {
  const money = (cents: number): string => formatMoney(cents, currency);
  if (fee.kind === 'flat') return { cents: fee.amountCents, reasons: [`${money(fee.amountCents)} flat fee`] };
  const raw = value.percentOf ? value.percentOf(fee.rateBasisPoints) : percentOfCents(value.cents, fee.rateBasisPoints);
  const reasons = [`${fee.rateBasisPoints / 100}% of ${value.label} ${money(value.cents)}`];
  let cents = raw;
  if (fee.minCents !== undefined && cents < fee.minCents) {
    cents = fee.minCents;
    reasons.push(`${money(raw)} raised to the ${money(fee.minCents)} floor`);
  }
  if (fee.maxCents !== undefined && cents > fee.maxCents) {
    cents = fee.maxCents;
    reasons.push(`${money(raw)} limited to the ${money(fee.maxCents)} cap`);
  }
  return { cents, reasons };
}

/** The bracket a value falls in: the last row whose `fromCents` is at most the value (rows ascend, the first from 0). */
export function bracketFor(brackets: readonly FeeBracket[], valueCents: number): FeeBracket | undefined {
  return brackets.findLast((b) => b.fromCents <= valueCents);
}

/** A bracket row's bounds in words: "from $10,000.00 to under $50,000.00". */
export function bracketLabel(brackets: readonly FeeBracket[], bracket: FeeBracket, currency: string): string {
  const next = brackets[brackets.indexOf(bracket) + 1];
  const from = `from ${formatMoney(bracket.fromCents, currency)}`;
  return next ? `${from} to under ${formatMoney(next.fromCents, currency)}` : `${from} up`;
}
