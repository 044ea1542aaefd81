/**
 * `npx referloop <command>` (also `npm run cli -- <command>`). Composition root for commands.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { crmKinds, crmRegistry, isCrmKind, registrationOf, RenderError, SandboxDealError, type CrmKind } from '../connectors/registry.ts';
import { ConfigError, loadConfig, readEnv, type Config } from './config.ts';
import type { Program } from './domain/program.ts';
import { isPostgresUrl, withoutPassword } from './store/database-url.ts';
import type { Logger } from './log.ts';
import type { createRuntime } from './main.ts';

// Each command imports what it uses when it runs: loading the whole service takes about a second,
// and `referloop token` needs only the configuration (no logger, database or connector code).

/** A stop waits this long at most: the worker's drain (5 s) and closing connections. */
const SHUTDOWN_TIMEOUT_MS = 8_000;

const sandboxUsage = crmRegistry
  .flatMap((crm) =>
    crm.sandbox ? [`  sandbox ${crm.kind} --port <p>${crm.sandbox.flags.map((flag) => ` [--${flag} <value>]`).join('')}`] : [],
  )
  .join('\n');

const renderUsage = crmRegistry
  .flatMap((crm) =>
    crm.packageRenderer
      ? [
          `  render ${crm.kind} --out <dir> [--base-url <https url>]${crm.packageRenderer.flags.map((flag) => ` [--${flag} <value>]`).join('')}`,
        ]
      : [],
  )
  .join('\n');

const USAGE = `Usage: referloop <command> [options]

  serve                         HTTP API, webhooks and the worker in one process (the default)
  worker                        the worker alone (scale out with REDIS_URL)
  migrate                       apply the migrations of DATABASE_URL's store (SQLite or PostgreSQL)
  migrate --from file:<path> --to postgres://<user>@<host>:<port>/<database>
                                copy a SQLite installation into an empty PostgreSQL database
  connect ${crmKinds.join('|')} --token <access token> [--refresh-token <t>] [--instance-url <url>]
                                register an installation from a token (private apps, tests)
  reconcile [--installation <id>]
                                fetch records changed since the last run and apply them
  replay --since <ISO time> [--installation <id>]
                                re-run stored webhook events (no new rewards, no second notification)
  simulate --file <draft program.json> [--months 12] [--installation <id>]
                                what a draft program would have cost on past deals
${sandboxUsage}
                                run a sandbox CRM alone
${renderUsage}
                                the CRM's app package for PUBLIC_BASE_URL (or --base-url), ready to upload
  sandbox-deal --email <referee email> [--amount 25000] [--stages qualifiedtobuy,closedwon]
                                play the sales team in the running service's sandbox CRM
  token                         print the admin API token
`;

async function main(argv: string[]): Promise<number> {
  const [command = 'serve', ...rest] = argv;
  if (command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command === 'sandbox') return runSandbox(rest);
  if (command === 'render') return renderPackage(rest);
  // A copy names both databases itself: it reads no configuration and generates no secrets.
  if (command === 'migrate' && rest.length > 0) return copyDatabase(rest);

  // A busy port is refused before the first start generates its data folder and secrets.
  if (command === 'serve') await (await import('./main.ts')).ensurePortFree(readEnv().PORT);
  const config = loadConfig();
  if (command === 'token') {
    process.stdout.write(`${config.adminToken}\n`);
    return 0;
  }
  const log = (await import('./log.ts')).createLogger({ level: config.logLevel });
  switch (command) {
    case 'serve':
    case 'worker':
      return serve(config, log, command === 'serve');
    case 'migrate': {
      await (await import('./main.ts')).migrateStore(config);
      log.info({ database: withoutPassword(config.databaseUrl) }, 'migrations applied');
      return 0;
    }
    case 'connect':
      return connect(config, log, rest);
    case 'reconcile':
      return reconcile(config, log, rest);
    case 'replay':
      return replay(config, log, rest);
    case 'simulate':
      return simulate(config, log, rest);
    case 'sandbox-deal':
      return sandboxDeal(config, rest);
    default:
      process.stderr.write(`Unknown command "${command}".\n\n${USAGE}`);
      return 2;
  }
}

