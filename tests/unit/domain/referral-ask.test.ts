import { describe, expect, it } from 'vitest';
import { defaultProgram } from '../../../src/domain/program.ts';
import { programSchema } from '../../../src/http/program.schema.ts';
import { type AskFacts, type AskPolicy, askPolicyOf, decideAsk, defaultAskPolicy } from '../../../src/domain/referral-ask.ts';

const NOW = '2026-06-01T10:00:00.000Z';

/** An eligible account, a reachable champion, signed by the company's owner: the ask may go out. */
const facts = (over: Partial<AskFacts> = {}): AskFacts => ({
  trigger: 'manual',
  eligibility: { eligible: true, failing: [] },
  champion: { email: 'carla@customer.example', emailOptOut: false, unsubscribed: false },
  signedByOwner: true,
  askedByAdmin: false,
  lastAutomaticAskAt: null,
  now: NOW,
  ...over,
});
const policy = (over: Partial<AskPolicy> = {}): AskPolicy => ({ ...defaultAskPolicy(), ...over });

describe('decideAsk', () => {
  it.each<[string, Partial<AskFacts>, Partial<AskPolicy>, string | null, string[]]>([
    ['eligible, reachable, signed by the owner', {}, {}, null, []],
    [
      'not eligible: the failing rules are named',
      { eligibility: { eligible: false, failing: ['NPS 6 is below 9', 'customer for 30 days, not 90'] } },
      {},
      'not_eligible',
      ['the account is not eligible to refer: NPS 6 is below 9; customer for 30 days, not 90'],
    ],
    ['never evaluated', { eligibility: null }, {}, 'not_eligible', ['the account was never evaluated for eligibility']],
    ['no contact', { champion: null }, {}, 'no_champion', ['the company has no contact to ask']],
    [
      'a contact without email',
      { champion: { email: null, emailOptOut: false, unsubscribed: false } },
      {},
      'champion_no_email',
      ['the contact has no email address'],
    ],
    [
      'a contact opted out of email',
      { champion: { email: 'carla@customer.example', emailOptOut: true, unsubscribed: false } },
      {},
      'champion_opted_out',
      ['the contact opted out of email in the CRM'],
    ],
    [
      "a contact unsubscribed from the program's emails",
      { champion: { email: 'carla@customer.example', emailOptOut: false, unsubscribed: true } },
      {},
      'champion_opted_out',
      ["the contact unsubscribed from the program's emails"],
    ],
    ['an admin, when admins may ask', { signedByOwner: false, askedByAdmin: true }, { askers: ['admins'] }, null, []],
    [
      'an admin, when only owners may ask',
      { signedByOwner: false, askedByAdmin: true },
      { askers: ['cs_owner'] },
      'asker_not_allowed',
      ['the program lets only cs_owner ask; this ask comes from an admin and is signed by someone other than the company owner'],
    ],
    [
      'the owner, when only admins may ask',
      {},
      { askers: ['admins'] },
      'asker_not_allowed',
      ['the program lets only admins ask; this ask comes from a CRM user and is signed by the company owner'],
    ],
    ['the account owner setting admits the owner', {}, { askers: ['account_owner'] }, null, []],
    [
      'a CRM user signing as someone else',
      { signedByOwner: false },
      {},
      'asker_not_allowed',
      [
        'the program lets only cs_owner, account_owner, admins ask; this ask comes from a CRM user and is signed by someone other than the company owner',
      ],
    ],
    [
      'an automatic ask within the period',
      { trigger: 'automatic', lastAutomaticAskAt: '2026-04-01T10:00:00.000Z' },
      { minDaysBetweenAutomatic: 90 },
      'too_soon',
      ['an automatic ask went out on 2026-04-01; the next may go out from 2026-06-30'],
    ],
    [
      'an automatic ask once the period has passed',
      { trigger: 'automatic', lastAutomaticAskAt: '2026-03-03T10:00:00.000Z' },
      { minDaysBetweenAutomatic: 90 },
      null,
      [],
    ],
    ['a manual ask is not held by the automatic period', { lastAutomaticAskAt: '2026-05-31T10:00:00.000Z' }, {}, null, []],
    [
      'a product milestone within the period of the program’s last ask',
      { trigger: 'milestone', askedByAdmin: true, lastAutomaticAskAt: '2026-04-01T10:00:00.000Z' },
      { minDaysBetweenAutomatic: 90 },
      'too_soon',
      ['an automatic ask went out on 2026-04-01; the next may go out from 2026-06-30'],
    ],
    [
      'a product milestone once the period has passed',
      { trigger: 'milestone', askedByAdmin: true, lastAutomaticAskAt: '2026-03-03T10:00:00.000Z' },
      { minDaysBetweenAutomatic: 90 },
      null,
      [],
    ],
  ])('%s', (_, over, policyOver, refusal, reasons) => {
    const decision = decideAsk(facts(over), policy(policyOver));
    if (refusal === null) expect(decision).toEqual({ send: true });
    else expect(decision).toEqual({ send: false, refusal, reasons });
  });

  it('names every failing condition, the first one deciding the refusal', () => {
    const decision = decideAsk(
      facts({
        eligibility: { eligible: false, failing: ['NPS 6 is below 9'] },
        champion: { email: 'a@b.example', emailOptOut: true, unsubscribed: false },
      }),
      policy(),
    );
    expect(decision).toEqual({
      send: false,
      refusal: 'not_eligible',
      reasons: ['the account is not eligible to refer: NPS 6 is below 9', 'the contact opted out of email in the CRM'],
    });
  });
});

