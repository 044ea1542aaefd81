import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { associationRoutes } from './association-routes.ts';
import { currencyRoutes, SandboxCurrencies } from './currency-routes.ts';
import { SandboxAuth } from './auth.ts';
import type { ObjectName } from './defaults.ts';
import { InjectedFailures } from './faults.ts';
import { HttpError, hubspotError, invalid, parseJson, readBody } from './http.ts';
import { CrmModel, type StoredRecord } from './model.ts';
import { oauthRoutes, SANDBOX_OWNERS } from './oauth-routes.ts';
import { objectRoutes } from './object-routes.ts';
import { formRoutes } from './form-routes.ts';
import { pipelineRoutes } from './pipeline-routes.ts';
import { propertyRoutes } from './property-routes.ts';
import { rateLimited, type SandboxStats } from './rate-limits.ts';
import { fullRecord, type Ctx, type Reply, type Route } from './routes.ts';
import { manifestSubscriptions, WebhookDispatcher, type Subscription } from './webhooks.ts';

/**
 * A HubSpot portal in memory, over real HTTP: the CRM v3/v4 paths @hubspot/api-client 13.5 calls,
 * OAuth, rate limits and signed webhooks. One sandbox is one portal with one installed app.
 * The server and the test-facing state live here; routes by concern in `*-routes.ts`, limits in
 * `rate-limits.ts`, injected failures in `faults.ts`, the records in `model.ts`.
 */

export type { ObjectName } from './defaults.ts';
export type { Delivery, Subscription } from './webhooks.ts';
export { manifestSubscriptions } from './webhooks.ts';

export interface HubSpotSandboxOptions {
  clientId?: string;
  clientSecret?: string;
  appId?: number | string;
  webhookUrl?: string;
  portalId?: number;
  /** The per-account API limit (default HubSpot's 110 per 10 s for OAuth apps). */
  rateLimit?: { points: number; durationMs: number };
  /** The search limit (default 5 per second), separate from `rateLimit`. */
  searchRateLimit?: { points: number; durationMs: number };
  /** How long events gather into one batch (default 50 ms). */
  webhookBatchMs?: number;
  /** First retry delay; doubles per attempt up to 30× (default 200 ms, HubSpot spreads ten retries over a day). */
  webhookRetryMs?: number;
  shuffleWebhooks?: boolean;
  /** Default: the app manifest's subscriptions. */
  subscriptions?: Subscription[];
  accessTokenTtlSeconds?: number;
  /** Keep every request/response in `recorded` (contract tests). */
  record?: boolean;
}

export interface RecordedExchange {
  method: string;
  path: string;
  query: Record<string, string[]>;
  requestContentType: string | undefined;
  requestBody: unknown;
  status: number;
  responseBody: unknown;
}

