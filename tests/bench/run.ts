/**
 * `npm run bench` — Referloop's performance, as ratios against a bound (issue 3):
 *
 * 1. webhook ingest (POST /webhooks/hubspot) next to a bare signature-checking express endpoint,
 *    driven by the same load generator (a child process) with the same parameters; Referloop runs
 *    with its worker off here, and the same figures are taken again with the worker on during 3.;
 * 2. CRM API calls per 1,000 webhook events next to the batching minimum;
 * 3. the time to drain 10,000 events (1,000 deals × 10) through the workers against a sandbox
 *    HubSpot at its default rate limit, next to the rate-limit bound; rate-limit breaches;
 * 4. peak RSS of the process serving Referloop.
 *
 * `npm run bench -- --json` prints exactly one JSON object on stdout; progress goes to stderr.
 * Options: --redis (BullMQ on a private redis-server; REDIS_URL, when set, is used instead),
 * --duration=<ms> (the measured ingest window, default 5000), --rounds=<n> (ingest rounds, bare
 * then Referloop, default 5), --concurrency=<n> (default 16),
 * --deals=<n> (drain records, default 1000), --order=interleaved|grouped|waves (drain arrival
 * order, default interleaved), --drain-timeout=<s> (default: what keeps the run near 3 minutes;
 * a drain cut short is reported with `complete: false`), --skip-ingest, --skip-drain.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHubSpotSandbox, type HubSpotSandbox } from '../../connectors/hubspot/sandbox/index.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { installThroughOAuth, type RunningService, sqliteRuntime, startService } from '../../src/main.ts';
import { startBareEndpoint } from './bare.ts';
import { arrange, dealLifecycle, type HsEvent, type Order } from './hubspot-events.ts';
import type { LoadResult, LoadSpec } from './load.ts';
import { seedDrainScenario } from './seed.ts';
import { freePort } from '../support/ports.ts';
import { round } from './util.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

// --- options ---------------------------------------------------------------------------------------

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const option = (name: string, fallback: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const asJson = flag('json');
const useRedis = flag('redis') || Boolean(process.env.REDIS_URL);
const INGEST_MS = Number(option('duration', '5000'));
const WARMUP_MS = 1_000;
const CONCURRENCY = Number(option('concurrency', '16'));
const EVENTS_PER_REQUEST = 10;
const MAX_REQUESTS = 50_000;
const INGEST_ROUNDS = Number(option('rounds', '5'));
const DEALS = Number(option('deals', '1000'));
const EVENTS_PER_DEAL = 10;
const ORDER = option('order', 'interleaved') as Order;
const SEED = 20_260_331;
/** The whole run aims to stay under ~3 minutes; the drain gets what the rest leaves. */
const BUDGET_MS = 165_000;
const DRAIN_TIMEOUT_OPTION = option('drain-timeout', '');
const benchStarted = Date.now();
/** What the sandbox enforces (HubSpot's default) and what Referloop's limiter admits. */
const SANDBOX_LIMIT = { points: 110, durationMs: 10_000 };
const CLIENT_LIMIT = { points: 110, durationMs: 11_000 };
const BATCH = 100;
const CLIENT = { clientId: 'bench-hubspot-client', clientSecret: 'bench-hubspot-secret', appId: 4242 };
const TARGETS = { ingestRatio: 0.5, p99Ms: 50, apiCallRatio: 1.5, rateLimitBreaches: 0 };

if (!['interleaved', 'grouped', 'waves'].includes(ORDER)) throw new Error(`--order must be interleaved, grouped or waves, not ${ORDER}`);

// In --json mode stdout carries the one object and nothing else: anything else that writes there goes to stderr.
const stdoutWrite = process.stdout.write.bind(process.stdout);
if (asJson) process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
const progress = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const log = createLogger({ level: 'silent', destination: process.stderr });

// --- peak RSS of this process (the service, the sandbox CRM and the bare endpoint) -------------------

const rss = { peak: 0, phase: 0 };
const rssTimer = setInterval(() => {
  const value = process.memoryUsage().rss;
  rss.peak = Math.max(rss.peak, value);
  rss.phase = Math.max(rss.phase, value);
}, 100);
rssTimer.unref();
const phasePeakMb = () => {
  const value = round(Math.max(rss.phase, process.memoryUsage().rss) / 2 ** 20, 1);
  rss.phase = 0;
  return value;
};

// --- the pieces --------------------------------------------------------------------------------------

interface CrmCalls {
  total: number;
  byKind: Map<string, number>;
}

interface Referloop {
  svc: RunningService;
  hubspot: HubSpotSandbox;
  calls: CrmCalls;
  installationId: string;
  webhookUrl: string;
  portalId: number;
  stop(): Promise<void>;
}

