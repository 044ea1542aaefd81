import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.ts';
import { eventually, startWithSandboxHubSpot, type TestService } from '../support/service.ts';

/**
 * Deal claims and account-level matching over HTTP, Referloop and a sandbox HubSpot as separate
 * servers: a rep logs a partner's referral for someone already in an open deal, an admin approves
 * the claim, the deal closes won in HubSpot, and the partner is rewarded with evidence `claim`.
 */
const CLIENT = { clientId: 'e2e-claims-client', clientSecret: 'e2e-claims-secret', appId: 4343 };
const PIA = { email: 'pia@partner-firm.com', name: 'Pia Partner', type: 'partner' };
const CORA = { email: 'cora@customer.com', name: 'Cora Customer', type: 'customer' };

interface ReferralBody {
  id: string;
  status: string;
  verdict?: { outcome: string; reasons: string[]; claim?: { dealId: string } };
  attributions: { dealId: string; role: string; evidence: Record<string, string>[] }[];
  rewards: { amount: number; currency: string; status: string; milestone: string }[];
  claim: { dealId: string; decision: string | null; decidedBy: string | null } | null;
  program: { version: number; reason: string };
  decisions: { attribution: { dealId: string; attributed: boolean; summary: string }[]; rewards: { summary: string }[] };
}

