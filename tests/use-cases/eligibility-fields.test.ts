import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { accountEligibility } from '../../src/use-cases/account-eligibility.ts';
import { changeEligibilityFields } from '../../src/use-cases/eligibility-fields.ts';
import { createWorld, type World } from './world.ts';

describe('eligibility fields on the fake CRM', () => {
  let world: World;
  beforeEach(async () => {
    world = await createWorld();
  });
  afterEach(async () => await world.close());

  const mapping = async () =>
    (await world.store.installations.settings((await world.store.installations.get(world.installation.id))!)).eligibilityFields;

  it("are detected from the CRM's account schema at install", async () => {
    expect(await mapping()).toEqual({
      nps: 'nps',
      customerSince: 'customer_since',
      healthScore: 'health_score',
      openEscalations: 'open_escalations',
      accountType: { field: 'lifecycle_stage', customerValues: ['customer'] },
    });
    expect(world.crm.calls).toContain('describeAccountFields');
  });

  it("once mapped to the account's own fields, decide eligibility from them; the standard ones no longer count", async () => {
    world.crm.addAccountField({ name: 'promoter_score', label: 'Promoter score (survey)', kind: 'number', options: [] });
    world.crm.addAccountField({ name: 'segment', label: 'Segment', kind: 'choice', options: ['Prospect', 'Customer - Direct', 'Partner'] });
    const company = world.crm.createCompany({
      name: 'Initech',
      customerSince: '2025-01-15',
      nps: 3,
      lifecycleStage: 'lead',
      fields: { promoter_score: 10, segment: 'Customer - Direct' },
    });

    const before = await accountEligibility(world.ctx, world.installation, company.id);
    expect(before).toMatchObject({ eligible: false, summary: expect.stringMatching(/NPS 3 is below 9/) });

    const changed = await changeEligibilityFields(
      world.ctx,
      world.installation,
      { ...(await mapping())!, nps: 'promoter_score', accountType: { field: 'segment', customerValues: ['Customer - Direct'] } },
      'admin',
    );
    expect(changed.outcome).toBe('saved');
    world.advance(60_000);
    const after = await accountEligibility(world.ctx, world.installation, company.id);
    expect(after).toMatchObject({ eligible: true });
    expect(after!.reasons.map((r) => r.detail)).toEqual(
      expect.arrayContaining(['NPS 10 is at least 9', 'lifecycle stage is Customer - Direct, which means customer']),
    );
    expect(world.crm.written(company.id)?.company).toMatchObject({ eligible: true });
  });

  it('refuse a field the CRM does not have, naming it, and change nothing', async () => {
    const stored = await mapping();
    const audits = (await world.footprint()).audit_log;
    const result = await changeEligibilityFields(world.ctx, world.installation, { ...stored!, nps: 'NPS__c' }, 'admin');
    expect(result).toEqual({ outcome: 'refused', problems: [{ field: 'nps', reason: 'the CRM has no account field NPS__c' }] });
    expect(await mapping()).toEqual(stored);
    expect((await world.footprint()).audit_log).toBe(audits);
  });

  it('change nothing when the CRM cannot describe its fields', async () => {
    const stored = await mapping();
    world.crm.failNext('unavailable');
    const result = await changeEligibilityFields(world.ctx, world.installation, { ...stored!, nps: null }, 'admin');
    expect(result).toMatchObject({ outcome: 'crm_unavailable', reason: expect.stringMatching(/^unavailable:/) });
    expect(await mapping()).toEqual(stored);
  });
});