let redis = null as { url: string; stop(): Promise<void> } | null;
const cleanups: (() => Promise<void>)[] = [];

/** The API path as a call kind: ids become `:id`. */
const callKind = (method: string, url: string) => `${method} ${url.split('?')[0]!.replace(/\/\d+(?=\/|$)/g, '/:id')}`;

/**
 * A sandbox HubSpot on its own port (a separate server, as in tests/e2e/hubspot-flow.test.ts), with
 * its webhooks off — the benchmark sends the webhooks — and every API call tallied by kind.
 * Referloop in this process on a free port with a temp SQLite file, installed through OAuth.
 */
async function startReferloop(label: string, options: { worker: boolean; portalId: number }): Promise<Referloop> {
  const hubspot = createHubSpotSandbox({ ...CLIENT, portalId: options.portalId, subscriptions: [] });
  const calls: CrmCalls = { total: 0, byKind: new Map() };
  const crmServer: Server = createServer((req, res) => {
    if (!req.url?.startsWith('/oauth')) {
      const kind = callKind(req.method ?? 'GET', req.url ?? '/');
      calls.total += 1;
      calls.byKind.set(kind, (calls.byKind.get(kind) ?? 0) + 1);
    }
    hubspot.handler(req, res);
  });
  await new Promise<void>((done) => crmServer.listen(0, '127.0.0.1', done));
  const crmUrl = `http://127.0.0.1:${(crmServer.address() as AddressInfo).port}`;

  const dataDir = mkdtempSync(join(tmpdir(), 'referloop-bench-'));
  const port = await freePort();
  const config = loadConfig({
    PORT: String(port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: `file:${join(dataDir, 'referloop.db')}`,
    ADMIN_API_TOKEN: 'bench-admin-token-0123456789',
    LOG_LEVEL: 'silent',
    SANDBOX: 'off',
    HUBSPOT_CLIENT_ID: CLIENT.clientId,
    HUBSPOT_CLIENT_SECRET: CLIENT.clientSecret,
    HUBSPOT_APP_ID: String(CLIENT.appId),
    HUBSPOT_API_BASE_URL: crmUrl,
    HUBSPOT_AUTHORIZE_URL: `${crmUrl}/oauth/authorize`,
    ...(redis ? { REDIS_URL: redis.url } : {}),
  });
  const svc = await startService(config, log, { http: true, worker: options.worker });
  const installationId = await installThroughOAuth(svc.url, 'hubspot', createLogger({ level: 'silent' }));
  if (!installationId) throw new Error(`${label}: the OAuth install into the sandbox HubSpot failed`);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // A drain cut short leaves jobs waiting on the rate limiter, which a graceful stop would wait
    // out for up to 30 s; the process exits soon after anyway.
    await Promise.race([svc.stop(), new Promise((r) => setTimeout(r, 5_000).unref())]);
    await hubspot.close();
    crmServer.closeAllConnections();
    await new Promise<void>((done) => crmServer.close(() => done()));
    rmSync(dataDir, { recursive: true, force: true });
  };
  cleanups.push(stop);
  return { svc, hubspot, calls, installationId, webhookUrl: `${config.publicBaseUrl}/webhooks/hubspot`, portalId: options.portalId, stop };
}

/**
 * Runs tests/bench/load.ts in a child process and returns its one JSON line, with the CPU this process
 * (the server under test) spent per request meanwhile — steadier than throughput on a busy machine.
 */
async function runLoad(spec: LoadSpec): Promise<LoadResult & { serverCpuMsPerRequest: number }> {
  const cpu = process.cpuUsage();
  const result = await spawnLoad(spec);
  const used = process.cpuUsage(cpu);
  return { ...result, serverCpuMsPerRequest: round((used.user + used.system) / 1000 / Math.max(1, result.totalRequests), 3) };
}

function spawnLoad(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'tests/bench/load.ts'), JSON.stringify(spec)], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('error', fail);
    child.once('exit', (code) => {
      if (code !== 0) return fail(new Error(`load generator exited with ${code}`));
      try {
        done(JSON.parse(out.trim().split('\n').pop() ?? '') as LoadResult);
      } catch (error) {
        fail(new Error(`load generator printed no result: ${String(error)}`));
      }
    });
  });
}

const loadSpec = (url: string, portalId: number, idBase: number): LoadSpec => ({
  url,
  secret: CLIENT.clientSecret,
  concurrency: CONCURRENCY,
  mode: 'synthetic',
  eventsPerRequest: EVENTS_PER_REQUEST,
  warmupMs: WARMUP_MS,
  durationMs: INGEST_MS,
  maxRequests: MAX_REQUESTS,
  portalId,
  appId: CLIENT.appId,
  idBase,
});

