import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decimalToMinorUnits,
  formatMoney,
  minorUnitDigits,
  minorUnitsToDecimal,
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
          parts.forEach((p, i) => {
            expect(Math.abs(p - (total * (shares[i] ?? 0)) / weight)).toBeLessThan(1 + 1e-6);
          });
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

describe("CRM decimals to minor units (half up at the currency's digits)", () => {
  it.each([
    // HubSpot sends decimal strings
    ['24000', 'USD', 2_400_000],
    ['24000.5', 'USD', 2_400_050],
    ['0.1', 'USD', 10],
    ['0.29', 'USD', 29],
    ['1234.565', 'USD', 123_457],
    ['1234.564', 'USD', 123_456],
    ['1.005', 'USD', 101],
    ['0.015', 'USD', 2],
    ['.5', 'USD', 50],
    ['5.', 'USD', 500],
    [' 7 ', 'USD', 700],
    ['+3', 'USD', 300],
    ['2500', 'JPY', 2_500],
    ['2500.4', 'JPY', 2_500],
    ['2500.5', 'JPY', 2_501],
    ['1.2345', 'KWD', 1_235],
    ['1.2344', 'KWD', 1_234],
    ['1.234', 'KWD', 1_234],
    ['0.00005', 'CLF', 1],
    // negative amounts round half away from zero
    ['-10.005', 'USD', -1_001],
    ['-10.004', 'USD', -1_000],
    ['-0.004', 'USD', 0],
    ['-0.5', 'JPY', -1],
    // Salesforce (jsforce) sends JSON numbers, read through their shortest representation
    [48000.0, 'USD', 4_800_000],
    [12345.67, 'USD', 1_234_567],
    [0.29, 'USD', 29],
    [1.005, 'USD', 101], // the float nearest 1.005 is 1.00499999999999989...: the digits sent were 1.005
    [1234.565, 'USD', 123_457],
    [5_000_000, 'JPY', 5_000_000],
    [1.234, 'KWD', 1_234],
    [-4.5, 'USD', -450],
    [1e-7, 'USD', 0], // written 1e-7
    [5e-3, 'USD', 1],
    [1.5e-7, 'KWD', 0],
    [1e15, 'JPY', 1e15],
    [1.5e10, 'USD', 1_500_000_000_000],
  ])('%j %s → %i', (amount, currency, minor) => {
    expect(decimalToMinorUnits(amount, currency)).toBe(minor);
  });

  it.each([
    ['', 'USD', /not a decimal/],
    ['abc', 'USD', /not a decimal/],
    ['1,000', 'USD', /not a decimal/],
    ['1e5', 'USD', /not a decimal/], // CRMs send plain decimals; an exponent in text is not one
    ['.', 'USD', /not a decimal/],
    ['-', 'USD', /not a decimal/],
    ['12.3.4', 'USD', /not a decimal/],
    ['0x10', 'USD', /not a decimal/],
    [Number.NaN, 'USD', /finite/],
    [Number.POSITIVE_INFINITY, 'USD', /finite/],
    [1e21, 'USD', /safe integer/], // written 1e+21
    ['99999999999999999999', 'USD', /safe integer/],
    ['10', 'usd', /ISO 4217/],
    ['10', 'US', /ISO 4217/],
  ])('refuses %j %s with a clear error', (amount, currency, message) => {
    expect(() => decimalToMinorUnits(amount, currency)).toThrow(RangeError);
    expect(() => decimalToMinorUnits(amount, currency)).toThrow(message);
  });

  it.each([
    [100, 'USD', 1],
    [100, 'JPY', 100],
    [1234, 'KWD', 1.234],
  ])('reads back what toMajorUnits wrote: %i minor %s is %d', (minor, currency, major) => {
    expect(toMajorUnits(minor, currency)).toBe(major);
    expect(decimalToMinorUnits(major, currency)).toBe(minor);
  });

  it('agrees with the float-free major-unit reader wherever that one accepts the value', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), fc.constantFrom('USD', 'JPY', 'KWD', 'EUR'), (minor, currency) => {
        expect(decimalToMinorUnits(toMajorUnits(minor, currency), currency)).toBe(minor);
      }),
    );
  });

  it('rounds any decimal half up at two digits, exactly as integer arithmetic on its digits does', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 13n }), fc.integer({ min: 0, max: 6 }), fc.boolean(), (digits, places, negative) => {
        // digits / 10^places USD written out as decimal text, e.g. 123457, 3 → "123.457"
        const padded = digits.toString().padStart(places + 1, '0');
        const text = `${negative ? '-' : ''}${places ? `${padded.slice(0, -places)}.${padded.slice(-places)}` : padded}`;
        const cents =
          places <= 2 ? digits * 10n ** BigInt(2 - places) : (digits * 2n + 10n ** BigInt(places - 2)) / (2n * 10n ** BigInt(places - 2));
        expect(decimalToMinorUnits(text, 'USD')).toBe(Number(negative ? -cents : cents));
      }),
    );
  });
});

describe('minor units to CRM decimal text', () => {
  it.each([
    [250_000, 'USD', '2500.00'],
    [5, 'USD', '0.05'],
    [-1_001, 'USD', '-10.01'],
    [0, 'USD', '0.00'],
    [2_500, 'JPY', '2500'],
    [1_234, 'KWD', '1.234'],
    [7, 'KWD', '0.007'],
  ])('%i %s → %s', (minor, currency, text) => {
    expect(minorUnitsToDecimal(minor, currency)).toBe(text);
  });

  it('round-trips every amount exactly (no float error)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1e13, max: 1e13 }),
        fc.constantFrom('USD', 'JPY', 'KWD'),
        (minor, currency) => decimalToMinorUnits(minorUnitsToDecimal(minor, currency), currency) === minor,
      ),
    );
  });

  it('refuses a fractional amount of minor units', () => {
    expect(() => minorUnitsToDecimal(1.5, 'USD')).toThrow(RangeError);
  });
});
