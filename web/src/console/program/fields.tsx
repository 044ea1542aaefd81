import { createContext, type ReactNode, useContext, useEffect, useRef, useState } from 'react';
import type { Program } from '../../../../src/domain/program.ts';
import { getAt, keyOf, type Path } from './draft.ts';
import {
  amountToMinorUnits,
  basisPointsToPercent,
  listOf,
  minorUnitsToAmount,
  type Parsed,
  percentToBasisPoints,
  wholeNumber,
} from './units.ts';

/** What every field of the editor reads and writes: the draft, and what is wrong with it by field. */
export interface EditorApi {
  program: Program;
  update: (path: Path, value: unknown) => void;
  /** Replaces a list (a row added, moved or removed): its rows' fields are drawn anew from the draft. */
  restructure: (path: Path, value: unknown) => void;
  /** Changes on each restructure: part of list rows' keys, so no field keeps the text of a row that moved. */
  generation: number;
  errorOf: (path: Path) => string | undefined;
  /** A field's text that is not a value yet (null: it reads again). */
  reportTyping: (path: Path, error: string | null) => void;
}

export const EditorContext = createContext<EditorApi | null>(null);

export function useEditor(): EditorApi {
  const editor = useContext(EditorContext);
  if (!editor) throw new Error('a program field outside the program editor');
  return editor;
}

export const fieldId = (path: Path) => `program-${keyOf(path).replaceAll('.', '-')}`;

function ErrorText({ id, error }: { id: string; error: string | undefined }) {
  return error ? (
    <p id={id} className="field-error">
      {error}
    </p>
  ) : null;
}

interface TypedProps<T> {
  path: Path;
  label: string;
  hint?: string;
  optional?: boolean;
  multiline?: boolean;
  /** The whole row: descriptions, lists, templates. */
  wide?: boolean;
  inputMode?: 'decimal' | 'numeric' | 'text' | 'email' | 'url';
  parse: (text: string) => Parsed<T>;
  format: (value: T | undefined) => string;
}

/**
 * A text input for one setting. What the admin types stays on screen while it is not a value yet
 * (the reason beside it); a value that changes from elsewhere (a row removed above) is shown anew.
 */
function TypedField<T>({ path, label, hint, optional, multiline, wide, inputMode = 'text', parse, format }: TypedProps<T>) {
  const { program, update, errorOf, reportTyping } = useEditor();
  const value = getAt(program, path) as T | undefined;
  const [text, setText] = useState(() => format(value));
  const shown = useRef(JSON.stringify(value));
  const id = fieldId(path);
  // biome-ignore lint/correctness/useExhaustiveDependencies: only a change of the stored value resets the text
  useEffect(() => {
    const now = JSON.stringify(value);
    if (now === shown.current) return;
    shown.current = now;
    setText(format(value));
    reportTyping(path, null);
  }, [JSON.stringify(value)]);
  const onChange = (next: string) => {
    setText(next);
    const parsed: Parsed<T | undefined> = optional && !next.trim() ? { ok: true, value: undefined } : parse(next);
    if (!parsed.ok) return reportTyping(path, parsed.error);
    shown.current = JSON.stringify(parsed.value);
    reportTyping(path, null);
    update(path, parsed.value);
  };
  const error = errorOf(path);
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  const props = {
    id,
    value: text,
    'aria-invalid': error ? true : undefined,
    'aria-describedby': described,
  };
  return (
    <div className={wide ? 'field wide' : 'field'}>
      <label htmlFor={id}>{label}</label>
      {hint && (
        <p id={`${id}-hint`} className="hint">
          {hint}
        </p>
      )}
      {multiline ? (
        <textarea {...props} rows={4} onChange={(e) => onChange(e.target.value)} />
      ) : (
        <input {...props} inputMode={inputMode} onChange={(e) => onChange(e.target.value)} />
      )}
      <ErrorText id={`${id}-error`} error={error} />
    </div>
  );
}

/** An amount in the program's currency, stored in its minor units. */
export function MoneyField({ path, label, optional, hint }: { path: Path; label: string; optional?: boolean; hint?: string }) {
  const { program } = useEditor();
  const { currency } = program;
  return (
    <TypedField<number>
      key={currency}
      path={path}
      label={`${label} (${currency}${optional ? ', optional' : ''})`}
      optional={optional}
      inputMode="decimal"
      parse={(text) => amountToMinorUnits(text, currency)}
      format={(cents) => minorUnitsToAmount(cents, currency)}
      {...(hint ? { hint } : {})}
    />
  );
}

/** A percentage, stored in basis points (12.5% is 1250). */
export function PercentField({ path, label }: { path: Path; label: string }) {
  return (
    <TypedField<number>
      path={path}
      label={label}
      inputMode="decimal"
      parse={percentToBasisPoints}
      format={(bp) => (bp === undefined ? '' : basisPointsToPercent(bp))}
    />
  );
}

