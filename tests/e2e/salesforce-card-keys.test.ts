import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.ts';
import { defaultProgram } from '../../src/domain/program.ts';
import { settingsLinks } from '../../src/http/settings-link.ts';
import { consoleSession, throughCrmOAuth } from '../support/console.ts';
import { startWithSandboxSalesforce, type TestService } from '../support/service.ts';

/**
 * The Salesforce cards call Referloop with their installation's card key (`Bearer rlk_…`, held by
 * the package's External Credential): the key acts as that installation's card and nothing more.
 */
const CLIENT = { clientId: 'card-keys-sf-client', clientSecret: 'card-keys-sf-secret' };

interface IssuedKey {
  id: string;
  key: string;
  hint: string;
  state: string;
  expiresAt: string | null;
}

describe('Salesforce card keys', () => {
  let salesforce: SalesforceSandbox;
  let svc: TestService;
  let installationId: string;
  let otherInstallationId: string;
  let otherReferralId: string;

  const withKey = (key: string, path: string, init: { method?: string; json?: unknown } = {}) =>
    fetch(`${svc.url}/api/v1${path}`, {
      method: init.method ?? 'GET',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
    });
  const issue = async (id: string) => {
    const res = await svc.api(`/installations/${id}/card-keys`, { method: 'POST' });
    expect(res.status).toBe(201);
    return (await res.json()) as IssuedKey;
  };
  /** What ReferloopController.logReferral sends for a lead. */
  const logReferral = (key: string, email: string) =>
    withKey(key, '/referrals', {
      method: 'POST',
      json: {
        referrer: { name: 'Cora Customer', email: 'cora@customer.com', type: 'customer' },
        referee: { email, firstName: 'Dana', lastName: 'Doe', company: 'Bright Labs' },
        notes: 'Met at the user group',
        submittedBy: { kind: 'rep', id: '005000000000001AAA' },
      },
    });

  beforeAll(async () => {
    ({ salesforce, svc, installationId } = await startWithSandboxSalesforce(CLIENT));
    // Another customer's org, with a referral of its own.
    const { store } = svc.service.runtime;
    const other = (
      await store.installations.upsert({
        crm: 'salesforce',
        accountId: '00D000000000OTHER',
        tokens: { accessToken: 'other-org-token' },
        now: new Date(),
      })
    ).row;
    await store.installations.markDisconnected(other.id, 'test fixture', new Date());
    await store.programs.addVersion(await store.programs.create(other.id, true), defaultProgram(), 'test');
    otherInstallationId = other.id;
    const res = await svc.api('/referrals', {
      method: 'POST',
      json: {
        installationId: other.id,
        referrer: { email: 'x@other.com', name: 'Other', type: 'customer' },
        referee: { email: 'secret@rival-corp.com' },
      },
    });
    expect(res.status).toBe(201);
    otherReferralId = ((await res.json()) as { id: string }).id;
  });
  afterAll(async () => {
    await svc?.stop();
    await salesforce?.close();
  });

  it("issues a key at install, shown once on the install's settings page, that logs a referral", async () => {
    const { runtime } = svc.service;
    const settingsUrl = `${svc.url}${settingsLinks(runtime.config.encryptionKey).issue(installationId, new Date())}`;
    const first = await (await fetch(settingsUrl)).text();
    const key = /<code>(rlk_[A-Za-z0-9_-]+)<\/code>/.exec(first)?.[1];
    expect(key, first).toBeDefined();
    expect(await runtime.store.cardKeys.list(installationId)).toHaveLength(1);
    const again = await (await fetch(settingsUrl)).text();
    expect(again).toContain(installationId);
    expect(again).not.toContain('rlk_');
    expect((await logReferral(key!, 'from-install@first-prospect.com')).status).toBe(201);
  });

  it('issues a key shown once and stored only as a hash', async () => {
    const issued = await issue(installationId);
    expect(issued.key).toMatch(/^rlk_[A-Za-z0-9_-]{40,}$/);
    expect(issued.state).toBe('active');
    const listed = (await (await svc.api(`/installations/${installationId}/card-keys`)).json()) as Record<string, unknown>[];
    expect(listed.map((k) => k.id)).toContain(issued.id);
    expect(JSON.stringify(listed)).not.toContain(issued.key);
    const stored = (await svc.service.runtime.store.cardKeys.get(issued.id))!;
    expect(stored.keyHash).not.toContain(issued.key.slice(4));
  });

  it("logs a referral with its installation's key and reads it back", async () => {
    const { key } = await issue(installationId);
    const logged = await logReferral(key, 'dana@bright-labs.io');
    expect(logged.status).toBe(201);
    const { id } = (await logged.json()) as { id: string };
    const read = await withKey(key, `/referrals/${id}`);
    expect(read.status).toBe(200);
    expect(((await read.json()) as { installationId: string }).installationId).toBe(installationId);
    // The same referee again: the card gets the verdict the Apex reads (outcome and reasons), not an error.
    const again = await logReferral(key, 'dana@bright-labs.io');
    expect(again.status).toBe(200);
    const { verdict } = (await again.json()) as { verdict: { outcome: string; reasons: string[] } };
    expect(verdict.outcome).toBe('duplicate');
    expect(verdict.reasons.join(' ')).toContain('already referred dana@bright-labs.io');
  });

  it("never reaches another installation's records, nor the admin API", async () => {
    const { key } = await issue(installationId);
    const theirs = await withKey(key, `/referrals/${otherReferralId}`);
    expect([403, 404]).toContain(theirs.status);
    expect(await theirs.text()).not.toContain('rival-corp');
    const listed = await withKey(key, `/referrals?installationId=${otherInstallationId}`);
    expect(await listed.text()).not.toContain('rival-corp');
    for (const [method, path] of [
      ['GET', '/installations'],
      ['POST', `/installations/${installationId}/card-keys`],
      ['GET', `/installations/${otherInstallationId}/card-keys`],
    ] as const) {
      expect((await withKey(key, path, { method })).status).toBe(403);
    }
  });

  it('refuses a revoked key with 401, and a key that was never issued', async () => {
    const issued = await issue(installationId);
    const revoked = await svc.api(`/installations/${installationId}/card-keys/${issued.id}`, { method: 'DELETE' });
    expect(revoked.status).toBe(200);
    expect(((await revoked.json()) as { state: string }).state).toBe('revoked');
    const refused = await logReferral(issued.key, 'after-revoke@bright-labs.io');
    expect(refused.status).toBe(401);
    expect((await withKey(`${issued.key}x`, '/referrals')).status).toBe(401);
    // Nothing was written by the refused call.
    const all = (await (await svc.api(`/referrals?installationId=${installationId}`)).json()) as unknown;
    expect(JSON.stringify(all)).not.toContain('after-revoke@');
  });

  it("the installation's console admin manages its keys, not another installation's", async () => {
    const admin = await consoleSession(svc.url, (await throughCrmOAuth(`${svc.url}/console/sign-in/salesforce`)).cookie!);
    expect(admin.session.role).toBe('admin');
    const issued = await admin.api(`/installations/${installationId}/card-keys`, { method: 'POST' });
    expect(issued.status).toBe(201);
    expect(((await issued.json()) as IssuedKey).key).toMatch(/^rlk_/);
    expect((await admin.api(`/installations/${otherInstallationId}/card-keys`, { method: 'POST' })).status).toBe(404);
  });

  it('a key of another installation cannot be revoked through this one', async () => {
    const theirs = await issue(otherInstallationId);
    const res = await svc.api(`/installations/${installationId}/card-keys/${theirs.id}`, { method: 'DELETE' });
    expect(res.status).toBe(404);
    expect((await withKey(theirs.key, '/referrals')).status).toBe(200);
  });

  it('rotation: the new key works at once, the old one until the overlap ends', async () => {
    const old = await issue(installationId);
    const rotated = await issue(installationId);
    expect((await logReferral(rotated.key, 'rotated@fresh-prospect.com')).status).toBe(201);
    const listed = (await (await svc.api(`/installations/${installationId}/card-keys`)).json()) as IssuedKey[];
    const oldNow = listed.find((k) => k.id === old.id)!;
    expect(oldNow.state).toBe('active');
    expect(Date.parse(oldNow.expiresAt!) - Date.now()).toBeGreaterThan(23 * 3_600_000);
    expect((await withKey(old.key, '/referrals')).status).toBe(200);
    // Past the overlap the old key is refused; the new one is not.
    const { store } = svc.service.runtime;
    const later = new Date(Date.parse(oldNow.expiresAt!) + 1);
    expect(await store.cardKeys.authenticate(old.key, later)).toBeUndefined();
    expect((await store.cardKeys.authenticate(rotated.key, later))?.id).toBe(rotated.id);
  });
});
