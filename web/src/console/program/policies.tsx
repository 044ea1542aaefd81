import { CheckField, MoneyField, Section, SelectField, WholeField } from './fields.tsx';
import {
  ATTRIBUTION_MODEL_WORDS,
  CHANNEL_CONFLICT_WORDS,
  CLAIM_CUTOFF_WORDS,
  DEDUPE_WINNER_WORDS,
  PLUS_ADDRESSING_WORDS,
} from './words.ts';

/** Approval threshold and payout delay: what finance sees first. */
export function ApprovalSection() {
  return (
    <Section id="rules" title="Approval and payout">
      <MoneyField path={['approvalThresholdCents']} label="Rewards over this amount need an approval" />
      <WholeField path={['payoutDays']} label="Rewards are due this many days after the deal closes" max={3650} />
    </Section>
  );
}

/** Who gets the credit for a won deal, and within how long of the referral. */
export function AttributionSection() {
  return (
    <Section id="attribution" title="Attribution">
      <SelectField
        path={['attribution', 'model']}
        label="When several referrers referred the same deal"
        options={ATTRIBUTION_MODEL_WORDS}
      />
      <WholeField
        path={['attribution', 'windowDays']}
        label="A referral can be credited for deals within this many days of it"
        min={1}
        max={3650}
      />
      <SelectField
        path={['attribution', 'channelConflict']}
        label="When the CRM marks a deal rep-sourced and a partner referred it too"
        options={CHANNEL_CONFLICT_WORDS}
      />
    </Section>
  );
}

/** Referrals of a referee someone already referred, and claims on deals already open. */
export function DuplicatesAndClaimsSection() {
  return (
    <Section id="claims" title="Duplicates and claims">
      <WholeField path={['dedupe', 'windowDays']} label="A referee referred within this many days before is a duplicate" max={3650} />
      <SelectField path={['dedupe', 'winner']} label="Between two referrals of the same referee" options={DEDUPE_WINNER_WORDS} />
      <WholeField path={['dedupe', 'protectionDays']} label="An accepted referral protects its referee for this many days" max={3650} />
      <SelectField path={['dedupe', 'plusAddressing']} label="Email addresses with a + tag" options={PLUS_ADDRESSING_WORDS} />
      <fieldset className="rule">
        <legend>Claims on open deals</legend>
        <CheckField path={['claims', 'allowed']} label="A referral of someone with an open deal may claim that deal" />
        <SelectField path={['claims', 'until']} label="A deal can be claimed" options={CLAIM_CUTOFF_WORDS} />
        <WholeField
          path={['claims', 'windowDays']}
          label="Within this many days of the deal's creation (and a pending claim expires after as many)"
          min={1}
          max={3650}
        />
        <CheckField path={['claims', 'requireApproval']} label="Each claim waits for an approver" />
        <CheckField path={['claims', 'allowExpansion']} label="An existing customer's expansion deal may be claimed" />
      </fieldset>
    </Section>
  );
}
