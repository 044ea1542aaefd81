/**
 * Referrals linked to CRM records, on a real SQLite database: the records travel to one prepared
 * statement as a JSON list, of any length.
 */
import { describe, expect, it } from 'vitest';
import { referralsRepo } from '../../../src/store/referrals.repo.ts';
import { createTestDb, insertInstallation, insertReferral, insertReferrer } from '../notify/fixtures.ts';

function setup() {
  const db = createTestDb();
  const installationId = insertInstallation(db);
  const otherInstallationId = insertInstallation(db);
  const referrer = insertReferrer(db, installationId, { name: 'Pia Partner', email: 'pia@partner.test' });
  const otherReferrer = insertReferrer(db, otherInstallationId, { name: 'Oskar Other', email: 'oskar@other.test' });
  const referee = (lastName: string) => ({ firstName: 'Jordan', lastName, company: `${lastName} Widgets` });
  const [a, b, c] = ['A', 'B', 'C'].map((name) => insertReferral(db, referrer, referee(name)).id) as [string, string, string];
  const other = insertReferral(db, otherReferrer, referee('Other')).id;
  const repo = referralsRepo(db);
  repo.link(installationId, a, 'contact', '101');
  repo.link(installationId, a, 'company', '900');
  repo.link(installationId, b, 'contact', '102');
  repo.link(installationId, b, 'deal', '7');
  repo.link(installationId, c, 'lead', '101');
  // The same record id in another installation's CRM is another record.
  repo.link(otherInstallationId, other, 'contact', '101');
  return { repo, installationId, a, b, c };
}

describe('referralsRepo.linkedTo', () => {
  it('finds the referrals linked to any of the records, each once, ordered by id', () => {
    const { repo, installationId, a, b } = setup();
    const linked = repo.linkedTo(installationId, [
      { objectType: 'contact', ids: ['101', '102', '103'] },
      { objectType: 'company', ids: ['900'] },
      { objectType: 'deal', ids: ['7'] },
    ]);
    expect(linked.map((r) => r.id)).toEqual([a, b].sort());
    expect(linked[0]).toMatchObject({ installationId, status: 'submitted', verdict: {} });
  });

  it('matches type and id together: a lead 101 is not a contact 101', () => {
    const { repo, installationId, a, c } = setup();
    expect(repo.linkedTo(installationId, [{ objectType: 'contact', ids: ['101'] }]).map((r) => r.id)).toEqual([a]);
    expect(repo.linkedTo(installationId, [{ objectType: 'lead', ids: ['101'] }]).map((r) => r.id)).toEqual([c]);
  });

  it('finds nothing for no records, or for records without ids', () => {
    const { repo, installationId } = setup();
    expect(repo.linkedTo(installationId, [])).toEqual([]);
    expect(
      repo.linkedTo(installationId, [
        { objectType: 'contact', ids: [] },
        { objectType: 'deal', ids: [] },
      ]),
    ).toEqual([]);
  });
});

describe('referralsRepo.priorFor', () => {
  it("finds the installation's referrals of the email or the domain, each once, oldest first", () => {
    const db = createTestDb();
    const installationId = insertInstallation(db);
    const otherInstallationId = insertInstallation(db);
    const referrer = insertReferrer(db, installationId, { name: 'Pia Partner', email: 'pia@partner.test' });
    const otherReferrer = insertReferrer(db, otherInstallationId, { name: 'Oskar Other', email: 'oskar@other.test' });
    const add = (r: typeof referrer, lastName: string, domain: string, submittedAt: string) => {
      const { id } = insertReferral(db, r, { firstName: 'Jordan', lastName, company: 'Acme' });
      db.$client.prepare('UPDATE referrals SET referee_domain = ?, submitted_at = ? WHERE id = ?').run(domain, submittedAt, id);
      return id;
    };
    const sameDomainLater = add(referrer, 'A', 'acme.test', '2026-03-02T00:00:00.000Z');
    const sameDomainEarlier = add(referrer, 'B', 'acme.test', '2026-03-01T00:00:00.000Z');
    const sameEmail = add(referrer, 'C', 'elsewhere.test', '2026-03-03T00:00:00.000Z');
    add(referrer, 'D', 'unrelated.test', '2026-03-04T00:00:00.000Z');
    add(otherReferrer, 'E', 'acme.test', '2026-02-01T00:00:00.000Z');
    const repo = referralsRepo(db);
    const emailOf = (id: string) => repo.get(id)!.refereeEmailKey;

    expect(repo.priorFor(installationId, emailOf(sameEmail), 'acme.test').map((r) => r.id)).toEqual([
      sameDomainEarlier,
      sameDomainLater,
      sameEmail,
    ]);
    // Matching by both email and domain is still one referral.
    expect(repo.priorFor(installationId, emailOf(sameDomainLater), 'acme.test').map((r) => r.id)).toEqual([
      sameDomainEarlier,
      sameDomainLater,
    ]);
    expect(repo.priorFor(installationId, emailOf(sameEmail), null).map((r) => r.id)).toEqual([sameEmail]);
    expect(repo.priorFor(installationId, 'nobody@nowhere.test', 'nowhere.test')).toEqual([]);
  });
});