const ingestFigures = (r: LoadResult & { serverCpuMsPerRequest: number }) => ({
  eventsPerSec: r.eventsPerSec,
  p50Ms: r.latencyMs.p50,
  p99Ms: r.latencyMs.p99,
  p90Ms: r.latencyMs.p90,
  maxMs: r.latencyMs.max,
  meanMs: r.latencyMs.mean,
  requestsPerSec: r.requestsPerSec,
  requests: r.requests,
  events: r.events,
  errors: r.errors,
  statuses: r.statuses,
  seconds: round(r.elapsedMs / 1000, 2),
  /** CPU time of the serving process per request (all requests of the run, warm-up included). */
  serverCpuMsPerRequest: r.serverCpuMsPerRequest,
});

// --- phase 1: ingest -----------------------------------------------------------------------------

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * The bare endpoint and Referloop take turns, INGEST_ROUNDS times: a shared machine's speed drifts
 * over seconds (other tenants, frequency scaling), and a ratio of two runs taken side by side
 * suffers less from it than one of two runs taken a minute apart. The ratio is the median of the
 * rounds' ratios; each side's figures are those of the median round.
 */
async function ingestPhase() {
  progress(
    `ingest: ${EVENTS_PER_REQUEST} events/request, ${CONCURRENCY} keep-alive connections, ${INGEST_ROUNDS} rounds of bare then Referloop, each ${WARMUP_MS} ms warm-up + ${INGEST_MS} ms`,
  );
  phasePeakMb();
  const bare = await startBareEndpoint(CLIENT.clientSecret, await freePort());
  const off = await startReferloop('ingest', { worker: false, portalId: 24_681_358 });
  const rounds: { bare: Awaited<ReturnType<typeof runLoad>>; off: Awaited<ReturnType<typeof runLoad>>; ratio: number }[] = [];
  try {
    for (let n = 0; n < INGEST_ROUNDS; n++) {
      // Every round's events are new: ids never repeat across rounds.
      const idOffset = n * MAX_REQUESTS * EVENTS_PER_REQUEST;
      const bareRun = await runLoad(loadSpec(bare.url, 24_681_357, 10_000_000 + idOffset));
      const offRun = await runLoad(loadSpec(off.webhookUrl, off.portalId, 20_000_000 + idOffset));
      rounds.push({ bare: bareRun, off: offRun, ratio: offRun.eventsPerSec / bareRun.eventsPerSec });
      progress(
        `  round ${n + 1}: bare ${bareRun.eventsPerSec} events/s, Referloop ${offRun.eventsPerSec} events/s (p99 ${offRun.latencyMs.p99} ms) → ${round(offRun.eventsPerSec / bareRun.eventsPerSec, 3)}`,
      );
    }
  } finally {
    await bare.close();
  }
  const stored = await off.svc.runtime.store.inbox.pendingCount(off.installationId);
  await off.stop();
  const ratio = median(rounds.map((r) => r.ratio));
  const middle = rounds.find((r) => r.ratio === ratio)!;
  return {
    bare: ingestFigures(middle.bare),
    off: { ...ingestFigures(middle.off), worker: false, storedEvents: stored },
    ratio: round(ratio, 3),
    byCpu: round(median(rounds.map((r) => r.bare.serverCpuMsPerRequest / r.off.serverCpuMsPerRequest)), 3),
    rounds: rounds.map((r) => ({
      bareEventsPerSec: r.bare.eventsPerSec,
      ingestEventsPerSec: r.off.eventsPerSec,
      ratio: round(r.ratio, 3),
      ingestP99Ms: r.off.latencyMs.p99,
      bareCpuMsPerRequest: r.bare.serverCpuMsPerRequest,
      ingestCpuMsPerRequest: r.off.serverCpuMsPerRequest,
    })),
    peakRssMb: phasePeakMb(),
  };
}

// --- phases 2 and 3: API calls and the drain -------------------------------------------------------

/** Call kinds the sync of this scenario needs, with how many records each covers. */
function minimumCalls(deals: number, contacts: number, wonDeals: number) {
  const kinds = [
    { kind: 'POST /crm/v3/objects/deals/batch/read', what: 'deals: current state', records: deals },
    { kind: 'POST /crm/v4/associations/deals/contacts/batch/read', what: 'deals → contacts (attribution candidates)', records: deals },
    { kind: 'POST /crm/v4/associations/deals/companies/batch/read', what: 'deals → companies (attribution candidates)', records: deals },
    { kind: 'POST /crm/v3/objects/contacts/batch/read', what: 'contacts named by association events', records: contacts },
    {
      kind: 'POST /crm/v4/associations/contacts/companies/batch/read',
      what: "contacts → companies (the person's account)",
      records: contacts,
    },
    {
      kind: 'POST /crm/v4/associations/contacts/deals/batch/read',
      what: "contacts → deals (a referred person's deals)",
      records: contacts,
    },
    { kind: 'POST /crm/v3/objects/contacts/batch/update', what: 'write-back: referral status on the contact', records: contacts },
    { kind: 'POST /crm/v3/objects/deals/batch/update', what: 'write-back: attribution on the won deal', records: wonDeals },
  ];
  return kinds.map((k) => ({ ...k, minimum: Math.ceil(k.records / BATCH) }));
}

