import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHubSpotSandbox, type HubSpotSandbox, type HubSpotSandboxOptions } from '../../connectors/hubspot/sandbox/index.ts';
import type { CrmKind } from '../../connectors/registry.ts';
import {
  createSalesforceSandbox,
  type SalesforceSandbox,
  type SalesforceSandboxOptions,
} from '../../connectors/salesforce/sandbox/index.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import type Database from 'better-sqlite3';
import { installThroughOAuth, type RunningService, startService } from '../../src/main.ts';
import { freePort } from './ports.ts';
import { scratchDatabase } from './postgres.ts';
import { startRedisServer } from './redis-server.ts';
import { postgresRows, type Rows, sqliteRows, testsRunOnPostgres } from './store-under-test.ts';

export interface TestService {
  url: string;
  token: string;
  service: RunningService;
  /** The service's SQLite connection, for tests that read the file directly (none on PostgreSQL). */
  sqlite: Database.Database;
  /** SQL beneath the store, on either database. */
  rows: Rows;
  dataDir: string;
  /** fetch against the API with the admin token. */
  api: ApiCall;
  stop(): Promise<void>;
}

/**
 * The whole service in this process, on a free port, with its own SQLite file, or with
 * REFERLOOP_TEST_STORE=postgres its own scratch PostgreSQL database and redis-server. Without other
 * settings it serves the in-process sandbox CRMs, like `npm start` does.
 */
export async function startTestService(
  env: Record<string, string> = {},
  options: { log?: Logger; worker?: boolean } = {},
): Promise<TestService> {
  const dataDir = mkdtempSync(join(tmpdir(), 'referloop-test-'));
  const port = await freePort();
  const postgres = testsRunOnPostgres() ? await scratchDatabase() : undefined;
  const redis = postgres ? await startRedisServer() : undefined;
  const config = loadConfig({
    PORT: String(port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: postgres?.url ?? `file:${join(dataDir, 'referloop.db')}`,
    ...(redis ? { REDIS_URL: redis.url } : {}),
    ADMIN_API_TOKEN: 'test-admin-token-0123456789',
    LOG_LEVEL: 'silent',
    SYNC_COALESCE_MS: '20',
    ...env,
  });
  // TEST_LOG_LEVEL=debug shows the service's logs when a test needs explaining.
  const log = options.log ?? createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  // Without the worker nothing changes the store behind a test's back (tests that count rows).
  const service = await startService(config, log, { http: true, worker: options.worker ?? true });
  const { runtime } = service;
  const reader =
    runtime.storeKind === 'sqlite' ? { rows: sqliteRows(runtime.db.$client), end: async () => {} } : postgresRows(config.databaseUrl);
  const url = config.publicBaseUrl;
  return {
    url,
    token: config.adminToken,
    service,
    get sqlite() {
      if (runtime.storeKind !== 'sqlite') throw new Error('This test reads SQLite directly: it runs on SQLite only.');
      return runtime.db.$client;
    },
    rows: reader.rows,
    dataDir,
    api: adminApi(url, config.adminToken),
    async stop() {
      await service.stop();
      await reader.end();
      await postgres?.drop();
      await redis?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type ApiCall = (path: string, init?: RequestInit & { json?: unknown }) => Promise<Response>;

/** fetch against `/api/v1` with the admin token; `json` becomes the body. */
export function adminApi(url: string, token: string): ApiCall {
  return (path, init = {}) => {
    const { json, ...rest } = init;
    return fetch(`${url}/api/v1${path}`, {
      ...rest,
      headers: {
        authorization: `Bearer ${token}`,
        ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(rest.headers as Record<string, string> | undefined),
      },
      ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
    });
  };
}

/** Installs a sandbox CRM (whose consent page approves by itself) through OAuth; returns the installation id. */
export async function installSandbox(service: TestService, crm: CrmKind = 'hubspot'): Promise<string> {
  const id = await installThroughOAuth(service.url, crm, createLogger({ level: 'silent' }));
  if (!id) throw new Error(`sandbox ${crm} install failed`);
  return id;
}

/**
 * Referloop beside a sandbox HubSpot running as its own server, installed through OAuth: what the
 * end-to-end tests of the HubSpot side start from.
 */
export async function startWithSandboxHubSpot(
  client: { clientId: string; clientSecret: string; appId: number },
  sandboxOptions: Omit<HubSpotSandboxOptions, 'clientId' | 'clientSecret' | 'appId'> = {},
  /** More of the service's environment (e.g. SMTP_URL). */
  env: Record<string, string> = {},
): Promise<{ hubspot: HubSpotSandbox; svc: TestService; installationId: string; hubspotUrl: string }> {
  const hubspot = createHubSpotSandbox({ ...client, ...sandboxOptions });
  const { url } = await hubspot.listen(0);
  const svc = await startTestService({
    HUBSPOT_CLIENT_ID: client.clientId,
    HUBSPOT_CLIENT_SECRET: client.clientSecret,
    HUBSPOT_APP_ID: String(client.appId),
    HUBSPOT_API_BASE_URL: url,
    HUBSPOT_AUTHORIZE_URL: `${url}/oauth/authorize`,
    SANDBOX: 'off',
    ...env,
  });
  hubspot.setWebhookUrl(`${svc.url}/webhooks/hubspot`);
  return { hubspot, svc, installationId: await installSandbox(svc), hubspotUrl: url };
}

/**
 * A sandbox Salesforce org sending its Outbound Messages to a service connected to it and to no other
 * CRM, fast retries and batching, and the org installed.
 */
export async function startWithSandboxSalesforce(
  client: { clientId: string; clientSecret: string },
  sandboxOptions: Omit<SalesforceSandboxOptions, 'clientId' | 'clientSecret'> = {},
  /** What the org's admin did before installing Referloop (custom fields, say). */
  beforeInstall: (salesforce: SalesforceSandbox) => void = () => {},
  /** More of the service's environment (e.g. SMTP_URL). */
  env: Record<string, string> = {},
): Promise<{ salesforce: SalesforceSandbox; svc: TestService; installationId: string; salesforceUrl: string }> {
  const salesforce = createSalesforceSandbox({ ...client, outboundRetryMs: 100, outboundBatchDelayMs: 10, ...sandboxOptions });
  beforeInstall(salesforce);
  const { url } = await salesforce.listen(0);
  const svc = await startTestService({
    SALESFORCE_CLIENT_ID: client.clientId,
    SALESFORCE_CLIENT_SECRET: client.clientSecret,
    SALESFORCE_LOGIN_URL: url,
    SANDBOX: 'off',
    ...env,
  });
  salesforce.setOutboundUrl(`${svc.url}/webhooks/salesforce`);
  return { salesforce, svc, installationId: await installSandbox(svc, 'salesforce'), salesforceUrl: url };
}

/** Polls until `check` returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
