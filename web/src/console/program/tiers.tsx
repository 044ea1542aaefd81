import type { MilestoneBonus, PromotionRule } from '../../../../src/domain/program.ts';
import { newRuleId } from './rows.ts';
import { ChoiceSet, ListField, MoneyField, Section, SelectField, TextField, useEditor, WholeField } from './fields.tsx';
import { DEAL_SIZE_BASIS_WORDS, MILESTONE_WORDS, REFERRER_TYPE_WORDS } from './words.ts';

/** Referrer tiers and what moves a referrer up them, bonuses for many wins, the referee's reward, and caps. */
export function TiersSection() {
  const { program, restructure, generation } = useEditor();
  const promotions = program.promotionRules ?? [];
  const tiers = program.tiers ?? [];
  const addPromotion = () => {
    const rule: PromotionRule = { id: newRuleId(promotions, 'promotion'), closedWonReferrals: 3, withinDays: 365, toTier: tiers[0] ?? '' };
    restructure(['promotionRules'], [...promotions, rule]);
  };
  return (
    <Section
      id="tiers"
      title="Tiers and promotions"
      intro="Referrer tiers, lowest first. A promotion moves a referrer up to a tier after enough won deals; it never moves anyone down."
    >
      <ListField
        path={['tiers']}
        label="Tiers, lowest first (comma-separated, optional)"
        optional
        hint="For example: silver, gold, platinum."
      />
      <SelectField path={['dealSizeBasis']} label="Deal sizes in rules and tiers compare" options={DEAL_SIZE_BASIS_WORDS} />
      {promotions.map((rule, i) => {
        const path = ['promotionRules', i] as const;
        const name = rule.description || `Promotion to ${rule.toTier || 'a tier'}`;
        return (
          <fieldset key={`${generation}-${rule.id}`} className="rule">
            <legend>{name}</legend>
            <TextField path={[...path, 'description']} label="Description" optional wide />
            <SelectField
              path={[...path, 'toTier']}
              label="Promotes to the tier"
              options={(tiers.includes(rule.toTier) || !rule.toTier ? tiers : [...tiers, rule.toTier]).map((t) => [t, t] as const)}
            />
            <WholeField path={[...path, 'closedWonReferrals']} label="After this many referrals closed won" min={1} />
            <WholeField path={[...path, 'withinDays']} label="Within this many days" min={1} max={3650} />
            <ChoiceSet
              path={[...path, 'referrerTypes']}
              legend="For referrers of these types (none ticked: every type)"
              options={REFERRER_TYPE_WORDS}
              noneMeansAll
            />
            <button
              type="button"
              className="secondary"
              onClick={() =>
                restructure(
                  ['promotionRules'],
                  promotions.filter((_, j) => j !== i),
                )
              }
            >
              Remove the promotion<span className="visually-hidden">: {name}</span>
            </button>
          </fieldset>
        );
      })}
      <button type="button" className="neutral" onClick={addPromotion}>
        Add a promotion
      </button>
    </Section>
  );
}

export function BonusesSection() {
  const { program, restructure, generation } = useEditor();
  const bonuses = program.milestoneBonuses;
  const addBonus = () => {
    const bonus: MilestoneBonus = {
      id: newRuleId(bonuses, 'bonus'),
      referrerTypes: [...program.referrerTypes.slice(0, 1)],
      closedWonPerQuarter: 3,
      amountCents: 0,
    };
    restructure(['milestoneBonuses'], [...bonuses, bonus]);
  };
  return (
    <Section id="bonuses" title="Bonuses, the referee's reward and caps">
      {bonuses.map((bonus, i) => {
        const path = ['milestoneBonuses', i] as const;
        const name = bonus.description || `Bonus for ${bonus.closedWonPerQuarter} wins in a quarter`;
        return (
          <fieldset key={`${generation}-${bonus.id}`} className="rule">
            <legend>{name}</legend>
            <TextField path={[...path, 'description']} label="Description" optional wide />
            <WholeField path={[...path, 'closedWonPerQuarter']} label="Paid once a quarter at this many referrals closed won" min={1} />
            <MoneyField path={[...path, 'amountCents']} label="Bonus" />
            <ChoiceSet path={[...path, 'referrerTypes']} legend="For referrers of these types" options={REFERRER_TYPE_WORDS} />
            <button
              type="button"
              className="secondary"
              onClick={() =>
                restructure(
                  ['milestoneBonuses'],
                  bonuses.filter((_, j) => j !== i),
                )
              }
            >
              Remove the bonus<span className="visually-hidden">: {name}</span>
            </button>
          </fieldset>
        );
      })}
      <button type="button" className="neutral" onClick={addBonus}>
        Add a bonus
      </button>
      <fieldset className="rule">
        <legend>The referee's reward (dual-sided programs)</legend>
        <div className="field">
          <label className="choice" htmlFor="referee-reward-on">
            <input
              id="referee-reward-on"
              type="checkbox"
              checked={program.refereeReward !== undefined}
              onChange={(e) =>
                restructure(
                  ['refereeReward'],
                  e.target.checked ? { milestone: 'closed_won', amountCents: 0, description: 'A thank-you for joining' } : undefined,
                )
              }
            />{' '}
            The person referred gets a reward too
          </label>
        </div>
        {program.refereeReward && (
          <>
            <SelectField path={['refereeReward', 'milestone']} label="Paid" options={MILESTONE_WORDS} />
            <MoneyField path={['refereeReward', 'amountCents']} label="Referee's reward" />
            <TextField path={['refereeReward', 'description']} label="What the referee is told they get" />
          </>
        )}
      </fieldset>
      <MoneyField path={['caps', 'perReferralCents']} label="At most per referral, fees and commission together" optional />
      <MoneyField path={['caps', 'perReferrerPerYearCents']} label="At most per referrer in a calendar year, bonuses included" optional />
    </Section>
  );
}
