/**
 * The quick start once a second CRM is connected: the installation may be named in the query
 * string or the body, and a request that names none is told which installations exist.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installSandbox, startTestService, type TestService } from '../support/service.ts';

const referral = (refereeEmail: string) => ({
  referrer: { email: 'pia@partner-firm.com', name: 'Pia Partner', type: 'partner' },
  referee: { email: refereeEmail, firstName: 'Jordan', company: 'Acme Widgets' },
  submittedBy: { kind: 'rep' },
});

interface ApiErrorBody {
  error: { code: string; message: string; details: { installations?: { id: string; crm: string }[]; issues?: { field: string }[] } };
}

describe('two installations side by side', () => {
  let svc: TestService;
  let hubspotId: string;
  let salesforceId: string;
  const referralCount = () => (svc.sqlite.prepare('SELECT count(*) AS n FROM referrals').get() as { n: number }).n;

  beforeAll(async () => {
    svc = await startTestService();
    hubspotId = await installSandbox(svc, 'hubspot');
    salesforceId = await installSandbox(svc, 'salesforce');
  }, 30_000);
  afterAll(async () => svc?.stop());

  it('a referral naming no installation is refused with the list of those that exist, nothing written', async () => {
    const res = await svc.api('/referrals', { method: 'POST', json: referral('jordan@acme-widgets.com') });
    expect(res.status).toBe(400);
    const body = (await res.json()) as ApiErrorBody;
    expect(body.error.message).toContain(hubspotId);
    expect(body.error.message).toContain(salesforceId);
    expect(body.error.details.installations).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: hubspotId, crm: 'hubspot' }),
        expect.objectContaining({ id: salesforceId, crm: 'salesforce' }),
      ]),
    );
    expect(referralCount()).toBe(0);
  });

  it('takes installationId from the query string as well as the body', async () => {
    const viaQuery = await svc.api(`/referrals?installationId=${salesforceId}`, {
      method: 'POST',
      json: referral('jordan@acme-widgets.com'),
    });
    expect(viaQuery.status).toBe(201);
    const viaBody = await svc.api('/referrals', { method: 'POST', json: { ...referral('sam@globex.example'), installationId: hubspotId } });
    expect(viaBody.status).toBe(201);
    const referrers = (await (await svc.api(`/referrers?installationId=${salesforceId}`)).json()) as {
      items: { installationId: string }[];
    };
    expect(referrers.items.map((r) => r.installationId)).toEqual([salesforceId]);
  });

  it('refuses a request whose query and body name different installations', async () => {
    const before = referralCount();
    const res = await svc.api(`/referrals?installationId=${salesforceId}`, {
      method: 'POST',
      json: { ...referral('lee@initech.example'), installationId: hubspotId },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ApiErrorBody).error.details.issues?.[0]?.field).toBe('installationId');
    expect(referralCount()).toBe(before);
  });
});
