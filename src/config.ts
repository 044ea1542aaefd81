/**
 * The only reader of process.env. One zod schema, read once at start; a wrong value stops the
 * process with one line naming the variable and what is expected. First start with nothing set
 * works: the data folder, an encryption key and an admin token are created there.
 */
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { configurePayoutProvider, type ConfiguredPayoutProvider, PayoutSettingsError } from '../connectors/payouts/registry.ts';
import { crmRegistry, CrmSettingsError, type ConfiguredCrm, type CrmKind } from '../connectors/registry.ts';
import { isPostgresUrl, sqlitePath, withoutPassword } from './store/database-url.ts';

const DEFAULT_DATABASE_URL = 'file:./data/referloop.db';

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();
const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' });
const POOL_SIZE_EXPECTED = 'expected a whole number of connections from 1 to 100';
const boolFlag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const envSchema = z.object({
  PORT: z.coerce.number({ error: 'expected a port number' }).int().min(0).max(65535).default(3000),
  PUBLIC_BASE_URL: httpUrl.optional(),
  DATABASE_URL: z.string().min(1).default(DEFAULT_DATABASE_URL),
  /** Most connections each process opens to PostgreSQL (unused with SQLite, which has one). */
  DATABASE_POOL_SIZE: z.coerce
    .number({ error: POOL_SIZE_EXPECTED })
    .int({ error: POOL_SIZE_EXPECTED })
    .min(1, { error: POOL_SIZE_EXPECTED })
    .max(100, { error: POOL_SIZE_EXPECTED })
    .default(10),
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'expected a redis:// or rediss:// URL' }).optional(),
  ENCRYPTION_KEY: optionalString.pipe(
    z
      .string()
      .refine((v) => keyBytes(v)?.length === 32, 'expected 32 bytes as 64 hex characters or base64')
      .optional(),
  ),
  ADMIN_API_TOKEN: optionalString.pipe(
    z
      .string()
      .min(16, 'expected at least 16 characters')
      // A bearer starting rlk_ is read as a card key: such an admin token could never sign in.
      .refine((v) => !v.startsWith('rlk_'), 'must not start with rlk_, the prefix of card keys')
      .optional(),
  ),
  SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'expected an smtp:// or smtps:// URL' }).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** How often each installation is reconciled against the CRM. */
  RECONCILE_INTERVAL_SECONDS: z.coerce.number().int().positive().default(300),
  /** An installation's webhook events are synced once none arrived for this long: a burst is one sync, in full batches. */
  SYNC_COALESCE_MS: z.coerce.number().int().min(0).default(1_000),
  /** …or once the oldest has waited this long, however busy the webhooks are. */
  SYNC_MAX_DELAY_MS: z.coerce.number().int().min(0).default(10_000),
  WORKER_CONCURRENCY: z.coerce.number().int().positive().default(4),
  /** Attempts before a sync job lands in dead-letter. */
  JOB_ATTEMPTS: z.coerce.number().int().positive().default(8),
  /** How long a worker's claim on a job or on inbox events lasts unless renewed; a killed worker's work is taken over after it. */
  JOB_LEASE_MS: z.coerce.number().int().min(100).default(30_000),
  INBOX_LEASE_MS: z.coerce.number().int().min(100).default(60_000),
  /** How long a notifier's claim on a message lasts; a killed notifier's messages are sent by another after it. */
  NOTIFY_LEASE_MS: z.coerce.number().int().min(1_000).default(120_000),
  /** Notifications a worker process delivers at once. */
  NOTIFY_CONCURRENCY: z.coerce.number().int().positive().max(64).default(4),
  /** Processed webhook events are deleted after this many days (dead ones are kept); `replay --since` reaches back this far. */
  INBOX_RETENTION_DAYS: z.coerce.number().int().positive().default(30),
  /** Referrer webhook endpoints on private or loopback addresses (for local testing). */
  ALLOW_PRIVATE_WEBHOOK_ENDPOINTS: boolFlag.default(false),
  /** How long a portal sign-in link works. */
  MAGIC_LINK_TTL_MINUTES: z.coerce.number().int().positive().default(15),
  /** How long a portal or console session lasts after sign-in. */
  SESSION_TTL_HOURS: z.coerce.number().int().positive().default(12),
  /** How long a console invite's sign-in link works (once). */
  CONSOLE_INVITE_TTL_HOURS: z.coerce.number().int().positive().default(72),
  /** `auto`: serve the sandbox CRMs when a CRM's app credentials are unset; `off`: never. */
  SANDBOX: z.enum(['auto', 'off']).default('auto'),
});

/** The app's variables and each registered CRM's own (connectors/registry.ts), validated in one pass. */
const fullEnvSchema = envSchema.extend(Object.assign({}, ...crmRegistry.map((crm) => crm.env.shape)) as z.ZodRawShape);

export type Env = z.infer<typeof envSchema>;

