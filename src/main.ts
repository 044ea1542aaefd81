/**
 * Composition root: the only place (with cli.ts) that wires concrete stores, queues, connectors
 * and channels together.
 */
import { existsSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { RateLimit, RateLimiter } from '../connectors/connector.ts';
import { startPayoutProvider, type RunningPayoutProvider } from '../connectors/payouts/registry.ts';
import type { CrmKind, RegisteredConnector } from '../connectors/registry.ts';
import { ConfigError, type Config } from './config.ts';
import { createApp, type AppDeps } from './http/app.ts';
import { notificationsRouter } from './http/notifications.route.ts';
import { payoutWebhooksRouter } from './http/payout-webhooks.route.ts';
import { referrerWebhookEndpointsRouter } from './http/referrer-webhook-endpoints.route.ts';
import { firstRunRouter } from './http/tour.route.ts';
import { createEmbeddedQueue } from './jobs/embedded-queue.ts';
import type { JobQueue, WorkerHandle } from './jobs/queue.ts';
import { createMemoryRateLimiter } from './jobs/rate-limiter.ts';
import { createScheduler, startReconcileSchedule, startSweeper, startSyncWorker } from './jobs/sync.worker.ts';
import type { SyncOptions } from './use-cases/sync-installation.ts';
import type { Logger } from './log.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { enqueueNotifications } from './notify/enqueue.ts';
import { createNotifier } from './notify/notifier.ts';
import { createCipher, type Cipher } from './store/crypto.ts';
import type { CopySummary } from './store/copy-to-postgres.ts';
import { sqlitePath, withoutPassword } from './store/database-url.ts';
import { migrateDb, openDb, type Db } from './store/db.ts';
import { createStore, type Store } from './store/index.ts';
import type { Db as PostgresDb } from './store/postgres/db.ts';
import type { UseCaseContext } from './ports/context.ts';
import { createCrmAccess } from './ports/crm-access.ts';

const QUEUE_NAME = 'referloop-sync';
/** How long start-up waits for Redis before saying it is unreachable. */
const REDIS_CONNECT_TIMEOUT_MS = 5_000;
/** How long a stopping worker lets its in-flight jobs finish before handing them back to the queue. */
const DRAIN_TIMEOUT_MS = 5_000;
const SWEEP_INTERVAL_MS = 5_000;
const NOTIFY_INTERVAL_MS = 1_000;
/** How long PostgreSQL may take to hand out a connection, at start and afterwards (pg's connectionTimeoutMillis). */
const POSTGRES_CONNECT_TIMEOUT_MS = 10_000;

/** The database a store runs on, by the kind DATABASE_URL chose. */
export type StoreDatabase = { storeKind: 'sqlite'; db: Db } | { storeKind: 'postgres'; db: PostgresDb };

interface RuntimeParts {
  config: Config;
  store: Store;
  queue: JobQueue;
  ctx: UseCaseContext;
  metrics: Metrics;
  connectors: RegisteredConnector[];
  sandboxes: NonNullable<AppDeps['sandboxes']>;
  /** The payout provider runs are sent through (with its emulator in sandbox mode); unset with PAYOUT_PROVIDER=csv. */
  payouts?: RunningPayoutProvider;
  close(): Promise<void>;
}

/** Everything a command works with; `db` is the SQLite or PostgreSQL database under the store. */
export type Runtime = RuntimeParts & StoreDatabase;
export type SqliteRuntime = Extract<Runtime, { storeKind: 'sqlite' }>;

/** The runtime of a SQLite store (for tests and tools that read the file directly); any other is refused. */
export function sqliteRuntime(runtime: Runtime): SqliteRuntime {
  if (runtime.storeKind !== 'sqlite') throw new Error(`this runtime's store is ${runtime.storeKind}, not SQLite`);
  return runtime;
}

interface JobBackend {
  queue: JobQueue;
  limiter: RateLimiter;
  close(): Promise<void>;
}

/** The queue and rate limiter: in the SQLite database, or shared through Redis when REDIS_URL is set. */
async function createJobBackend(config: Config, database: StoreDatabase, log: Logger): Promise<JobBackend> {
  const retry = { attempts: config.jobAttempts, backoffMs: 1_000 };
  if (!config.redisUrl) {
    // loadConfig refuses PostgreSQL without REDIS_URL; a Config built by hand meets it here.
    if (database.storeKind !== 'sqlite') throw new ConfigError('REDIS_URL is required with a PostgreSQL DATABASE_URL.');
    return {
      queue: createEmbeddedQueue(database.db, QUEUE_NAME, {
        retry,
        leaseMs: config.jobLeaseMs,
        onError: (err) => log.warn({ err }, 'queue'),
      }),
      limiter: createMemoryRateLimiter(),
      close: async () => {},
    };
  }
  // bullmq and ioredis take a third of a second to load: only a Redis deployment pays for them.
  const [{ Redis }, { closeClient, createBullmqQueue }, { createRedisRateLimiter }] = await Promise.all([
    import('ioredis'),
    import('./jobs/bullmq-queue.ts'),
    import('./jobs/rate-limiter.ts'),
  ]);
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: null });
  return {
    queue: createBullmqQueue(redis, QUEUE_NAME, {
      prefix: 'referloop',
      retry,
      leaseMs: config.jobLeaseMs,
      onError: (err) => log.warn({ err }, 'queue connection'),
    }),
    limiter: createRedisRateLimiter(redis, 'referloop:rate'),
    close: () => closeClient(redis),
  };
}

