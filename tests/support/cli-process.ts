import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * `node <sourceCli> <args>` runs the CLI from `src/cli.ts` through tsx, whatever the working
 * directory: tests exercise the source, never what `npm run build` last put in dist/ (which
 * `src/referloop.mjs`, the installed command, prefers).
 */
export const sourceCli = ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href, join(repoRoot, 'src/cli.ts')];

/** Every variable config.ts reads: never inherited from the test process. */
const CONFIG_VARS =
  /^(PORT|PUBLIC_BASE_URL|DATABASE_URL|DATABASE_POOL_SIZE|REDIS_URL|ENCRYPTION_KEY|ADMIN_API_TOKEN|HUBSPOT_.*|SALESFORCE_.*|SMTP_URL|LOG_LEVEL|RECONCILE_INTERVAL_SECONDS|SYNC_COALESCE_MS|SYNC_MAX_DELAY_MS|WORKER_CONCURRENCY|JOB_ATTEMPTS|ALLOW_PRIVATE_WEBHOOK_ENDPOINTS|SANDBOX|INBOX_LEASE_MS|NOTIFY_LEASE_MS|NOTIFY_CONCURRENCY|INBOX_RETENTION_DAYS|JOB_LEASE_MS)$/;

// Children outlive a crashed test run unless killed with it.
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface CliProcess {
  pid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** stdout and stderr so far, for failure messages. */
  output(): string;
  /** Sends `signal` and waits for the exit; after `graceMs` a SIGTERM is followed by SIGKILL. */
  kill(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

/**
 * The CLI from source (`sourceCli`) as its own process, with exactly the configuration in `env`
 * (config variables of the test process are not inherited, so a REDIS_URL set for the test run
 * cannot turn an embedded-queue test into a BullMQ one). `user` runs it as another user (the test
 * process must be root for that).
 */
export function spawnCli(args: string[], env: Record<string, string>, options: { user?: { uid: number; gid: number } } = {}): CliProcess {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !CONFIG_VARS.test(key)));
  const child = spawn(process.execPath, [...sourceCli, ...args], {
    cwd: repoRoot,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options.user,
  });
  live.add(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      done({ code, signal });
    });
    child.once('error', (err) => {
      output += `\nspawn error: ${err.message}`;
      live.delete(child);
      done({ code: null, signal: null });
    });
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    pid: child.pid ?? 0,
    exited,
    output: () => output,
    async kill(signal = 'SIGTERM', graceMs = 10_000) {
      if (!running()) {
        await exited;
        return;
      }
      child.kill(signal);
      if (signal === 'SIGKILL') {
        await exited;
        return;
      }
      const finished = await Promise.race([exited.then(() => true), sleep(graceMs, false)]);
      if (!finished && running()) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
