/**
 * The pipeline as deployed with scale-out: the HTTP edge (webhooks, API) in this process, the sync
 * worker as `referloop worker` child processes (the CLI from source) on the same SQLite file, and a sandbox
 * HubSpot as a separate server. Shared by the pipeline tests (worker crash, Redis restart, poison).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import { createHubSpotSandbox, type HubSpotSandbox, type HubSpotSandboxOptions } from '../../../connectors/hubspot/sandbox/index.ts';
import { loadConfig } from '../../../src/config.ts';
import { createLogger } from '../../../src/log.ts';
import { installThroughOAuth, type RunningService, sqliteRuntime, startService } from '../../../src/main.ts';
import { spawnCli, type CliProcess } from '../../support/cli-process.ts';
import { freePort } from '../../support/ports.ts';
import { adminApi } from '../../support/service.ts';

export const CLIENT = { clientId: 'pipeline-hubspot-client', clientSecret: 'pipeline-hubspot-secret', appId: 5151 };
/**
 * Short leases, so a killed worker's claims come free within a test: INBOX_LEASE_MS is how long a
 * sync run's claim on inbox events lasts without renewal (src/use-cases/sync-installation.ts),
 * JOB_LEASE_MS the same for a queue job (embedded lease, BullMQ lock and stalled check).
 */
export const INBOX_LEASE_MS = 2_000;
export const JOB_LEASE_MS = 2_000;

export interface PipelineOptions {
  /** Unset: the embedded queue in SQLite. */
  redisUrl?: string;
  /** Extra configuration for the edge and every worker. */
  env?: Record<string, string>;
  sandbox?: HubSpotSandboxOptions;
}

