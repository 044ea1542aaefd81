import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import express, { type Response, type Router } from 'express';
import { z } from 'zod';
import { validateEndpointUrl } from '../notify/endpoint-url.ts';
import { generateWebhookSecret } from '../notify/referrer-webhooks.ts';
import type { Cipher } from '../store/crypto.ts';
import type { Db } from '../store/db.ts';
import { auditLog, referrers, webhookEndpoints } from '../store/schema.ts';
import { ApiError, parseInput } from './errors.ts';

export interface ReferrerWebhookEndpointsRouterDeps {
  db: Db;
  cipher: Cipher;
  /** Loopback and private addresses are refused unless this is set (tests, self-hosted setups). */
  allowPrivateEndpoints: boolean;
  now?: () => Date;
}

const createSchema = z.object({ url: z.string().min(1).max(2048) });

type EndpointRow = typeof webhookEndpoints.$inferSelect;

function view(row: EndpointRow) {
  return {
    id: row.id,
    referrerId: row.referrerId,
    url: row.url,
    status: row.status,
    failingSince: row.failingSince,
    disabledReason: row.disabledReason,
    createdAt: row.createdAt,
  };
}

/** The installation the admin token is scoped to, when the auth middleware set one. */
function scopedInstallation(res: Response): string | undefined {
  const id: unknown = res.locals.installationId;
  return typeof id === 'string' ? id : undefined;
}

/**
 * Referrers' webhook endpoints under `/api/v1`, behind the admin auth. The signing secret is
 * returned once, at creation; it is stored encrypted.
 */
export function referrerWebhookEndpointsRouter(deps: ReferrerWebhookEndpointsRouterDeps): Router {
  const { db } = deps;
  const clock = deps.now ?? (() => new Date());
  const router = express.Router();

  const findReferrer = (res: Response, referrerId: string) => {
    const installationId = scopedInstallation(res);
    const referrer = db
      .select({ id: referrers.id, installationId: referrers.installationId })
      .from(referrers)
      .where(installationId ? and(eq(referrers.id, referrerId), eq(referrers.installationId, installationId)) : eq(referrers.id, referrerId))
      .get();
    if (!referrer) throw new ApiError('not_found', `Referrer ${referrerId} not found.`);
    return referrer;
  };

  const findEndpoint = (res: Response, id: string) => {
    const installationId = scopedInstallation(res);
    const endpoint = db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)).get();
    if (!endpoint || (installationId && endpoint.installationId !== installationId)) {
      throw new ApiError('not_found', `Webhook endpoint ${id} not found.`);
    }
    return endpoint;
  };

  const audit = (endpoint: EndpointRow, action: string, after: unknown) =>
    db.insert(auditLog)
      .values({ installationId: endpoint.installationId, actor: 'admin', action, subjectType: 'webhook_endpoint', subjectId: endpoint.id, after, at: clock().toISOString() })
      .run();

  // Parsed here, not with router.use: this router shares /api/v1 with others that set their own limits.
  router.post('/referrers/:referrerId/webhook-endpoints', express.json({ limit: '16kb' }), async (req, res) => {
    const referrer = findReferrer(res, req.params.referrerId);
    const input = parseInput(createSchema, req.body);
    const verdict = await validateEndpointUrl(input.url, { allowPrivate: deps.allowPrivateEndpoints });
    if (!verdict.ok) {
      throw new ApiError('invalid_input', `Webhook endpoint URL refused: ${verdict.reason}.`, { issues: [{ field: 'url', message: verdict.reason }] });
    }
    const secret = generateWebhookSecret();
    const endpoint = db
      .insert(webhookEndpoints)
      .values({
        id: `whe_${randomUUID()}`,
        installationId: referrer.installationId,
        referrerId: referrer.id,
        url: verdict.url,
        secretEnc: deps.cipher.encrypt(secret),
        status: 'enabled',
        createdAt: clock().toISOString(),
      })
      .returning()
      .get();
    audit(endpoint, 'webhook_endpoint.created', { url: endpoint.url });
    res.status(201).json({ ...view(endpoint), secret });
  });

  router.get('/referrers/:referrerId/webhook-endpoints', (req, res) => {
    const referrer = findReferrer(res, req.params.referrerId);
    const rows = db.select().from(webhookEndpoints).where(eq(webhookEndpoints.referrerId, referrer.id)).orderBy(webhookEndpoints.createdAt).all();
    res.json(rows.map(view));
  });

  router.delete('/webhook-endpoints/:id', (req, res) => {
    const endpoint = findEndpoint(res, req.params.id);
    db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, endpoint.id)).run();
    audit(endpoint, 'webhook_endpoint.deleted', { url: endpoint.url });
    res.status(204).end();
  });

  router.post('/webhook-endpoints/:id/enable', (req, res) => {
    const endpoint = findEndpoint(res, req.params.id);
    const enabled = db
      .update(webhookEndpoints)
      .set({ status: 'enabled', failingSince: null, disabledReason: null })
      .where(eq(webhookEndpoints.id, endpoint.id))
      .returning()
      .get();
    audit(endpoint, 'webhook_endpoint.enabled', { status: 'enabled' });
    res.json(view(enabled));
  });

  return router;
}
