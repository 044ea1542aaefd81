/**
 * The soak (`npm run soak [-- --json] [--events N] [--installations N]`): the real app as it is
 * deployed at scale, two `serve` and two `worker` processes on one PostgreSQL and one Redis, driven
 * by sandbox HubSpot portals and Salesforce orgs (every other installation) through referrals to
 * closed-won deals while things break: the sandboxes answer a third of the API calls with injected
 * 429s and 5xx, webhooks and outbound messages arrive duplicated and out of order, a worker is
 * SIGKILLed every 4 s and Redis restarts twice. It then counts from the store and the receivers
 * what must never happen, and exits non-zero unless every count is zero.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setPriority } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createHubSpotSandbox, type HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.ts';
import { toId18 } from '../../connectors/salesforce/ids.ts';
import { parseOutboundMessage } from '../../connectors/salesforce/parse-webhook.ts';
import { createSalesforceSandbox, type SalesforceSandbox } from '../../connectors/salesforce/sandbox/index.ts';
import { createLogger } from '../../src/log.ts';
import { installThroughOAuth } from '../../src/main.ts';
import { type CliProcess, spawnCli } from '../support/cli-process.ts';
import { freePort } from '../support/ports.ts';
import { scratchDatabase } from '../support/postgres.ts';
import { startRedisServer } from '../support/redis-server.ts';
import { startSmtpServer } from '../support/smtp-server.ts';
import { startWebhookReceiver } from '../support/webhook-receiver.ts';

export interface SoakOptions {
  events: number;
  installations: number;
  /** Progress lines on stderr. */
  verbose?: boolean;
}

export interface SoakResult {
  events: number;
  installations: number;
  referrals: number;
  /** Referrals closed won with their reward, by CRM: both CRMs carried the load. */
  wonInHubSpot: number;
  wonInSalesforce: number;
  /** The six that must be zero. */
  eventsLost: number;
  duplicateRewards: number;
  duplicateLedgerEntries: number;
  duplicateNotifications: number;
  notificationsLost: number;
  rateLimitBreaches: number;
  drainMs: number;
  /** Of the breaches, those of the search limit (5 a second, a separate window). */
  searchRateLimitBreaches: number;
  /** What was thrown at it, to show the zeros were earned. */
  injectedFaults: number;
  duplicatedWebhooks: number;
  workerKills: number;
  redisRestarts: number;
  emails: number;
  referrerWebhooks: number;
  failedSubmissions: number;
  /**
   * The longest stall of this process, which plays every CRM, under load: a CRM's limiter counts
   * calls as they arrive here, so a stall longer than the app limiter's margin (1 s of the
   * ten-secondly window, 0.5 s of search's) can bunch them into a breach the app did not make.
   */
  harnessLagMaxMs: number;
}

export const MUST_BE_ZERO = [
  'eventsLost',
  'duplicateRewards',
  'duplicateLedgerEntries',
  'duplicateNotifications',
  'notificationsLost',
  'rateLimitBreaches',
] as const satisfies (keyof SoakResult)[];

const HUBSPOT_CLIENT = { clientId: 'soak-client', clientSecret: 'soak-secret', appId: 7001 };
const SALESFORCE_CLIENT = { clientId: 'soak-salesforce-client', clientSecret: 'soak-salesforce-secret' };
const ADMIN_TOKEN = `soak-admin-${randomBytes(12).toString('hex')}`;
/** Webhook events one referral's journey sends, about (contact, deal, associations, stage and amount changes). */
const EVENTS_PER_REFERRAL = 9;
const REFERRERS_PER_INSTALLATION = 3;
const DRAIN_TIMEOUT_MS = 10 * 60_000;
/** Lower priority for the app's processes than for this one, which plays the CRMs (see spawnApp). */
const APP_NICENESS = 5;

/** Reads a request's whole body. */
function bodyOf(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}