export interface Pipeline {
  url: string;
  hubspot: HubSpotSandbox;
  edge: RunningService;
  /** The edge's SQLite connection (WAL: reads never block the worker). */
  db: Database.Database;
  installationId: string;
  /** The configuration every process of this pipeline runs with. */
  env: Record<string, string>;
  api(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  /** A `referloop worker` child process; stopped (SIGTERM, then SIGKILL) by `stop()` if still running. */
  startWorker(): CliProcess;
  workers: CliProcess[];
  /** Every worker's output, for failure messages. */
  workerOutput(): string;
  stop(): Promise<void>;
}

export async function startPipeline(options: PipelineOptions = {}): Promise<Pipeline> {
  const dataDir = mkdtempSync(join(tmpdir(), 'referloop-pipeline-'));
  const workers: CliProcess[] = [];
  let hubspot: HubSpotSandbox | undefined;
  let edge: RunningService | undefined;
  const stop = async () => {
    await Promise.all(workers.map((w) => w.kill('SIGTERM', 10_000)));
    await edge?.stop().catch(() => undefined);
    await hubspot?.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    hubspot = createHubSpotSandbox({
      ...CLIENT,
      webhookBatchMs: 20,
      webhookRetryMs: 100,
      // Room for the edge's and the worker's calls together: these tests are about the pipeline,
      // not the rate limit (which has its own tests).
      rateLimit: { points: 2_000, durationMs: 10_000 },
      ...options.sandbox,
    });
    const { url: hubspotUrl } = await hubspot.listen(0);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env: Record<string, string> = {
      PORT: String(port),
      PUBLIC_BASE_URL: url,
      DATABASE_URL: `file:${join(dataDir, 'referloop.db')}`,
      ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      ADMIN_API_TOKEN: 'pipeline-admin-token-0123456789',
      LOG_LEVEL: process.env.TEST_WORKER_LOG_LEVEL ?? 'silent',
      HUBSPOT_CLIENT_ID: CLIENT.clientId,
      HUBSPOT_CLIENT_SECRET: CLIENT.clientSecret,
      HUBSPOT_APP_ID: String(CLIENT.appId),
      HUBSPOT_API_BASE_URL: hubspotUrl,
      HUBSPOT_AUTHORIZE_URL: `${hubspotUrl}/oauth/authorize`,
      HUBSPOT_RATE_LIMIT_PER_10S: '1800',
      SANDBOX: 'off',
      // Deals keep coming every 60-100 ms, so the webhooks never pause: a sync at least every 0.5 s.
      SYNC_COALESCE_MS: '100',
      SYNC_MAX_DELAY_MS: '500',
      // No reconciliation during a test: it would repair what the pipeline lost and hide it.
      RECONCILE_INTERVAL_SECONDS: '3600',
      INBOX_LEASE_MS: String(INBOX_LEASE_MS),
      JOB_LEASE_MS: String(JOB_LEASE_MS),
      ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
      ...options.env,
    };
    const config = loadConfig(env);
    edge = await startService(config, createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), { http: true, worker: false });
    hubspot.setWebhookUrl(`${url}/webhooks/hubspot`);
    const installationId = await installThroughOAuth(url, 'hubspot', createLogger({ level: 'silent' }));
    if (!installationId) throw new Error('OAuth install of the sandbox HubSpot failed');
    const running = edge;
    return {
      url,
      hubspot,
      edge: running,
      db: sqliteRuntime(running.runtime).db.$client,
      installationId,
      env,
      api: adminApi(url, config.adminToken),
      startWorker() {
        const worker = spawnCli(['worker'], env);
        workers.push(worker);
        return worker;
      },
      workers,
      workerOutput: () => workers.map((w, i) => `--- worker ${i + 1} (pid ${w.pid}) ---\n${w.output() || '(no output)'}`).join('\n'),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The marketplace install: follow the OAuth redirects (the sandbox's consent page approves by itself). */
// --- the sales team and the referral program, over the real API ---------------------------------

export const PARTNER = { email: 'pia@partner-firm.com', name: 'Pia Partner', type: 'partner' };

/**
 * Logs `n` referrals by one partner; returns their ids in order. `personal` referees (free-mail
 * addresses) skip the company-domain search, whose 5-per-second limit would make a big seed slow.
 */
export async function seedReferrals(p: Pipeline, n: number, tag: string, options: { personal?: boolean } = {}): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const email = options.personal ? `${tag}buyer${i}@gmail.com` : `buyer${i}@${tag}-${i}.example.com`;
    const res = await p.api('/referrals', {
      method: 'POST',
      json: {
        referrer: PARTNER,
        referee: { email, firstName: 'Buyer', lastName: `No${i}`, company: `Account ${i}` },
        submittedBy: { kind: 'rep', id: 'rep-7' },
      },
    });
    if (res.status !== 201) throw new Error(`POST /referrals answered ${res.status}: ${await res.text()}`);
    ids.push(((await res.json()) as { id: string }).id);
  }
  return ids;
}

/** Waits until every referral has its HubSpot contact; returns the contact id per referral id. */
export async function waitPushed(p: Pipeline, ids: string[], timeoutMs = 20_000): Promise<Map<string, string>> {
  await until(
    () =>
      scalar(p.db, `SELECT count(*) FROM referrals WHERE crm_person_id IS NOT NULL AND id IN (${ids.map(() => '?').join(',')})`, ...ids) ===
      ids.length,
    `${ids.length} referrals pushed to HubSpot`,
    timeoutMs,
    p.workerOutput,
  );
  const rows = p.db
    .prepare(`SELECT id, crm_person_id AS contact FROM referrals WHERE id IN (${ids.map(() => '?').join(',')})`)
    .all(...ids) as {
    id: string;
    contact: string;
  }[];
  return new Map(rows.map((r) => [r.id, r.contact]));
}

/** A rep creates a deal for the contact and moves it to closed won, as in HubSpot's UI. */
export function winDeal(
  hubspot: HubSpotSandbox,
  contactId: string,
  name: string,
  options: { amount?: string; closedate?: string } = {},
): string {
  const deal = hubspot.state.create(
    'deals',
    { dealname: name, pipeline: 'default', dealstage: 'appointmentscheduled', amount: options.amount ?? '25000' },
    [{ type: 'contacts', id: contactId }],
  );
  hubspot.state.update('deals', deal.id, { dealstage: 'closedwon', closedate: options.closedate ?? '2026-03-31T12:00:00Z' });
  return deal.id;
}

// --- reading the store ----------------------------------------------------------------------------

export function scalar(db: Database.Database, sql: string, ...params: unknown[]): number {
  return Number(
    db
      .prepare(sql)
      .pluck()
      .get(...params),
  );
}

export function inboxByStatus(db: Database.Database): Record<string, number> {
  const rows = db.prepare('SELECT status, count(*) AS n FROM inbox GROUP BY status').all() as { status: string; n: number }[];
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** True when no inbox event waits or is being worked on. */
export function inboxSettled(db: Database.Database): boolean {
  return scalar(db, "SELECT count(*) FROM inbox WHERE status IN ('pending', 'processing')") === 0;
}

export function closedWon(db: Database.Database, ids: string[]): number {
  return scalar(db, `SELECT count(*) FROM referrals WHERE status = 'closed_won' AND id IN (${ids.map(() => '?').join(',')})`, ...ids);
}

/** Polls `check` (every `everyMs`) until it holds; the failure names `what` and carries `context()`. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs: number,
  context: () => string = () => '',
  everyMs = 25,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${context()}`);
    await sleep(everyMs);
  }
}
