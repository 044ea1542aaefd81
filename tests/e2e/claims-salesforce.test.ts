import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.ts';
import { eventually, startWithSandboxSalesforce, type TestService } from '../support/service.ts';

/**
 * Deal claims and channel conflict over HTTP, Referloop and a sandbox Salesforce as separate
 * servers: a claim on an open Opportunity, approved and won; and a partner referral on an
 * Opportunity whose LeadSource says a rep sourced it, under each channel-conflict policy.
 */
const CLIENT = { clientId: 'e2e-claims-sf-client', clientSecret: 'e2e-claims-sf-secret' };
const PIA = { email: 'pia@partner-firm.com', name: 'Pia Partner', type: 'partner' };

interface ReferralBody {
  id: string;
  status: string;
  crm: { person: { objectType: string; id: string } } | null;
  verdict?: { outcome: string; reasons: string[] };
  attributions: { dealId: string; role: string; sharePpm: number; evidence: Record<string, string>[] }[];
  rewards: { amount: number; status: string; milestone: string }[];
  decisions: { attribution: { dealId: string; attributed: boolean; summary: string; dealReasons: string[] }[] };
}

describe('deal claims and channel conflict against the sandbox Salesforce', () => {
  let salesforce: SalesforceSandbox;
  let svc: TestService;

  beforeAll(async () => {
    ({ salesforce, svc } = await startWithSandboxSalesforce(CLIENT));
  });
  afterAll(async () => {
    await svc?.stop();
    await salesforce?.close();
  });

  const referral = async (id: string) => (await (await svc.api(`/referrals/${id}`)).json()) as ReferralBody;
  const submit = async (email: string) => {
    const res = await svc.api('/referrals', {
      method: 'POST',
      json: {
        referrer: PIA,
        referee: { email, firstName: 'Jo', lastName: 'Lee' },
        submittedBy: { kind: 'rep', id: '005000000000001', name: 'Riley Rep' },
      },
    });
    expect(res.status).toBe(201);
    return (await res.json()) as ReferralBody;
  };

  it('a claim on an open Opportunity, approved, then won: the partner is rewarded with evidence claim', async () => {
    const contact = salesforce.actions.createContact({ FirstName: 'Alex', LastName: 'Ng', Email: 'alex@globex.io' });
    const { opportunityId } = salesforce.actions.createOpportunity({
      name: 'Globex platform',
      contactIds: [contact.Id as string],
      stageName: 'Qualification',
      amount: 40_000,
      closeDate: '2026-03-31',
    });
    const claim = await submit('alex@globex.io');
    expect(claim.status).toBe('claim_pending');
    expect(claim.verdict!.reasons[0]).toMatch(
      /^Claim on deal "Globex platform" \(stage Qualification, owner [^)]+\) recorded; waiting for approval/,
    );

    const approved = await svc.api(`/referrals/${claim.id}/claim/approve`, { method: 'POST', json: { approvedBy: 'Ada Admin' } });
    expect(((await approved.json()) as { outcome: string }).outcome).toBe('approved');
    salesforce.actions.moveStage({ opportunityId: opportunityId, stageName: 'Closed Won' });
    const won = await eventually(
      async () => {
        const r = await referral(claim.id);
        return r.status === 'closed_won' && r.rewards.length > 0 ? r : undefined;
      },
      20_000,
      'the claimed Opportunity won with a reward',
    );
    expect(won.rewards).toEqual([expect.objectContaining({ amount: 4000, status: 'pending', milestone: 'closed_won' })]);
    expect(won.attributions[0]!.evidence).toContainEqual(
      expect.objectContaining({ via: 'claim', by: 'Riley Rep', approvedBy: 'Ada Admin' }),
    );
  });

  it.each<[string, number | null, string]>([
    ['ignore', 1_000_000, 'the channel-conflict policy ignore credits the partner in full'],
    ['split_with_rep', 500_000, 'the channel-conflict policy split_with_rep'],
    ['influenced_only', 0, 'the channel-conflict policy influenced_only'],
    ['rep_sourced_blocks_partner', null, 'the channel-conflict policy rep_sourced_blocks_partner'],
  ])('a partner referral on a rep-sourced Opportunity (LeadSource Cold Call) under %s', async (policy, sharePpm, reason) => {
    // GET /program can be PUT back: the document with the one setting changed.
    const current = (await (await svc.api('/program')).json()) as { program: { attribution: Record<string, unknown> } };
    const saved = await svc.api('/program', {
      method: 'PUT',
      json: { ...current, program: { ...current.program, attribution: { ...current.program.attribution, channelConflict: policy } } },
    });
    expect(saved.status).toBe(200);

    const submitted = await submit(`jo.${policy}@initrode-${policy.replace(/_/g, '-')}.io`);
    const pushed = await eventually(
      async () => {
        const r = await referral(submitted.id);
        return r.crm ? r : undefined;
      },
      15_000,
      'referral pushed as a Lead',
    );
    const { opportunityId } = salesforce.actions.convertLead({
      leadId: pushed.crm!.person.id,
      createOpportunity: true,
      opportunityName: `Initrode ${policy}`,
    });
    // The rep found this one on a cold call: the Opportunity's own LeadSource says so.
    salesforce.actions.updateRecord({
      sobject: 'Opportunity',
      id: opportunityId!,
      fields: { LeadSource: 'Cold Call', Amount: 10_000, CloseDate: '2026-03-31' },
    });
    salesforce.actions.moveStage({ opportunityId: opportunityId!, stageName: 'Closed Won' });

    const decided = await eventually(
      async () => {
        const r = await referral(submitted.id);
        const decision = r.decisions.attribution.find((d) => d.dealReasons.some((x) => x.includes('rep-sourced')));
        return decision && (sharePpm === null || r.attributions.length > 0) ? { r, decision } : undefined;
      },
      20_000,
      `the ${policy} decision`,
    );
    expect(decided.decision.dealReasons).toContain(
      'the CRM records the deal as rep-sourced (Opportunity.LeadSource is "Cold Call", which the installation maps to rep)',
    );
    expect(decided.decision.summary).toContain(reason);
    if (sharePpm === null) {
      expect(decided.decision.attributed).toBe(false);
      expect(decided.decision.summary).toMatch(/^Not attributed to deal .* because /);
      expect(decided.r.attributions).toEqual([]);
    } else {
      expect(decided.r.attributions).toEqual([expect.objectContaining({ sharePpm })]);
    }
  });
});