/** Forwards a request to `target`, answering with its answer; the answer's body is returned too. */
async function forward(target: string, req: IncomingMessage, body: Buffer, res: ServerResponse, extra: Record<string, string> = {}) {
  const headers = Object.fromEntries(
    Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length', 'transfer-encoding'].includes(k)),
  ) as Record<string, string>;
  const answer = await fetch(`${target}${req.url}`, {
    method: req.method ?? 'GET',
    headers,
    redirect: 'manual',
    ...(body.length > 0 ? { body: new Uint8Array(body) } : {}),
  });
  const text = Buffer.from(await answer.arrayBuffer());
  const out: Record<string, string> = { ...extra };
  answer.headers.forEach((value, key) => {
    if (!['content-length', 'transfer-encoding', 'connection', 'content-encoding'].includes(key)) out[key] = value;
  });
  res.writeHead(answer.status, out).end(text);
  return { status: answer.status, text: text.toString('utf8'), headers: answer.headers };
}

/** One installation's CRM: a sandbox HubSpot portal or Salesforce org, at its own URL. */
type Tenant = {
  url: string;
  stats: { rateLimitBreaches: number; injectedFaults: number };
  faults: { failAtRandom(share: number): void };
} & ({ crm: 'hubspot'; portal: HubSpotSandbox } | { crm: 'salesforce'; org: SalesforceSandbox });

const AUTHORIZE_PATHS = new Set(['/oauth/authorize', '/services/oauth2/authorize']);
const TOKEN_PATHS = new Set(['/oauth/v1/token', '/services/oauth2/token']);

/**
 * One URL for many sandboxes, as HubSpot's API and Salesforce's login are one URL for every
 * customer: a request goes to the tenant that issued its access or refresh token (learned from
 * the token answers passing through), the consent page to the tenant being installed. A
 * Salesforce org's API calls go straight to its own instance URL, as they do in production.
 */
function crmRouter(tenants: Tenant[]) {
  const byToken = new Map<string, number>();
  const byCode = new Map<string, number>();
  let installing = 0;

  const server = createServer((req, res) => {
    void (async () => {
      const body = await bodyOf(req);
      const path = (req.url ?? '/').split('?')[0]!;
      let tenant: number | undefined;
      if (AUTHORIZE_PATHS.has(path)) tenant = installing;
      else if (TOKEN_PATHS.has(path)) {
        const form = new URLSearchParams(body.toString('utf8'));
        tenant = byCode.get(form.get('code') ?? '') ?? byToken.get(form.get('refresh_token') ?? '');
      } else if (path.startsWith('/oauth/v1/')) tenant = byToken.get(decodeURIComponent(path.split('/').at(-1) ?? ''));
      else tenant = byToken.get((req.headers.authorization ?? '').replace(/^Bearer /, ''));
      if (tenant === undefined) {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'error', message: 'unknown token' }));
        return;
      }
      const answer = await forward(tenants[tenant]!.url, req, body, res);
      if (AUTHORIZE_PATHS.has(path)) {
        const code = new URL(answer.headers.get('location') ?? '', 'http://x').searchParams.get('code');
        if (code) byCode.set(code, tenant);
      }
      if (TOKEN_PATHS.has(path) && answer.status === 200) {
        const granted = JSON.parse(answer.text) as { access_token?: string; refresh_token?: string };
        if (granted.access_token) byToken.set(granted.access_token, tenant);
        if (granted.refresh_token) byToken.set(granted.refresh_token, tenant);
      }
    })().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(502).end(String(err));
    });
  });
  return { server, install: (tenant: number) => (installing = tenant) };
}

/** The events a CRM webhook request carries, each named as the CRM names it (HubSpot's portal and event id, Salesforce's org and notification id). */
function eventsIn(path: string, body: Buffer): string[] {
  if (path.startsWith('/webhooks/hubspot'))
    return (JSON.parse(body.toString('utf8')) as { portalId: number; eventId: number }[]).map((e) => `${e.portalId}:${e.eventId}`);
  const parsed = parseOutboundMessage({ method: 'POST', url: path, headers: {}, rawBody: body });
  return parsed.ok ? parsed.events.map((e) => `${e.accountId}:${e.eventKey}`) : [];
}