/** Everything but HTTP and the worker loops: what every CLI command needs. */
export async function createRuntime(config: Config, log: Logger): Promise<Runtime> {
  const { store, ...database } = await openStore(config, createCipher(config.encryptionKey));
  const metrics = createMetrics();
  const jobs = await createJobBackend(config, database, log).catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  const { queue, limiter } = jobs;

  // Every CRM the configuration turned on, each with its sandbox when it runs on one; their
  // modules load here, together (connectors/crm-registration.ts).
  const running = config.crms.filter((c) => c.mode !== 'off');
  const [connectors, mounted] = await Promise.all([
    Promise.all(running.map((crm): Promise<RegisteredConnector> => crm.createConnector())),
    Promise.all(running.map(async (crm) => (crm.sandbox ? { path: `/sandbox/${crm.kind}`, ...(await crm.sandbox.mount()) } : undefined))),
  ]);
  const sandboxes: Runtime['sandboxes'] = mounted.filter((sandbox) => sandbox !== undefined);
  const rateLimits: Partial<Record<CrmKind, RateLimit>> = {};
  for (const crm of running) if (crm.rateLimit) rateLimits[crm.kind] = crm.rateLimit;

  // In sandbox mode the provider's emulator is served beside the CRM sandboxes and signs its
  // webhooks to our route.
  const payouts = await startPayoutProvider(config.payoutProvider, {
    publicBaseUrl: config.publicBaseUrl,
    webhookUrl: `${config.publicBaseUrl}/webhooks/payouts/tremendous`,
  });
  if (payouts?.mount) sandboxes.push(payouts.mount);

  const crm = createCrmAccess(connectors, store, limiter, rateLimits);
  const ctx: UseCaseContext = {
    store,
    crm,
    scheduler: createScheduler(queue, config.syncCoalesceMs),
    notify: async (intent, now) => {
      await enqueueNotifications(store.outbox, intent, now);
    },
    now: () => new Date(),
    log,
    ...(payouts ? { payoutProvider: payouts.provider } : {}),
  };
  return {
    config,
    ...database,
    store,
    queue,
    ctx,
    metrics,
    connectors,
    sandboxes,
    ...(payouts ? { payouts } : {}),
    async close() {
      await queue.close();
      for (const sandbox of sandboxes) await sandbox.close?.();
      await payouts?.close();
      await jobs.close();
      await store.close();
    },
  };
}

/** SQLite's refusals of a file are the setting's fault, told in one line; anything else is a bug. */
const UNUSABLE_DATABASE: Record<string, string> = {
  SQLITE_NOTADB: 'the file is not a SQLite database',
  SQLITE_CORRUPT: 'the database file is corrupt',
  SQLITE_CANTOPEN: 'the database file cannot be opened',
  SQLITE_READONLY: 'the database file is read-only',
  SQLITE_PERM: 'permission denied',
};

