import { type FormEvent, useEffect, useState } from 'react';
import { decimalToMinorUnits, minorUnitsToDecimal } from '../../../src/domain/money.ts';
import type { RewardRule } from '../../../src/domain/program.ts';
import { consoleApi, formatMoney, type Program, type ProgramDocument, type Simulation, formatDateTime } from '../api.ts';
import { useLoad } from '../app.tsx';
import { StageMappingEditor } from './stage-mapping.tsx';
import { ScrollArea } from './scroll-area.tsx';

/** The editor's fields as typed: amounts in the program's currency, rates in percent, periods in days. */
interface Form {
  approvalThreshold: string;
  payoutDays: string;
  attributionWindowDays: string;
  rules: Record<string, { amount?: string; percent?: string; floor?: string; cap?: string }>;
}

const money = (cents: number | undefined, currency: string) => (cents === undefined ? '' : minorUnitsToDecimal(cents, currency));

function formOf(program: Program): Form {
  const { currency } = program;
  return {
    approvalThreshold: money(program.approvalThresholdCents, currency),
    payoutDays: String(program.payoutDays),
    attributionWindowDays: String(program.attribution.windowDays),
    rules: Object.fromEntries(
      program.rewardRules.map((rule) => [
        rule.id,
        rule.kind === 'fixed'
          ? { amount: money(rule.amountCents, currency) }
          : rule.kind === 'percent'
            ? { percent: String(rule.rateBasisPoints / 100), floor: money(rule.minCents, currency), cap: money(rule.maxCents, currency) }
            : {},
      ]),
    ),
  };
}

/**
 * The program the form describes, or what in the form is not a number. Only the form's shape is
 * checked here: whether a value is allowed (a negative rate, say) is the API's to say, in its words.
 */
function draftOf(program: Program, form: Form): { draft: Program } | { problem: string } {
  const { currency } = program;
  const problems: string[] = [];
  const amount = (text: string, label: string, required = false): number | undefined => {
    if (!text.trim()) {
      if (required) problems.push(`${label}: give an amount`);
      return undefined;
    }
    try {
      return decimalToMinorUnits(text, currency);
    } catch {
      problems.push(`${label}: “${text}” is not an amount (write it as 1500 or 1500.00)`);
      return undefined;
    }
  };
  const whole = (text: string, label: string, fallback: number): number => {
    const value = Number(text);
    if (text.trim() && Number.isInteger(value)) return value;
    problems.push(`${label}: “${text}” is not a whole number of days`);
    return fallback;
  };
  const rewardRules = program.rewardRules.map((rule): RewardRule => {
    const fields = form.rules[rule.id] ?? {};
    const name = ruleName(rule);
    if (rule.kind === 'fixed') return { ...rule, amountCents: amount(fields.amount ?? '', name, true) ?? rule.amountCents };
    if (rule.kind !== 'percent') return rule;
    const percent = Number(fields.percent);
    if (!fields.percent?.trim() || !Number.isFinite(percent)) problems.push(`${name}: “${fields.percent ?? ''}” is not a percentage`);
    const { minCents: _floor, maxCents: _cap, ...rest } = rule;
    const minCents = amount(fields.floor ?? '', `${name}, at least`);
    const maxCents = amount(fields.cap ?? '', `${name}, at most`);
    return {
      ...rest,
      // Percent to basis points: 12.5% is 1250.
      rateBasisPoints: Number.isFinite(percent) ? Math.round(percent * 100) : rule.rateBasisPoints,
      ...(minCents !== undefined ? { minCents } : {}),
      ...(maxCents !== undefined ? { maxCents } : {}),
    };
  });
  const draft: Program = {
    ...program,
    approvalThresholdCents: amount(form.approvalThreshold, 'Approval threshold', true) ?? program.approvalThresholdCents,
    payoutDays: whole(form.payoutDays, 'Payout after', program.payoutDays),
    attribution: {
      ...program.attribution,
      windowDays: whole(form.attributionWindowDays, 'Attribution window', program.attribution.windowDays),
    },
    rewardRules,
  };
  return problems.length ? { problem: problems.join('; ') } : { draft };
}

