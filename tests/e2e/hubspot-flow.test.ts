import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.ts';
import { eventually, startWithSandboxHubSpot, type TestService } from '../support/service.ts';

/**
 * Referloop and a sandbox HubSpot as separate servers: install through OAuth, a rep logs a
 * referral, the sales team works the deal in HubSpot, webhooks carry the news, Referloop
 * attributes, rewards and writes back.
 */
const CLIENT = { clientId: 'e2e-hubspot-client', clientSecret: 'e2e-hubspot-secret', appId: 4242 };

interface ReferralBody {
  id: string;
  status: string;
  crm: { person: { id: string } } | null;
  timeline: { to: string }[];
  attributions: { dealId: string; share: number; status: string; role: string }[];
  rewards: { id: string; amount: number; currency: string; status: string; dueDate: string; milestone: string; netCents: number }[];
}

describe('HubSpot end to end', () => {
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

  const referral = async (id: string) => (await (await svc.api(`/referrals/${id}`)).json()) as ReferralBody;
  const logReferral = async (email: string, referrer = { email: 'pia@partner-firm.com', name: 'Pia Partner', type: 'partner' }) => {
    const res = await svc.api('/referrals', {
      method: 'POST',
      json: {
        referrer,
        referee: { email, firstName: 'Jordan', lastName: 'Lee', company: 'Acme Widgets' },
        submittedBy: { kind: 'rep', id: 'rep-7' },
      },
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as ReferralBody;
    // The referral reaches HubSpot as a contact carrying its properties.
    const pushed = await eventually(
      async () => ((await referral(body.id)).crm ? referral(body.id) : undefined),
      15_000,
      'referral pushed to HubSpot',
    );
    return pushed;
  };
  const workDeal = (contactId: string, name: string, stages: string[], amount = '25000') => {
    const deal = hubspot.state.create('deals', { dealname: name, pipeline: 'default', dealstage: 'appointmentscheduled', amount }, [
      { type: 'contacts', id: contactId },
    ]);
    for (const stage of stages) {
      hubspot.state.update(
        'deals',
        deal.id,
        stage === 'closedwon' ? { dealstage: stage, closedate: '2026-03-31T12:00:00Z' } : { dealstage: stage },
      );
    }
    return deal.id;
  };

  /**
   * Ledger entries a sync or replay could cause. The reconcile job's due-date pass (approved →
   * payable once the due date has passed, 2026-06-29 for these deals) runs on its own time and
   * may land in the middle of a test: it is not counted.
   */
  const syncLedgerEntries = async () =>
    (
      await svc.rows<{ n: number }>("SELECT count(*) AS n FROM reward_events WHERE NOT (actor = 'job:reconcile' AND to_status = 'payable')")
    )[0]!.n;

  it('installs through OAuth and provisions the Referloop properties and stage mapping', async () => {
    const installation = (await (await svc.api(`/installations/${installationId}`)).json()) as {
      accountId: string;
      stageMapping: Record<string, Record<string, string>>;
      provisioning: { missing: string[]; created: string[] };
    };
    expect(installation.accountId).toBe(String(hubspot.state.portalId));
    expect(installation.stageMapping.default).toMatchObject({ appointmentscheduled: 'contacted', qualifiedtobuy: 'qualified' });
    expect(installation.provisioning.missing).toEqual([]);
  });

  it('follows a partner referral to closed won: a $2,500 reward waits for approval, due 90 days after close, and the deal carries the write-back', async () => {
    // The partner is a contact in HubSpot too: her record gets a note at each step.
    const pia = hubspot.state.create('contacts', { email: 'pia@partner-firm.com', firstname: 'Pia', lastname: 'Partner' });
    const pushed = await logReferral('jordan@acme-widgets.com');
    const contact = hubspot.state.get('contacts', pushed.crm!.person.id)!;
    expect(contact.properties.referloop_referral_id).toBe(pushed.id);
    expect(contact.properties.referloop_referrer).toBe('Pia Partner');

    const dealId = workDeal(pushed.crm!.person.id, 'Acme Widgets — platform', ['qualifiedtobuy', 'presentationscheduled', 'closedwon']);
    const won = await eventually(
      async () => {
        const r = await referral(pushed.id);
        return r.status === 'closed_won' && r.rewards.length > 0 ? r : undefined;
      },
      20_000,
      'closed won with a reward',
    );

    expect(won.timeline.map((t) => t.to)).toEqual(['submitted', 'accepted', 'contacted', 'qualified', 'in_sales_process', 'closed_won']);
    expect(won.attributions).toEqual([expect.objectContaining({ dealId, share: 1, status: 'active', role: 'sourced' })]);
    expect(won.rewards).toEqual([
      expect.objectContaining({ amount: 2500, currency: 'USD', status: 'pending', dueDate: '2026-06-29', milestone: 'closed_won' }),
    ]);
    await eventually(
      () => {
        const deal = hubspot.state.get('deals', dealId)!;
        return deal.properties.referloop_referral_id === pushed.id ? deal : undefined;
      },
      10_000,
      'deal write-back',
    );
    const deal = hubspot.state.get('deals', dealId)!;
    expect(deal.properties.referloop_referrer).toBe('Pia Partner');
    expect(Number(deal.properties.referloop_attributed_amount)).toBe(25000);
    expect(hubspot.state.get('contacts', pushed.crm!.person.id)!.properties.referloop_referral_status).toBe('closed_won');
    const notes = await eventually(
      () => {
        const bodies = hubspot.state
          .associatedIds('contacts', pia.id, 'notes')
          .map((id) => hubspot.state.get('notes', id)!.properties.hs_note_body ?? '');
        // The won step's note (the steps before it were merged into it by the quiet period) and
        // the reward's. The notifier delivers them independently, so wait for both.
        const won = bodies.some((b) => /became a customer/i.test(b));
        return won && bodies.some((b) => /earned you a reward/i.test(b)) ? bodies : undefined;
      },
      15_000,
      'timeline notes on the referrer',
    );
    expect(notes.join(' ')).not.toContain('25,000');

    // Finance approves and pays it; the ledger keeps every step.
    const rewardId = won.rewards[0]!.id;
    expect((await svc.api(`/rewards/${rewardId}/mark-paid`, { method: 'POST', json: { payoutReference: 'PAY-1' } })).status).toBe(409);
    expect((await svc.api(`/rewards/${rewardId}/approve`, { method: 'POST', json: {} })).status).toBe(200);
    const paid = await svc.api(`/rewards/${rewardId}/mark-paid`, { method: 'POST', json: { payoutReference: 'PAY-1' } });
    expect(paid.status).toBe(200);
    expect(await paid.json()).toMatchObject({ status: 'paid', payoutReference: 'PAY-1', net: 2500 });
    const pending = (await (await svc.api('/rewards?status=pending')).json()) as { items: unknown[] };
    expect(pending.items).toEqual([]);

    // Pia heard of every moment once, in order.
    const emailTopics = async () =>
      (
        await svc.rows<{ topic: string }>("SELECT topic FROM outbox WHERE referral_id = ? AND channel = 'email' ORDER BY id", pushed.id)
      ).map((r) => r.topic);
    expect(await emailTopics()).toEqual([
      'referral.received',
      'referral.accepted',
      'referral.contacted',
      'referral.in_sales_process',
      'referral.won',
      'reward.earned', // the commission is over the approval threshold: earned, waiting for approval
      'reward.approved',
      'reward.paid',
    ]);

    // Reopening the won deal claws the paid reward back: its net goes to zero, netted in the next payout.
    hubspot.state.update('deals', dealId, { dealstage: 'contractsent' });
    const reopened = await eventually(
      async () => {
        const r = await referral(pushed.id);
        return r.status === 'in_sales_process' && r.rewards[0]?.netCents === 0 ? r : undefined;
      },
      20_000,
      'clawback after reopen',
    );
    expect(reopened.rewards[0]).toMatchObject({ status: 'reversed', netCents: 0 });
    expect(reopened.attributions[0]).toMatchObject({ status: 'reversed' });
  });

  it('gets the same result when webhooks come duplicated and out of order', async () => {
    hubspot.faults.duplicateWebhooks(true);
    hubspot.faults.shuffleWebhooks(true);
    try {
      const pushed = await logReferral('sam@orbit-analytics.io', { email: 'cora@customer.com', name: 'Cora Customer', type: 'customer' });
      workDeal(pushed.crm!.person.id, 'Orbit', ['qualifiedtobuy', 'closedwon'], '120000');
      const won = await eventually(
        async () => {
          const r = await referral(pushed.id);
          return r.status === 'closed_won' && r.rewards.length === 2 ? r : undefined;
        },
        20_000,
        'closed won',
      );
      await hubspot.state.webhooksIdle();
      const after = await referral(pushed.id);
      // $50 for qualified and $1,000 for a deal of $100,000 or more, each once.
      expect(after.rewards.map((r) => [r.milestone, r.amount]).sort()).toEqual([
        ['closed_won', 1000],
        ['qualified', 50],
      ]);
      expect(after.timeline.filter((t) => t.to === 'closed_won')).toHaveLength(1);
      expect(won.id).toBe(after.id);

      // Finance rejects the $50 fee: a reason is required, the net goes to zero, and it stays rejected.
      const fee = after.rewards.find((r) => r.milestone === 'qualified')!;
      expect((await svc.api(`/rewards/${fee.id}/reject`, { method: 'POST', json: {} })).status).toBe(400);
      const rejected = await svc.api(`/rewards/${fee.id}/reject`, { method: 'POST', json: { reason: 'duplicate of an offline deal' } });
      expect(await rejected.json()).toMatchObject({ status: 'rejected', net: 0 });
      expect((await svc.api(`/rewards/${fee.id}/approve`, { method: 'POST', json: {} })).status).toBe(409);
      const detail = (await (await svc.api(`/rewards/${fee.id}`)).json()) as { audit: { action: string }[]; ledger: { kind: string }[] };
      expect(detail.audit.map((a) => a.action)).toContain('reward.reject');
      expect(detail.ledger.map((e) => e.kind)).toEqual(['accrued', 'status', 'rejection']);
    } finally {
      hubspot.faults.duplicateWebhooks(false);
      hubspot.faults.shuffleWebhooks(false);
    }
  });

  it('repairs a dropped webhook by reconciliation', async () => {
    const pushed = await logReferral('lee@northwind.dev');
    await hubspot.state.webhooksIdle();
    hubspot.faults.dropNextWebhooks(1000);
    const dealId = workDeal(pushed.crm!.person.id, 'Northwind', ['closedwon'], '10000');
    await hubspot.state.webhooksIdle();
    hubspot.faults.dropNextWebhooks(0);
    expect((await referral(pushed.id)).status).toBe('accepted');

    const res = await svc.api(`/installations/${installationId}/reconcile`, { method: 'POST' });
    expect(res.status).toBe(202);
    const repaired = await eventually(
      async () => {
        const r = await referral(pushed.id);
        return r.status === 'closed_won' && r.rewards.length ? r : undefined;
      },
      20_000,
      'reconciled',
    );
    expect(repaired.attributions[0]).toMatchObject({ dealId });
    expect(repaired.rewards[0]).toMatchObject({ amount: 1000, status: 'approved' });
  });

  it('refuses a wrong signature and a stale timestamp with 401, storing nothing', async () => {
    const inboxCount = async () => (await svc.rows<{ n: number }>('SELECT count(*) AS n FROM inbox'))[0]!.n;
    const before = await inboxCount();
    const body = JSON.stringify([
      {
        eventId: 1,
        subscriptionId: 1,
        portalId: hubspot.state.portalId,
        appId: CLIENT.appId,
        occurredAt: Date.now(),
        subscriptionType: 'deal.creation',
        attemptNumber: 0,
        objectId: 999,
        changeFlag: 'CREATED',
        changeSource: 'CRM',
      },
    ]);
    const uri = `${svc.url}/webhooks/hubspot`;
    const sign = (secret: string, timestamp: string) =>
      createHmac('sha256', secret).update(`POST${uri}${body}${timestamp}`).digest('base64');
    const post = (signature: string, timestamp: string) =>
      fetch(uri, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'x-hubspot-signature-v3': signature, 'x-hubspot-request-timestamp': timestamp },
      });

    const counters = async () => {
      const text = await (await fetch(`${svc.url}/metrics`)).text();
      const value = (series: string) =>
        Number(
          text
            .split('\n')
            .find((line) => line.startsWith(`${series} `))
            ?.split(' ')[1] ?? 0,
        );
      return {
        refused: value('referloop_webhook_requests_total{crm="hubspot",status="401"}'),
        stored: value('referloop_webhook_events_total{crm="hubspot",outcome="stored"}'),
        duplicates: value('referloop_webhook_events_total{crm="hubspot",outcome="duplicate"}'),
      };
    };
    const countedBefore = await counters();

    const now = String(Date.now());
    expect((await post(sign('not-the-secret', now), now)).status).toBe(401);
    const stale = String(Date.now() - 6 * 60_000);
    expect((await post(sign(CLIENT.clientSecret, stale), stale)).status).toBe(401);
    expect(await inboxCount()).toBe(before);
    // The same request, signed right and fresh, is taken; its redelivery is acknowledged and dropped.
    const taken = await post(sign(CLIENT.clientSecret, now), now);
    expect(taken.status).toBe(200);
    expect(taken.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await taken.json()).toEqual({ status: 'ok' });
    expect((await post(sign(CLIENT.clientSecret, now), now)).status).toBe(200);
    expect(await inboxCount()).toBe(before + 1);
    const countedAfter = await counters();
    expect(countedAfter.refused - countedBefore.refused).toBe(2);
    expect(countedAfter.stored - countedBefore.stored).toBeGreaterThanOrEqual(1);
    expect(countedAfter.duplicates - countedBefore.duplicates).toBeGreaterThanOrEqual(1);
  });

  it('obeys a 429 storm: the sync waits and completes, with no breach of the real limit', async () => {
    const pushed = await logReferral('kai@storm-systems.com');
    const breaches = hubspot.stats.rateLimitBreaches;
    // One ten-secondly 429 (HubSpot's rolling window: wait 10 s), then secondly ones (wait 1 s).
    hubspot.faults.failNext(429, 1, undefined, '/crm/v3/objects/deals');
    hubspot.faults.failNext(
      429,
      4,
      { status: 'error', message: 'You have reached your secondly limit.', category: 'RATE_LIMITS' },
      '/crm/v3/objects/deals',
    );
    workDeal(pushed.crm!.person.id, 'Storm', ['closedwon'], '40000');
    const won = await eventually(
      async () => {
        const r = await referral(pushed.id);
        return r.status === 'closed_won' && r.rewards.length ? r : undefined;
      },
      45_000,
      'closed won after the storm',
    );
    expect(won.rewards[0]).toMatchObject({ amount: 4000 });
    expect(hubspot.stats.rateLimitBreaches).toBe(breaches);
  }, 60_000);

  it('replays every stored event without new rewards or a second notification', async () => {
    const count = async (table: string) => (await svc.rows<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n;
    await hubspot.state.webhooksIdle();
    await eventually(
      async () => ((await svc.service.runtime.store.inbox.pendingCount()) === 0 ? true : undefined),
      20_000,
      'inbox drained',
    );
    const before = {
      rewards: await count('rewards'),
      ledger: await syncLedgerEntries(),
      outbox: await count('outbox'),
      timeline: await count('referral_events'),
    };

    const res = await svc.api('/replay', { method: 'POST', json: { since: '2000-01-01T00:00:00Z' } });
    expect(res.status).toBe(202);
    expect(((await res.json()) as { requeued: number }).requeued).toBeGreaterThan(10);
    await eventually(
      async () => ((await svc.service.runtime.store.inbox.pendingCount()) === 0 ? true : undefined),
      30_000,
      'replay drained',
    );
    expect({
      rewards: await count('rewards'),
      ledger: await syncLedgerEntries(),
      outbox: await count('outbox'),
      timeline: await count('referral_events'),
    }).toEqual(before);
  }, 45_000);

  it('ignores a read of a won deal that is older than the state it applied: no reopening, no clawback', async () => {
    const count = async (table: string) => (await svc.rows<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n;
    const since = new Date().toISOString();
    const pushed = await logReferral('noor@lagging-replica.com');
    const dealId = workDeal(pushed.crm!.person.id, 'Lagging replica', ['closedwon'], '30000');
    const won = await eventually(
      async () => {
        const r = await referral(pushed.id);
        return r.status === 'closed_won' && r.rewards.length ? r : undefined;
      },
      20_000,
      'closed won',
    );
    await hubspot.state.webhooksIdle();
    await eventually(
      async () => ((await svc.service.runtime.store.inbox.pendingCount()) === 0 ? true : undefined),
      20_000,
      'inbox drained',
    );
    const before = { ledger: await syncLedgerEntries(), outbox: await count('outbox') };

    // The portal answers with the deal as it was a minute earlier, still open (as a lagging read
    // replica would, or a second sync run whose fetch started first); no webhook says so.
    const record = hubspot.state.model.find('deals', dealId)!;
    const current = { ...record.properties };
    const earlier = new Date(Date.parse(current.hs_lastmodifieddate!) - 60_000).toISOString();
    Object.assign(record.properties, {
      dealstage: 'appointmentscheduled',
      hs_is_closed: 'false',
      hs_is_closed_won: 'false',
      hs_lastmodifieddate: earlier,
    });
    try {
      const res = await svc.api('/replay', { method: 'POST', json: { since } });
      expect(res.status).toBe(202);
      expect(((await res.json()) as { requeued: number }).requeued).toBeGreaterThan(0);
      await eventually(
        async () => ((await svc.service.runtime.store.inbox.pendingCount()) === 0 ? true : undefined),
        20_000,
        'replay drained',
      );
    } finally {
      Object.assign(record.properties, current);
    }
    const after = await referral(pushed.id);
    expect(after.status).toBe('closed_won');
    expect(after.rewards).toEqual(won.rewards);
    expect({ ledger: await syncLedgerEntries(), outbox: await count('outbox') }).toEqual(before);
  }, 45_000);

  it('simulates a draft program over the stored won deals, and reports the program', async () => {
    const { program } = (await (await svc.api('/program')).json()) as {
      program: { rewardRules: { id: string; rateBasisPoints?: number }[] };
    };
    const draft = {
      ...program,
      rewardRules: program.rewardRules.map((r) => (r.id === 'partner-commission' ? { ...r, rateBasisPoints: 2_000 } : r)),
    };
    const res = await svc.api('/program/simulate?months=12', { method: 'POST', json: draft });
    expect(res.status).toBe(200);
    const sim = (await res.json()) as {
      deals: number;
      current: { totalCents: number };
      draft: { totalCents: number };
      perReferrer: { deltaCents: number }[];
    };
    expect(sim.deals).toBeGreaterThan(0);
    expect(sim.draft.totalCents).toBeGreaterThan(sim.current.totalCents);
    expect(sim.perReferrer.some((r) => r.deltaCents > 0)).toBe(true);
    // Simulating saves nothing.
    expect(((await (await svc.api('/program')).json()) as { version: number }).version).toBe(1);

    const report = (await (await svc.api('/reports/summary')).json()) as {
      referrals: { won: number; byStatus: Record<string, number> };
      rewards: { currency: string }[];
    };
    expect(report.referrals.won).toBeGreaterThanOrEqual(3);
    expect(report.rewards[0]?.currency).toBe('USD');
  });

  it('tells the record owner of a referral from outside the CRM, and the CS owner of an account that became eligible', async () => {
    const outboxTo = async (topic: string) =>
      (await svc.rows<{ payload: string }>("SELECT payload FROM outbox WHERE topic = ? AND channel = 'email'", topic)).map(
        (r) => (JSON.parse(r.payload) as { to: { email: string } }).to.email,
      );
    const [sam, casey] = hubspot.state.owners;
    hubspot.state.create('contacts', { email: 'noa@fresh-leads.io', firstname: 'Noa', hubspot_owner_id: sam!.id });
    const res = await svc.api('/referrals', {
      method: 'POST',
      json: {
        referrer: { email: 'ria@customer-co.com', name: 'Ria', type: 'customer' },
        referee: { email: 'noa@fresh-leads.io' },
        submittedBy: { kind: 'referrer' },
      },
    });
    expect(res.status).toBe(201);
    expect(
      await eventually(
        async () => ((await outboxTo('referral.arrived_internal')).length ? await outboxTo('referral.arrived_internal') : undefined),
        15_000,
        'arrival notice',
      ),
    ).toEqual([sam!.email]);

    const account = hubspot.state.create('companies', {
      name: 'Loyal Co',
      domain: 'loyal.example',
      lifecyclestage: 'customer',
      hs_lifecyclestage_customer_date: '2025-01-15T00:00:00Z',
      referloop_nps: '6',
      hubspot_owner_id: casey!.id,
    });
    const before = (await (await svc.api(`/accounts/${account.id}/eligibility`)).json()) as {
      eligible: boolean;
      reasons: { rule: string; passed: boolean }[];
    };
    expect(before.eligible).toBe(false);
    expect(before.reasons.find((r) => r.rule === 'min_nps')).toMatchObject({ passed: false });
    hubspot.state.update('companies', account.id, { referloop_nps: '10' });
    const after = (await (await svc.api(`/accounts/${account.id}/eligibility`)).json()) as { eligible: boolean };
    expect(after.eligible).toBe(true);
    expect(await outboxTo('account.eligible')).toContain(casey!.email);
    await eventually(
      () => (hubspot.state.get('companies', account.id)!.properties.referloop_referral_eligible === 'true' ? true : undefined),
      10_000,
      'eligibility written back',
    );
  });
});