describe('askPolicyOf', () => {
  it('gives program versions written before asks existed the defaults: owners and admins ask, nothing automatic', () => {
    expect(askPolicyOf(defaultProgram())).toEqual({
      askers: ['cs_owner', 'account_owner', 'admins'],
      automatic: false,
      minDaysBetweenAutomatic: 90,
    });
  });

  it('reads the program’s own settings', () => {
    const asks: AskPolicy = { askers: ['admins'], automatic: true, minDaysBetweenAutomatic: 30 };
    expect(askPolicyOf({ ...defaultProgram(), asks })).toEqual(asks);
  });
});

describe('the program’s ask settings at the API edge', () => {
  const issuesOf = (asks: unknown) => {
    const r = programSchema.safeParse({ ...defaultProgram(), asks });
    return r.success ? [] : r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  };

  it('takes a program without them, and valid ones as given', () => {
    expect(programSchema.parse(defaultProgram()).asks).toBeUndefined();
    const asks = { askers: ['cs_owner', 'admins'], automatic: true, minDaysBetweenAutomatic: 30, template: 'Know a team like yours?' };
    expect(programSchema.parse({ ...defaultProgram(), asks }).asks).toEqual(asks);
  });

  it.each([
    [{ askers: ['ceo'], automatic: false, minDaysBetweenAutomatic: 90 }, 'asks.askers.0', /must be one of cs_owner, account_owner, admins/],
    [{ askers: ['admins', 'admins'], automatic: false, minDaysBetweenAutomatic: 90 }, 'asks.askers', /must not repeat an asker/],
    [{ askers: [], automatic: true, minDaysBetweenAutomatic: 0 }, 'asks.minDaysBetweenAutomatic', /at least 1/],
    [{ askers: [], automatic: true, minDaysBetweenAutomatic: 30, template: 'x'.repeat(2_001) }, 'asks.template', /at most 2000/],
    [{ askers: [], automatic: true, minDaysBetweenAutomatic: 30, period: 30 }, 'asks', /period/],
  ])('refuses %j', (asks, path, message) => {
    const issues = issuesOf(asks);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe(path);
    expect(issues[0]!.message).toMatch(message);
  });
});