/** Opens and migrates the store DATABASE_URL names: a SQLite file, or PostgreSQL (whose driver loads only then). */
export async function openStore(
  config: Pick<Config, 'databaseUrl' | 'databasePoolSize' | 'storeKind'>,
  cipher: Cipher,
): Promise<StoreDatabase & { store: Store }> {
  if (config.storeKind === 'postgres') {
    const db = await openPostgresStore(config.databaseUrl, config.databasePoolSize, 'DATABASE_URL');
    const { createPostgresStore } = await import('./store/postgres/index.ts');
    return { storeKind: 'postgres', db, store: createPostgresStore(db, cipher) };
  }
  const db = openSqliteStore(config.databaseUrl);
  return { storeKind: 'sqlite', db, store: createStore(db, cipher) };
}

/** Opens and migrates a SQLite store; `setting` names where the URL came from in a refusal. */
export function openSqliteStore(databaseUrl: string, setting = 'DATABASE_URL'): Db {
  let db: Db | undefined;
  try {
    db = openDb(databaseUrl);
    migrateDb(db);
    return db;
  } catch (err) {
    db?.$client.close();
    const cause = UNUSABLE_DATABASE[(err as { code?: string }).code ?? ''];
    if (cause) throw new ConfigError(`Invalid ${setting}=${JSON.stringify(databaseUrl)}: ${cause}`);
    throw err;
  }
}

/**
 * Opens a PostgreSQL pool, checks a connection can be had, and applies the migrations. A server
 * that does not answer within the pool's connection timeout, refuses the credentials or has no
 * such role or database is the setting's fault, told in one line naming `setting`.
 */
export async function openPostgresStore(url: string, poolSize: number, setting: string): Promise<PostgresDb> {
  const { closePostgres, migratePostgres, openPostgres } = await import('./store/postgres/db.ts');
  const refuse = (cause: string) => new ConfigError(`Invalid ${setting}=${JSON.stringify(withoutPassword(url))}: ${cause}`);
  let db: PostgresDb;
  try {
    db = openPostgres(url, { poolSize, connectionTimeoutMs: POSTGRES_CONNECT_TIMEOUT_MS });
  } catch (err) {
    throw refuse(`not a URL PostgreSQL can be reached at (${errorText(err)})`);
  }
  try {
    await db.$client.query('select 1');
  } catch (err) {
    await closePostgres(db).catch(() => {});
    // A server that answered and refused (no such role or database, a wrong password) sends an
    // error with a severity; a socket that never connected does not.
    if (typeof (err as { severity?: unknown })?.severity === 'string')
      throw refuse(`PostgreSQL refused the connection (${errorText(err)}); correct ${setting}`);
    throw refuse(`PostgreSQL cannot be reached (${errorText(err)}); start it or correct ${setting}`);
  }
  try {
    await migratePostgres(db);
  } catch (err) {
    await closePostgres(db).catch(() => {});
    // Refused by the server (permissions, say) is the setting's fault; anything else is a bug.
    if ((err as { code?: unknown })?.code === '42501' || (err as { cause?: { code?: unknown } })?.cause?.code === '42501')
      throw refuse(`the migrations were refused (${errorText(err)}): the user needs the right to create tables in this database`);
    throw err;
  }
  return db;
}

/** `referloop migrate`: applies the migrations of the store DATABASE_URL names. */
export async function migrateStore(config: Config): Promise<void> {
  const { store } = await openStore(config, createCipher(config.encryptionKey));
  await store.close();
}

/**
 * `referloop migrate --from file:… --to postgres://…`: brings the SQLite file up to date (as a
 * start would), migrates the PostgreSQL database, and copies the one into the other, which must be
 * empty. Refusals are one line naming the option.
 */
