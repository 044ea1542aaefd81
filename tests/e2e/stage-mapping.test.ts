/**
 * PUT /installations/:id/stage-mapping against the sandbox HubSpot's real pipelines: the pipelines
 * sent are replaced and the others kept; unknown pipelines or stages and closed stages are refused
 * with the reason, nothing written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.ts';
import { startWithSandboxHubSpot, type TestService } from '../support/service.ts';

const CLIENT = { clientId: 'stage-mapping-client', clientSecret: 'stage-mapping-secret', appId: 4343 };

type Mapping = Record<string, Record<string, string>>;

describe('stage mapping', () => {
  let svc: TestService;
  let hubspot: HubSpotSandbox;
  let installationId: string;
  const mapping = async () =>
    ((await (await svc.api(`/installations/${installationId}`)).json()) as { stageMapping: Mapping }).stageMapping;
  const auditCount = () => (svc.sqlite.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n;
  const put = (body: unknown) => svc.api(`/installations/${installationId}/stage-mapping`, { method: 'PUT', json: body });

  beforeAll(async () => {
    ({ hubspot, svc, installationId } = await startWithSandboxHubSpot(CLIENT));
  });
  afterAll(async () => {
    await svc?.stop();
    await hubspot?.close();
  });

  it('replaces the pipeline sent and keeps the other pipelines', async () => {
    const before = await mapping();
    expect(Object.keys(before).sort()).toEqual(['1071658799', 'default']);
    const res = await put({ default: { appointmentscheduled: 'qualified', contractsent: 'in_sales_process' } });
    expect(res.status).toBe(200);
    expect(await mapping()).toEqual({ ...before, default: { appointmentscheduled: 'qualified', contractsent: 'in_sales_process' } });
  });

  it.each([
    ['closedwon → contacted', { default: { closedwon: 'contacted' } }, 'default.closedwon', /closed won in the CRM/],
    [
      'a lost stage of the partner pipeline',
      { '1071658799': { '1071658802': 'qualified' } },
      '1071658799.1071658802',
      /closed lost in the CRM/,
    ],
    ['a stage the CRM does not have', { default: { negotiation: 'qualified' } }, 'default.negotiation', /has no stage negotiation/],
    ['a pipeline the CRM does not have', { renewals: { x: 'contacted' } }, 'renewals', /no pipeline renewals/],
  ])('refuses %s with the reason, nothing written', async (_what, body, field, reason) => {
    const before = await mapping();
    const audits = auditCount();
    const res = await put(body);
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { message: string; details: { issues: { field: string; message: string }[] } } };
    expect(error.details.issues[0]!.field).toBe(field);
    expect(error.message).toMatch(reason);
    expect(await mapping()).toEqual(before);
    expect(auditCount()).toBe(audits);
  });

  it('a CRM that cannot list its pipelines: 503 with Retry-After, nothing written', async () => {
    const before = await mapping();
    const audits = auditCount();
    hubspot.faults.failNext(503, 20, undefined, /pipelines/);
    const res = await put({ default: { appointmentscheduled: 'contacted' } });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/could not list its pipelines/);
    expect(await mapping()).toEqual(before);
    expect(auditCount()).toBe(audits);
  });
});