/**
 * The load balancer in front of the two `serve` processes, at PUBLIC_BASE_URL (so HubSpot's
 * signatures, which cover the URL, verify on either). CRM webhooks passing through it (HubSpot's
 * and Salesforce's outbound messages) are duplicated one time in ten and held back at random, so
 * they arrive twice and out of order.
 */
function loadBalancer() {
  const backends: string[] = [];
  const stats = { duplicated: 0 };
  const acknowledged = new Set<string>();
  let next = 0;
  const server = createServer((req, res) => {
    void (async () => {
      const body = await bodyOf(req);
      const path = (req.url ?? '/').split('?')[0]!;
      const webhook = req.method === 'POST' && (path === '/webhooks/hubspot' || path === '/webhooks/salesforce');
      if (webhook && Math.random() < 0.3) await sleep(Math.random() * 400);
      const target = backends[next++ % backends.length]!;
      const answer = await forward(target, req, body, res);
      if (!webhook) return;
      if (answer.status < 300) for (const event of eventsIn(path, body)) acknowledged.add(event);
      if (Math.random() < 0.1) {
        stats.duplicated++;
        // Again later, to the other process, as a CRM's retry of a batch it thought lost.
        setTimeout(
          () => {
            const again = backends[next++ % backends.length]!;
            void fetch(`${again}${req.url}`, {
              method: 'POST',
              headers: Object.fromEntries(
                Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k)),
              ) as Record<string, string>,
              body: new Uint8Array(body),
            }).catch(() => {});
          },
          200 + Math.random() * 2_000,
        );
      }
    })().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(502).end(String(err));
    });
  });
  return { server, backends, stats, acknowledged };
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const say = (line: string) => {
    if (options.verbose) process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  };
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch(() => {});
  };
  try {
    const lag = monitorEventLoopDelay({ resolution: 20 });
    lag.enable();
    cleanups.push(async () => lag.disable());
    const database = await scratchDatabase();
    cleanups.push(() => database.drop());
    const redis = await startRedisServer();
    cleanups.push(() => redis.stop());
    const smtp = await startSmtpServer();
    cleanups.push(() => smtp.stop());
    const receiver = await startWebhookReceiver();
    cleanups.push(() => receiver.close());

    const balancer = loadBalancer();
    const publicUrl = await listen(balancer.server);
    cleanups.push(async () => balancer.server.closeAllConnections());
    cleanups.push(() => new Promise((resolve) => balancer.server.close(resolve)));

    // Every other installation is a Salesforce org: its API at its own instance URL, its login behind the router.
    const tenants = await Promise.all(
      Array.from({ length: options.installations }, async (_, i): Promise<Tenant> => {
        if (i % 2 === 1) {
          const org = createSalesforceSandbox({
            ...SALESFORCE_CLIENT,
            orgId: toId18(`00D5g0000000${String(i).padStart(3, '0')}`),
            outboundRetryMs: 500,
          });
          const { url } = await org.listen(0);
          org.setOutboundUrl(`${publicUrl}/webhooks/salesforce`);
          cleanups.push(() => org.close());
          return { crm: 'salesforce', org, url, stats: org.stats, faults: org.faults };
        }
        const portal = createHubSpotSandbox({ ...HUBSPOT_CLIENT, portalId: 50_000_000 + i, webhookRetryMs: 500 });
        const { url } = await portal.listen(0);
        portal.setWebhookUrl(`${publicUrl}/webhooks/hubspot`);
        cleanups.push(() => portal.close());
        return { crm: 'hubspot', portal, url, stats: portal.stats, faults: portal.faults };
      }),
    );
    const router = crmRouter(tenants);
    const crmUrl = await listen(router.server);
    cleanups.push(async () => router.server.closeAllConnections());
    cleanups.push(() => new Promise((resolve) => router.server.close(resolve)));

    const env = {
      PUBLIC_BASE_URL: publicUrl,
      DATABASE_URL: database.url,
      DATABASE_POOL_SIZE: '8',
      REDIS_URL: redis.url,
      ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      ADMIN_API_TOKEN: ADMIN_TOKEN,
      HUBSPOT_CLIENT_ID: HUBSPOT_CLIENT.clientId,
      HUBSPOT_CLIENT_SECRET: HUBSPOT_CLIENT.clientSecret,
      HUBSPOT_APP_ID: String(HUBSPOT_CLIENT.appId),
      HUBSPOT_API_BASE_URL: crmUrl,
      HUBSPOT_AUTHORIZE_URL: `${crmUrl}/oauth/authorize`,
      SALESFORCE_CLIENT_ID: SALESFORCE_CLIENT.clientId,
      SALESFORCE_CLIENT_SECRET: SALESFORCE_CLIENT.clientSecret,
      SALESFORCE_LOGIN_URL: crmUrl,
      SANDBOX: 'off',
      SMTP_URL: smtp.url,
      ALLOW_PRIVATE_WEBHOOK_ENDPOINTS: 'true',
      LOG_LEVEL: 'warn',
      SYNC_COALESCE_MS: '200',
      SYNC_MAX_DELAY_MS: '2000',
      // A third of the CRM's answers fail: more attempts than the default, so none runs out by bad luck alone.
      JOB_ATTEMPTS: '30',
      // A killed worker's claims are taken over after these, not after the production defaults.
      JOB_LEASE_MS: '5000',
      INBOX_LEASE_MS: '5000',
      NOTIFY_LEASE_MS: '5000',
    };
    const processes: CliProcess[] = [];
    cleanups.push(async () => {
      await Promise.all(processes.map((p) => p.kill('SIGKILL')));
    });
    const spawnApp = (args: string[], port: string) => {
      const app = spawnCli(args, { ...env, PORT: port });
      processes.push(app);
      // The CRMs run on other machines in production; here this process plays them, and a CRM
      // counts calls as they arrive. Were it starved of CPU by the app it measures, its stalls would
      // bunch the calls into a limit breach of its own making, so the app yields to it.
      // pid 0 (not started: its output says why) would be this process.
      if (app.pid > 0) {
        try {
          setPriority(app.pid, APP_NICENESS);
        } catch {
          // Already gone: its output says why.
        }
      }
      return app;
    };
    const serveUrls: string[] = [];
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      spawnApp(['serve'], String(port));
      const url = `http://127.0.0.1:${port}`;
      await waitHealthy(url, processes.at(-1)!);
      serveUrls.push(url);
      balancer.backends.push(url);
    }
    const workers: CliProcess[] = [];
    const spawnWorker = () => spawnApp(['worker'], '0');
    workers.push(spawnWorker(), spawnWorker());
    say(`2 serve + 2 worker on ${database.url.replace(/.*\//, '')}, redis ${redis.port}, ${options.installations} CRMs`);

    const api = async (path: string, init: { method?: string; json?: unknown } = {}) => {
      const res = await fetch(`${publicUrl}/api/v1${path}`, {
        method: init.method ?? 'GET',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
      });
      return { status: res.status, json: (await res.json().catch(() => ({}))) as Record<string, unknown> };
    };

    const log = createLogger({ level: 'silent' });
    const installations: string[] = [];
    for (let i = 0; i < options.installations; i++) {
      router.install(i);
      const id = await installThroughOAuth(publicUrl, tenants[i]!.crm, log);
      if (!id) throw new Error(`installing ${tenants[i]!.crm} ${i} failed`);
      installations.push(id);
      await tellAtOnce(api, id);
    }
    say(`${installations.length} installations`);

    const referralCount = Math.max(options.installations, Math.ceil(options.events / EVENTS_PER_REFERRAL));
    const plan = Array.from({ length: referralCount }, (_, n) => {
      const tenant = n % options.installations;
      const referrer = Math.floor(n / options.installations) % REFERRERS_PER_INSTALLATION;
      return {
        n,
        tenant,
        referrerEmail: `referrer-${tenant}-${referrer}@partners.soak.example`,
        refereeEmail: `buyer-${n}@buyer-${n}.soak.example`,
      };
    });
    // Each referrer's first referral creates them; their webhook endpoint is added before the rest,
    // so every later step is told by email and by webhook.
    const firsts = plan.filter((p) => p.n < options.installations * REFERRERS_PER_INSTALLATION);
    const rest = plan.filter((p) => p.n >= options.installations * REFERRERS_PER_INSTALLATION);
    let failedSubmissions = 0;
    const submit = async (p: (typeof plan)[number]) => {
      const request = () =>
        api('/referrals', {
          method: 'POST',
          json: {
            installationId: installations[p.tenant],
            referrer: { email: p.referrerEmail, name: `Referrer ${p.referrerEmail.split('@')[0]}`, type: 'partner' },
            referee: { email: p.refereeEmail, firstName: `Buyer${p.n}`, company: `Buyer ${p.n} Inc` },
            submittedBy: { kind: 'integration' },
          },
        });
      let res = await request();
      // A 503 while Redis restarts wrote nothing and says when to come back: a client does.
      for (let retry = 0; res.status === 503 && retry < 10; retry++) {
        await sleep(Number((res.json.error as { details?: { retryAfterSeconds?: number } }).details?.retryAfterSeconds ?? 1) * 1000);
        res = await request();
      }
      if (res.status !== 201) {
        failedSubmissions++;
        say(`submission ${p.n}: ${res.status} ${JSON.stringify(res.json).slice(0, 200)}`);
      }
      return res;
    };
    for (const p of firsts) {
      const res = await submit(p);
      const referrerId = (res.json as { referrer?: { id: string } }).referrer?.id;
      if (!referrerId) continue;
      const endpoint = await api(`/referrers/${referrerId}/webhook-endpoints`, {
        method: 'POST',
        json: { url: receiver.url(`/referrers/${referrerId}`) },
      });
      if (endpoint.status === 201) receiver.trust(String(endpoint.json.secret));
      else throw new Error(`webhook endpoint for ${referrerId}: ${endpoint.status} ${JSON.stringify(endpoint.json)}`);
    }

    // The chaos: faults on, a worker SIGKILLed every 4 s (and started again), Redis restarted at 1/3 and 2/3.
    for (const tenant of tenants) tenant.faults.failAtRandom(1 / 3);
    // Stalls from here on: the setup's are over before the load starts.
    lag.reset();
    let workerKills = 0;
    let chaos = true;
    const killer = (async () => {
      while (chaos) {
        await sleep(4_000);
        if (!chaos) break;
        const victim = workers.shift()!;
        await victim.kill('SIGKILL');
        workerKills++;
        workers.push(spawnWorker());
      }
    })();
    let redisRestarts = 0;
    let walked = 0;
    const restarter = (async () => {
      // At a third and two thirds of the journeys done.
      while (redisRestarts < 2) {
        await sleep(100);
        if (walked >= ((redisRestarts + 1) / 3) * plan.length) {
          redisRestarts++;
          say(`redis restart ${redisRestarts}`);
          await redis.restart();
        }
      }
    })();
    // The people the referrals' pushes created, by email, per CRM: one scan a second of each CRM,
    // not one per waiting journey, since scans are work in the process that plays every CRM and
    // whose stalls would bunch the calls its limiters count.
    const people = tenants.map(() => new Map<string, string>());
    const scanPeople = () =>
      tenants.forEach((t, i) => {
        if (t.crm === 'hubspot') for (const c of t.portal.state.model.live('contacts')) people[i]!.set(c.properties.email ?? '', c.id);
        else for (const lead of t.org.state.records('Lead')) people[i]!.set(String(lead.Email), String(lead.Id));
      });
    const scanner = setInterval(scanPeople, 1_000);
    cleanups.push(async () => clearInterval(scanner));
    const journeys: Promise<void>[] = [];
    const started = Date.now();
    const walk = async (p: (typeof plan)[number], submitted: boolean) => {
      try {
        await journey(p, submitted);
      } finally {
        walked++;
      }
    };
    const journey = async (p: (typeof plan)[number], submitted: boolean) => {
      if (!submitted && (await submit(p)).status !== 201) return;
      const tenant = tenants[p.tenant]!;
      const amount = 2_000 + (p.n % 7) * 500;
      // The referral's push creates the person (minutes later in a 10,000-event run, behind the
      // faults and the backlog); the sales team then works a deal for it to won.
      const personId = await waitFor(() => people[p.tenant]!.get(p.refereeEmail), DRAIN_TIMEOUT_MS, 250);
      if (!personId) return;
      if (tenant.crm === 'hubspot') {
        const { state } = tenant.portal;
        const deal = state.create(
          'deals',
          { dealname: `Deal ${p.n}`, pipeline: 'default', dealstage: 'appointmentscheduled', amount: String(amount) },
          [{ type: 'contacts', id: personId }],
        );
        await sleep(300 + Math.random() * 700);
        state.update('deals', deal.id, { dealstage: 'qualifiedtobuy' });
        await sleep(300 + Math.random() * 700);
        state.update('deals', deal.id, { dealstage: 'closedwon', closedate: new Date().toISOString() });
        return;
      }
      const { actions } = tenant.org;
      const { opportunityId } = actions.convertLead({ leadId: personId, createOpportunity: true, opportunityName: `Deal ${p.n}` });
      actions.updateRecord({
        sobject: 'Opportunity',
        id: opportunityId!,
        fields: { Amount: amount, CloseDate: new Date().toISOString().slice(0, 10) },
      });
      await sleep(300 + Math.random() * 700);
      actions.moveStage({ opportunityId: opportunityId!, stageName: 'Qualification' });
      await sleep(300 + Math.random() * 700);
      actions.moveStage({ opportunityId: opportunityId!, stageName: 'Closed Won' });
    };
    for (const p of firsts) journeys.push(walk(p, true));
    for (const [i, p] of rest.entries()) {
      journeys.push(walk(p, false));
      if (i > 0 && i % 8 === 0) await sleep(250);
    }
    await Promise.all(journeys);
    clearInterval(scanner);
    await restarter;
    const sentAt = Date.now();
    say(`${plan.length} referrals worked in ${Math.round((sentAt - started) / 1000)} s; draining`);

    const reader = new pg.Pool({ connectionString: database.url, max: 2 });
    reader.on('error', () => {}); // an idle connection ended by the server; the next query reconnects
    cleanups.push(() => reader.end());
    const one = async (sql: string) => Number(Object.values((await reader.query(sql)).rows[0] ?? { n: 0 })[0] ?? 0);
    const sandboxesIdle = async () => {
      await Promise.all(tenants.flatMap((t) => (t.crm === 'hubspot' ? [t.portal.state.webhooksIdle()] : [])));
      return tenants.every((t) => t.crm === 'hubspot' || t.org.state.outbound.counts().pending === 0);
    };
    const drained = await waitFor(
      async () => {
        const open = await one(`
          SELECT (SELECT count(*) FROM referrals WHERE status <> 'closed_won')
               + (SELECT count(*) FROM inbox WHERE status IN ('pending', 'processing'))
               + (SELECT count(*) FROM outbox WHERE channel IN ('email', 'webhook') AND status IN ('pending', 'sending'))`);
        return open === 0 && (await sandboxesIdle()) ? true : undefined;
      },
      DRAIN_TIMEOUT_MS,
      2_000,
    );
    const drainMs = Date.now() - sentAt;
    chaos = false;
    await killer;
    say(drained ? `drained in ${Math.round(drainMs / 1000)} s` : 'did not drain');

    // --- the counts ---------------------------------------------------------------------------
    const events = balancer.acknowledged.size;
    const inboxRows = await one('SELECT count(*) FROM inbox');
    const unfinishedEvents = await one("SELECT count(*) FROM inbox WHERE status NOT IN ('done', 'ignored')");
    const notWon = await one("SELECT count(*) FROM referrals WHERE status <> 'closed_won'");
    const rewardsMissing = await one(
      'SELECT count(*) FROM referrals r WHERE NOT EXISTS (SELECT 1 FROM rewards w WHERE w.referral_id = r.id)',
    );
    // An event is lost when it never reached the inbox, never finished there, or its effect is missing
    // (a referral whose deal was won that is not closed won, or has no reward).
    const eventsLost = Math.max(0, events - inboxRows) + unfinishedEvents + notWon + rewardsMissing;
    const wonIn = (crm: Tenant['crm']) =>
      one(`SELECT count(*) FROM referrals r JOIN installations i ON i.id = r.installation_id
           WHERE i.crm = '${crm}' AND r.status = 'closed_won' AND EXISTS (SELECT 1 FROM rewards w WHERE w.referral_id = r.id)`);
    const duplicateRewards = await one(`
      SELECT coalesce(sum(n - 1), 0) FROM (
        SELECT count(*) AS n FROM rewards GROUP BY referral_id, beneficiary, milestone HAVING count(*) > 1) d`);
    const duplicateLedgerEntries = await one(`
      SELECT coalesce(sum(n - 1), 0) FROM (
        SELECT count(*) AS n FROM reward_events
        GROUP BY reward_id, kind, from_status, to_status, amount_cents HAVING count(*) > 1) d`);

    const outbox = (
      await reader.query<{
        channel: string;
        status: string;
        topic: string;
        referral_id: string | null;
        referrer_id: string | null;
        message_id: string;
      }>(
        "SELECT channel, status, topic, referral_id, referrer_id, payload->>'messageId' AS message_id FROM outbox WHERE channel IN ('email', 'webhook')",
      )
    ).rows;
    const mails = smtp.messages();
    const hooks = receiver.deliveries();
    const mailIds = new Set(mails.map((m) => m.messageId.replace(/^<|@.*$/g, '')));
    const hookIds = new Set(hooks.map((h) => h.webhookId));
    const notificationsLost =
      outbox.filter((m) => ['pending', 'sending', 'failed'].includes(m.status)).length +
      outbox.filter((m) => m.status === 'delivered' && !(m.channel === 'email' ? mailIds : hookIds).has(m.message_id)).length;
    // One step told twice: two outbox rows for it, or two ids for it at a receiver.
    const steps = new Map<string, number>();
    for (const m of outbox) {
      const key = `${m.channel}|${m.topic}|${m.referral_id}|${m.referrer_id}`;
      steps.set(key, (steps.get(key) ?? 0) + 1);
    }
    const receivedSteps = new Map<string, Set<string>>();
    const seenAt = (key: string, id: string) => receivedSteps.set(key, (receivedSteps.get(key) ?? new Set()).add(id));
    for (const m of mails) seenAt(`email|${m.envelope.to.join(',')}|${m.subject}`, m.messageId);
    for (const h of hooks) seenAt(`webhook|${h.path}|${h.body.type}|${JSON.stringify(h.body.data)}`, h.webhookId);
    const duplicateNotifications =
      [...steps.values()].reduce((sum, n) => sum + n - 1, 0) + [...receivedSteps.values()].reduce((sum, ids) => sum + ids.size - 1, 0);
    const total = (count: (t: Tenant) => number) => tenants.reduce((sum, t) => sum + count(t), 0);

    return {
      events,
      installations: options.installations,
      referrals: plan.length,
      wonInHubSpot: await wonIn('hubspot'),
      wonInSalesforce: await wonIn('salesforce'),
      eventsLost: drained ? eventsLost : Math.max(eventsLost, 1),
      duplicateRewards,
      duplicateLedgerEntries,
      duplicateNotifications,
      notificationsLost,
      // The sandboxes' own limiters answered these: HubSpot's 429s, Salesforce's REQUEST_LIMIT_EXCEEDED.
      rateLimitBreaches: total((t) => t.stats.rateLimitBreaches),
      drainMs,
      searchRateLimitBreaches: total((t) => (t.crm === 'hubspot' ? t.portal.stats.searchRateLimitBreaches : 0)),
      injectedFaults: total((t) => t.stats.injectedFaults),
      duplicatedWebhooks: balancer.stats.duplicated,
      workerKills,
      redisRestarts,
      emails: mailIds.size,
      referrerWebhooks: hookIds.size,
      failedSubmissions,
      harnessLagMaxMs: Math.round(lag.max / 1e6),
    };
  } finally {
    await cleanup();
  }
}