export interface Config {
  port: number;
  publicBaseUrl: string;
  databaseUrl: string;
  /** `postgres` for a postgres:// or postgresql:// DATABASE_URL, else `sqlite` (a file or :memory:). */
  storeKind: 'sqlite' | 'postgres';
  databasePoolSize: number;
  dataDir: string;
  redisUrl: string | undefined;
  encryptionKey: Buffer;
  adminToken: string;
  /** Set when the token was generated by this start, so it is printed once. */
  adminTokenCreated: boolean;
  adminTokenFile: string;
  /** Every registered CRM with its mode (`sandbox`: an emulator served at /sandbox/<kind>) and bound settings. */
  crms: ConfiguredCrm<CrmKind>[];
  /** `csv` (runs exported, paid by hand) or a provider runs are sent to: connectors/payouts/registry.ts. */
  payoutProvider: ConfiguredPayoutProvider;
  smtpUrl: string | undefined;
  logLevel: Env['LOG_LEVEL'];
  reconcileIntervalMs: number;
  syncCoalesceMs: number;
  syncMaxDelayMs: number;
  workerConcurrency: number;
  jobAttempts: number;
  jobLeaseMs: number;
  inboxLeaseMs: number;
  notifyLeaseMs: number;
  notifyConcurrency: number;
  inboxRetentionDays: number;
  allowPrivateWebhookEndpoints: boolean;
  magicLinkTtlMs: number;
  sessionTtlMs: number;
  consoleInviteTtlMs: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Validates the environment without touching the disk, so a start that cannot go ahead (a busy
 * port, say) is refused before anything is generated. The app's keys keep their schema's types;
 * the CRMs' keys are read by their registrations.
 */
export function readEnv(env: NodeJS.ProcessEnv = process.env): Env & Record<string, unknown> {
  const parsed = fullEnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = issue.path.join('.');
    throw new ConfigError(`Invalid ${name}=${JSON.stringify(env[name] ?? '')}: ${issue.message}`);
  }
  return parsed.data as Env & Record<string, unknown>;
}

/** Reads and validates the environment, creating first-start secrets in the data folder. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const e = readEnv(env);
  const publicBaseUrl = (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  // Before anything is written: a half-configured CRM stops the start with nothing created.
  const crms = crmRegistry.map((crm): ConfiguredCrm<CrmKind> => {
    try {
      return crm.configure(e, { publicBaseUrl, sandbox: e.SANDBOX });
    } catch (error) {
      if (error instanceof CrmSettingsError) throw new ConfigError(error.message);
      throw error;
    }
  });
  const payoutProvider = payoutProviderOf(env, e.SANDBOX);
  const storeKind = isPostgresUrl(e.DATABASE_URL) ? 'postgres' : 'sqlite';
  let dataDir: string;
  if (storeKind === 'postgres') {
    checkPostgresUrl(e.DATABASE_URL);
    // The embedded queue is a table of the SQLite store: PostgreSQL's processes share BullMQ on Redis.
    if (!e.REDIS_URL) {
      throw new ConfigError(
        'REDIS_URL is required with a PostgreSQL DATABASE_URL: the embedded job queue lives in SQLite, so the queue is BullMQ on Redis (set REDIS_URL=redis://host:6379).',
      );
    }
    // Secrets not set in the environment are kept in ./data, as with an in-memory SQLite store;
    // with both set (as every machine of a scale-out needs) no folder is made.
    dataDir = resolve('data');
    if (!e.ENCRYPTION_KEY || !e.ADMIN_API_TOKEN) prepareFolder(e.DATABASE_URL, dataDir);
  } else {
    const dbPath = sqlitePath(e.DATABASE_URL);
    dataDir = dbPath === ':memory:' ? resolve('data') : dirname(resolve(dbPath));
    prepareDatabaseFolder(e.DATABASE_URL, dbPath, dataDir);
  }

  const encryptionKey = keyBytes(
    e.ENCRYPTION_KEY ?? readOrCreate(join(dataDir, 'encryption.key'), () => randomBytes(32).toString('hex')).value,
  )!;
  const adminTokenFile = join(dataDir, 'admin-token');
  const adminToken = e.ADMIN_API_TOKEN
    ? { value: e.ADMIN_API_TOKEN, created: false }
    : readOrCreate(adminTokenFile, () => `rl_admin_${randomBytes(24).toString('base64url')}`);

  return {
    port: e.PORT,
    publicBaseUrl,
    databaseUrl: e.DATABASE_URL,
    storeKind,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    dataDir,
    redisUrl: e.REDIS_URL,
    encryptionKey,
    adminToken: adminToken.value,
    adminTokenCreated: adminToken.created,
    adminTokenFile,
    crms,
    payoutProvider,
    smtpUrl: e.SMTP_URL,
    logLevel: e.LOG_LEVEL,
    reconcileIntervalMs: e.RECONCILE_INTERVAL_SECONDS * 1000,
    syncCoalesceMs: e.SYNC_COALESCE_MS,
    syncMaxDelayMs: e.SYNC_MAX_DELAY_MS,
    workerConcurrency: e.WORKER_CONCURRENCY,
    jobAttempts: e.JOB_ATTEMPTS,
    jobLeaseMs: e.JOB_LEASE_MS,
    inboxLeaseMs: e.INBOX_LEASE_MS,
    notifyLeaseMs: e.NOTIFY_LEASE_MS,
    notifyConcurrency: e.NOTIFY_CONCURRENCY,
    inboxRetentionDays: e.INBOX_RETENTION_DAYS,
    allowPrivateWebhookEndpoints: e.ALLOW_PRIVATE_WEBHOOK_ENDPOINTS,
    magicLinkTtlMs: e.MAGIC_LINK_TTL_MINUTES * 60_000,
    sessionTtlMs: e.SESSION_TTL_HOURS * 3_600_000,
    consoleInviteTtlMs: e.CONSOLE_INVITE_TTL_HOURS * 3_600_000,
  };
}

/** The payout variables are read from the raw environment by the payouts registry, which owns them. */
function payoutProviderOf(env: NodeJS.ProcessEnv, sandbox: Env['SANDBOX']): ConfiguredPayoutProvider {
  try {
    return configurePayoutProvider(env, { sandbox });
  } catch (error) {
    if (error instanceof PayoutSettingsError) throw new ConfigError(error.message);
    throw error;
  }
}