async function drainPhase() {
  const totalEvents = DEALS * EVENTS_PER_DEAL;
  progress(
    `drain: ${DEALS} referred contacts with a deal each, ${EVENTS_PER_DEAL} events per deal (${totalEvents} events), order ${ORDER}`,
  );
  const rl = await startReferloop('drain', { worker: true, portalId: 24_681_360 });
  const { runtime } = rl.svc;
  const db = sqliteRuntime(runtime).db.$client;
  phasePeakMb();

  const seedStarted = Date.now();
  const seeded = await seedDrainScenario(runtime, rl.hubspot, rl.installationId, DEALS);
  const seedSeconds = round((Date.now() - seedStarted) / 1000, 2);
  progress(`  seeded ${seeded.length} referrals, contacts and closed-won deals in ${seedSeconds} s`);

  // The webhooks HubSpot would send for that work, in batches of EVENTS_PER_REQUEST.
  const ctx = { portalId: rl.portalId, appId: CLIENT.appId };
  const ordered = arrange(
    seeded.map((s) => dealLifecycle(ctx, s.dealId, s.contactId)),
    ORDER,
    SEED,
  );
  const baseTs = Date.now() - 120_000;
  const events: HsEvent[] = ordered.map((make, i) => make(baseTs + i * 5));
  const batches: HsEvent[][] = [];
  for (let i = 0; i < events.length; i += EVENTS_PER_REQUEST) batches.push(events.slice(i, i + EVENTS_PER_REQUEST));
  const fileDir = mkdtempSync(join(tmpdir(), 'referloop-bench-events-'));
  cleanups.push(async () => rmSync(fileDir, { recursive: true, force: true }));
  const file = join(fileDir, 'batches.json');
  writeFileSync(file, JSON.stringify(batches));

  // Let the seeding settle (nothing may call the CRM now), then take the baselines.
  await new Promise((r) => setTimeout(r, 300));
  const maxInboxId = (db.prepare('SELECT coalesce(max(id), 0) AS n FROM inbox').get() as { n: number }).n;
  const callsBefore = { byKind: new Map(rl.calls.byKind), stats: { ...rl.hubspot.stats } };
  const stored = () => (db.prepare('SELECT count(*) AS n FROM inbox WHERE id > ?').get(maxInboxId) as { n: number }).n;
  const timeoutMs = DRAIN_TIMEOUT_OPTION
    ? Number(DRAIN_TIMEOUT_OPTION) * 1000
    : Math.max(60_000, BUDGET_MS - (Date.now() - benchStarted) - 5_000);
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();

  const launched = Date.now();
  const load = runLoad({
    url: rl.webhookUrl,
    secret: CLIENT.clientSecret,
    concurrency: CONCURRENCY,
    mode: 'batches',
    eventsPerRequest: EVENTS_PER_REQUEST,
    warmupMs: 0,
    durationMs: timeoutMs,
    maxRequests: batches.length,
    portalId: rl.portalId,
    appId: CLIENT.appId,
    idBase: 0,
    file,
  });
  let loadResult: Awaited<ReturnType<typeof runLoad>> | undefined;
  let loadError: unknown;
  void load.then(
    (r) => (loadResult = r),
    (e: unknown) => (loadError = e),
  );

  let finishedAt = 0;
  let lastReport = Date.now();
  while (Date.now() - launched < timeoutMs) {
    await new Promise((r) => setTimeout(r, 20));
    if (loadError) throw loadError;
    const n = stored();
    const pending = await runtime.store.inbox.pendingCount(rl.installationId);
    if (n >= totalEvents && pending === 0) {
      finishedAt = Date.now();
      break;
    }
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      progress(
        `  … ${round((Date.now() - launched) / 1000, 1)} s: ${n} stored, ${pending} pending, ${rl.hubspot.stats.apiCalls - callsBefore.stats.apiCalls} CRM calls`,
      );
    }
  }
  const complete = finishedAt > 0;
  const end = complete ? finishedAt : Date.now();
  const wall = end - launched;
  const eventLoopUtilization = round(performance.eventLoopUtilization(elu).utilization, 3);
  const cpuUsed = process.cpuUsage(cpu);
  const firstStored = db.prepare('SELECT min(received_at) AS first, max(received_at) AS last FROM inbox WHERE id > ?').get(maxInboxId) as {
    first: string | null;
    last: string | null;
  };
  const firstStoredAt = firstStored.first ? Date.parse(firstStored.first) : launched;
  const apiCalls = rl.hubspot.stats.apiCalls - callsBefore.stats.apiCalls;
  const breaches = rl.hubspot.stats.rateLimitBreaches - callsBefore.stats.rateLimitBreaches;
  const byKind = [...rl.calls.byKind]
    .map(([kind, n]) => ({ kind, calls: n - (callsBefore.byKind.get(kind) ?? 0) }))
    .filter((k) => k.calls > 0);
  if (!loadResult && complete) await load.then((r) => (loadResult = r)).catch(() => undefined);
  const drainRss = phasePeakMb();

  // What the drain achieved, checked in the store and the portal.
  const count = (query: string, ...params: unknown[]) =>
    Object.fromEntries((db.prepare(query).all(...params) as { k: string; n: number }[]).map((r) => [r.k, r.n]));
  const statuses = count('SELECT status AS k, count(*) AS n FROM referrals WHERE installation_id = ? GROUP BY status', rl.installationId);
  const rewards = count(
    'SELECT milestone AS k, count(*) AS n FROM rewards WHERE installation_id = ? GROUP BY milestone',
    rl.installationId,
  );
  const inboxByStatus = count('SELECT status AS k, count(*) AS n FROM inbox WHERE id > ? GROUP BY status', maxInboxId);
  const outboxPending = (db.prepare("SELECT count(*) AS n FROM outbox WHERE status IN ('pending', 'sending')").get() as { n: number }).n;
  const dealWriteBacks = rl.hubspot.state.list('deals').filter((d) => d.properties.referloop_referral_id).length;
  const processed = (inboxByStatus.done ?? 0) + (inboxByStatus.dead ?? 0);
  // Events a sync job has claimed at least once: what the calls so far were made for.
  const touched = (
    db.prepare("SELECT count(*) AS n FROM inbox WHERE id > ? AND (attempts > 0 OR status IN ('done', 'dead'))").get(maxInboxId) as {
      n: number;
    }
  ).n;

  const kinds = minimumCalls(seeded.length, seeded.length, seeded.length);
  const minimum = kinds.reduce((sum, k) => sum + k.minimum, 0);
  const table = [
    ...kinds.map((k) => ({
      kind: k.kind,
      what: k.what,
      records: k.records,
      minimum: k.minimum,
      calls: byKind.find((b) => b.kind === k.kind)?.calls ?? 0,
    })),
    ...byKind
      .filter((b) => !kinds.some((k) => k.kind === b.kind))
      .map((b) => ({ kind: b.kind, what: 'not needed by this scenario', records: 0, minimum: 0, calls: b.calls })),
  ];
  // Calls per event; a drain cut short counts the events claimed so far (an estimate).
  const eventsCounted = complete ? totalEvents : Math.max(1, touched);
  const perSecond = CLIENT_LIMIT.points / (CLIENT_LIMIT.durationMs / 1000);
  const seconds = round((end - firstStoredAt) / 1000, 2);
  const boundSeconds = round(minimum / perSecond, 2);
  const config = runtime.config;

  await rl.stop();
  return {
    apiCalls: {
      total: apiCalls,
      events: eventsCounted,
      per1000Events: round((apiCalls * 1000) / eventsCounted, 2),
      minimum,
      minimumPer1000Events: round((minimum * 1000) / totalEvents, 2),
      ratioToMinimum: round((apiCalls * 1000) / eventsCounted / ((minimum * 1000) / totalEvents), 2),
      records: { deals: seeded.length, contacts: seeded.length, wonDeals: seeded.length },
      byKind: table,
    },
    rateLimitBreaches: breaches,
    drain: {
      events: totalEvents,
      seconds,
      complete,
      ...(complete
        ? {}
        : {
            processedEvents: processed,
            note: `cut short after ${round(wall / 1000, 1)} s: seconds is a lower bound (--drain-timeout=<s> runs it out)`,
          }),
      eventsPerSec: round((processed * 1000) / Math.max(1, end - firstStoredAt), 1),
      order: ORDER,
      rateLimitBoundSeconds: boundSeconds,
      ratioToRateLimitBound: round(seconds / boundSeconds, 2),
      callsAtRateLimitSeconds: round(apiCalls / perSecond, 2),
      /** Time the service's event loop was busy, and CPU (all threads) per wall second: near 1 means CPU-bound. */
      eventLoopUtilization,
      cpuCoresUsed: round((cpuUsed.user + cpuUsed.system) / 1000 / wall, 2),
      /** CPU seconds the service process spent on the drain (the sandbox CRM's share is small): steadier than wall time on a busy machine. */
      cpuSeconds: round((cpuUsed.user + cpuUsed.system) / 1e6, 1),
      ingestSeconds: firstStored.last ? round((Date.parse(firstStored.last) - firstStoredAt) / 1000, 2) : null,
      seedSeconds,
      workerConcurrency: config.workerConcurrency,
      syncCoalesceMs: config.syncCoalesceMs,
      syncMaxDelayMs: config.syncMaxDelayMs,
      verified: {
        referralStatuses: statuses,
        rewardsByMilestone: rewards,
        dealsWrittenBack: dealWriteBacks,
        inboxStatuses: inboxByStatus,
        notificationsStillQueued: outboxPending,
      },
      peakRssMb: drainRss,
    },
    /** Webhook acknowledgements while the worker drains (10,000 events about real deals, no warm-up). */
    // CPU per request is left out here: the worker's CPU would be charged to the requests.
    ingestWithWorker: loadResult ? { ...ingestFigures(loadResult), serverCpuMsPerRequest: null, worker: true, during: 'drain' } : null,
  };
}

