import { type FormEvent, useState } from 'react';
import type { EligibilityRuleKind } from '../../../../src/domain/program.ts';
import { ApiFailure, consoleApi, type EligibilityFieldMapping } from '../../api.ts';
import { useLoad } from '../../app.tsx';
import { issuesByField } from './draft.ts';
import { CheckField, ListField, NumberField, Section, SelectField, useEditor, WholeField } from './fields.tsx';
import { MAPPED_FIELDS, mappingFormOf, mappingOf, newEligibilityRule } from './rows.ts';
import { ELIGIBILITY_RULE_WORDS, IF_MISSING_WORDS } from './words.ts';

const KINDS = Object.keys(ELIGIBILITY_RULE_WORDS) as EligibilityRuleKind[];

/** Which accounts may refer: each rule over a CRM field, switched on or off, and what a missing value means. */
export function EligibilitySection() {
  const { program, restructure, generation } = useEditor();
  const rules = program.eligibility.rules;
  const missing = KINDS.filter((kind) => !rules.some((r) => r.kind === kind));
  const [adding, setAdding] = useState<EligibilityRuleKind | ''>('');
  const kindToAdd = adding && missing.includes(adding) ? adding : (missing[0] ?? '');
  return (
    <Section id="eligibility" title="Who may refer: eligibility rules" intro="An account may refer when every rule that is on passes.">
      {rules.map((rule, i) => {
        const path = ['eligibility', 'rules', i] as const;
        const name = ELIGIBILITY_RULE_WORDS[rule.kind];
        return (
          // biome-ignore lint/suspicious/noArrayIndexKey: a kind may appear twice; rows are drawn anew on each restructure
          <fieldset key={`${generation}-${rule.kind}-${i}`} className="rule">
            <legend>{name}</legend>
            <CheckField path={[...path, 'enabled']} label={`The ${name.toLowerCase()} rule is on`} />
            {rule.kind === 'min_nps' && <WholeField path={[...path, 'min']} label="NPS at least (0 to 10)" max={10} />}
            {rule.kind === 'min_customer_days' && (
              <WholeField path={[...path, 'days']} label="A customer for at least this many days" max={3650} />
            )}
            {rule.kind === 'min_health_score' && <NumberField path={[...path, 'min']} label="Health score at least" />}
            {rule.kind === 'lifecycle_stage' && (
              <ListField path={[...path, 'stages']} label="Lifecycle stage is one of (comma-separated)" />
            )}
            <SelectField path={[...path, 'ifMissing']} label="When the CRM has no value for it" options={IF_MISSING_WORDS} />
            <button
              type="button"
              className="secondary"
              onClick={() =>
                restructure(
                  ['eligibility', 'rules'],
                  rules.filter((_, j) => j !== i),
                )
              }
            >
              Remove the rule<span className="visually-hidden">: {name}</span>
            </button>
          </fieldset>
        );
      })}
      {kindToAdd && (
        <div className="filters">
          <div className="field">
            <label htmlFor="new-eligibility-rule">New rule</label>
            <select id="new-eligibility-rule" value={kindToAdd} onChange={(e) => setAdding(e.target.value as EligibilityRuleKind)}>
              {missing.map((kind) => (
                <option key={kind} value={kind}>
                  {ELIGIBILITY_RULE_WORDS[kind]}
                </option>
              ))}
            </select>
          </div>
          <button
            type="button"
            className="neutral"
            onClick={() => restructure(['eligibility', 'rules'], [...rules, newEligibilityRule(kindToAdd)])}
          >
            Add the eligibility rule
          </button>
        </div>
      )}
    </Section>
  );
}

/**
 * The CRM account fields the rules read, an installation setting of its own (saved apart from the
 * program's versions): the API checks each against the CRM's schema and names the field it refuses.
 */
export function EligibilityFieldsEditor({ installationId, csrf }: { installationId: string; csrf: string }) {
  const [version, setVersion] = useState(0);
  const { data, error } = useLoad(() => consoleApi.eligibilityFields(installationId), `${installationId}:${version}`);
  if (error) return <p className="notice bad">The eligibility fields could not be read: {error}</p>;
  if (!data) return <p>Loading the eligibility fields…</p>;
  return (
    <MappingEditor
      key={version}
      installationId={installationId}
      csrf={csrf}
      mapping={data.fields}
      saved={version > 0}
      onSaved={() => setVersion((v) => v + 1)}
    />
  );
}

function MappingEditor(props: {
  installationId: string;
  csrf: string;
  mapping: EligibilityFieldMapping | null;
  saved: boolean;
  onSaved: () => void;
}) {
  const [form, setForm] = useState(() => mappingFormOf(props.mapping));
  const [issues, setIssues] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(
    props.saved ? { ok: true, text: 'The eligibility fields are saved.' } : null,
  );
  const save = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await consoleApi.saveEligibilityFields(props.installationId, props.csrf, mappingOf(form));
      props.onSaved();
    } catch (err) {
      setIssues(err instanceof ApiFailure ? issuesByField(err.issues) : {});
      setMessage({ ok: false, text: `Not saved: ${err instanceof Error ? err.message : String(err)}` });
    }
  };
  const input = (id: string, label: string, value: string, issue: string | undefined, onChange: (v: string) => void) => (
    <div className="field" key={id}>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        value={value}
        aria-invalid={issue ? true : undefined}
        aria-describedby={issue ? `${id}-error` : undefined}
        onChange={(e) => onChange(e.target.value)}
      />
      {issue && (
        <p id={`${id}-error`} className="field-error">
          {issue}
        </p>
      )}
    </div>
  );
  return (
    <form className="card" onSubmit={save} aria-labelledby="eligibility-fields-heading">
      <h2 id="eligibility-fields-heading">Eligibility fields in the CRM</h2>
      <p className="muted">
        The account fields the eligibility rules read, by their API names in the CRM. An empty field is not read, and its rule sees no
        value.
      </p>
      {props.mapping === null && <p className="muted">No mapping is set: the connector's own fields are read.</p>}
      {MAPPED_FIELDS.map(([key, label]) =>
        input(`eligibility-field-${key}`, label, form.fields[key], issues[key], (v) =>
          setForm({ ...form, fields: { ...form.fields, [key]: v } }),
        ),
      )}
      {input(
        'eligibility-field-account-type',
        'Account type field',
        form.accountTypeField,
        issues.accountType ?? issues['accountType.field'],
        (v) => setForm({ ...form, accountTypeField: v }),
      )}
      {input(
        'eligibility-field-customer-values',
        'Its values that mean customer (comma-separated)',
        form.customerValues,
        issues['accountType.customerValues'],
        (v) => setForm({ ...form, customerValues: v }),
      )}
      <p className={message ? `notice ${message.ok ? 'ok' : 'bad'}` : undefined} role="status">
        {message?.text}
      </p>
      <button type="submit">Save the eligibility fields</button>
    </form>
  );
}