const copyArgsSchema = z.object({
  from: z
    .string({ error: 'Pass the SQLite database to copy with --from file:<path>.' })
    .refine(
      (url) => !isPostgresUrl(url),
      '--from names the SQLite database to copy, such as file:./data/referloop.db, not a PostgreSQL URL.',
    ),
  to: z
    .string({ error: 'Pass the PostgreSQL database to copy into with --to postgres://<user>@<host>:<port>/<database>.' })
    .refine(isPostgresUrl, '--to names the PostgreSQL database to copy into: postgres://<user>@<host>:<port>/<database>.'),
});

/** `migrate --from file:… --to postgres://…`: one SQLite installation into an empty PostgreSQL database. */
async function copyDatabase(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { from: { type: 'string' }, to: { type: 'string' } },
  });
  if (positionals.length)
    throw new ConfigError(`migrate takes no ${JSON.stringify(positionals[0])}: pass --from file:<path> --to postgres://….`);
  const parsed = copyArgsSchema.safeParse(values);
  if (!parsed.success) throw new ConfigError(parsed.error.issues[0]!.message);
  const { from, to } = parsed.data;
  const summary = await (await import('./main.ts')).copySqliteToPostgres(from, to);
  process.stdout.write(
    `${JSON.stringify({ copied: { from, to: withoutPassword(to), tables: summary.tables, rows: summary.rows, seconds: summary.seconds } })}
`,
  );
  return 0;
}

async function serve(config: Config, log: Logger, http: boolean): Promise<number> {
  // Listen for signals first: a stop during start-up still shuts down cleanly.
  const stopRequested = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  const { installThroughOAuth, startService } = await import('./main.ts');
  const service = await startService(config, log, { http, worker: true });
  // Printed once the service serves: a start that fails shows no token it never used.
  if (config.adminTokenCreated) {
    process.stdout.write(
      `\nAdmin API token (shown once; read it again with \`npx referloop token\` or from ${config.adminTokenFile}):\n  ${config.adminToken}\n\n`,
    );
  }
  log.info(
    { url: config.publicBaseUrl, queue: service.runtime.queue.kind, ...Object.fromEntries(config.crms.map((crm) => [crm.kind, crm.mode])) },
    http ? 'Referloop is serving' : 'Referloop worker started',
  );
  const firstSandbox = config.crms.find((crm) => crm.sandbox?.installOnFirstStart);
  if (http && firstSandbox && (await service.runtime.store.installations.list()).length === 0) {
    await Promise.race([installThroughOAuth(config.publicBaseUrl, firstSandbox.kind, log), stopRequested]);
  }
  await stopRequested;
  log.info('shutting down: finishing in-flight jobs');
  // Always within a bound, whatever is unreachable: what did not finish is retried from the queue
  // or the inbox by the next start.
  const stopped = await Promise.race([service.stop().then(() => true), sleep(SHUTDOWN_TIMEOUT_MS, false, { ref: false })]);
  if (!stopped)
    log.warn({ afterMs: SHUTDOWN_TIMEOUT_MS }, 'stopped before everything closed; unfinished work is retried on the next start');
  return stopped ? 0 : 1;
}

function crmArg(value: string | undefined, kinds: readonly CrmKind[] = crmKinds): CrmKind {
  if (value && isCrmKind(value) && kinds.includes(value)) return value;
  throw new ConfigError(`Name the CRM: ${kinds.join(' or ')}.`);
}