export async function copySqliteToPostgres(from: string, to: string): Promise<CopySummary> {
  const path = sqlitePath(from);
  if (path === ':memory:')
    throw new ConfigError('--from :memory: has nothing to copy: name the SQLite file, such as file:./data/referloop.db.');
  if (!existsSync(path)) throw new ConfigError(`--from ${JSON.stringify(from)}: no such file (${resolve(path)}).`);
  if (!statSync(path).isFile()) throw new ConfigError(`--from ${JSON.stringify(from)}: ${resolve(path)} is not a file.`);
  const { closePostgres } = await import('./store/postgres/db.ts');
  const { copyToPostgres, CopyRefused } = await import('./store/copy-to-postgres.ts');
  const source = openSqliteStore(from, '--from');
  try {
    const target = await openPostgresStore(to, 2, '--to');
    try {
      return await copyToPostgres(source, target);
    } catch (err) {
      if (err instanceof CopyRefused) throw new ConfigError(`--to ${JSON.stringify(withoutPassword(to))}: ${err.message}.`);
      throw err;
    } finally {
      await closePostgres(target);
    }
  } finally {
    source.$client.close();
  }
}

/** A driver's error in a few words: its message, else its code (an AggregateError of refused addresses has no message). */
function errorText(err: unknown): string {
  if (err instanceof AggregateError && !err.message) return err.errors.map(errorText).join('; ');
  const e = err as { message?: string; code?: string };
  return e?.message || e?.code || String(err);
}

/** What the HTTP app of a runtime is made of: every router it mounts, with the runtime's settings. */
export function appDeps(runtime: Runtime): AppDeps {
  const { config, ctx, store } = runtime;
  return {
    ctx,
    queue: runtime.queue,
    metrics: runtime.metrics,
    connectors: runtime.connectors,
    publicBaseUrl: config.publicBaseUrl,
    adminToken: config.adminToken,
    linkSecret: config.encryptionKey,
    portal: {
      magicLinkTtlMs: config.magicLinkTtlMs,
      sessionTtlMs: config.sessionTtlMs,
      allowPrivateEndpoints: config.allowPrivateWebhookEndpoints,
    },
    console: { sessionTtlMs: config.sessionTtlMs, inviteTtlMs: config.consoleInviteTtlMs, magicLinkTtlMs: config.magicLinkTtlMs },
    sandboxes: runtime.sandboxes,
    publicRouters: [
      notificationsRouter({ store }),
      ...(runtime.payouts ? [payoutWebhooksRouter(ctx, runtime.payouts.provider)] : []),
      firstRunRouter({
        ctx,
        crms: config.crms,
        publicBaseUrl: config.publicBaseUrl,
        install: (crm) => installThroughOAuth(config.publicBaseUrl, crm, ctx.log),
      }),
    ],
    apiRouters: [referrerWebhookEndpointsRouter({ store, allowPrivateEndpoints: config.allowPrivateWebhookEndpoints, now: ctx.now })],
  };
}

export interface RunningService<R extends Runtime = Runtime> {
  url: string;
  runtime: R;
  stop(): Promise<void>;
}

/** How the worker syncs inbox events, from the configuration. */
export function syncOptions(config: Config): SyncOptions {
  return {
    maxAttempts: config.jobAttempts,
    leaseMs: config.inboxLeaseMs,
    quietMs: config.syncCoalesceMs,
    maxDelayMs: config.syncMaxDelayMs,
  };
}

async function becomesAvailable(queue: JobQueue, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!queue.available()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/** The port's refusals are the setting's fault, told in one line naming PORT. */
function portError(port: number, err: Error & { code?: string }): Error {
  if (err.code === 'EADDRINUSE')
    return new ConfigError(`PORT=${port} is already in use by another process: stop it or choose another PORT.`);
  if (err.code === 'EACCES') return new ConfigError(`PORT=${port} needs privileges this process does not have: choose a port above 1023.`);
  return err;
}

/** Refuses a busy port before anything is generated, so a failed first start leaves nothing behind. */
export async function ensurePortFree(port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err) => reject(portError(port, err)));
    probe.listen(port, () => probe.close(() => resolve()));
  });
}

/**
 * `serve`: HTTP, the sync worker, the sweeper, the reconcile schedule and the notifier in one
 * process; `worker`: the same without HTTP (scale-out on Redis).
 */
