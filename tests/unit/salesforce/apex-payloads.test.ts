import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { askForReferralSchema, createReferralSchema } from '../../../src/http/schemas.ts';

/**
 * What ReferloopController.logReferral POSTs, checked against the schema the API validates with.
 * The fixture is the body the Apex builds (JSON.serialize with nulls left out); the keys are read
 * from the Apex source, so a key added or renamed there without the API knowing it fails here.
 */
const apex = readFileSync(
  new URL('../../../app-manifest/salesforce/force-app/main/default/classes/ReferloopController.cls', import.meta.url),
  'utf8',
);
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../../fixtures/salesforce/apex/${name}`, import.meta.url), 'utf8'));
const body = fixture('log-referral.request.json');
const askBody = fixture('ask-for-referral.request.json');

/** The source of one Apex method or inner class, from its declaration to the next top-level member. */
function member(declaration: RegExp): string {
  const start = apex.search(declaration);
  expect(start, String(declaration)).toBeGreaterThan(-1);
  const rest = apex.slice(start);
  const end = rest.slice(1).search(/\n {4}(public|private|@)/);
  return end === -1 ? rest : rest.slice(0, end + 1);
}

/** The keys an Apex method puts in its JSON maps: in a map literal (`'name' =>`) or one by one (`.put('name'`). */
function keysBuilt(source: string): string[] {
  return [...source.matchAll(/'(\w+)' =>|\.put\('(\w+)'/g)].map((m) => (m[1] ?? m[2])!);
}

/**
 * JSON.serialize(map, true) keeps a Map's null values (suppressApexObjectNulls covers Apex classes only), and the
 * API refuses null for its optional keys: an optional value must be put only when present.
 */
function putsNoNullInAMap(source: string): void {
  expect(source).not.toMatch(/'\w+' => [^,\n]*\? null :|'\w+' => null\b/);
}

/** Every key path of a JSON object, e.g. referrer.name. */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) => [`${prefix}${key}`, ...keyPaths(inner, `${prefix}${key}.`)]);
}

describe('the JSON the Salesforce card sends', () => {
  it('logReferral: the keys the Apex builds are the fixture’s', () => {
    const logReferral = member(/public static Verdict logReferral\(/);
    const mapKeys = keysBuilt(logReferral);
    const refereeFields = [...member(/private class Referee/).matchAll(/public String (\w+);/g)].map((m) => m[1]!);
    // The map's nested keys are named without their parent; the referee is the Referee class.
    const fixtureKeys = keyPaths(body).map((path) => path.split('.').at(-1)!);
    expect(new Set([...mapKeys, ...refereeFields])).toEqual(new Set(fixtureKeys));
    expect(logReferral).toContain("'referee' => refereeOf(recordId)");
    putsNoNullInAMap(logReferral);
    // An optional map value is put only when given: a null there would be refused by the API.
    expect(logReferral).toMatch(/if \(String\.isNotBlank\(notes\)\) \{\s+payload\.put\('notes', notes\);/);
    expect(logReferral).toMatch(/if \(String\.isNotBlank\(programId\)\) \{\s+payload\.put\('programId', programId\);/);
    expect(logReferral).toContain("'submittedBy' => new Map<String, Object>{ 'kind' => 'rep'");
  });

  it('logReferral: the API schema takes the body as is, dropping nothing', () => {
    const parsed = createReferralSchema.safeParse(body);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(parsed.data).toEqual(body);
  });

  it('a referrer type the API does not know is refused, so the fixture is really checked', () => {
    expect(createReferralSchema.safeParse({ ...body, referrer: { ...body.referrer, type: 'friend' } }).success).toBe(false);
  });

  it('askForReferral: the keys the Apex builds are the fixture’s, and the API schema takes it as is', () => {
    const ask = member(/public static AskVerdict askForReferral\(/);
    const mapKeys = keysBuilt(ask);
    expect(new Set(mapKeys)).toEqual(new Set(keyPaths(askBody).map((path) => path.split('.').at(-1)!)));
    putsNoNullInAMap(ask);
    for (const key of ['contactId', 'message', 'idempotencyKey']) expect(ask).toMatch(new RegExp(`\\{\\s+payload\\.put\\('${key}'`));
    expect(askForReferralSchema.safeParse({ ...askBody, contactId: null }).success).toBe(false);
    // No installation is named: the card key decides it.
    expect(mapKeys).not.toContain('installationId');
    expect(ask).toContain("ACCOUNTS_ENDPOINT + EncodingUtil.urlEncode(String.valueOf(accountId), 'UTF-8') + '/asks'");
    const parsed = askForReferralSchema.safeParse(askBody);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    expect(parsed.data).toEqual(askBody);
    expect(askForReferralSchema.safeParse({ ...askBody, askedBy: { ...askBody.askedBy, email: 'not an email' } }).success).toBe(false);
  });

  it('programs reads the card route that lists the installation’s programs, with the fields the API answers', () => {
    expect(apex).toContain("PROGRAMS_ENDPOINT = 'callout:Referloop/api/v1/programs'");
    const choice = [...member(/public class ProgramChoice/).matchAll(/public \w+ (\w+);/g)].map((m) => m[1]);
    expect(choice).toEqual(['id', 'name', 'isDefault']);
    const programs = member(/public static List<ProgramChoice> programs\(/);
    for (const field of choice) expect(programs).toContain(`program.get('${field}')`);
  });

  it('eligibilityOf and referralsOfOpportunity call the card routes, naming no installation', () => {
    expect(member(/public static Eligibility eligibilityOf\(/)).toContain("+ '/eligibility'");
    const onOpportunity = member(/public static List<OpportunityReferral> referralsOfOpportunity\(/);
    expect(onOpportunity).toContain("REFERRALS_ENDPOINT + '?crm=salesforce&objectType=deal&objectId='");
    expect(onOpportunity).not.toContain('installationId');
  });
});
