/**
 * The bound for webhook ingest: the least an endpoint must do — express 5 (as Referloop), the raw
 * body, HubSpot's v3 signature checked with the client secret by the very function Referloop
 * uses, the request shaped as Referloop's route shapes it, and a 200 with HubSpot's ack body. No
 * parsing, no storage, no middleware.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { verifyHubSpotSignature } from '../../connectors/hubspot/verify-webhook.ts';

export async function startBareEndpoint(clientSecret: string, port: number): Promise<{ url: string; close(): Promise<void> }> {
  const app = express();
  app.disable('x-powered-by');
  const publicBaseUrl = `http://127.0.0.1:${port}`;
  app.post('/webhooks/hubspot', express.raw({ type: () => true, limit: 1024 * 1024 }), (req, res) => {
    const verdict = verifyHubSpotSignature(
      {
        method: req.method,
        url: `${publicBaseUrl}${req.originalUrl}`,
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(', ') : v])),
        rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
      },
      clientSecret,
      new Date(),
    );
    if (!verdict.ok)
      res
        .status(401)
        .type('application/json')
        .send(JSON.stringify({ error: { code: 'unauthorized', message: verdict.reason } }));
    else
      res
        .status(200)
        .type('application/json')
        .send(JSON.stringify({ status: 'ok' }));
  });
  const server = await new Promise<Server>((resolve, reject) => {
    // Like Referloop's startService: every interface, the client connects over loopback.
    const s = app.listen(port, () => resolve(s));
    s.once('error', reject);
  });
  server.keepAliveTimeout = 65_000;
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/hubspot`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
