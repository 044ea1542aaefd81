import type { ReactNode } from 'react';
import { defaultAskPolicy } from '../../../../src/domain/referral-ask.ts';
import { CheckField, ChoiceSet, ListField, Section, SelectField, TextField, useEditor, WholeField } from './fields.tsx';
import { ASKER_WORDS, REFEREE_NAMING_WORDS, REFERRER_TYPE_WORDS } from './words.ts';

/** The program's name, sender and currency. */
export function GeneralSection({ currency }: { currency: ReactNode }) {
  return (
    <Section id="general" title="The program">
      <TextField path={['name']} label="Program name" />
      <TextField path={['senderName']} label="Emails come from (name)" />
      <TextField path={['senderEmail']} label="Emails come from (address)" inputMode="email" />
      <TextField
        path={['financeEmail']}
        label="Finance's address for a daily digest of rewards to approve (optional)"
        inputMode="email"
        optional
      />
      {currency}
    </Section>
  );
}

/** Who may refer, and what they are told. */
export function ReferrersSection() {
  return (
    <Section id="referrers" title="Referrers and what they see">
      <ChoiceSet path={['referrerTypes']} legend="Who may refer" options={REFERRER_TYPE_WORDS} />
      <CheckField path={['requireAgreement']} label="Referrers accept the program's agreement before they refer" />
      <fieldset className="rule">
        <legend>What referrers may see</legend>
        <CheckField path={['discretion', 'showStage']} label="The deal's stage" />
        <CheckField path={['discretion', 'showReward']} label="Their reward" />
        <CheckField path={['discretion', 'showDealAmount']} label="The deal's amount" />
        <CheckField path={['discretion', 'showInternalNotes']} label="Internal notes" />
        <SelectField
          path={['discretion', 'refereeNaming']}
          label="Messages name the person referred"
          options={REFEREE_NAMING_WORDS}
          unset="By full name (the default)"
        />
      </fieldset>
      <fieldset className="rule">
        <legend>Notifications</legend>
        <CheckField path={['notifications', 'digest']} label="Referrers get a digest instead of one email per change" />
        <WholeField
          path={['notifications', 'quietPeriodSeconds']}
          label="Deal steps passed within this many seconds are told as one message (optional, 60 when empty)"
          max={3600}
          optional
        />
      </fieldset>
    </Section>
  );
}

/** Referral asks to account champions, and referral links. */
export function AsksAndLinksSection() {
  const { program, restructure } = useEditor();
  return (
    <Section id="asks" title="Asks and referral links">
      <div className="field">
        <label className="choice" htmlFor="asks-own">
          <input
            id="asks-own"
            type="checkbox"
            checked={program.asks !== undefined}
            onChange={(e) => restructure(['asks'], e.target.checked ? defaultAskPolicy() : undefined)}
          />{' '}
          Set the program's own ask settings (else owners and admins may ask, nothing is sent on its own)
        </label>
      </div>
      {program.asks && (
        <fieldset className="rule">
          <legend>Referral asks</legend>
          <ChoiceSet path={['asks', 'askers']} legend="Asks may be signed by" options={ASKER_WORDS} />
          <CheckField path={['asks', 'automatic']} label="Ask automatically when an account becomes eligible to refer" />
          <WholeField
            path={['asks', 'minDaysBetweenAutomatic']}
            label="At most one ask the program sends by itself per account within this many days"
            min={1}
            max={3650}
          />
          <TextField path={['asks', 'template']} label="The ask email's own words (optional; else Referloop's)" multiline optional />
          <ListField path={['asks', 'milestones']} label="Product milestones that ask the account (comma-separated, optional)" optional />
        </fieldset>
      )}
      <div className="field">
        <label className="choice" htmlFor="links-on">
          <input
            id="links-on"
            type="checkbox"
            checked={program.links !== undefined}
            onChange={(e) => restructure(['links'], e.target.checked ? { landingUrl: '', allowedDomains: [] } : undefined)}
          />{' '}
          Referrers get referral links
        </label>
      </div>
      {program.links && (
        <fieldset className="rule">
          <legend>Referral links</legend>
          <TextField path={['links', 'landingUrl']} label="A link lands on" inputMode="url" />
          <ListField
            path={['links', 'allowedDomains']}
            label="Landing pages may be on these domains and their subdomains (comma-separated)"
          />
          <CheckField path={['links', 'requireApproval']} label="Referrals from links wait for an approver" />
        </fieldset>
      )}
    </Section>
  );
}
