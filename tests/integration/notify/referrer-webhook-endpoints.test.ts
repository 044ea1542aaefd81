import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, test } from 'vitest';
import type { Principal } from '../../../src/http/auth.ts';
import { errorHandler } from '../../../src/http/errors.ts';
import { referrerWebhookEndpointsRouter } from '../../../src/http/referrer-webhook-endpoints.route.ts';
import type { Db } from '../../../src/store/db.ts';
import { auditLog, webhookEndpoints } from '../../../src/store/schema.ts';
import { cipher, createTestDb, insertInstallation, insertReferrer, storeOf } from './fixtures.ts';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/**
 * The router as main.ts mounts it, over real HTTP; the auth middleware's part is played by a
 * principal: the admin token, or with `scope` a console admin of that installation.
 */
async function startApi(db: Db, allowPrivateEndpoints: boolean, scope?: string) {
  const app = express();
  app.use((_req, res, next) => {
    res.locals.principal = scope
      ? ({ kind: 'user', installationId: scope, userId: 'usr_1', email: 'ada@customer.test', role: 'admin' } satisfies Principal)
      : ({ kind: 'admin' } satisfies Principal);
    next();
  });
  app.use('/api/v1', referrerWebhookEndpointsRouter({ store: storeOf(db), allowPrivateEndpoints }));
  app.use(errorHandler(() => {}));
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  servers.push(server);
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
  return async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // biome-ignore lint/suspicious/noExplicitAny: the tests read the JSON replies' fields directly
    return { status: response.status, body: response.status === 204 ? undefined : ((await response.json()) as Record<string, any>) };
  };
}

function setUp() {
  const db = createTestDb();
  const installationId = insertInstallation(db);
  const referrer = insertReferrer(db, installationId, { name: 'Uma User', email: 'uma@partner.test' });
  return { db, installationId, referrer };
}

describe('webhook endpoint setup', () => {
  test.each([
    ['ftp://files.example.com/hook', /scheme ftp: is not http or https/],
    ['javascript:alert(1)', /scheme javascript: is not http or https/],
    ['not a url', /not an absolute URL/],
    ['http://10.0.0.1/hook', /private, loopback or link-local address \(10\.0\.0\.1\)/],
    ['http://127.0.0.1:8080/hook', /\(127\.0\.0\.1\)/],
    ['http://2130706433/hook', /\(127\.0\.0\.1\)/],
    ['http://[::1]/hook', /\(::1\)/],
    ['http://[::ffff:192.168.1.1]/hook', /private/],
    ['http://169.254.169.254/latest/meta-data', /\(169\.254\.169\.254\)/],
    // The rarer IPv6 spellings of inward addresses (issue #17's acceptance vectors).
    ['http://[::127.0.0.1]/hook', /\(::7f00:1\)/],
    ['http://[::ffff:0:7f00:1]/hook', /\(::ffff:0:7f00:1\)/],
    ['http://[64:ff9b::7f00:1]/hook', /\(64:ff9b::7f00:1\)/],
    ['http://[fec0::1]/hook', /\(fec0::1\)/],
    ['http://[100::1]/hook', /\(100::1\)/],
    ['http://localhost:3000/hook', /host localhost is a private/],
    ['https://user:pw@93.184.216.34/hook', /credentials/],
  ])('refuses %s with 400 when private addresses are forbidden', async (url, reason) => {
    const { db, referrer } = setUp();
    const api = await startApi(db, false);
    const response = await api('POST', `/referrers/${referrer.id}/webhook-endpoints`, { url });
    expect(response.status).toBe(400);
    expect(response.body!.error.code).toBe('invalid_input');
    expect(response.body!.error.message).toMatch(reason);
    expect(response.body!.error.details).toEqual({ issues: [{ field: 'url', message: expect.any(String) }] });
    expect(db.select().from(webhookEndpoints).all()).toHaveLength(0);
  });

  test('accepts a public address and shows the signing secret once, stored encrypted', async () => {
    const { db, referrer } = setUp();
    const api = await startApi(db, false);
    const created = await api('POST', `/referrers/${referrer.id}/webhook-endpoints`, {
      url: 'https://93.184.216.34/hooks/referloop#ignored',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ url: 'https://93.184.216.34/hooks/referloop', status: 'enabled', referrerId: referrer.id });
    expect(created.body!.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const [row] = db.select().from(webhookEndpoints).all();
    expect(row!.secretEnc).not.toContain(created.body!.secret.slice(6));
    expect(cipher.decrypt(row!.secretEnc)).toBe(created.body!.secret);

    const listed = await api('GET', `/referrers/${referrer.id}/webhook-endpoints`);
    expect(listed.body).toEqual([expect.objectContaining({ id: created.body!.id, status: 'enabled' })]);
    expect(JSON.stringify(listed.body)).not.toContain('whsec_');
  });

  test('with private addresses allowed: loopback accepted; still only http(s); enable and delete', async () => {
    const { db, referrer } = setUp();
    const api = await startApi(db, true);
    expect((await api('POST', `/referrers/${referrer.id}/webhook-endpoints`, { url: 'ftp://127.0.0.1/hook' })).status).toBe(400);
    expect((await api('POST', `/referrers/${referrer.id}/webhook-endpoints`, {})).status).toBe(400);
    const created = await api('POST', `/referrers/${referrer.id}/webhook-endpoints`, { url: 'http://127.0.0.1:9/hook' });
    expect(created.status).toBe(201);
    const id = created.body!.id as string;

    db.update(webhookEndpoints).set({ status: 'disabled', disabledReason: 'failing', failingSince: '2026-01-01T00:00:00.000Z' }).run();
    const enabled = await api('POST', `/webhook-endpoints/${id}/enable`);
    expect(enabled).toMatchObject({ status: 200, body: { id, status: 'enabled', disabledReason: null, failingSince: null } });

    expect((await api('DELETE', `/webhook-endpoints/${id}`)).status).toBe(204);
    expect((await api('GET', `/referrers/${referrer.id}/webhook-endpoints`)).body).toEqual([]);
    expect((await api('DELETE', `/webhook-endpoints/${id}`)).status).toBe(404);
    expect(
      db
        .select({ action: auditLog.action })
        .from(auditLog)
        .all()
        .map((a) => a.action),
    ).toEqual(['webhook_endpoint.created', 'webhook_endpoint.enabled', 'webhook_endpoint.deleted']);
  });

  test('unknown referrers and other installations are not found', async () => {
    const { db, referrer } = setUp();
    const other = insertInstallation(db);
    const scopedToOther = await startApi(db, true, other);
    expect((await scopedToOther('POST', '/referrers/rfr_missing/webhook-endpoints', { url: 'http://127.0.0.1:9/' })).status).toBe(404);
    expect((await scopedToOther('POST', `/referrers/${referrer.id}/webhook-endpoints`, { url: 'http://127.0.0.1:9/' })).status).toBe(404);
    expect((await scopedToOther('GET', `/referrers/${referrer.id}/webhook-endpoints`)).status).toBe(404);

    const scopedToOwn = await startApi(db, true, referrer.installationId);
    const created = await scopedToOwn('POST', `/referrers/${referrer.id}/webhook-endpoints`, { url: 'http://127.0.0.1:9/' });
    expect(created.status).toBe(201);
    expect((await scopedToOther('DELETE', `/webhook-endpoints/${created.body!.id}`)).status).toBe(404);
    expect((await scopedToOther('POST', `/webhook-endpoints/${created.body!.id}/enable`)).status).toBe(404);
  });
});