export function createHubSpotSandbox(options: HubSpotSandboxOptions = {}) {
  const clientId = options.clientId ?? 'sandbox-client-id';
  const clientSecret = options.clientSecret ?? 'sandbox-client-secret';
  const appId = Number(options.appId ?? 3145926);
  const portalId = options.portalId ?? 24681357;
  const recorded: RecordedExchange[] = [];
  const stats: SandboxStats = { apiCalls: 0, searchCalls: 0, rateLimitBreaches: 0, searchRateLimitBreaches: 0, injectedFaults: 0 };
  const limited = rateLimited(
    { api: options.rateLimit ?? { points: 110, durationMs: 10_000 }, search: options.searchRateLimit ?? { points: 5, durationMs: 1_000 } },
    stats,
  );
  const failures = new InjectedFailures(stats);

  const webhooks = new WebhookDispatcher({
    clientSecret,
    appId,
    portalId,
    subscriptions: options.subscriptions ?? manifestSubscriptions(),
    batchMs: options.webhookBatchMs ?? 50,
    retryBaseMs: options.webhookRetryMs ?? 200,
    shuffle: options.shuffleWebhooks ?? false,
  });
  webhooks.setUrl(options.webhookUrl);
  const model = new CrmModel((change) => webhooks.enqueue(change));
  // The installer, then the owners who are users of the portal too: a console sign-in may be any of them.
  const users = [
    { id: 71820451, email: 'sales@sandbox.example' },
    ...SANDBOX_OWNERS.map((owner) => ({ id: owner.userId, email: owner.email })),
  ];
  const auth = new SandboxAuth({
    clientId,
    clientSecret,
    appId,
    portalId,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 1800,
    users,
  });
  const full = (record: StoredRecord) => fullRecord(model, record);
  const currencies = new SandboxCurrencies();

  const routes: Route[] = [
    ...oauthRoutes(auth, SANDBOX_OWNERS),
    ...objectRoutes(model),
    ...associationRoutes(model),
    ...propertyRoutes(model),
    ...pipelineRoutes(model),
    ...currencyRoutes(currencies, portalId),
    ...formRoutes(model, portalId),
  ];

  // --- dispatch --------------------------------------------------------------------------------

  async function dispatch(req: IncomingMessage): Promise<{ reply: Reply; ctx: Ctx }> {
    const url = new URL(req.url ?? '/', 'http://sandbox.local');
    const ctx: Ctx = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      body: undefined,
      raw: Buffer.alloc(0),
      params: [],
    };
    try {
      ctx.raw = await readBody(req);
      const form = String(req.headers['content-type'] ?? '').includes('x-www-form-urlencoded');
      ctx.body = form ? Object.fromEntries(new URLSearchParams(ctx.raw.toString('utf8'))) : parseJson(ctx.raw);
      const injected = ctx.path === '/oauth/authorize' ? undefined : failures.take(ctx.path);
      if (injected) return { reply: injected, ctx };
      for (const [method, pattern, scopes, handle] of routes) {
        const match = pattern.exec(ctx.path);
        if (!match || method !== ctx.method) continue;
        ctx.params = match.slice(1).map((param) => {
          try {
            return decodeURIComponent(param);
          } catch {
            throw invalid(`Malformed percent-escape in path segment ${param}`);
          }
        });
        if (!scopes) return { reply: handle(ctx), ctx };
        auth.authenticate(req.headers.authorization, scopes(ctx));
        return { reply: limited(ctx, handle), ctx };
      }
      throw hubspotError(404, 'NOT_FOUND', `No route for ${ctx.method} ${ctx.path}`);
    } catch (error) {
      if (error instanceof HttpError) return { reply: { status: error.status, body: error.body, headers: error.headers }, ctx };
      return {
        reply: { status: 500, body: { status: 'error', message: String(error), correlationId: randomUUID(), category: 'INTERNAL_ERROR' } },
        ctx,
      };
    }
  }

  /** Injected latency: every answer leaves this many ms late, as from a slow portal. */
  let latencyMs = 0;

  function handler(req: IncomingMessage, res: ServerResponse): void {
    void dispatch(req).then(async ({ reply, ctx }) => {
      if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
      const json = reply.body !== undefined;
      if (options.record) {
        recorded.push({
          method: ctx.method,
          path: ctx.path,
          query: Object.fromEntries([...new Set(ctx.query.keys())].map((k) => [k, ctx.query.getAll(k)])),
          requestContentType: req.headers['content-type'],
          requestBody: ctx.body,
          status: reply.status,
          responseBody: reply.body,
        });
      }
      res.writeHead(reply.status, { ...(json ? { 'content-type': 'application/json;charset=utf-8' } : {}), ...reply.headers });
      res.end(json ? JSON.stringify(reply.body) : undefined);
    });
  }

  const server = createServer(handler);

  /** The portal as tests see it; changes made here come from "CRM_UI", like a rep at work. */
  const state = {
    portalId,
    appId,
    clientId,
    clientSecret,
    model,
    auth,
    deliveries: webhooks.deliveries,
    create(type: ObjectName, properties: Record<string, string>, associations: { type: ObjectName; id: string }[] = []) {
      const [record] = model.createMany(type, [{ properties }], 'CRM_UI');
      if (!record) throw new Error('create failed');
      for (const link of associations) model.associate(type, record.id, link.type, link.id, undefined, 'CRM_UI');
      return full(record);
    },
    update: (type: ObjectName, id: string, properties: Record<string, string>) => full(model.update(type, id, properties, 'CRM_UI')),
    archive: (type: ObjectName, id: string) => model.archive(type, id, 'CRM_UI'),
    merge: (type: ObjectName, primaryId: string, mergedId: string) => full(model.merge(type, primaryId, mergedId, 'CRM_UI')),
    associate: (from: ObjectName, fromId: string, to: ObjectName, toId: string) =>
      model.associate(from, fromId, to, toId, undefined, 'CRM_UI'),
    dissociate: (from: ObjectName, fromId: string, to: ObjectName, toId: string) => model.dissociate(from, fromId, to, toId, 'CRM_UI'),
    get(type: ObjectName, id: string) {
      const record = model.find(type, id);
      return record ? full(record) : undefined;
    },
    list: (type: ObjectName) => model.live(type).map(full),
    associatedIds: (from: ObjectName, id: string, to: ObjectName) => model.associations(from, id, to).map((l) => l.toId),
    owners: SANDBOX_OWNERS,
    /** Company currency and exchange rates (Settings → Currencies); `auth.withheldScopes` refuses the optional scope. */
    currencies,
    /** Tokens without the consent page, e.g. for `referloop connect hubspot`. */
    issueToken: (scopes: string[], ttlSeconds?: number) => auth.issue(scopes, ttlSeconds),
    /** Resolves when no webhook is queued, waiting for a retry, or in flight. */
    webhooksIdle: () => webhooks.idle(),
  };

  return {
    handler,
    state,
    stats,
    recorded,
    /** `host` 0.0.0.0 serves other containers; the URL names the loopback address either way. */
    async listen(port = 0, host = '127.0.0.1'): Promise<{ url: string }> {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
    },
    async close(): Promise<void> {
      webhooks.close();
      if (!server.listening) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    setWebhookUrl: (url: string | undefined) => webhooks.setUrl(url),
    faults: {
      /** The next `count` requests (whose path contains / matches `match`) get this answer (see InjectedFailures). */
      failNext: (status: number, count = 1, body?: unknown, match?: string | RegExp) => failures.failNext(status, count, body, match),
      /** From now on `share` of the API calls get a random 429 or 5xx, labelled as injected (see InjectedFailures). */
      failAtRandom: (share: number) => failures.failAtRandom(share),
      /** Every API answer (OAuth included) is held back `ms` before it is sent; 0 stops the delay. */
      delayResponses(ms: number) {
        latencyMs = ms;
      },
      /** Lose the next `n` webhook events for good (HubSpot gives up or never sends); 0 stops dropping. */
      dropNextWebhooks(n: number) {
        webhooks.faults.drop = n;
      },
      duplicateWebhooks(on = true) {
        webhooks.faults.duplicate = on;
      },
      delayWebhooks(ms: number) {
        webhooks.faults.delayMs = ms;
      },
      shuffleWebhooks(on = true) {
        webhooks.faults.shuffle = on;
      },
      expireAccessTokens: () => auth.expireAccessTokens(),
      revokeRefreshTokens: () => auth.revokeAllRefreshTokens(),
    },
  };
}

export type HubSpotSandbox = ReturnType<typeof createHubSpotSandbox>;
