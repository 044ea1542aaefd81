import { useState } from 'react';
import { minorUnitDigits } from '../../../../src/domain/money.ts';
import type { Fee, FeeBracket } from '../../../../src/domain/fees.ts';
import type { RewardRule } from '../../../../src/domain/program.ts';
import type { Path } from './draft.ts';
import { newRule } from './rows.ts';
import {
  ChoiceSet,
  fieldId,
  ListField,
  MoneyField,
  PercentField,
  Section,
  SelectField,
  TextField,
  useEditor,
  WholeField,
} from './fields.tsx';
import { GRANT_WORDS, MILESTONE_WORDS, REFERRER_TYPE_WORDS, RULE_KIND_WORDS, ruleName } from './words.ts';

type Kind = RewardRule['kind'];

type GrantChoice = NonNullable<RewardRule['grant']>['kind'] | 'cash';

/** What a rule grants: cash (no grant), an account credit, a gift card, a donation to a charity, or (fixed rules) recognition. */
function GrantFields({ rule, path }: { rule: RewardRule; path: Path }) {
  const { restructure } = useEditor();
  const id = `${fieldId(path)}-grant-kind`;
  const choices = GRANT_WORDS.filter(([kind]) => kind !== 'recognition' || rule.kind === 'fixed');
  const choose = (kind: GrantChoice) => {
    const { grant: _previous, ...rest } = rule;
    const grant =
      kind === 'cash'
        ? undefined
        : kind === 'donation'
          ? { kind, charity: '' }
          : kind === 'recognition'
            ? { kind, badge: '', message: '' }
            : { kind };
    restructure(path, grant ? { ...rest, grant, ...(grant.kind === 'recognition' ? { amountCents: 0 } : {}) } : rest);
  };
  return (
    <>
      <div className="field">
        <label htmlFor={id}>Given as</label>
        <select id={id} value={rule.grant?.kind ?? 'cash'} onChange={(e) => choose(e.target.value as GrantChoice)}>
          {choices.map(([kind, words]) => (
            <option key={kind} value={kind}>
              {words}
            </option>
          ))}
        </select>
      </div>
      {rule.grant?.kind === 'donation' && <TextField path={[...path, 'grant', 'charity']} label="Donated to (charity)" />}
      {rule.grant?.kind === 'recognition' && (
        <>
          <TextField path={[...path, 'grant', 'badge']} label="Badge" />
          <TextField path={[...path, 'grant', 'message']} label="Message to the referrer" multiline />
        </>
      )}
    </>
  );
}

/** Reward rules in their order (the first that matches pays), each in words, with add, move and remove. */
export function RewardRulesSection() {
  const { program, restructure, generation } = useEditor();
  const [kind, setKind] = useState<Kind>('fixed');
  const rules = program.rewardRules;
  const move = (from: number, to: number) => {
    const next = [...rules];
    const [rule] = next.splice(from, 1);
    next.splice(to, 0, rule!);
    restructure(['rewardRules'], next);
  };
  return (
    <Section
      id="rewards"
      title="Rewards"
      intro="Rules are read in order: for each kind of reward (a fee, a commission, a revenue share) the first rule that matches a referral pays, so list specific rules before general ones."
    >
      {rules.map((rule, i) => (
        <fieldset key={`${generation}-${rule.id}`} className="rule">
          <legend>{ruleName(rule)}</legend>
          <RuleFields rule={rule} path={['rewardRules', i]} />
          <div className="actions">
            <button type="button" className="neutral" disabled={i === 0} onClick={() => move(i, i - 1)}>
              Move up<span className="visually-hidden">: {ruleName(rule)}</span>
            </button>
            <button type="button" className="neutral" disabled={i === rules.length - 1} onClick={() => move(i, i + 1)}>
              Move down<span className="visually-hidden">: {ruleName(rule)}</span>
            </button>
            <button
              type="button"
              className="secondary"
              onClick={() =>
                restructure(
                  ['rewardRules'],
                  rules.filter((_, j) => j !== i),
                )
              }
            >
              Remove rule<span className="visually-hidden">: {ruleName(rule)}</span>
            </button>
          </div>
        </fieldset>
      ))}
      <div className="filters">
        <div className="field">
          <label htmlFor="new-rule-kind">New rule</label>
          <select id="new-rule-kind" value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
            {RULE_KIND_WORDS.map(([value, words]) => (
              <option key={value} value={value}>
                {words}
              </option>
            ))}
          </select>
        </div>
        <button type="button" className="neutral" onClick={() => restructure(['rewardRules'], [...rules, newRule(program, kind)])}>
          Add the rule
        </button>
      </div>
    </Section>
  );
}

