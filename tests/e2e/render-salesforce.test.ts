/**
 * `referloop render salesforce`: the package for one deployment, ready for `sf project deploy
 * start`, with every use of the source's placeholder host replaced. The card key is never in it.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnCli } from '../support/cli-process.ts';

const source = path.resolve(import.meta.dirname, '../../app-manifest/salesforce');
const scratch = mkdtempSync(path.join(tmpdir(), 'referloop-render-sf-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function render(args: string[], env: Record<string, string> = {}) {
  const child = spawnCli(['render', 'salesforce', ...args], env);
  const timer = setTimeout(() => void child.kill('SIGKILL'), 20_000);
  const { code } = await child.exited;
  clearTimeout(timer);
  return { code, output: child.output().trim() };
}

function filesUnder(root: string, dir = root): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(root, full) : [path.relative(root, full)];
  });
}

const read = (root: string, file: string) => readFileSync(path.join(root, 'force-app/main/default', file), 'utf8');
const FLAGS = ['--integration-user', 'integration@acme.io', '--contact-email', 'help@acme.io'];

describe('referloop render salesforce', () => {
  it('renders the package for the base URL: Named Credential, OAuth callback, outbound messages; no placeholder left', async () => {
    const out = path.join(scratch, 'acme');
    const rendered = await render(['--out', out, ...FLAGS], { PUBLIC_BASE_URL: 'https://referloop.acme.io/' });
    expect(rendered.code, rendered.output).toBe(0);
    expect(JSON.parse(rendered.output)).toMatchObject({ crm: 'salesforce', out, files: filesUnder(source).length });
    expect(JSON.parse(rendered.output).next).toContain('sf project deploy start');

    expect(filesUnder(out).sort()).toEqual(filesUnder(source).sort());
    for (const file of filesUnder(out)) {
      const text = readFileSync(path.join(out, file), 'utf8');
      expect(text, file).not.toContain('example.com');
      expect(text, file).not.toMatch(/rlk_[A-Za-z0-9_-]{8,}/);
    }
    expect(read(out, 'namedCredentials/Referloop.namedCredential-meta.xml')).toContain(
      '<parameterValue>https://referloop.acme.io</parameterValue>',
    );
    expect(read(out, 'connectedApps/Referloop.connectedApp-meta.xml')).toContain(
      '<callbackUrl>https://referloop.acme.io/oauth/salesforce/callback</callbackUrl>',
    );
    expect(read(out, 'connectedApps/Referloop.connectedApp-meta.xml')).toContain('<contactEmail>help@acme.io</contactEmail>');
    for (const object of ['Account', 'Contact', 'Lead', 'Opportunity']) {
      const workflow = read(out, `workflows/${object}.workflow-meta.xml`);
      expect(workflow).toContain('<endpointUrl>https://referloop.acme.io/webhooks/salesforce</endpointUrl>');
      expect(workflow).toContain('<integrationUser>integration@acme.io</integrationUser>');
    }
  });

  it('refuses a base URL Salesforce cannot call, and missing flags, writing nothing', async () => {
    for (const [args, message] of [
      [['--base-url', 'http://referloop.acme.io', ...FLAGS], 'https://'],
      [['--base-url', 'https://localhost:8080', ...FLAGS], 'this machine'],
      [['--base-url', 'https://referloop.acme.io', '--contact-email', 'help@acme.io'], '--integration-user'],
    ] as const) {
      const out = path.join(scratch, `refused-${Math.random().toString(36).slice(2)}`);
      const rendered = await render(['--out', out, ...args]);
      expect(rendered.code, rendered.output).toBe(2);
      expect(rendered.output).toContain(message);
      expect(() => readdirSync(out)).toThrow();
    }
  });
});
