import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatMoney,
  minorUnitDigits,
  percentOfCents,
  shareOfCents,
  splitCents,
  toMajorUnits,
  toMinorUnits,
} from '../../../src/domain/money.ts';

describe('minorUnitDigits', () => {
  it.each([
    ['USD', 2],
    ['EUR', 2],
    ['JPY', 0],
    ['KRW', 0],
    ['KWD', 3],
    ['BHD', 3],
  ])('%s has %i decimals', (currency, digits) => {
    expect(minorUnitDigits(currency)).toBe(digits);
  });

  it('rejects something that is not a currency code', () => {
    expect(() => minorUnitDigits('usd')).toThrow(RangeError);
  });
});

describe('percentOfCents', () => {
  it.each([
    // 10% of a $25,000 first-year deal is $2,500
    [2_500_000, 1_000, 250_000],
    [10_000_000, 1_000, 1_000_000],
    [0, 1_000, 0],
    [5, 1_000, 1], // 0.5 cent rounds half up
    [4, 1_000, 0], // 0.4 cent rounds down
    [15, 1_000, 2], // 1.5 → 2
    [123_456_789, 250, 3_086_420], // 2.5% = 3,086,419.725 → 3,086,420
    [2_500_000, 10_000, 2_500_000],
  ])('%i cents at %i bp is %i cents', (amount, bp, expected) => {
    expect(percentOfCents(amount, bp)).toBe(expected);
  });

  it('stays exact for amounts whose product exceeds 2^53', () => {
    expect(percentOfCents(900_000_000_000_000, 1_000)).toBe(90_000_000_000_000);
  });

  it('refuses fractional cents', () => {
    expect(() => percentOfCents(10.5, 1_000)).toThrow(RangeError);
  });
});

describe('shareOfCents', () => {
  it.each([
    [50_000, 1_000_000, 50_000],
    [50_000, 333_334, 16_666],
    [50_000, 333_333, 16_666],
    [50_000, 0, 0],
  ])('%i at %i ppm is %i (rounded down)', (amount, ppm, expected) => {
    expect(shareOfCents(amount, ppm)).toBe(expected);
  });
});

describe('splitCents', () => {
  it.each([
    [100, [333_334, 333_333, 333_333], [34, 33, 33]],
    [50_000, [500_000, 500_000], [25_000, 25_000]],
    [1, [500_000, 500_000], [1, 0]], // tie goes to the earlier share
    [10, [1, 2], [3, 7]], // 3.33 / 6.67: the larger remainder gets the cent
    [-100, [333_334, 333_333, 333_333], [-34, -33, -33]],
    [0, [1_000_000], [0]],
  ])('splits %i over %j into %j', (total, shares, expected) => {
    expect(splitCents(total, shares)).toEqual(expected);
  });

  it('needs a positive share', () => {
    expect(() => splitCents(100, [0, 0])).toThrow(RangeError);
    expect(() => splitCents(100, [])).toThrow(RangeError);
  });

  it('always sums exactly to the total, and no part is off by more than one unit', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1_000_000_000_000, max: 1_000_000_000_000 }),
        fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 30 }).filter((s) => s.some((x) => x > 0)),
        (total, shares) => {
          const parts = splitCents(total, shares);
          expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
          const weight = shares.reduce((a, b) => a + b, 0);
          parts.forEach((p, i) => expect(Math.abs(p - (total * (shares[i] ?? 0)) / weight)).toBeLessThan(1 + 1e-6));
        },
      ),
    );
  });
});

describe('major and minor units', () => {
  it.each([
    [250_000, 'USD', 2_500],
    [2_500, 'JPY', 2_500],
    [1_234, 'KWD', 1.234],
    [1, 'USD', 0.01],
  ])('%i minor %s is %d major', (minor, currency, major) => {
    expect(toMajorUnits(minor, currency)).toBe(major);
    expect(toMinorUnits(major, currency)).toBe(minor);
  });

  it.each([
    [19.99, 'USD', 1_999],
    [0.29, 'USD', 29], // 0.29 * 100 is 28.999999999999996 in floating point
    [1.1, 'USD', 110],
    [-4.5, 'USD', -450],
  ])('converts %d %s to %i without float drift', (major, currency, minor) => {
    expect(toMinorUnits(major, currency)).toBe(minor);
  });

  it.each([
    [12.345, 'USD'],
    [0.1 + 0.7, 'USD'], // 0.7999999999999999: a computed float, not an amount
    [1.5, 'JPY'],
    [Number.NaN, 'USD'],
    [1e21, 'USD'],
  ])('refuses %d %s', (major, currency) => {
    expect(() => toMinorUnits(major, currency)).toThrow(RangeError);
  });

  it('round-trips any amount', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), fc.constantFrom('USD', 'JPY', 'KWD', 'EUR'), (cents, currency) => {
        expect(toMinorUnits(toMajorUnits(cents, currency), currency)).toBe(cents);
      }),
    );
  });

  it('formats for humans', () => {
    expect(formatMoney(250_000, 'USD')).toBe('$2,500.00');
    expect(formatMoney(2_500, 'JPY')).toBe('¥2,500');
  });
});
