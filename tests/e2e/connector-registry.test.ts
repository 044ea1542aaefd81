import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeCrm } from '../../connectors/fake/index.ts';
import { crmKinds } from '../../connectors/registry.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { installSandbox, startTestService, type TestService } from '../support/service.ts';

/**
 * The registry decides which CRMs exist; the configuration decides which run. The fake CRM is
 * registered with one line in connectors/registry.ts and nothing in src/ names it.
 */
describe('CRMs from the connector registry', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'referloop-registry-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const load = (env: Record<string, string> = {}) =>
    loadConfig({ DATABASE_URL: `file:${join(dataDir, 'db.sqlite')}`, ADMIN_API_TOKEN: 'registry-test-token-0123', ...env });
  const modes = (env: Record<string, string> = {}) => Object.fromEntries(load(env).crms.map((crm) => [crm.kind, crm.mode]));

  it('knows every registered kind; a plain start serves the sandboxes and leaves the fake off', () => {
    expect(crmKinds).toEqual(['hubspot', 'salesforce', 'fake']);
    expect(modes()).toEqual({ hubspot: 'sandbox', salesforce: 'sandbox', fake: 'off' });
    expect(modes({ SANDBOX: 'off' })).toEqual({ hubspot: 'off', salesforce: 'off', fake: 'off' });
    expect(modes({ HUBSPOT_CLIENT_ID: 'id', HUBSPOT_CLIENT_SECRET: 'secret', FAKE_CRM: 'on' })).toEqual({
      hubspot: 'live',
      salesforce: 'sandbox',
      fake: 'sandbox',
    });
  });

  it('stops on half-configured credentials, naming the missing variable in one line', () => {
    expect(() => load({ HUBSPOT_CLIENT_ID: 'id' })).toThrow(ConfigError);
    expect(() => load({ HUBSPOT_CLIENT_ID: 'id' })).toThrow(
      /^HUBSPOT_CLIENT_SECRET is not set, but HUBSPOT_CLIENT_ID is: set HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET for the live HubSpot, or none of them for its sandbox$/,
    );
    expect(() => load({ SALESFORCE_CLIENT_SECRET: 'secret' })).toThrow(/^SALESFORCE_CLIENT_ID is not set/);
    // An empty value counts as unset, as for every other variable.
    expect(modes({ HUBSPOT_CLIENT_ID: '', HUBSPOT_CLIENT_SECRET: '' }).hubspot).toBe('sandbox');
  });

  it('validates a CRM’s own variables in the same pass as the app’s', () => {
    expect(() => load({ HUBSPOT_RATE_LIMIT_PER_10S: 'lots' })).toThrow(/^Invalid HUBSPOT_RATE_LIMIT_PER_10S="lots"/);
    expect(() => load({ FAKE_CRM: 'yes' })).toThrow(/^Invalid FAKE_CRM="yes": expected on or off$/);
  });
});

describe('the fake CRM in a running service', () => {
  let plain: TestService;
  let withFake: TestService;

  beforeAll(async () => {
    [plain, withFake] = await Promise.all([
      startTestService({ SANDBOX: 'off' }),
      startTestService({ SANDBOX: 'off', FAKE_CRM: 'on', FAKE_CRM_ACCOUNT_ID: 'acct-42', FAKE_CRM_WEBHOOK_SECRET: 'fake-secret' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([plain?.stop(), withFake?.stop()]);
  });

  it('is not offered unless configured', async () => {
    expect((await fetch(`${plain.url}/oauth/fake/install`, { redirect: 'manual' })).status).toBe(404);
    expect((await fetch(`${plain.url}/webhooks/fake`, { method: 'POST', body: '{}' })).status).toBe(404);
  });

  it('installs through OAuth and takes its signed webhooks, wired by the registry alone', async () => {
    const installationId = await installSandbox(withFake, 'fake');
    const listed = (await (await withFake.api('/installations')).json()) as {
      id: string;
      crm: string;
      accountId: string;
      status: string;
    }[];
    expect(listed).toEqual([expect.objectContaining({ id: installationId, crm: 'fake', accountId: 'acct-42', status: 'active' })]);

    // The same CRM, as the test's own instance, sends a change of one of its companies.
    const sender = createFakeCrm({ accountId: 'acct-42', webhookSecret: 'fake-secret' });
    sender.createCompany({ name: 'Acme' });
    const request = sender.webhookRequest({ url: `${withFake.url}/webhooks/fake` });
    const delivered = await fetch(request.url, {
      method: 'POST',
      headers: request.headers as Record<string, string>,
      body: new Uint8Array(request.rawBody),
    });
    expect(delivered.status).toBe(200);
    expect(await delivered.json()).toEqual({ received: true });
    const stored = withFake.sqlite.prepare("SELECT count(*) AS n FROM inbox WHERE crm = 'fake'").get() as { n: number };
    expect(stored.n).toBe(1);

    const forged = createFakeCrm({ accountId: 'acct-42', webhookSecret: 'not-the-secret' }).webhookRequest({
      events: [],
      url: `${withFake.url}/webhooks/fake`,
    });
    expect(
      (await fetch(forged.url, { method: 'POST', headers: forged.headers as Record<string, string>, body: new Uint8Array(forged.rawBody) }))
        .status,
    ).toBe(401);
  });
});
