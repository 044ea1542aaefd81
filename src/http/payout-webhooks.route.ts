import express, { Router, type Request, type Response } from 'express';
import { PayoutWebhookRefused, type PayoutProvider } from '../../connectors/payouts/provider.ts';
import type { UseCaseContext } from '../ports/context.ts';
import { reconcilePayoutEvent } from '../use-cases/send-payouts.ts';
import { requestContext, requestLog } from './request-context.ts';

const MAX_WEBHOOK_BYTES = 100_000;

/**
 * `POST /webhooks/payouts/<provider>`: the raw bytes are kept for the provider's signature check.
 * A forged body is refused (401) and changes nothing; a replayed event is acknowledged and ignored.
 */
export function payoutWebhooksRouter(ctx: UseCaseContext, provider: PayoutProvider): Router {
  const router = Router();
  router.post(
    `/webhooks/payouts/${provider.kind}`,
    express.raw({ type: () => true, limit: MAX_WEBHOOK_BYTES }),
    async (req: Request, res: Response) => {
      let event: ReturnType<PayoutProvider['verifyWebhook']>;
      try {
        event = provider.verifyWebhook(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), req.headers);
      } catch (err) {
        if (!(err instanceof PayoutWebhookRefused)) throw err;
        requestLog(ctx, res).warn({ reason: err.message, provider: provider.kind }, 'payout webhook refused');
        return void res.status(401).json({ error: 'unauthorized', message: err.message });
      }
      const outcome = await reconcilePayoutEvent(requestContext(ctx, res), event);
      if (outcome === 'unknown_line') {
        // Not an error of the provider's: our record of the order is not written yet; it sends again.
        requestLog(ctx, res).info({ eventId: event.eventId, provider: provider.kind }, 'payout webhook before its order was recorded');
        return void res.status(503).json({ error: 'unavailable', message: 'The order is not recorded yet; send the event again later.' });
      }
      res.json({ outcome });
    },
  );
  return router;
}