/** Every new referral, and each of its steps, is told at once: no quiet period merging the soak's fast deal steps. */
async function tellAtOnce(
  api: (path: string, init?: { method?: string; json?: unknown }) => Promise<{ status: number; json: Record<string, unknown> }>,
  installationId: string,
) {
  const listed = await api(`/installations/${installationId}/programs`);
  const programs = (listed.json.items ?? []) as { id: string; isDefault?: boolean }[];
  const program = programs.find((p) => p.isDefault) ?? programs[0];
  if (!program) throw new Error(`no program in ${installationId}: ${JSON.stringify(listed.json)}`);
  const document = (await api(`/programs/${program.id}`)).json as { program: { notifications: Record<string, unknown> } };
  document.program.notifications = { ...document.program.notifications, quietPeriodSeconds: 0 };
  const saved = await api(`/programs/${program.id}`, { method: 'PUT', json: document });
  if (saved.status !== 200) throw new Error(`program ${program.id}: ${saved.status} ${JSON.stringify(saved.json)}`);
}

async function waitHealthy(url: string, process: CliProcess): Promise<void> {
  const ok = await waitFor(async () => ((await fetch(`${url}/healthz`).catch(() => undefined))?.ok ? true : undefined), 60_000, 200);
  if (!ok) throw new Error(`serve at ${url} did not become healthy:\n${process.output()}`);
}

