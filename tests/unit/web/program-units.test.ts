import fc from 'fast-check';
import { describe, expect, it, test } from 'vitest';
import {
  amountToMinorUnits,
  basisPointsToPercent,
  listOf,
  minorUnitsToAmount,
  percentToBasisPoints,
  wholeNumber,
} from '../../../web/src/console/program/units.ts';

describe('percentToBasisPoints', () => {
  test.each([
    ['12.5', 1250],
    ['10', 1000],
    ['0.01', 1],
    ['0', 0],
    ['100', 10_000],
    [' 7.25 ', 725],
    ['.5', 50],
    ['5.', 500],
    // 0.29 * 100 is 28.999999999999996 in floats; the digits are moved in text.
    ['0.29', 29],
    ['33.33', 3333],
  ])('%s%% is %i basis points', (text, bp) => {
    expect(percentToBasisPoints(text)).toEqual({ ok: true, value: bp });
  });

  test.each([
    ['12.345', 'has more than 2 decimals'],
    ['-5', 'must not be negative'],
    ['100.01', 'must be between 0 and 100%'],
    ['', 'is not a percentage'],
    ['ten', 'is not a percentage'],
    ['1,5', 'is not a percentage'],
    ['1e2', 'is not a percentage'],
    ['.', 'is not a percentage'],
  ])('%j is refused: %s', (text, error) => {
    const parsed = percentToBasisPoints(text);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.error).toContain(error);
  });

  it('round-trips every basis-point value through its percent text', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), (bp) => {
        expect(percentToBasisPoints(basisPointsToPercent(bp))).toEqual({ ok: true, value: bp });
      }),
    );
  });
});

describe('basisPointsToPercent', () => {
  test.each([
    [1250, '12.5'],
    [1000, '10'],
    [1, '0.01'],
    [0, '0'],
    [10_000, '100'],
    [1234, '12.34'],
  ])('%i bp is %s%%', (bp, text) => {
    expect(basisPointsToPercent(bp)).toBe(text);
  });

  it('refuses a fraction of a basis point', () => {
    expect(() => basisPointsToPercent(12.5)).toThrow(RangeError);
  });
});

describe('amounts in the currency’s ISO 4217 digits', () => {
  test.each([
    ['1500', 'USD', 150_000],
    ['1500.5', 'USD', 150_050],
    ['0.01', 'USD', 1],
    ['2500', 'JPY', 2500],
    ['1.234', 'KWD', 1234],
    ['1000', 'EUR', 100_000],
  ])('%s %s is %i minor units', (text, currency, minor) => {
    expect(amountToMinorUnits(text, currency)).toEqual({ ok: true, value: minor });
  });

  test.each([
    ['12.345', 'USD', 'has more than 2 decimals'],
    ['10.5', 'JPY', 'must be a whole number'],
    ['-1', 'USD', 'must not be negative'],
    ['1,000', 'USD', 'is not an amount'],
    ['', 'USD', 'is not an amount'],
    ['99999999999999999', 'USD', 'is too large'],
  ])('%j %s is refused: %s', (text, currency, error) => {
    const parsed = amountToMinorUnits(text, currency);
    expect(!parsed.ok && parsed.error).toContain(error);
  });

  it('writes minor units back as the amount typed, and nothing for no amount', () => {
    expect(minorUnitsToAmount(150_050, 'USD')).toBe('1500.50');
    expect(minorUnitsToAmount(2500, 'JPY')).toBe('2500');
    expect(minorUnitsToAmount(undefined, 'USD')).toBe('');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 12 }), fc.constantFrom('USD', 'JPY', 'KWD'), (minor, currency) => {
        expect(amountToMinorUnits(minorUnitsToAmount(minor, currency), currency)).toEqual({ ok: true, value: minor });
      }),
    );
  });
});

describe('whole numbers and lists', () => {
  it('reads days within bounds', () => {
    expect(wholeNumber('90')).toEqual({ ok: true, value: 90 });
    expect(wholeNumber('0', 1)).toEqual({ ok: false, error: 'must be at least 1' });
    expect(wholeNumber('4000', 0, 3650)).toEqual({ ok: false, error: 'must be at most 3650' });
    expect(wholeNumber('1.5')).toEqual({ ok: false, error: 'must be a whole number, without decimals' });
  });

  it('splits comma-separated words, dropping blanks', () => {
    expect(listOf(' gold, platinum ,, ')).toEqual(['gold', 'platinum']);
    expect(listOf('')).toEqual([]);
  });
});