export async function startService(config: Config, log: Logger, options: { http: boolean; worker: boolean }): Promise<RunningService> {
  const runtime = await createRuntime(config, log);
  const { ctx, store, queue, metrics } = runtime;
  if (config.redisUrl && !(await becomesAvailable(queue, REDIS_CONNECT_TIMEOUT_MS))) {
    await runtime.close();
    throw new ConfigError(
      `REDIS_URL=${JSON.stringify(withoutPassword(config.redisUrl))}: Redis is unreachable (no answer within ${REDIS_CONNECT_TIMEOUT_MS / 1000} s); start it or correct REDIS_URL.`,
    );
  }
  const stops: (() => Promise<void> | void)[] = [];

  let server: Server | undefined;
  let url = config.publicBaseUrl;
  if (options.http) {
    const app = createApp(appDeps(runtime));
    server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(config.port, () => resolve(s));
      s.once('error', (err) => reject(portError(config.port, err)));
    }).catch(async (err: unknown) => {
      await runtime.close();
      throw err;
    });
    // A HubSpot batch must be answered within 5 s; keep-alive lets the CRM reuse connections.
    server.keepAliveTimeout = 65_000;
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    stops.push(
      () =>
        new Promise<void>((resolve) => {
          // Keep-alive connections would hold close() open for a minute: drop the idle ones now
          // and, after a grace period for requests in flight, the rest.
          server!.close(() => resolve());
          server!.closeIdleConnections();
          setTimeout(() => server!.closeAllConnections(), 5_000).unref();
        }),
    );
  }

  if (options.worker) {
    const worker: WorkerHandle = startSyncWorker(queue, ctx, {
      concurrency: config.workerConcurrency,
      metrics,
      sync: syncOptions(config),
    });
    const sweeper = startSweeper(ctx, { intervalMs: SWEEP_INTERVAL_MS, inboxRetentionDays: config.inboxRetentionDays });
    const reconcile = startReconcileSchedule(ctx, config.reconcileIntervalMs);
    // nodemailer loads only when mail is configured.
    const email = config.smtpUrl ? (await import('./notify/email.ts')).createSmtpEmailChannel(config.smtpUrl) : null;
    const notifier = createNotifier({
      store,
      email,
      allowPrivateEndpoints: config.allowPrivateWebhookEndpoints,
      policy: { leaseMs: config.notifyLeaseMs },
      concurrency: config.notifyConcurrency,
      crm: async (installationId) => {
        const installation = await store.installations.get(installationId);
        return installation?.status === 'active' ? await ctx.crm.client(installation) : null;
      },
      log,
      publicBaseUrl: config.publicBaseUrl,
      signInLinkTtlMs: config.magicLinkTtlMs,
    }).start(NOTIFY_INTERVAL_MS);
    stops.unshift(async () => {
      sweeper.stop();
      reconcile.stop();
      await notifier.stop();
      await worker.close(DRAIN_TIMEOUT_MS);
    });
  }

  return {
    url,
    runtime,
    async stop() {
      for (const stop of stops) await stop();
      await runtime.close();
    },
  };
}

/**
 * Installs a CRM whose consent page approves by itself (a sandbox) through the real OAuth flow:
 * a newcomer's first start does this for the sandbox its registration marks (HubSpot's), so referrals
 * can be logged at once.
 */
export async function installThroughOAuth(publicBaseUrl: string, crm: CrmKind, log: Logger): Promise<string | undefined> {
  let next = `${publicBaseUrl}/oauth/${crm}/install`;
  for (let hop = 0; hop < 5; hop++) {
    const res = await fetch(next, { redirect: 'manual' });
    const location = res.headers.get('location');
    if (res.status !== 302 || !location) break;
    if (location.startsWith(`${publicBaseUrl}/app/settings`)) {
      log.info({ settings: location, crm }, 'installed through OAuth');
      return new URL(location).searchParams.get('installationId') ?? undefined;
    }
    next = new URL(location, next).toString();
  }
  log.warn({ crm }, `could not install; open ${publicBaseUrl}/oauth/${crm}/install`);
  return undefined;
}
