import { randomUUID } from 'node:crypto';
import express, { type Response, type Router } from 'express';
import { z } from 'zod';
import { validateEndpointUrl } from '../notify/endpoint-url.ts';
import { generateWebhookSecret } from '../notify/referrer-webhooks.ts';
import type { Store } from '../store/index.ts';
import type { WebhookEndpointRow } from '../store/referrer-webhook-endpoints.repo.ts';
import { ApiError, parseInput } from './errors.ts';

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
  const { store } = deps;
  const endpoints = store.referrerWebhookEndpoints;
  const clock = deps.now ?? (() => new Date());
  const router = express.Router();

  const findReferrer = (res: Response, referrerId: string) => {
    const installationId = scopedInstallation(res);
    const referrer = store.referrals.referrer(referrerId);
    if (!referrer || (installationId && referrer.installationId !== installationId))
      throw new ApiError('not_found', `Referrer ${referrerId} not found.`);
    return referrer;
  };

  const findEndpoint = (res: Response, id: string) => {
    const installationId = scopedInstallation(res);
    const endpoint = endpoints.get(id);
    if (!endpoint || (installationId && endpoint.installationId !== installationId)) {
      throw new ApiError('not_found', `Webhook endpoint ${id} not found.`);
    }
    return endpoint;
  };

  const audit = (endpoint: WebhookEndpointRow, action: string, after: unknown) =>
    store.audit.record({
      installationId: endpoint.installationId,
      actor: 'admin',
      action,
      subjectType: 'webhook_endpoint',
      subjectId: endpoint.id,
      after,
      at: clock().toISOString(),
    });

  // Parsed here, not with router.use: this router shares /api/v1 with others that set their own limits.
  router.post('/referrers/:referrerId/webhook-endpoints', express.json({ limit: '16kb' }), async (req, res) => {
    const referrer = findReferrer(res, req.params.referrerId);
    const input = parseInput(createSchema, req.body);
    const verdict = await validateEndpointUrl(input.url, { allowPrivate: deps.allowPrivateEndpoints });
    if (!verdict.ok) {
      throw new ApiError('invalid_input', `Webhook endpoint URL refused: ${verdict.reason}.`, {
        issues: [{ field: 'url', message: verdict.reason }],
      });
    }
    const secret = generateWebhookSecret();
    const endpoint = store.transaction(() => {
      const row = endpoints.insert({
        id: `whe_${randomUUID()}`,
        installationId: referrer.installationId,
        referrerId: referrer.id,
        url: verdict.url,
        secretEnc: store.cipher.encrypt(secret),
        status: 'enabled',
        createdAt: clock().toISOString(),
      });
      audit(row, 'webhook_endpoint.created', { url: row.url });
      return row;
    });
    res.status(201).json({ ...view(endpoint), secret });
  });

  router.get('/referrers/:referrerId/webhook-endpoints', (req, res) => {
    const referrer = findReferrer(res, req.params.referrerId);
    res.json(endpoints.ofReferrer(referrer.id).map(view));
  });

  router.delete('/webhook-endpoints/:id', (req, res) => {
    const endpoint = findEndpoint(res, req.params.id);
    store.transaction(() => {
      endpoints.delete(endpoint.id);
      audit(endpoint, 'webhook_endpoint.deleted', { url: endpoint.url });
    });
    res.status(204).end();
  });

  router.post('/webhook-endpoints/:id/enable', (req, res) => {
    const endpoint = findEndpoint(res, req.params.id);
    const enabled = store.transaction(() => {
      audit(endpoint, 'webhook_endpoint.enabled', { status: 'enabled' });
      return endpoints.enable(endpoint.id);
    });
    res.json(view(enabled));
  });

  return router;
}
