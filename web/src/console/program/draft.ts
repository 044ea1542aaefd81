import { minorUnitDigits } from '../../../../src/domain/money.ts';
import type { Program } from '../../../../src/domain/program.ts';
import { programSchema } from '../../../../src/http/program.schema.ts';

// The draft the editor changes is the program document itself, so what GET answered goes back to PUT
// as it was, bar the fields the admin changed. Fields are named by their path in the program
// ("rewardRules.1.rateBasisPoints"), as the API names them in its 400 details.

export type Path = readonly (string | number)[];

export const keyOf = (path: Path): string => path.join('.');

export function getAt(value: unknown, path: Path): unknown {
  let at = value;
  for (const step of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string | number, unknown>)[step];
  }
  return at;
}

/** A copy of `value` with `path` set; undefined removes an object key, so an optional setting is absent, not null. */
export function setAt<T>(value: T, path: Path, next: unknown): T {
  const [step, ...rest] = path;
  if (step === undefined) return next as T;
  if (Array.isArray(value)) {
    const copy = [...value];
    copy[step as number] = setAt(copy[step as number], rest, next);
    return copy as T;
  }
  const object = { ...((value ?? {}) as Record<string, unknown>) };
  const child = rest.length ? setAt(object[step], rest, next) : next;
  if (child === undefined) delete object[step];
  else object[step] = child;
  return object as T;
}

/** What the server's schema says of a draft, by field: the same schema, so the page and the API agree. */
export function checkDraft(draft: Program): Record<string, string> {
  const result = programSchema.safeParse(draft);
  if (result.success) return {};
  return issuesByField(result.error.issues.map((issue) => ({ field: keyOf(issue.path as Path), message: issue.message })));
}

/** The API's messages name the stored fields; beside the editor's fields they say what the labels say. */
const FIELD_WORDS: readonly [RegExp, string][] = [
  [/minCents \(the floor\)/g, 'the “at least” amount'],
  [/maxCents \(the cap\)/g, 'the “at most” amount'],
  [/minDealCents must be below maxDealCents/g, '“only for deals from” must be below “only for deals below”'],
  [/ \(1000 = 10%\)/g, ''],
  [/between 0 and 10000 basis points( \(100%\))?/g, 'between 0 and 100%'],
  [/whole number of minor units \(cents\), not a decimal amount/g, 'an amount with no more decimals than the currency has'],
];

export function inWords(message: string): string {
  return FIELD_WORDS.reduce((text, [pattern, words]) => text.replace(pattern, words), message);
}

/**
 * A 400's `details.issues` by field, relative to the program: PUT names them inside the document
 * ("program.caps.perReferralCents"), simulate inside the program itself. The first issue of a field wins.
 */
export function issuesByField(issues: readonly { field: string; message: string }[]): Record<string, string> {
  const byField: Record<string, string> = {};
  for (const { field, message } of issues) {
    const key = field.replace(/^program(\.|$)/, '') || '';
    byField[key] ??= inWords(message);
  }
  return byField;
}

/**
 * The program in another currency with every amount kept as typed: $500 stays 500 when the program
 * moves to EUR, or JPY (50,000 cents become 500 yen). Refused when an amount has more decimals than
 * the new currency has digits (a $10.50 fee has no exact yen amount).
 */
export function withCurrency(program: Program, currency: string): { ok: true; program: Program } | { ok: false; error: string } {
  const shift = minorUnitDigits(currency) - minorUnitDigits(program.currency);
  const inexact: string[] = [];
  const scale = (value: unknown, path: string): unknown => {
    if (Array.isArray(value)) return value.map((item, i) => scale(item, `${path}.${i}`));
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, v]) => {
        if (!key.endsWith('Cents') || typeof v !== 'number') return [key, scale(v, path ? `${path}.${key}` : key)];
        if (shift >= 0) return [key, v * 10 ** shift];
        const divisor = 10 ** -shift;
        if (v % divisor !== 0) inexact.push(path ? `${path}.${key}` : key);
        return [key, Math.trunc(v / divisor)];
      }),
    );
  };
  const scaled = scale(program, '') as Program;
  if (inexact.length) {
    const digits = minorUnitDigits(currency);
    const which = inexact.length === 1 ? 'one amount has' : `${inexact.length} amounts have`;
    return { ok: false, error: `${which} more decimals than ${currency} allows (${digits}): round it to ${currency} first` };
  }
  return { ok: true, program: { ...scaled, currency } };
}