/** Polls until `check` gives a value, or undefined after `timeoutMs`. */
async function waitFor<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 100): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value !== undefined) return value;
    await sleep(everyMs);
  }
  return undefined;
}

function numberFlag(args: string[], name: string, fallback: number): number {
  const at = args.indexOf(name);
  if (at < 0) return fallback;
  const value = Number(args[at + 1]);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${name} takes a whole number of at least 1, not ${args[at + 1] ?? 'nothing'}`);
  return value;
}

async function main(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const options = {
    events: numberFlag(args, '--events', 10_000),
    installations: numberFlag(args, '--installations', 50),
    verbose: !json,
  };
  const result = await runSoak(options);
  const failed = MUST_BE_ZERO.filter((key) => result[key] !== 0);
  if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    const width = Math.max(...Object.keys(result).map((k) => k.length));
    for (const [key, value] of Object.entries(result)) {
      const mark = (MUST_BE_ZERO as readonly string[]).includes(key) ? (value === 0 ? ' ok' : ' FAIL') : '';
      process.stdout.write(`${key.padEnd(width)}  ${String(value).padStart(8)}${mark}\n`);
    }
  }
  return failed.length === 0 ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // Interrupted: exit through the 'exit' handlers, which kill the app's processes and redis-server.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`soak failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(2);
    },
  );
}