async function connect(config: Config, log: Logger, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { token: { type: 'string' }, 'refresh-token': { type: 'string' }, 'instance-url': { type: 'string' } },
  });
  const crm = crmArg(positionals[0]);
  if (!values.token) throw new ConfigError('Pass the access token with --token.');
  const [{ createRuntime }, { connectInstallation }] = await Promise.all([import('./main.ts'), import('./use-cases/install-crm.ts')]);
  const runtime = await createRuntime(config, log);
  try {
    const connector = runtime.ctx.crm.connector(crm);
    if (!connector) throw new ConfigError(`${crm} is not configured.`);
    const grant = await connector.oauth.identify({
      accessToken: values.token,
      ...(values['refresh-token'] ? { refreshToken: values['refresh-token'] } : {}),
      ...(values['instance-url'] ? { instanceUrl: values['instance-url'] } : {}),
    });
    const { installation, created } = await connectInstallation(runtime.ctx, crm, grant, 'cli');
    // A first install of a CRM whose cards use a card key prints that key, this once.
    const cardKey = (await runtime.store.cardKeys.takeRevealOnce(installation.id))?.key;
    process.stdout.write(
      `${JSON.stringify({ id: installation.id, crm, accountId: installation.accountId, status: installation.status, created, ...(cardKey ? { cardKey } : {}) })}\n`,
    );
    return 0;
  } finally {
    await runtime.close();
  }
}

/** The installations a command works on: the one named (which must exist and be active), or every active one. */
async function installationsArg(runtime: Awaited<ReturnType<typeof createRuntime>>, id: string | undefined) {
  const all = await runtime.store.installations.list();
  const active = all.filter((i) => i.status === 'active');
  if (!id) return active;
  const named = all.find((i) => i.id === id);
  if (!named) {
    throw new ConfigError(
      `No installation ${id}; ${all.length ? `the installations are ${all.map((i) => `${i.id} (${i.crm} ${i.accountId})`).join(', ')}` : 'none is connected yet'}.`,
    );
  }
  if (named.status !== 'active') throw new ConfigError(`Installation ${id} is ${named.status}: reconnect it first.`);
  return [named];
}

async function reconcile(config: Config, log: Logger, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { installation: { type: 'string' } } });
  const [{ createRuntime }, { reconcileInstallation }] = await Promise.all([
    import('./main.ts'),
    import('./use-cases/reconcile-installation.ts'),
  ]);
  const runtime = await createRuntime(config, log);
  try {
    for (const installation of await installationsArg(runtime, values.installation)) {
      const result = await reconcileInstallation(runtime.ctx, installation.id);
      process.stdout.write(`${JSON.stringify({ installationId: installation.id, ...result })}\n`);
    }
    return 0;
  } finally {
    await runtime.close();
  }
}

async function replay(config: Config, log: Logger, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { since: { type: 'string' }, installation: { type: 'string' } } });
  const since = values.since ? new Date(values.since) : undefined;
  if (!since || Number.isNaN(since.getTime())) throw new ConfigError('Pass --since with an ISO time, e.g. --since 2026-11-01T00:00:00Z.');
  const [{ createRuntime, syncOptions }, { syncInstallation }] = await Promise.all([
    import('./main.ts'),
    import('./use-cases/sync-installation.ts'),
  ]);
  const runtime = await createRuntime(config, log);
  try {
    const requeued = await runtime.store.inbox.requeueSince(since, values.installation);
    // Processed here rather than through the queue: the command ends when the replay is done.
    for (const installation of await installationsArg(runtime, values.installation)) {
      while ((await runtime.store.inbox.pendingCount(installation.id)) > 0) {
        // Replayed events are due at once: there is no burst left to wait out.
        await syncInstallation(runtime.ctx, installation.id, { ...syncOptions(config), quietMs: 0, maxDelayMs: 0 });
      }
    }
    process.stdout.write(`${JSON.stringify({ requeued, since: since.toISOString() })}\n`);
    return 0;
  } finally {
    await runtime.close();
  }
}

