import { type FormEvent, useEffect, useMemo, useState } from 'react';
import { isKnownCurrency } from '../../../../src/domain/money.ts';
import { type Program, REFERRER_TYPES } from '../../../../src/domain/program.ts';
import { ApiFailure, consoleApi, formatActor, formatDateTime, formatMoney, type ProgramDocument, type Simulation } from '../../api.ts';
import { checkDraft, issuesByField, keyOf, type Path, setAt, withCurrency } from './draft.ts';
import { EligibilitySection } from './eligibility.tsx';
import { type EditorApi, EditorContext, fieldId, useEditor } from './fields.tsx';
import { ApprovalSection, AttributionSection, DuplicatesAndClaimsSection } from './policies.tsx';
import { AsksAndLinksSection, GeneralSection, ReferrersSection } from './referrers.tsx';
import { RewardRulesSection } from './rewards.tsx';
import { BonusesSection, TiersSection } from './tiers.tsx';
import { pathWords } from './words.ts';

const errorMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Drops the entries at `path` and under it. */
function without(record: Record<string, string>, path: Path): Record<string, string> {
  const key = keyOf(path);
  if (key === '') return {};
  const kept = Object.entries(record).filter(([k]) => k !== key && !k.startsWith(`${key}.`));
  return kept.length === Object.keys(record).length ? record : Object.fromEntries(kept);
}

/**
 * Every setting of the program in words and amounts, checked as it is typed by the API's own schema,
 * a live preview of the draft against the current version, and a save that PUTs the whole document
 * back: what GET answered, with only what the admin changed.
 */
