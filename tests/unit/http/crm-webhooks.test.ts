import express from 'express';
import { describe, expect, it } from 'vitest';
import type { RegisteredConnector } from '../../../connectors/registry.ts';
import { createSalesforceConnector } from '../../../connectors/salesforce/index.ts';
import { crmWebhooksRouter } from '../../../src/http/crm-webhooks.route.ts';
import { createLogger } from '../../../src/log.ts';
import { createMetrics } from '../../../src/metrics.ts';
import type { UseCaseContext } from '../../../src/ports/context.ts';

describe('CRM webhook route', () => {
  it("answers a fault of ours in the CRM's own format: a SOAP fault with a 500, not JSON", async () => {
    const salesforce = createSalesforceConnector({ clientId: 'id', clientSecret: 'secret', loginUrl: 'https://login.example.test' });
    const broken: RegisteredConnector = {
      ...salesforce,
      kind: 'salesforce',
      webhooks: {
        ...salesforce.webhooks,
        verify: () => {
          throw new RangeError('a bug of ours');
        },
      },
    };
    // Nothing of the context is reached before verification.
    const ctx = { log: createLogger({ level: 'silent' }), now: () => new Date() } as unknown as UseCaseContext;
    const app = express().use(crmWebhooksRouter(ctx, [broken], 'http://referloop.test', createMetrics()));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as { port: number };
      const res = await fetch(`http://127.0.0.1:${port}/webhooks/salesforce`, {
        method: 'POST',
        body: '<x/>',
        headers: { 'content-type': 'text/xml' },
      });
      expect(res.status).toBe(500);
      expect(res.headers.get('content-type')).toMatch(/^text\/xml/);
      const body = await res.text();
      expect(body).toContain('<faultcode>soapenv:Server</faultcode>');
      expect(body).not.toContain('a bug of ours');
    } finally {
      server.close();
    }
  });
});