async function simulate(config: Config, log: Logger, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { file: { type: 'string' }, months: { type: 'string' }, installation: { type: 'string' } },
  });
  if (!values.file) throw new ConfigError('Pass the draft program with --file <program.json>.');
  const months = Number(values.months ?? 12);
  if (!Number.isInteger(months) || months < 1 || months > 60)
    throw new ConfigError(`--months expects a whole number from 1 to 60, not ${JSON.stringify(values.months)}.`);
  const [{ programSchema }, { createRuntime }, { simulateDraft }] = await Promise.all([
    import('./http/program.schema.ts'),
    import('./main.ts'),
    import('./use-cases/program-settings.ts'),
  ]);
  const parsed = programSchema.safeParse(readJsonFile(values.file));
  if (!parsed.success)
    throw new ConfigError(
      `The draft program is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  const runtime = await createRuntime(config, log);
  try {
    for (const installation of await installationsArg(runtime, values.installation)) {
      const result = await simulateDraft(
        runtime.ctx,
        (await runtime.store.programs.defaultProgram(installation.id))!,
        parsed.data as Program,
        months,
      );
      process.stdout.write(`${JSON.stringify({ installationId: installation.id, ...result }, null, 2)}\n`);
    }
    return 0;
  } finally {
    await runtime.close();
  }
}

function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `Cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}.`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file} is not valid JSON: ${(err as Error).message}.`);
  }
}

async function sandboxDeal(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { email: { type: 'string' }, amount: { type: 'string' }, stages: { type: 'string' } } });
  if (!values.email) throw new ConfigError('Pass the referee with --email <address>.');
  const amount = values.amount ?? '25000';
  if (!/^\d+(\.\d{1,2})?$/.test(amount) || Number(amount) <= 0)
    throw new ConfigError(`--amount expects a positive amount such as 25000, not ${JSON.stringify(amount)}.`);
  const playDeal = config.crms.find((crm) => crm.sandbox?.playDeal)?.sandbox?.playDeal;
  if (!playDeal)
    throw new ConfigError('sandbox-deal plays a sandbox CRM; this configuration serves none that takes deals (a real CRM is configured).');
  const stages = values.stages
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  try {
    const result = await playDeal({ email: values.email, amount: Number(amount), ...(stages ? { stages } : {}) });
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  } catch (err) {
    if (err instanceof SandboxDealError) throw new ConfigError(err.message);
    throw err;
  }
}

async function runSandbox(args: string[]): Promise<number> {
  const withSandbox = crmRegistry.flatMap((crm) => (crm.sandbox ? [crm.kind] : []));
  const crm = crmArg(args[0], withSandbox);
  const sandboxOf = registrationOf(crm).sandbox!;
  const { values } = parseArgs({
    args: args.slice(1),
    options: Object.fromEntries(['port', ...sandboxOf.flags].map((flag) => [flag, { type: 'string' as const }])),
  });
  const flags = values as Record<string, string | undefined>;
  const sandbox = await sandboxOf.standalone(flags);
  const { url } = await sandbox.listen(Number(flags.port ?? 0));
  process.stdout.write(`${JSON.stringify({ sandbox: crm, url })}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sandbox.close();
  return 0;
}

/** Writes a CRM's app package for one deployment; needs no database, secrets or data folder. */
async function renderPackage(args: string[]): Promise<number> {
  const withRenderer = crmRegistry.flatMap((crm) => (crm.packageRenderer ? [crm.kind] : []));
  const crm = crmArg(args[0], withRenderer);
  const renderer = registrationOf(crm).packageRenderer!;
  const { values } = parseArgs({
    args: args.slice(1),
    options: Object.fromEntries(['out', 'base-url', ...renderer.flags].map((flag) => [flag, { type: 'string' as const }])),
  });
  const flags = values as Record<string, string | undefined>;
  if (!flags.out) throw new ConfigError('Pass the folder to write the package to with --out <dir>.');
  const baseUrl = flags['base-url'] ?? readEnv().PUBLIC_BASE_URL;
  if (!baseUrl) throw new ConfigError("Pass --base-url <https://…> or set PUBLIC_BASE_URL: the package calls Referloop's public address.");
  try {
    const { files, next } = await renderer.render({ baseUrl, outDir: flags.out, flags });
    process.stdout.write(`${JSON.stringify({ crm, baseUrl, out: flags.out, files: files.length, next })}\n`);
    return 0;
  } catch (err) {
    if (err instanceof RenderError) throw new ConfigError(err.message);
    throw err;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    // A user's mistake (a setting, an argument) is one line; a stack trace means a bug.
    if (err instanceof ConfigError || String((err as { code?: unknown })?.code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`referloop: ${(err as Error).message}\n`);
      process.exit(2);
    }
    process.stderr.write(`referloop: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