// --- report ---------------------------------------------------------------------------------------

function pad(value: unknown, width: number, left = false): string {
  const s = String(value);
  return left ? s.padEnd(width) : s.padStart(width);
}

function printTable(report: Report): void {
  const out: string[] = [];
  const m = report.machine;
  out.push(`Referloop benchmark — ${m.cpus} × ${m.cpuModel}, ${m.memoryGb} GB, Node ${m.node}, queue: ${report.config.queue}`);
  out.push(
    `load average at start ${m.loadAverageStart.join(' / ')}, at end ${m.loadAverageEnd.join(' / ')} (other work on this machine skews the figures)`,
  );
  out.push('');
  const row = (
    label: string,
    r: Omit<ReturnType<typeof ingestFigures>, 'serverCpuMsPerRequest'> & { serverCpuMsPerRequest: number | null },
  ) =>
    out.push(
      `   ${pad(label, 34, true)}${pad(r.eventsPerSec, 10)}${pad(r.requestsPerSec, 9)}${pad(r.p50Ms, 9)}${pad(r.p90Ms, 9)}${pad(r.p99Ms, 9)}${pad(r.maxMs, 9)}${pad(r.errors, 8)}${pad(r.serverCpuMsPerRequest ?? '–', 12)}`,
    );
  if (report.ingest && report.bareIngest) {
    out.push(
      `1. Webhook ingest — POST /webhooks/hubspot, ${EVENTS_PER_REQUEST} unique events/request, ${CONCURRENCY} keep-alive connections, generator in a child process`,
    );
    out.push(
      `   ${pad('', 34, true)}${pad('events/s', 10)}${pad('req/s', 9)}${pad('p50 ms', 9)}${pad('p90 ms', 9)}${pad('p99 ms', 9)}${pad('max ms', 9)}${pad('errors', 8)}${pad('CPU ms/req', 12)}`,
    );
    row(`bare endpoint (bound)`, report.bareIngest);
    row(`Referloop, worker off`, report.ingest);
    if (report.ingestWithWorker) row('Referloop, worker on (during 3.)', report.ingestWithWorker);
    out.push(
      `   (bare and worker off: the median of ${report.ingestRounds?.length} rounds, each ${WARMUP_MS / 1000} s warm-up, then ${INGEST_MS / 1000} s measured; worker on: the drain's ${report.drain?.events ?? 0} events, no warm-up)`,
    );
    out.push(
      `   rounds (bare → Referloop events/s, ratio, Referloop p99 ms): ${report.ingestRounds?.map((r) => `${r.bareEventsPerSec} → ${r.ingestEventsPerSec}, ${r.ratio}, ${r.ingestP99Ms}`).join('; ')}`,
    );
    out.push(
      `   ingest / bare = ${report.ratios.ingestToBare}, median of the rounds (target ≥ ${TARGETS.ingestRatio}: ${ok(report.met.ingestThroughput)}; by CPU per request ${report.ratios.ingestToBareByCpu}); p99 ${report.ingest.p99Ms} ms, worst round ${Math.max(...(report.ingestRounds ?? []).map((r) => r.ingestP99Ms))} ms (target < ${TARGETS.p99Ms} ms in every round: ${ok(report.met.ingestP99)})` +
        (report.ingestWithWorker
          ? `; with the worker on: p99 ${report.ingestWithWorker.p99Ms} ms (${ok(report.met.ingestP99WithWorker)})`
          : ''),
    );
    out.push('');
  } else if (report.ingestWithWorker) {
    out.push('1. Webhook ingest while the worker drains (no bare run: --skip-ingest)');
    row('Referloop, worker on (during 3.)', report.ingestWithWorker);
    out.push('');
  }
  if (report.apiCalls && report.drain) {
    const a = report.apiCalls;
    const d = report.drain;
    out.push(
      `2. CRM API calls — ${a.records.deals} closed-won deals on ${a.records.contacts} referred contacts, ${EVENTS_PER_DEAL} webhook events per deal (${d.events} events, arrival order ${d.order})`,
    );
    out.push(`   ${pad('call kind', 58, true)}${pad('records', 9)}${pad('minimum', 9)}${pad('calls', 8)}`);
    for (const k of a.byKind) out.push(`   ${pad(k.kind, 58, true)}${pad(k.records, 9)}${pad(k.minimum, 9)}${pad(k.calls, 8)}`);
    out.push(`   ${pad('total', 58, true)}${pad('', 9)}${pad(a.minimum, 9)}${pad(a.total, 8)}`);
    out.push(
      `   per 1,000 events: ${a.per1000Events} calls vs minimum ${a.minimumPer1000Events} → ${a.ratioToMinimum}× (target ≤ ${TARGETS.apiCallRatio}×: ${ok(report.met.apiCalls)})${d.complete ? '' : ` (estimate: over the ${a.events} events claimed before the cut-off)`}`,
    );
    out.push('');
    out.push(
      `3. Drain — ${d.events} events, first stored → inbox empty: ${d.seconds} s${d.complete ? '' : ` — INCOMPLETE, ${d.processedEvents} processed when cut short (a lower bound; --drain-timeout=<s>)`}`,
    );
    out.push(
      `   rate-limit bound: ${a.minimum} minimum calls at ${CLIENT_LIMIT.points} per ${CLIENT_LIMIT.durationMs / 1000} s = ${d.rateLimitBoundSeconds} s → ${d.complete ? '' : '≥ '}${d.ratioToRateLimitBound}× the bound (the ${a.total} calls made need ${d.callsAtRateLimitSeconds} s at that rate)`,
    );
    // A sliding window admits its whole allowance at once: a drain that needs fewer calls than that is not held back by the limiter.
    if (a.total <= CLIENT_LIMIT.points)
      out.push(
        `   (the ${a.total} calls fit in one window's allowance of ${CLIENT_LIMIT.points}, so the limiter need not delay them: the steady-rate bound does not bind this drain)`,
      );
    out.push(
      `   webhooks all stored after ${d.ingestSeconds} s; the service's event loop was busy ${Math.round(d.eventLoopUtilization * 100)}% of the drain, ${d.cpuSeconds} CPU s (${d.cpuCoresUsed} cores) (worker concurrency ${d.workerConcurrency}; events synced once the webhooks paused ${d.syncCoalesceMs} ms, or after ${d.syncMaxDelayMs} ms)`,
    );
    out.push(
      `   rate-limit breaches (sandbox 429s at ${SANDBOX_LIMIT.points} per ${SANDBOX_LIMIT.durationMs / 1000} s): ${report.rateLimitBreaches} (${ok(report.met.rateLimitBreaches)})`,
    );
    const v = d.verified;
    out.push(
      `   check: referrals ${JSON.stringify(v.referralStatuses)}, rewards ${JSON.stringify(v.rewardsByMilestone)}, ${v.dealsWrittenBack} deals written back, inbox ${JSON.stringify(v.inboxStatuses)}, ${v.notificationsStillQueued} notifications still queued`,
    );
    out.push(`   seeding (not timed in the drain): ${d.seedSeconds} s`);
    out.push('');
  }
  out.push(
    `4. Peak RSS of the service process: ${report.peakRssMb.overall} MB (${Object.entries(report.peakRssMb)
      .filter(([k]) => k !== 'overall')
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}; the same process hosts the sandbox CRM and the bare endpoint)`,
  );
  out.push('');
  out.push(`took ${report.benchSeconds} s; \`npm run -s bench -- --json\` for the JSON`);
  stdoutWrite(`${out.join('\n')}\n`);
}

