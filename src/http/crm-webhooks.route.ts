import express, { Router, type Request, type Response } from 'express';
import type { HttpReply } from '../../connectors/connector.ts';
import type { RegisteredConnector } from '../../connectors/registry.ts';
import type { Metrics } from '../metrics.ts';
import type { UseCaseContext } from '../ports/context.ts';
import { receiveWebhook, type ReceiveOutcome } from '../use-cases/receive-crm-webhook.ts';
import { requestContext, requestLog } from './request-context.ts';

/**
 * `POST /webhooks/<crm>`: the raw bytes are kept for the signature check, which covers the full
 * public URI, so the URI is rebuilt from PUBLIC_BASE_URL rather than from proxy headers.
 */
export function crmWebhooksRouter(ctx: UseCaseContext, connectors: RegisteredConnector[], publicBaseUrl: string, metrics: Metrics): Router {
  const router = Router();
  for (const connector of connectors) {
    const hooks = connector.webhooks;
    // Counters bound to their labels once, not hashed on every request.
    const events = {
      stored: metrics.webhookEvents.labels({ crm: connector.kind, outcome: 'stored' }),
      duplicate: metrics.webhookEvents.labels({ crm: connector.kind, outcome: 'duplicate' }),
      unknownAccount: metrics.webhookEvents.labels({ crm: connector.kind, outcome: 'unknown_account' }),
    };
    const requestsByStatus = new Map<number, ReturnType<typeof metrics.webhookRequests.labels>>();
    const send = (res: Response, reply: HttpReply) => {
      let requests = requestsByStatus.get(reply.status);
      if (!requests)
        requestsByStatus.set(
          reply.status,
          (requests = metrics.webhookRequests.labels({ crm: connector.kind, status: String(reply.status) })),
        );
      requests.inc();
      // The CRM reads the status and body only: no ETag or content negotiation (res.send).
      res.writeHead(reply.status, { 'content-type': reply.contentType, 'content-length': Buffer.byteLength(reply.body) }).end(reply.body);
    };
    const raw = express.raw({ type: () => true, limit: hooks.maxBodyBytes });
    router.post(
      `/webhooks/${connector.kind}`,
      (req: Request, res: Response, next) =>
        raw(req, res, (err?: unknown) => {
          const type = (err as { type?: string } | undefined)?.type;
          if (type === 'entity.too.large') return send(res, hooks.refuse(413, `The body is larger than ${hooks.maxBodyBytes} bytes.`));
          if (err) return send(res, hooks.refuse(400, 'The body could not be read.'));
          next();
        }),
      async (req: Request, res: Response) => {
        let outcome: ReceiveOutcome;
        try {
          outcome = await receiveWebhook(requestContext(ctx, res), connector, {
            method: req.method,
            url: `${publicBaseUrl}${req.originalUrl}`,
            headers: Object.fromEntries(
              Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(', ') : v]),
            ),
            rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
          });
        } catch (err) {
          // A fault of ours still answers in the CRM's own format (a SOAP fault for Salesforce),
          // which the CRM reads as "deliver again later", and the store was left as it was.
          requestLog(ctx, res).error({ err, crm: connector.kind }, 'webhook failed');
          return send(res, hooks.refuse(500, 'Referloop could not take these events now; they will be retried.'));
        }
        if (outcome.refused) requestLog(ctx, res).warn({ crm: connector.kind, reason: outcome.refused }, 'webhook refused');
        events.stored.inc(outcome.stored);
        events.duplicate.inc(outcome.duplicates);
        if (outcome.unknownAccount) events.unknownAccount.inc();
        send(res, outcome.reply);
      },
    );
  }
  return router;
}