/**
 * The database's folder exists and is writable, and the database is a regular file or absent;
 * anything else is refused in one line naming DATABASE_URL and the cause, never a stack trace.
 */
function prepareDatabaseFolder(databaseUrl: string, dbPath: string, dataDir: string): void {
  const refuse = (cause: string) => new ConfigError(`Invalid DATABASE_URL=${JSON.stringify(databaseUrl)}: ${cause}`);
  const accepted = `set file:<path> (such as ${DEFAULT_DATABASE_URL}), a plain file path, or :memory:`;
  // Checked before any folder is made: `postgresql:db` read as a path would create `postgresql:db`.
  if (/^postgres(ql)?:/i.test(databaseUrl)) {
    throw refuse(`a PostgreSQL URL starts with postgres:// (such as postgres://referloop@127.0.0.1:5432/referloop)`);
  }
  // Any other scheme but file: (two characters at least, so a Windows drive letter stays a path).
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(databaseUrl)?.[1];
  if (scheme && scheme.toLowerCase() !== 'file')
    throw refuse(`${scheme}: is not a store this build has; ${accepted}, or postgres://… for PostgreSQL`);
  if (/^file:\/\//i.test(databaseUrl)) throw refuse(`file:// URLs are not read: ${accepted}`);
  if (dbPath === '') throw refuse(`it names no file: ${accepted}`);
  if (/[\\/]$/.test(dbPath)) throw refuse(`${resolve(dbPath)} is a folder, not a database file`);
  // Kernel and device file systems accept a path and then fail or block on it.
  if (/^\/(proc|sys|dev)(\/|$)/.test(dataDir)) throw refuse(`${dataDir} is a system folder, not one a database can live in`);
  prepareFolder(databaseUrl, dataDir);
  if (dbPath === ':memory:' || !existsSync(dbPath)) return;
  if (!statSync(dbPath).isFile()) throw refuse(`${resolve(dbPath)} is a folder or special file, not a database file`);
  try {
    accessSync(dbPath, constants.R_OK | constants.W_OK);
  } catch {
    throw refuse(`${resolve(dbPath)} is not readable and writable`);
  }
}

/** The data folder (secrets, and SQLite's file) exists and is writable. */
function prepareFolder(databaseUrl: string, dataDir: string): void {
  const refuse = (cause: string) => new ConfigError(`Invalid DATABASE_URL=${JSON.stringify(withoutPassword(databaseUrl))}: ${cause}`);
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (err) {
    throw refuse(`cannot create the folder ${dataDir}: ${fileErrorCause(err)}`);
  }
  try {
    accessSync(dataDir, constants.W_OK);
  } catch {
    throw refuse(`the folder ${dataDir} is not writable`);
  }
}

/** A postgres:// URL that pg could not read is refused here, before any connection is tried. */
function checkPostgresUrl(databaseUrl: string): void {
  const refuse = (cause: string) => new ConfigError(`Invalid DATABASE_URL=${JSON.stringify(withoutPassword(databaseUrl))}: ${cause}`);
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    throw refuse('not a URL PostgreSQL can be reached at: expected postgres://user:password@host:5432/database');
  }
  if (url.pathname.length <= 1) throw refuse('it names no database: expected postgres://user:password@host:5432/database');
}

function fileErrorCause(err: unknown): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'EEXIST':
    case 'ENOTDIR':
      return 'a file is in the way (a path under a file)';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'the file system is read-only';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}

function keyBytes(value: string | undefined): Buffer | undefined {
  if (!value) return undefined;
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  const decoded = Buffer.from(value, 'base64');
  return decoded.length === 32 ? decoded : undefined;
}

function readOrCreate(file: string, make: () => string): { value: string; created: boolean } {
  if (existsSync(file)) return { value: readFileSync(file, 'utf8').trim(), created: false };
  const value = make();
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return { value, created: true };
}
