// Calendar dates are 'YYYY-MM-DD' strings, instants are ISO 8601 strings. All arithmetic is UTC,
// so a date never shifts with the server's time zone.

/** A calendar date, 'YYYY-MM-DD'. */
export type DateOnly = string;
/** An instant, ISO 8601 with offset, e.g. '2026-03-31T14:00:00.000Z'. */
export type IsoInstant = string;

export const MS_PER_DAY = 86_400_000;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

function parseDateOnly(value: string): number | null {
  const m = DATE_ONLY.exec(value);
  if (!m) return null;
  const d = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  d.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  // Rejects overflowing dates such as 2026-02-30.
  return d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]) ? d.getTime() : null;
}

export function isDateOnly(value: string): boolean {
  return parseDateOnly(value) !== null;
}

function dateOnlyMs(date: DateOnly): number {
  const ms = parseDateOnly(date);
  if (ms === null) throw new RangeError(`not a calendar date (YYYY-MM-DD): "${date}"`);
  return ms;
}

function formatDateOnly(ms: number): DateOnly {
  const d = new Date(ms);
  const year = String(d.getUTCFullYear()).padStart(4, '0');
  if (year.length > 4 || d.getUTCFullYear() < 0) throw new RangeError('date out of range 0000–9999');
  return `${year}-${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;
}

/** Milliseconds since the epoch of an ISO instant; throws on garbage (a programmer error). */
export function instantMs(iso: IsoInstant): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new RangeError(`not an ISO instant: "${iso}"`);
  return ms;
}

export function addDays(date: DateOnly, n: number): DateOnly {
  if (!Number.isInteger(n)) throw new RangeError(`days must be an integer, got ${n}`);
  return formatDateOnly(dateOnlyMs(date) + n * MS_PER_DAY);
}

/** Calendar months later, the day kept or clamped to the month's last: 2026-01-31 + 1 month = 2026-02-28. */
export function addMonths(date: DateOnly, n: number): DateOnly {
  if (!Number.isInteger(n)) throw new RangeError(`months must be an integer, got ${n}`);
  const d = new Date(dateOnlyMs(date));
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + n);
  const lastDay = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, lastDay));
  return formatDateOnly(d.getTime());
}

/** Whole days from a to b (negative when b is earlier): daysBetween('2026-01-01', '2026-01-31') === 30. */
export function daysBetween(a: DateOnly, b: DateOnly): number {
  return Math.round((dateOnlyMs(b) - dateOnlyMs(a)) / MS_PER_DAY);
}

/** '2026-02-14' → '2026-Q1'. */
export function calendarQuarter(date: DateOnly): string {
  dateOnlyMs(date);
  const month = Number(date.slice(5, 7));
  return `${date.slice(0, 4)}-Q${Math.ceil(month / 3)}`;
}

/** The UTC calendar date of an instant. A bare 'YYYY-MM-DD' is returned as is. */
export function toDateOnly(isoInstant: IsoInstant): DateOnly {
  if (isDateOnly(isoInstant)) return isoInstant;
  return formatDateOnly(instantMs(isoInstant));
}

export function addDaysToInstant(iso: IsoInstant, n: number): IsoInstant {
  return new Date(instantMs(iso) + n * MS_PER_DAY).toISOString();
}