function RuleFields({ rule, path }: { rule: RewardRule; path: Path }) {
  return (
    <>
      <TextField path={[...path, 'description']} label="Description (shown to referrers)" optional wide />
      <ChoiceSet path={[...path, 'referrerTypes']} legend="Paid to referrers of these types" options={REFERRER_TYPE_WORDS} />
      {rule.kind === 'fixed' && (
        <>
          <SelectField path={[...path, 'milestone']} label="Paid" options={MILESTONE_WORDS} />
          {/* Recognition has no amount: the rule's is 0. */}
          {rule.grant?.kind !== 'recognition' && <MoneyField path={[...path, 'amountCents']} label="Amount" />}
        </>
      )}
      {rule.kind === 'percent' && (
        <>
          <PercentField path={[...path, 'rateBasisPoints']} label="Percent of the deal's first-year value" />
          <MoneyField path={[...path, 'minCents']} label="At least" optional />
          <MoneyField path={[...path, 'maxCents']} label="At most" optional />
        </>
      )}
      {rule.kind === 'bracket' && <Brackets brackets={rule.brackets} path={[...path, 'brackets']} />}
      {rule.kind === 'revenue_share' && (
        <>
          <PercentField path={[...path, 'rateBasisPoints']} label="Percent of each renewal or expansion deal" />
          <WholeField
            path={[...path, 'months']}
            label="For this many months after the first deal closes"
            min={1}
            max={120}
            optional
            hint="Give months, renewals, or both: the share stops at whichever ends first."
          />
          <WholeField path={[...path, 'renewals']} label="For this many renewals" min={1} max={100} optional />
        </>
      )}
      <GrantFields rule={rule} path={path} />
      <MoneyField path={[...path, 'minDealCents']} label="Only for deals from" optional />
      <MoneyField path={[...path, 'maxDealCents']} label="Only for deals below" optional />
      <ListField
        path={[...path, 'referrerTiers']}
        label="Only for referrers in these tiers (comma-separated, optional)"
        optional
        hint="Empty: every tier."
      />
    </>
  );
}

/** A commission table: each row from a deal size up to the next row's, paying a flat fee or a percentage. */
function Brackets({ brackets, path }: { brackets: FeeBracket[]; path: Path }) {
  const { program, restructure, generation } = useEditor();
  const unit = 10 ** minorUnitDigits(program.currency);
  const setFee = (i: number, kind: Fee['kind']) =>
    restructure([...path, i, 'fee'], kind === 'flat' ? { kind, amountCents: 0 } : { kind, rateBasisPoints: 0 });
  return (
    <fieldset className="brackets">
      <legend>By deal size (first-year value)</legend>
      {brackets.map((bracket, i) => {
        const row = i + 1;
        return (
          // biome-ignore lint/suspicious/noArrayIndexKey: a row is its position in the table, drawn anew on each restructure
          <fieldset key={`${generation}-${i}`} className="bracket">
            <legend>Row {row}</legend>
            <MoneyField path={[...path, i, 'fromCents']} label={`Row ${row}: deals from`} />
            <div className="field">
              <label htmlFor={`bracket-${path.join('-')}-${i}-kind`}>Row {row}: pays</label>
              <select
                id={`bracket-${path.join('-')}-${i}-kind`}
                value={bracket.fee.kind}
                onChange={(e) => setFee(i, e.target.value as Fee['kind'])}
              >
                <option value="flat">A flat fee</option>
                <option value="percent">A percentage</option>
              </select>
            </div>
            {bracket.fee.kind === 'flat' ? (
              <MoneyField path={[...path, i, 'fee', 'amountCents']} label={`Row ${row}: fee`} />
            ) : (
              <>
                <PercentField path={[...path, i, 'fee', 'rateBasisPoints']} label={`Row ${row}: percent`} />
                <MoneyField path={[...path, i, 'fee', 'minCents']} label={`Row ${row}: at least`} optional />
                <MoneyField path={[...path, i, 'fee', 'maxCents']} label={`Row ${row}: at most`} optional />
              </>
            )}
            <button
              type="button"
              className="secondary"
              disabled={brackets.length === 1}
              onClick={() =>
                restructure(
                  path,
                  brackets.filter((_, j) => j !== i),
                )
              }
            >
              Remove row {row}
            </button>
          </fieldset>
        );
      })}
      <button
        type="button"
        className="neutral"
        onClick={() => {
          const last = brackets.at(-1)?.fromCents ?? -unit * 10_000;
          restructure(path, [...brackets, { fromCents: last + unit * 10_000, fee: { kind: 'flat', amountCents: 0 } }]);
        }}
      >
        Add a row
      </button>
    </fieldset>
  );
}