const ok = (met: boolean | undefined) => (met === undefined ? 'n/a' : met ? 'met' : 'NOT met');

type Report = Awaited<ReturnType<typeof main>>;

async function main() {
  const loadStart = loadavg().map((v) => round(v, 2));
  if (useRedis && process.env.REDIS_URL) {
    redis = { url: process.env.REDIS_URL, stop: async () => undefined };
  } else if (useRedis) {
    const { startRedisServer } = await import('../support/redis-server.ts');
    const server = await startRedisServer();
    redis = { url: server.url, stop: () => server.stop() };
  }
  progress(`queue: ${redis ? `BullMQ on ${redis.url}` : 'embedded (SQLite)'}; load average ${loadStart.join(' / ')}`);

  const ingest = flag('skip-ingest') ? null : await ingestPhase();
  const drain = flag('skip-drain') ? null : await drainPhase();
  for (const cleanup of cleanups.splice(0)) await cleanup();
  if (redis) await redis.stop();

  const cpu = cpus();
  const withWorker = drain?.ingestWithWorker ?? null;
  const ingestToBare = ingest?.ratio ?? null;
  return {
    ingest: ingest?.off ?? null,
    bareIngest: ingest?.bare ?? null,
    ingestRounds: ingest?.rounds ?? null,
    ingestWithWorker: withWorker,
    apiCalls: drain?.apiCalls ?? null,
    rateLimitBreaches: drain?.rateLimitBreaches ?? null,
    drain: drain?.drain ?? null,
    ratios: {
      ingestToBare,
      /** The same ratio from CPU per request (bare ÷ Referloop): what throughput would be on an idle core. */
      ingestToBareByCpu: ingest?.byCpu ?? null,
      /** Not like for like (no warm-up, a 10 s burst, the worker applying real deals): how far the worker drags the acks. */
      ingestWithWorkerToBare: ingest && withWorker ? round(withWorker.eventsPerSec / ingest.bare.eventsPerSec, 3) : null,
      apiCallsToMinimum: drain?.apiCalls.ratioToMinimum ?? null,
      drainToRateLimitBound: drain?.drain.ratioToRateLimitBound ?? null,
    },
    targets: TARGETS,
    met: {
      ingestThroughput: ingestToBare === null ? undefined : ingestToBare >= TARGETS.ingestRatio,
      // Every round, not only the median one.
      ingestP99: ingest ? ingest.rounds.every((r) => r.ingestP99Ms < TARGETS.p99Ms) : undefined,
      ingestP99WithWorker: withWorker ? withWorker.p99Ms < TARGETS.p99Ms : undefined,
      apiCalls: drain ? drain.apiCalls.ratioToMinimum <= TARGETS.apiCallRatio : undefined,
      rateLimitBreaches: drain ? drain.rateLimitBreaches === 0 : undefined,
      drainComplete: drain ? drain.drain.complete : undefined,
    },
    peakRssMb: {
      overall: round(rss.peak / 2 ** 20, 1),
      ...(ingest ? { ingest: ingest.peakRssMb } : {}),
      ...(drain ? { drain: drain.drain.peakRssMb } : {}),
    },
    machine: {
      cpus: cpu.length,
      cpuModel: cpu[0]?.model.trim() ?? 'unknown',
      memoryGb: round(totalmem() / 2 ** 30, 1),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      loadAverageStart: loadStart,
      loadAverageEnd: loadavg().map((v) => round(v, 2)),
    },
    config: {
      queue: redis ? 'bullmq' : 'embedded',
      command: `npm run bench --${argv.length ? ` ${argv.join(' ')}` : ''}`,
      generator:
        'child process (node --import tsx tests/bench/load.ts): keep-alive, one request in flight per connection, each request signed (v3) at send time',
      concurrency: CONCURRENCY,
      eventsPerRequest: EVENTS_PER_REQUEST,
      ingestRounds: INGEST_ROUNDS,
      ingestWarmupMs: WARMUP_MS,
      ingestDurationMs: INGEST_MS,
      ingestMaxRequests: MAX_REQUESTS,
      ingestServer:
        'Referloop in this process via startService({ http: true, worker: false }), SQLite file in a temp dir, LOG_LEVEL silent, SANDBOX off, a sandbox HubSpot on its own port installed through OAuth',
      bareServer: 'express 5 in this process: express.raw + verifyHubSpotSignature(client secret) + 200, no other middleware',
      drainServer:
        'a fresh Referloop via startService({ http: true, worker: true }) with default settings, its own sandbox HubSpot (default rate limit)',
      drainDeals: DEALS,
      drainEventsPerDeal: EVENTS_PER_DEAL,
      drainOrder: ORDER,
      drainSeed: SEED,
      sandboxRateLimit: SANDBOX_LIMIT,
      referloopRateLimit: CLIENT_LIMIT,
    },
    benchSeconds: round((Date.now() - benchStarted) / 1000, 1),
  };
}

try {
  const report = await main();
  if (asJson) stdoutWrite(`${JSON.stringify(report)}\n`);
  else printTable(report);
} catch (error) {
  process.stderr.write(`[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => undefined);
  if (redis) await redis.stop().catch(() => undefined);
  process.exitCode = 1;
}
// Lingering keep-alive sockets or client timers must not hold the process.
setTimeout(() => process.exit(), 100).unref();
