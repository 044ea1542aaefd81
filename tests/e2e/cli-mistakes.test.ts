/**
 * A newcomer's mistakes on the command line: one line saying what is wrong, a non-zero exit, no
 * stack trace, and nothing half-made in the CRM.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_HUBSPOT } from '../../connectors/hubspot/registration.ts';
import { spawnCli } from '../support/cli-process.ts';
import { installSandbox, startTestService, type TestService } from '../support/service.ts';

let svc: TestService;
let installationId: string;
let sandboxToken: string;
const sandbox = () => `${svc.url}/sandbox/hubspot`;

/** The sandbox's consent page approves by itself: a token to look at its records. */
async function tokenFor(sandboxUrl: string): Promise<string> {
  const redirectUri = 'http://localhost/test';
  const consent = await fetch(
    `${sandboxUrl}/oauth/authorize?${new URLSearchParams({ client_id: SANDBOX_HUBSPOT.clientId, redirect_uri: redirectUri, scope: 'crm.objects.deals.read crm.objects.contacts.write', state: 't' })}`,
    { redirect: 'manual' },
  );
  const code = new URL(consent.headers.get('location')!).searchParams.get('code')!;
  const res = await fetch(`${sandboxUrl}/oauth/v1/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: SANDBOX_HUBSPOT.clientId,
      client_secret: SANDBOX_HUBSPOT.clientSecret,
      redirect_uri: redirectUri,
      code,
    }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

async function sandboxCall(method: string, path: string, body?: unknown): Promise<{ results?: unknown[]; id?: string }> {
  const res = await fetch(`${sandbox()}${path}`, {
    method,
    headers: { authorization: `Bearer ${sandboxToken}`, 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return (await res.json()) as { results?: unknown[]; id?: string };
}
const dealCount = async () => (await sandboxCall('GET', '/crm/v3/objects/deals?limit=100')).results!.length;

/** The CLI against the running test service's settings and data folder. */
async function cli(args: string[]): Promise<{ code: number | null; lines: string[]; output: string }> {
  const child = spawnCli(args, {
    PORT: new URL(svc.url).port,
    PUBLIC_BASE_URL: svc.url,
    DATABASE_URL: `file:${join(svc.dataDir, 'referloop.db')}`,
    ADMIN_API_TOKEN: svc.token,
    LOG_LEVEL: 'warn',
  });
  const timer = setTimeout(() => void child.kill('SIGKILL'), 20_000);
  const { code } = await child.exited;
  clearTimeout(timer);
  return { code, lines: child.output().trim().split('\n'), output: child.output() };
}

function expectOneLine(result: { code: number | null; lines: string[]; output: string }, pattern: RegExp): void {
  expect(result.code, result.output).not.toBe(0);
  expect(result.code).not.toBeNull();
  expect(result.lines, result.output).toHaveLength(1);
  expect(result.output).not.toMatch(/\n\s+at /);
  expect(result.lines[0]).toMatch(pattern);
}

beforeAll(async () => {
  svc = await startTestService();
  installationId = await installSandbox(svc);
  sandboxToken = await tokenFor(sandbox());
  await sandboxCall('POST', '/crm/v3/objects/contacts', { properties: { email: 'jordan@acme-widgets.com', firstname: 'Jordan' } });
}, 30_000);
afterAll(async () => svc?.stop());

describe('CLI mistakes', { timeout: 30_000 }, () => {
  it('sandbox-deal --amount abc', async () => {
    expectOneLine(
      await cli(['sandbox-deal', '--email', 'jordan@acme-widgets.com', '--amount', 'abc']),
      /--amount expects a positive amount.*"abc"/,
    );
    expect(await dealCount()).toBe(0);
  });

  it('sandbox-deal for an email the CRM does not have', async () => {
    expectOneLine(await cli(['sandbox-deal', '--email', 'nobody@nowhere.example']), /no contact nobody@nowhere\.example/);
    expect(await dealCount()).toBe(0);
  });

  it('sandbox-deal with a stage the pipeline does not have leaves no half-made deal', async () => {
    expectOneLine(
      await cli(['sandbox-deal', '--email', 'jordan@acme-widgets.com', '--stages', 'qualifiedtobuy,wonish']),
      /Unknown deal stage wonish: the stages are .*closedwon/,
    );
    expect(await dealCount()).toBe(0);
  });

  it('sandbox-deal with good arguments still works', async () => {
    const ok = await cli([
      'sandbox-deal',
      '--email',
      'jordan@acme-widgets.com',
      '--amount',
      '25000',
      '--stages',
      'qualifiedtobuy,closedwon',
    ]);
    expect(ok.code, ok.output).toBe(0);
    expect(await dealCount()).toBe(1);
  });

  it('reconcile --installation of an unknown id names the installations that exist', async () => {
    expectOneLine(
      await cli(['reconcile', '--installation', 'nope']),
      new RegExp(`No installation nope; the installations are ${installationId}`),
    );
  });

  it('an unknown option', async () => {
    expectOneLine(await cli(['reconcile', '--instalation', installationId]), /Unknown option '--instalation'/);
  });
});