describe('deal claims and account-level matching against the sandbox HubSpot', () => {
  let hubspot: HubSpotSandbox;
  let svc: TestService;

  beforeAll(async () => {
    ({ hubspot, svc } = await startWithSandboxHubSpot(CLIENT, { webhookBatchMs: 20, webhookRetryMs: 100 }));
  });
  afterAll(async () => {
    await svc?.stop();
    await hubspot?.close();
  });

  const referral = async (id: string) => (await (await svc.api(`/referrals/${id}`)).json()) as ReferralBody;
  const referralCount = () => svc.sqlite.prepare('SELECT count(*) FROM referrals').pluck().get() as number;
  /** The sandbox portal's first user (`hubspot.state.owners`). */
  const sam = { id: '75000001', name: 'Sam Seller' };

  it('a rep claims an open deal for a partner, an admin approves, the deal closes won: the partner is rewarded with evidence claim', async () => {
    const alex = hubspot.state.create('contacts', { email: 'alex@globex.io', firstname: 'Alex' });
    const deal = hubspot.state.create(
      'deals',
      { dealname: 'Globex platform', pipeline: 'default', dealstage: 'presentationscheduled', amount: '40000', hubspot_owner_id: sam.id },
      [{ type: 'contacts', id: alex.id }],
    );

    const logged = await svc.api('/referrals', {
      method: 'POST',
      json: { referrer: PIA, referee: { email: 'alex@globex.io' }, submittedBy: { kind: 'rep', id: 'rep-7', name: 'Riley Rep' } },
    });
    expect(logged.status).toBe(201);
    const claim = (await logged.json()) as ReferralBody;
    expect(claim.status).toBe('claim_pending');
    expect(claim.verdict).toMatchObject({ outcome: 'claim_pending', claim: { dealId: deal.id } });
    expect(claim.verdict!.reasons[0]).toBe(
      'Claim on deal "Globex platform" (stage Presentation Scheduled, owner Sam Seller) recorded; waiting for approval by the program\'s approvers.',
    );

    // Another referrer naming the same deal: 409 naming who holds it, and nothing is written.
    const count = referralCount();
    const other = await svc.api('/referrals', {
      method: 'POST',
      json: { referrer: CORA, referee: { email: 'bo@globex-labs.io' }, deal: { id: deal.id }, submittedBy: { kind: 'rep', id: 'rep-8' } },
    });
    expect(other.status).toBe(409);
    const error = ((await other.json()) as { error: { code: string; message: string; details: Record<string, unknown> } }).error;
    expect(error.code).toBe('conflict');
    expect(error.message).toContain(`is already held by Pia Partner's referral ${claim.id}`);
    expect(error.details).toMatchObject({ referralId: claim.id, referrerName: 'Pia Partner', dealId: deal.id });
    // A deal this CRM does not have: 404 with the reason.
    const missing = await svc.api('/referrals', {
      method: 'POST',
      json: { referrer: CORA, referee: { email: 'bo@globex-labs.io' }, deal: { id: '999999999' }, submittedBy: { kind: 'rep' } },
    });
    expect(missing.status).toBe(404);
    expect(referralCount()).toBe(count);

    // The deal moves before anyone approves: it explains why the claim earns nothing yet.
    hubspot.state.update('deals', deal.id, { dealstage: 'decisionmakerboughtin' });
    const pending = await eventually(
      async () => {
        const r = await referral(claim.id);
        return r.decisions.attribution.length ? r : undefined;
      },
      15_000,
      'the pending claim explained',
    );
    expect(pending.decisions.attribution[0]!.summary).toBe(`Not attributed to deal ${deal.id} because the referral is claim pending.`);

    const approved = await svc.api(`/referrals/${claim.id}/claim/approve`, { method: 'POST', json: { approvedBy: 'Ada Admin' } });
    expect(approved.status).toBe(200);
    expect(((await approved.json()) as { outcome: string }).outcome).toBe('approved');
    const again = await svc.api(`/referrals/${claim.id}/claim/approve`, { method: 'POST', json: { approvedBy: 'Ada Admin' } });
    expect(((await again.json()) as { outcome: string }).outcome).toBe('unchanged');

    hubspot.state.update('deals', deal.id, { dealstage: 'closedwon', closedate: '2026-03-31T12:00:00Z' });
    const won = await eventually(
      async () => {
        const r = await referral(claim.id);
        return r.status === 'closed_won' && r.rewards.length > 0 ? r : undefined;
      },
      20_000,
      'the claimed deal won with a reward',
    );
    expect(won.rewards).toEqual([expect.objectContaining({ amount: 4000, currency: 'USD', status: 'pending', milestone: 'closed_won' })]);
    expect(won.attributions[0]!.evidence).toContainEqual(
      expect.objectContaining({ via: 'claim', by: 'Riley Rep', approvedBy: 'Ada Admin' }),
    );
    expect(won.claim).toMatchObject({ dealId: deal.id, decision: 'approved', decidedBy: 'Ada Admin' });
    expect(won.decisions.rewards.map((r) => r.summary)).toContain(
      'No reward at qualified because no reward rule pays partner referrers at qualified.',
    );
    expect(won.program).toMatchObject({ version: 1 });
    expect(won.program.reason).toContain('follow version 1');
  });

  it('a referral on one contact credits a deal on a colleague at the same company, via the domain', async () => {
    const logged = await svc.api('/referrals', {
      method: 'POST',
      json: { referrer: CORA, referee: { email: 'jordan@initech.io', firstName: 'Jordan' }, submittedBy: { kind: 'rep', id: 'rep-7' } },
    });
    expect(logged.status).toBe(201);
    const { id } = (await logged.json()) as ReferralBody;
    // Pushed to HubSpot as a contact, with no company there yet.
    await eventually(async () => ((await referral(id)) as unknown as { crm: unknown }).crm ?? undefined, 15_000, 'referral pushed');

    const initech = hubspot.state.create('companies', { name: 'Initech', domain: 'initech.io' });
    const pat = hubspot.state.create('contacts', { email: 'pat@initech.io', firstname: 'Pat' }, [{ type: 'companies', id: initech.id }]);
    const deal = hubspot.state.create(
      'deals',
      { dealname: 'Initech rollout', pipeline: 'default', dealstage: 'qualifiedtobuy', amount: '12000' },
      [
        { type: 'contacts', id: pat.id },
        { type: 'companies', id: initech.id },
      ],
    );
    hubspot.state.update('deals', deal.id, { dealstage: 'closedwon', closedate: '2026-03-31T12:00:00Z' });

    const won = await eventually(
      async () => {
        const r = await referral(id);
        return r.status === 'closed_won' ? r : undefined;
      },
      20_000,
      "the colleague's deal credited",
    );
    // The company's own webhook may link the referral to it before the deal is applied (then the
    // company is evidence too); either way the domain is. tests/use-cases/claims.test.ts proves
    // the domain-only lookup without that race.
    expect(won.attributions).toEqual([
      expect.objectContaining({
        dealId: deal.id,
        role: 'sourced',
        evidence: expect.arrayContaining([{ via: 'domain', id: 'initech.io' }]),
      }),
    ]);
    expect(won.rewards.map((r) => [r.milestone, r.amount])).toEqual(
      expect.arrayContaining([
        ['qualified', 50],
        ['closed_won', 500],
      ]),
    );
  });

  it("a deal the installation's mapping reads as rep-sourced: the partner is recorded as influence under the default policy", async () => {
    const installationId = ((await (await svc.api('/installations')).json()) as { id: string }[])[0]!.id;
    // A value the mapping cannot hold is refused, and nothing changes.
    const refused = await svc.api(`/installations/${installationId}/deal-sources`, {
      method: 'PUT',
      json: { fields: [{ field: 'hs_analytics_source', values: { OFFLINE: 'salesperson' } }] },
    });
    expect(refused.status).toBe(400);
    // This team's offline deals are the reps' own: the admin says so.
    const mapped = await svc.api(`/installations/${installationId}/deal-sources`, {
      method: 'PUT',
      json: { fields: [{ field: 'hs_analytics_source', values: { OFFLINE: 'rep', REFERRALS: 'marketing' } }] },
    });
    expect(mapped.status).toBe(200);
    expect(((await mapped.json()) as { dealSources: unknown }).dealSources).toEqual({
      fields: [{ field: 'hs_analytics_source', values: { OFFLINE: 'rep', REFERRALS: 'marketing' } }],
    });

    const logged = await svc.api('/referrals', {
      method: 'POST',
      json: { referrer: PIA, referee: { email: 'kim@umbrella.io' }, submittedBy: { kind: 'rep', id: 'rep-7' } },
    });
    const { id } = (await logged.json()) as ReferralBody;
    const pushed = await eventually(
      async () => {
        const r = (await referral(id)) as ReferralBody & { crm: { person: { id: string } } | null };
        return r.crm ? r : undefined;
      },
      15_000,
      'referral pushed',
    );
    const deal = hubspot.state.create(
      'deals',
      {
        dealname: 'Umbrella rollout',
        pipeline: 'default',
        dealstage: 'closedwon',
        amount: '30000',
        closedate: '2026-03-31T12:00:00Z',
        hs_analytics_source: 'OFFLINE',
      },
      [{ type: 'contacts', id: pushed.crm!.person.id }],
    );
    const decided = await eventually(
      async () => {
        const r = await referral(id);
        return r.attributions.length ? r : undefined;
      },
      20_000,
      'the rep-sourced deal attributed',
    );
    expect(decided.attributions).toEqual([expect.objectContaining({ dealId: deal.id, role: 'influenced' })]);
    expect(decided.rewards).toEqual([]);
    const decision = decided.decisions.attribution.find((d) => d.dealId === deal.id)!;
    expect(decision.summary).toContain('the channel-conflict policy influenced_only');
    expect(decided.decisions.rewards.map((r) => r.summary)).toContain(
      'No reward at closed won because the referral only influenced the deal, so it earns no reward.',
    );
  });
});