export function WholeField(props: { path: Path; label: string; min?: number; max?: number; optional?: boolean; hint?: string }) {
  const { min = 0, max = Number.MAX_SAFE_INTEGER, ...rest } = props;
  return (
    <TypedField<number>
      {...rest}
      inputMode="numeric"
      parse={(text) => wholeNumber(text, min, max)}
      format={(n) => (n === undefined ? '' : String(n))}
    />
  );
}

/** A decimal number that is not money (a health score): at least 0. */
export function NumberField(props: { path: Path; label: string }) {
  return (
    <TypedField<number>
      {...props}
      inputMode="decimal"
      parse={(text) => {
        const trimmed = text.trim();
        if (trimmed.startsWith('-')) return { ok: false, error: 'must not be negative' };
        if (!/^(\d+\.?\d*|\.\d+)$/.test(trimmed)) return { ok: false, error: `“${text}” is not a number` };
        return { ok: true, value: Number(trimmed) };
      }}
      format={(n) => (n === undefined ? '' : String(n))}
    />
  );
}

export function TextField(props: {
  path: Path;
  label: string;
  optional?: boolean;
  multiline?: boolean;
  wide?: boolean;
  hint?: string;
  inputMode?: 'text' | 'email' | 'url';
}) {
  const wide = props.wide ?? (props.multiline || props.inputMode === 'url');
  return <TypedField<string> {...props} wide={wide} parse={(text) => ({ ok: true, value: text })} format={(text) => text ?? ''} />;
}

/** A list typed as comma-separated words; optional: an empty list is no setting. */
export function ListField(props: { path: Path; label: string; optional?: boolean; hint?: string }) {
  return (
    <TypedField<string[]> {...props} parse={(text) => ({ ok: true, value: listOf(text) })} format={(items) => (items ?? []).join(', ')} />
  );
}

export function CheckField({ path, label }: { path: Path; label: string }) {
  const { program, update, errorOf } = useEditor();
  const id = fieldId(path);
  const error = errorOf(path);
  return (
    <div className="field">
      <label className="choice" htmlFor={id}>
        <input
          id={id}
          type="checkbox"
          checked={getAt(program, path) === true}
          aria-describedby={error ? `${id}-error` : undefined}
          onChange={(e) => update(path, e.target.checked)}
        />{' '}
        {label}
      </label>
      <ErrorText id={`${id}-error`} error={error} />
    </div>
  );
}

/** One of a closed list, each option in words; `unset` offers "no setting" (the key left out). */
export function SelectField(props: { path: Path; label: string; options: readonly (readonly [string, string])[]; unset?: string }) {
  const { program, update, errorOf } = useEditor();
  const { path, label, options, unset } = props;
  const id = fieldId(path);
  const error = errorOf(path);
  const value = getAt(program, path);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        value={typeof value === 'string' ? value : ''}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
        onChange={(e) => update(path, e.target.value === '' && unset !== undefined ? undefined : e.target.value)}
      >
        {unset !== undefined && <option value="">{unset}</option>}
        {options.map(([option, words]) => (
          <option key={option} value={option}>
            {words}
          </option>
        ))}
      </select>
      <ErrorText id={`${id}-error`} error={error} />
    </div>
  );
}

/** Several of a closed list as checkboxes; `noneMeansAll`: nothing ticked is no setting (every one applies). */
export function ChoiceSet(props: { path: Path; legend: string; options: readonly (readonly [string, string])[]; noneMeansAll?: boolean }) {
  const { program, update, errorOf } = useEditor();
  const { path, legend, options, noneMeansAll } = props;
  const chosen = (getAt(program, path) as string[] | undefined) ?? [];
  const id = fieldId(path);
  const error = errorOf(path);
  const toggle = (option: string, on: boolean) => {
    // Kept in the list's own order, so ticking and unticking again changes nothing.
    const next = options.map(([o]) => o).filter((o) => (o === option ? on : chosen.includes(o)));
    update(path, noneMeansAll && next.length === 0 ? undefined : next);
  };
  return (
    <fieldset className="choices" aria-describedby={error ? `${id}-error` : undefined}>
      <legend>{legend}</legend>
      {options.map(([option, words]) => (
        <label key={option} className="choice" htmlFor={`${id}-${option}`}>
          <input
            id={`${id}-${option}`}
            type="checkbox"
            checked={chosen.includes(option)}
            onChange={(e) => toggle(option, e.target.checked)}
          />{' '}
          {words}
        </label>
      ))}
      <ErrorText id={`${id}-error`} error={error} />
    </fieldset>
  );
}

/** A titled part of the editor: a card with its heading, found by that heading. */
export function Section({ id, title, intro, children }: { id: string; title: string; intro?: string; children: ReactNode }) {
  return (
    <section className="card" aria-labelledby={`${id}-heading`}>
      <h2 id={`${id}-heading`}>{title}</h2>
      {intro && <p className="muted">{intro}</p>}
      {children}
    </section>
  );
}
