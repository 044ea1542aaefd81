import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, addDaysToInstant, calendarQuarter, daysBetween, isDateOnly, toDateOnly } from '../../../src/domain/dates.ts';

describe('addDays', () => {
  it.each([
    ['2026-03-31', 90, '2026-06-29'], // reward of a deal closed on 2026-03-31 is due 2026-06-29
    ['2026-12-31', 1, '2027-01-01'],
    ['2028-02-28', 1, '2028-02-29'], // leap year
    ['2026-03-29', 1, '2026-03-30'], // no DST shift in UTC arithmetic
    ['2026-01-01', -1, '2025-12-31'],
    ['2026-01-01', 0, '2026-01-01'],
  ])('%s + %i days = %s', (date, n, expected) => {
    expect(addDays(date, n)).toBe(expected);
  });

  it.each(['2026-02-30', '2026-13-01', '26-01-01', '2026-01-01T00:00:00Z', ''])('rejects "%s"', (bad) => {
    expect(() => addDays(bad, 1)).toThrow(RangeError);
  });

  it('is undone by daysBetween', () => {
    const date = fc
      .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2999-12-31T00:00:00Z'), noInvalidDate: true })
      .map((d) => d.toISOString().slice(0, 10));
    fc.assert(
      fc.property(date, fc.integer({ min: -20_000, max: 20_000 }), (d, n) => {
        const later = addDays(d, n);
        expect(isDateOnly(later)).toBe(true);
        expect(daysBetween(d, later)).toBe(n);
      }),
    );
  });
});

describe('daysBetween', () => {
  it.each([
    ['2026-01-01', '2026-01-31', 30],
    ['2026-01-31', '2026-01-01', -30],
    ['2025-01-01', '2026-01-01', 365],
  ])('%s → %s is %i days', (a, b, n) => {
    expect(daysBetween(a, b)).toBe(n);
  });
});

describe('calendarQuarter', () => {
  it.each([
    ['2026-01-01', '2026-Q1'],
    ['2026-03-31', '2026-Q1'],
    ['2026-04-01', '2026-Q2'],
    ['2026-09-30', '2026-Q3'],
    ['2026-12-31', '2026-Q4'],
  ])('%s is in %s', (date, quarter) => {
    expect(calendarQuarter(date)).toBe(quarter);
  });
});

describe('toDateOnly', () => {
  it.each([
    ['2026-03-31T23:30:00.000Z', '2026-03-31'],
    ['2026-03-31T23:30:00-02:00', '2026-04-01'], // the UTC date
    ['2026-03-31', '2026-03-31'],
  ])('%s → %s', (iso, date) => {
    expect(toDateOnly(iso)).toBe(date);
  });

  it('rejects garbage', () => {
    expect(() => toDateOnly('yesterday')).toThrow(RangeError);
  });
});

it('addDaysToInstant keeps the time of day', () => {
  expect(addDaysToInstant('2026-01-01T10:00:00.000Z', 365)).toBe('2027-01-01T10:00:00.000Z');
});
