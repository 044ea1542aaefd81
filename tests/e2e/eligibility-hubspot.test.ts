import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.ts';
import { eventually, startWithSandboxHubSpot, type TestService } from '../support/service.ts';

/**
 * Eligibility stays fresh in HubSpot without waiting for reconciliation: the app subscribes to the
 * company properties eligibility reads, so a change arrives by webhook and is written back within
 * seconds; a change of the field mapping re-evaluates every known account in the background.
 */
const CLIENT = { clientId: 'e2e-eligibility-hs-client', clientSecret: 'e2e-eligibility-hs-secret', appId: 5353 };
/** Fast enough to show "within seconds", slow enough for a shared CI machine. */
const SECONDS = 5_000;

describe('HubSpot eligibility, right and fresh', () => {
  let hubspot: HubSpotSandbox;
  let svc: TestService;
  let installationId: string;

  beforeAll(async () => {
    ({ hubspot, svc, installationId } = await startWithSandboxHubSpot(CLIENT, { webhookBatchMs: 20, webhookRetryMs: 100 }));
  });
  afterAll(async () => {
    await svc?.stop();
    await hubspot?.close();
  });

  const db = () => svc.sqlite;
  const onRecord = (id: string) => hubspot.state.get('companies', id)!.properties;
  const writtenBack = (id: string, eligible: 'true' | 'false', what: string) =>
    eventually(() => (onRecord(id).referloop_referral_eligible === eligible ? onRecord(id) : undefined), SECONDS, what);
  const customer = (name: string, properties: Record<string, string>) =>
    hubspot.state.create('companies', {
      name,
      domain: `${name.toLowerCase().replaceAll(' ', '-')}.example`,
      lifecyclestage: 'customer',
      hs_lifecyclestage_customer_date: '2025-01-15T00:00:00Z',
      ...properties,
    });

  it('an NPS change to 9 makes the company eligible on the record within seconds, with no reconciliation, and its CS owner is told', async () => {
    const casey = hubspot.state.owners[1]!;
    const account = customer('Loyal Co', { referloop_nps: '6', hubspot_owner_id: casey.id });
    expect((await writtenBack(account.id, 'false', 'first evaluation written back')).referloop_eligibility_reason).toMatch(
      /NPS 6 is below 9/,
    );

    hubspot.state.update('companies', account.id, { referloop_nps: '9' });
    const record = await writtenBack(account.id, 'true', 'eligibility after the NPS change written back');
    expect(record.referloop_eligibility_reason).toMatch(/^Eligible to refer/);
    // Nothing but the webhook carried it: reconciliation never ran.
    expect(db().prepare("SELECT count(*) FROM sync_cursors WHERE name = 'reconcile'").pluck().get()).toBe(0);

    const told = await eventually(
      () => {
        const rows = db().prepare("SELECT payload FROM outbox WHERE topic = 'account.eligible' AND channel = 'email'").pluck().all();
        return rows.length ? (rows as string[]).map((p) => JSON.parse(p) as { to: { email: string }; data: unknown }) : undefined;
      },
      SECONDS,
      'the CS owner told',
    );
    expect(told).toEqual([expect.objectContaining({ to: expect.objectContaining({ email: casey.email }) })]);
    expect(told[0]!.data).toMatchObject({ account: { name: 'Loyal Co' } });
  });

  it('a change of the field mapping re-evaluates a known account in the background, with no change to the record', async () => {
    const account = customer('Steady Co', { referloop_nps: '10', referloop_health_score: '40' });
    expect((await writtenBack(account.id, 'false', 'first evaluation written back')).referloop_eligibility_reason).toMatch(
      /health score 40 is below 70/,
    );

    // This portal's health score means nothing: eligibility stops reading it.
    const { fields } = (await (await svc.api(`/installations/${installationId}/eligibility-fields`)).json()) as {
      fields: Record<string, unknown>;
    };
    expect(fields.healthScore).toBe('referloop_health_score');
    const res = await svc.api(`/installations/${installationId}/eligibility-fields`, {
      method: 'PUT',
      json: { ...fields, healthScore: null },
    });
    expect(res.status).toBe(200);

    const record = await writtenBack(account.id, 'true', 'eligibility re-evaluated after the mapping change');
    expect(record.referloop_eligibility_reason).toMatch(/^Eligible to refer/);
    expect(record.referloop_health_score).toBe('40');
  });
});