const words = (s: string) => s.replaceAll('_', ' ');

function ruleName(rule: RewardRule): string {
  const kind = rule.kind === 'fixed' ? 'Fixed fee' : rule.kind === 'percent' ? 'Commission' : 'Commission table';
  return rule.description || `${kind} for ${rule.referrerTypes.join(', ')} referrers at ${words(rule.milestone)}`;
}

/** The program's main settings in words and amounts, a live preview against the current version, and its versions. */
export function ProgramPage({ installationId, csrf }: { installationId: string; csrf: string }) {
  const [version, setVersion] = useState(0);
  const { data, error } = useLoad(async () => {
    const [document, versions] = await Promise.all([consoleApi.program(installationId), consoleApi.programVersions(installationId)]);
    return { document, versions: versions.items };
  }, `${installationId}:${version}`);
  if (error) return <p className="notice bad">The program could not be read: {error}</p>;
  if (!data) return <p>Loading the program…</p>;
  return (
    <>
      <Editor
        key={data.document.version}
        installationId={installationId}
        csrf={csrf}
        document={data.document}
        onSaved={() => setVersion((v) => v + 1)}
      />
      <StageMappingEditor installationId={installationId} csrf={csrf} />
      <section className="card" aria-labelledby="versions">
        <h2 id="versions">Versions</h2>
        <p>Each save is a new version; every referral keeps the version it was submitted under.</p>
        <ScrollArea label="Versions table">
          <table>
            <caption className="muted">Versions, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Saved</th>
                <th scope="col">By</th>
                <th scope="col">Changes from the version before</th>
              </tr>
            </thead>
            <tbody>
              {data.versions.map((v) => (
                <tr key={v.version}>
                  <td>
                    {v.version}
                    {v.version === data.document.version ? ' (current)' : ''}
                  </td>
                  <td>{formatDateTime(v.createdAt)}</td>
                  <td className="break">{v.createdBy}</td>
                  <td className="wrap">
                    {v.version === 1 ? (
                      'The first version'
                    ) : v.changes.length ? (
                      <ul className="changes">
                        {v.changes.map((change) => (
                          <li key={change}>{change}</li>
                        ))}
                      </ul>
                    ) : (
                      'No change'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollArea>
      </section>
    </>
  );
}

function Editor(props: { installationId: string; csrf: string; document: ProgramDocument; onSaved: () => void }) {
  const { installationId, csrf, document } = props;
  const { program } = document;
  const [form, setForm] = useState(() => formOf(program));
  const [sample, setSample] = useState({ amount: '50000', referrerType: program.referrerTypes[0] ?? 'customer' });
  const [preview, setPreview] = useState<{ simulation: Simulation } | { error: string } | null>(null);
  const [saved, setSaved] = useState<{ ok: boolean; text: string } | null>(null);
  const result = draftOf(program, form);
  const draftKey = 'draft' in result ? JSON.stringify(result.draft) : null;

  // The preview follows the draft as it is typed (a short pause first, so one call per edit).
  // biome-ignore lint/correctness/useExhaustiveDependencies: draftKey stands for the draft
  useEffect(() => {
    if (!('draft' in result)) return;
    const draft = result.draft;
    let live = true;
    const timer = setTimeout(() => {
      consoleApi.simulate(installationId, csrf, draft, sample).then(
        (simulation) => live && setPreview({ simulation }),
        (e: unknown) => live && setPreview({ error: e instanceof Error ? e.message : String(e) }),
      );
    }, 250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [draftKey, sample.amount, sample.referrerType, installationId, csrf]);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!('draft' in result)) return setSaved({ ok: false, text: `Not saved: ${result.problem}.` });
    try {
      const answer = await consoleApi.saveProgram(installationId, csrf, document.version, result.draft);
      if (!answer.changed) return setSaved({ ok: true, text: answer.message ?? 'Nothing changed.' });
      props.onSaved();
    } catch (err) {
      setSaved({ ok: false, text: `Not saved: ${err instanceof Error ? err.message : String(err)}` });
    }
  };

  const setRule = (id: string, field: 'amount' | 'percent' | 'floor' | 'cap', value: string) =>
    setForm((f) => ({ ...f, rules: { ...f.rules, [id]: { ...f.rules[id], [field]: value } } }));
  const { currency } = program;

  return (
    <form onSubmit={save}>
      <p>
        Version {document.version}, saved {formatDateTime(document.createdAt)} by {document.createdBy}. Amounts are in {currency}.
      </p>
      <section className="card" aria-labelledby="rewards-heading">
        <h2 id="rewards-heading">Rewards</h2>
        {program.rewardRules.map((rule) => (
          <fieldset key={rule.id} className="rule">
            <legend>{ruleName(rule)}</legend>
            {rule.kind === 'fixed' && (
              <Field
                id={`rule-${rule.id}-amount`}
                label={`Amount (${currency})`}
                value={form.rules[rule.id]?.amount ?? ''}
                onChange={(v) => setRule(rule.id, 'amount', v)}
              />
            )}
            {rule.kind === 'percent' && (
              <>
                <Field
                  id={`rule-${rule.id}-percent`}
                  label="Percent of the deal's first-year value"
                  value={form.rules[rule.id]?.percent ?? ''}
                  onChange={(v) => setRule(rule.id, 'percent', v)}
                />
                <Field
                  id={`rule-${rule.id}-floor`}
                  label={`At least (${currency}, optional)`}
                  value={form.rules[rule.id]?.floor ?? ''}
                  onChange={(v) => setRule(rule.id, 'floor', v)}
                />
                <Field
                  id={`rule-${rule.id}-cap`}
                  label={`At most (${currency}, optional)`}
                  value={form.rules[rule.id]?.cap ?? ''}
                  onChange={(v) => setRule(rule.id, 'cap', v)}
                />
              </>
            )}
            {rule.kind === 'bracket' && (
              <p className="muted">
                {rule.brackets.length} rows by deal value; a commission table is changed through the API (PUT /api/v1/program).
              </p>
            )}
          </fieldset>
        ))}
      </section>
      <section className="card" aria-labelledby="rules-heading">
        <h2 id="rules-heading">Approval, payout and attribution</h2>
        <Field
          id="approval-threshold"
          label={`Rewards over this amount need an approval (${currency})`}
          value={form.approvalThreshold}
          onChange={(v) => setForm({ ...form, approvalThreshold: v })}
        />
        <Field
          id="payout-days"
          label="Rewards are due this many days after the deal closes"
          value={form.payoutDays}
          onChange={(v) => setForm({ ...form, payoutDays: v })}
        />
        <Field
          id="attribution-window"
          label="A referral can be credited for deals within this many days of it"
          value={form.attributionWindowDays}
          onChange={(v) => setForm({ ...form, attributionWindowDays: v })}
        />
      </section>
      <section className="card" aria-labelledby="preview-heading">
        <h2 id="preview-heading">Preview</h2>
        <div className="filters">
          <Field
            id="sample-amount"
            label={`A sample deal of (${currency})`}
            value={sample.amount}
            onChange={(v) => setSample({ ...sample, amount: v })}
          />
          <div className="field">
            <label htmlFor="sample-type">Referred by a</label>
            <select
              id="sample-type"
              value={sample.referrerType}
              onChange={(e) => setSample({ ...sample, referrerType: e.target.value as typeof sample.referrerType })}
            >
              {program.referrerTypes.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </div>
        </div>
        <div aria-live="polite">
          {'problem' in result ? (
            <p className="notice bad">{result.problem}.</p>
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
      <p className={saved ? `notice ${saved.ok ? 'ok' : 'bad'}` : undefined} role="status">
        {saved?.text}
      </p>
      <button type="submit">Save as version {document.version + 1}</button>
    </form>
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

function Field({ id, label, value, onChange }: { id: string; label: string; value: string; onChange: (value: string) => void }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} inputMode="decimal" value={value} onChange={(e) => onChange(e.target.value)} />
    </div>
  );
}