export function ProgramEditor(props: { installationId: string; csrf: string; document: ProgramDocument; onSaved: () => void }) {
  const { installationId, csrf, document } = props;
  const [draft, setDraft] = useState<Program>(document.program);
  const [typing, setTyping] = useState<Record<string, string>>({});
  const [serverIssues, setServerIssues] = useState<Record<string, string>>({});
  const [generation, setGeneration] = useState(0);
  const [sample, setSample] = useState({ amount: '50000', referrerType: draft.referrerTypes[0] ?? 'customer' });
  const [preview, setPreview] = useState<{ simulation: Simulation } | { error: string } | null>(null);
  const [saved, setSaved] = useState<{ ok: boolean; text: string } | null>(null);

  const schemaIssues = useMemo(() => checkDraft(draft), [draft]);
  // What the page knows is wrong blocks the preview and the save; what the API said last is shown
  // beside its field until that field changes, and the next save asks the API again.
  const blocking = Object.keys({ ...schemaIssues, ...typing }).length;
  const errors = { ...schemaIssues, ...serverIssues, ...typing };
  const problems = Object.entries(errors);
  const valid = blocking === 0;

  const editor: EditorApi = {
    program: draft,
    generation,
    update: (path, value) => {
      setDraft((d) => setAt(d, path, value));
      setServerIssues((s) => without(s, path));
    },
    restructure: (path, value) => {
      setDraft((d) => setAt(d, path, value));
      setServerIssues((s) => without(s, path));
      setTyping((t) => without(t, path));
      setGeneration((g) => g + 1);
    },
    errorOf: (path) => errors[keyOf(path)],
    reportTyping: (path, error) =>
      setTyping((t) => {
        const key = keyOf(path);
        if (error === null) return key in t ? without(t, path) : t;
        return t[key] === error ? t : { ...t, [key]: error };
      }),
  };

  const draftKey = valid ? JSON.stringify(draft) : null;
  // The preview follows the draft as it is typed (a short pause first, so one call per edit).
  // biome-ignore lint/correctness/useExhaustiveDependencies: draftKey stands for the draft
  useEffect(() => {
    if (draftKey === null) return;
    let live = true;
    const timer = setTimeout(() => {
      consoleApi.simulate(installationId, document.id, csrf, draft, sample).then(
        (simulation) => live && setPreview({ simulation }),
        // Shown in the preview: the draft passed the same schema here, so what is refused is the sample.
        (e: unknown) => live && setPreview({ error: errorMessage(e) }),
      );
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [draftKey, sample.amount, sample.referrerType, installationId, document.id, csrf]);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!valid) {
      setSaved({
        ok: false,
        text: `Not saved: ${blocking === 1 ? 'one setting needs' : `${blocking} settings need`} a fix (marked beside each).`,
      });
      return;
    }
    setServerIssues({});
    try {
      const answer = await consoleApi.saveProgram(installationId, csrf, { ...document, program: draft });
      if (!answer.changed) return setSaved({ ok: true, text: answer.message ?? 'Nothing changed.' });
      props.onSaved();
    } catch (err) {
      if (err instanceof ApiFailure) setServerIssues(issuesByField(err.issues));
      setSaved({ ok: false, text: `Not saved: ${errorMessage(err)}` });
    }
  };

  const { currency } = draft;
  return (
    <EditorContext.Provider value={editor}>
      <form className="editor" onSubmit={save} noValidate>
        <p>
          Version {document.version}, saved {formatDateTime(document.createdAt)} by {formatActor(document.createdBy)}. Amounts are in{' '}
          {currency}.
        </p>
        <GeneralSection currency={<CurrencyField />} />
        <RewardRulesSection />
        <ApprovalSection />
        <TiersSection />
        <BonusesSection />
        <AttributionSection />
        <DuplicatesAndClaimsSection />
        <ReferrersSection />
        <AsksAndLinksSection />
        <EligibilitySection />
        <section className="card" aria-labelledby="preview-heading">
          <h2 id="preview-heading">Preview</h2>
          <div className="filters">
            <div className="field">
              <label htmlFor="sample-amount">A sample deal of ({currency})</label>
              <input
                id="sample-amount"
                inputMode="decimal"
                value={sample.amount}
                onChange={(e) => setSample({ ...sample, amount: e.target.value })}
              />
            </div>
            <div className="field">
              <label htmlFor="sample-type">Referred by a</label>
              <select
                id="sample-type"
                value={sample.referrerType}
                onChange={(e) => setSample({ ...sample, referrerType: e.target.value as typeof sample.referrerType })}
              >
                {/* Every type, not only the draft's: unticking one must not leave the sample naming a type the list lacks. */}
                {REFERRER_TYPES.map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
              </select>
            </div>
          </div>
          <div aria-live="polite">
            {!valid ? (
              <p className="notice bad">The preview waits for the settings marked below their field to be fixed.</p>
            ) : !preview ? (
              <p>Working out the preview…</p>
            ) : 'error' in preview ? (
              <p className="notice bad" role="alert">
                {preview.error}
              </p>
            ) : (
              <PreviewText simulation={preview.simulation} version={document.version} />
            )}
          </div>
        </section>
        {problems.length > 0 && (
          <section className="card" aria-labelledby="fix-heading">
            <h2 id="fix-heading">To fix before saving</h2>
            <ul>
              {problems.map(([key, message]) => (
                <li key={key}>
                  <button
                    type="button"
                    className="link"
                    onClick={() => globalThis.document.getElementById(fieldId(key.split('.')))?.focus()}
                  >
                    {pathWords(key)}
                  </button>
                  : {message}
                </li>
              ))}
            </ul>
          </section>
        )}
        <p className={saved ? `notice ${saved.ok ? 'ok' : 'bad'}` : undefined} role="status">
          {saved?.text}
        </p>
        <button type="submit">Save as version {document.version + 1}</button>
      </form>
    </EditorContext.Provider>
  );
}

/** The program's currency: amounts keep what was typed ($500 becomes €500), or the change is refused in words. */
function CurrencyField() {
  const editor = useEditor();
  const [text, setText] = useState(editor.program.currency);
  const [error, setError] = useState<string | null>(null);
  const onChange = (next: string) => {
    setText(next);
    const code = next.trim().toUpperCase();
    if (code === editor.program.currency) return setError(null);
    if (!/^[A-Z]{3}$/.test(code) || !isKnownCurrency(code))
      return setError(`“${next}” is not an ISO 4217 currency code such as USD or EUR`);
    const moved = withCurrency(editor.program, code);
    if (!moved.ok) return setError(moved.error);
    setError(null);
    editor.restructure([], moved.program);
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: reported when the error changes, not on each new editor value
  useEffect(() => {
    editor.reportTyping(['currency'], error);
  }, [error]);
  return (
    <div className="field">
      <label htmlFor="program-currency">Currency (ISO 4217 code; amounts keep their numbers)</label>
      <input
        id="program-currency"
        value={text}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? 'program-currency-error' : undefined}
        onChange={(e) => onChange(e.target.value)}
      />
      {error && (
        <p id="program-currency-error" className="field-error">
          {error}
        </p>
      )}
    </div>
  );
}

function PreviewText({ simulation, version }: { simulation: Simulation; version: number }) {
  const { sample } = simulation;
  const change = sample.draftCents - sample.currentCents;
  return (
    <>
      <p className="lead">
        This draft pays {formatMoney(sample.draftCents, sample.currency)} on a {formatMoney(sample.amountCents, sample.currency)} deal
        referred by a {sample.referrerType}; version {version} pays {formatMoney(sample.currentCents, sample.currency)}
        {change === 0 ? ' (no change).' : ` (${change > 0 ? 'up' : 'down'} ${formatMoney(Math.abs(change), sample.currency)}).`}
      </p>
      <p>
        {simulation.deals === 0
          ? `No referred deal closed won in the last ${simulation.months} months to compare on.`
          : `On the ${simulation.deals} referred deals won in the last ${simulation.months} months, this draft would have paid ${formatMoney(simulation.draft.totalCents, simulation.draft.currency)}; version ${version} paid ${formatMoney(simulation.current.totalCents, simulation.current.currency)}.`}
      </p>
      {[...sample.notes, ...simulation.notes].length > 0 && <p className="muted">{[...sample.notes, ...simulation.notes].join('; ')}.</p>}
    </>
  );
}
