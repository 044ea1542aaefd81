/**
 * What a command loads is part of how fast it starts (README, "Start-up"): `token` reads the
 * configuration and nothing else, and `serve` loads a CRM's client and sandbox, Redis's client and
 * the mailer only when they run. Each case records the modules the CLI imports (from source,
 * through tsx) and checks the heavy ones against what the configuration turned on.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnCli } from '../support/cli-process.ts';
import { freePort } from '../support/ports.ts';
import { eventually } from '../support/service.ts';

const root = mkdtempSync(join(tmpdir(), 'referloop-start-up-imports-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const recorder = pathToFileURL(resolve(import.meta.dirname, '../support/record-imports.mjs')).href;

/** A connector's own code: anything in a CRM folder but its registration, or in a payout provider's folder. */
const CONNECTOR_CODE = /\/connectors\/(hubspot|salesforce|fake|payouts\/tremendous)\/(?!registration\.ts$)/;
const PACKAGE = (name: string) => new RegExp(`/node_modules/${name}/`);

/** Runs the CLI with `args`, `env`, recording its imports until `until` resolves or it exits; returns the module URLs. */
async function importsOf(name: string, args: string[], env: Record<string, string>, until?: () => Promise<void>): Promise<string[]> {
  const file = join(root, `${name}.imports`);
  const child = spawnCli(args, {
    DATABASE_URL: `file:${join(root, name, 'referloop.db')}`,
    LOG_LEVEL: 'warn',
    NODE_OPTIONS: `--import=${recorder}`,
    RECORD_IMPORTS_TO: file,
    ...env,
  });
  try {
    if (until) await until();
    else expect((await child.exited).code, child.output()).toBe(0);
  } finally {
    await child.kill();
  }
  return readFileSync(file, 'utf8').trim().split('\n');
}

async function servesHealthz(port: number): Promise<void> {
  await eventually(
    async () => ((await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status === 200 ? true : undefined),
    20_000,
  );
}

describe('start-up loads only what the command and the configuration use', { timeout: 60_000 }, () => {
  it('token: the configuration and the registrations, no connector, database, logger or web server', async () => {
    const urls = await importsOf('token', ['token'], {});
    expect(urls.some((url) => url.endsWith('/connectors/hubspot/registration.ts'))).toBe(true);
    expect(urls.filter((url) => CONNECTOR_CODE.test(url))).toEqual([]);
    for (const heavy of [
      'express',
      'jsforce',
      '@hubspot',
      'better-sqlite3',
      'drizzle-orm',
      'pg',
      'bullmq',
      'ioredis',
      'pino',
      'prom-client',
    ]) {
      expect(urls.filter((url) => PACKAGE(heavy).test(url))).toEqual([]);
    }
  });

  it('serve without a CRM, Redis or SMTP: the web server and the store, no connector, queue client or mailer', async () => {
    const port = await freePort();
    const urls = await importsOf('serve-bare', ['serve'], { PORT: String(port), SANDBOX: 'off' }, () => servesHealthz(port));
    expect(urls.some((url) => PACKAGE('express').test(url))).toBe(true);
    expect(urls.filter((url) => CONNECTOR_CODE.test(url))).toEqual([]);
    // The PostgreSQL driver and store load only when DATABASE_URL names PostgreSQL.
    for (const heavy of ['jsforce', '@hubspot', 'bullmq', 'ioredis', 'nodemailer', 'pg']) {
      expect(urls.filter((url) => PACKAGE(heavy).test(url))).toEqual([]);
    }
    expect(urls.filter((url) => url.includes('/src/store/postgres/'))).toEqual([]);
  });

  it('serve with the sandboxes: both CRMs load their connector and sandbox', async () => {
    const port = await freePort();
    const urls = await importsOf('serve-sandboxes', ['serve'], { PORT: String(port) }, () => servesHealthz(port));
    for (const module of ['hubspot/index.ts', 'hubspot/sandbox/index.ts', 'salesforce/index.ts', 'salesforce/sandbox/index.ts']) {
      expect(urls.filter((url) => url.endsWith(`/connectors/${module}`))).toHaveLength(1);
    }
    expect(urls.some((url) => PACKAGE('jsforce').test(url))).toBe(true);
  });
});
