import { randomUUID } from 'node:crypto';
import express, { type Response, type Router } from 'express';
import { z } from 'zod';
import { validateEndpointUrl } from '../notify/endpoint-url.ts';
import { generateWebhookSecret } from '../notify/referrer-webhooks.ts';
import type { Store } from '../store/index.ts';
import type { WebhookEndpointRow } from '../store/referrer-webhook-endpoints.repo.ts';
import { actorOf, principalOf } from './auth.ts';
import { ApiError, parseInput } from './errors.ts';
import { visibleOr404 } from './installation-scope.ts';

export interface ReferrerWebhookEndpointsRouterDeps {
  store: Store;
  /** Loopback and private addresses are refused unless this is set (tests, self-hosted setups). */
  allowPrivateEndpoints: boolean;
  now?: () => Date;
}

const createSchema = z.object({ url: z.string().min(1).max(2048) });

function view(row: WebhookEndpointRow) {
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

/**
 * Referrers' webhook endpoints under `/api/v1`, behind the admin auth. The signing secret is
 * returned once, at creation; it is stored encrypted.
 */
export function referrerWebhookEndpointsRouter(deps: ReferrerWebhookEndpointsRouterDeps): Router {
  const { store } = deps;
  const endpoints = store.referrerWebhookEndpoints;
  const clock = deps.now ?? (() => new Date());
  const router = express.Router();

  const findReferrer = async (res: Response, referrerId: string) =>
    visibleOr404(principalOf(res), await store.referrals.referrer(referrerId), `referrer ${referrerId}`);

  const findEndpoint = async (res: Response, id: string) =>
    visibleOr404(principalOf(res), await endpoints.get(id), `webhook endpoint ${id}`);

  const audit = async (res: Response, endpoint: WebhookEndpointRow, action: string, after: unknown) =>
    await store.audit.record({
      installationId: endpoint.installationId,
      actor: actorOf(principalOf(res)),
      action,
      subjectType: 'webhook_endpoint',
      subjectId: endpoint.id,
      after,
      at: clock().toISOString(),
    });

  // Parsed here, not with router.use: this router shares /api/v1 with others that set their own limits.
  router.post('/referrers/:referrerId/webhook-endpoints', express.json({ limit: '16kb' }), async (req, res) => {
    const referrer = await findReferrer(res, req.params.referrerId);
    const input = parseInput(createSchema, req.body);
    const verdict = await validateEndpointUrl(input.url, { allowPrivate: deps.allowPrivateEndpoints });
    if (!verdict.ok) {
      throw new ApiError('invalid_input', `Webhook endpoint URL refused: ${verdict.reason}.`, {
        issues: [{ field: 'url', message: verdict.reason }],
      });
    }
    const secret = generateWebhookSecret();
    const endpoint = await store.transaction(async () => {
      const row = await endpoints.insert({
        id: `whe_${randomUUID()}`,
        installationId: referrer.installationId,
        referrerId: referrer.id,
        url: verdict.url,
        secretEnc: store.cipher.encrypt(secret),
        status: 'enabled',
        createdAt: clock().toISOString(),
      });
      await audit(res, row, 'webhook_endpoint.created', { url: row.url });
      return row;
    });
    res.status(201).json({ ...view(endpoint), secret });
  });

  router.get('/referrers/:referrerId/webhook-endpoints', async (req, res) => {
    const referrer = await findReferrer(res, req.params.referrerId);
    res.json((await endpoints.ofReferrer(referrer.id)).map(view));
  });

  router.delete('/webhook-endpoints/:id', async (req, res) => {
    const endpoint = await findEndpoint(res, req.params.id);
    await store.transaction(async () => {
      await endpoints.delete(endpoint.id);
      await audit(res, endpoint, 'webhook_endpoint.deleted', { url: endpoint.url });
    });
    res.status(204).end();
  });

  router.post('/webhook-endpoints/:id/enable', async (req, res) => {
    const endpoint = await findEndpoint(res, req.params.id);
    const enabled = await store.transaction(async () => {
      await audit(res, endpoint, 'webhook_endpoint.enabled', { status: 'enabled' });
      return await endpoints.enable(endpoint.id);
    });
    res.json(view(enabled));
  });

  return router;
}
