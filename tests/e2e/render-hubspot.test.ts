/**
 * `referloop render hubspot`: the HubSpot developer project for one deployment, ready for
 * `hs project upload`, with every use of the source's placeholder origin replaced by the base URL
 * (PUBLIC_BASE_URL or --base-url). A base URL HubSpot cannot call is refused, and nothing is written.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnCli } from '../support/cli-process.ts';

const source = path.resolve(import.meta.dirname, '../../app-manifest/hubspot');
const scratch = mkdtempSync(path.join(tmpdir(), 'referloop-render-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function render(args: string[], env: Record<string, string> = {}) {
  const child = spawnCli(['render', 'hubspot', ...args], env);
  const timer = setTimeout(() => void child.kill('SIGKILL'), 20_000);
  const { code } = await child.exited;
  clearTimeout(timer);
  return { code, output: child.output().trim() };
}

function filesUnder(root: string, dir = root): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (name === 'node_modules') return [];
    return statSync(full).isDirectory() ? filesUnder(root, full) : [path.relative(root, full)];
  });
}

const json = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

describe('referloop render hubspot', () => {
  it('renders the project for PUBLIC_BASE_URL: the cards’ API, the permitted fetch origin, OAuth and webhooks, no placeholder left', async () => {
    const out = path.join(scratch, 'acme');
    const rendered = await render(['--out', out, '--support-email', 'help@acme.io', '--support-phone', '+1 (800) 555-0100'], {
      PUBLIC_BASE_URL: 'https://referloop.acme.io/',
    });
    expect(rendered.code, rendered.output).toBe(0);
    expect(JSON.parse(rendered.output)).toEqual({
      crm: 'hubspot',
      baseUrl: 'https://referloop.acme.io/',
      out,
      files: filesUnder(source).length,
      next: `cd ${out} && hs project upload`,
    });

    // The same project, file for file, the installed packages left out.
    expect(filesUnder(out).sort()).toEqual(filesUnder(source).sort());
    for (const file of filesUnder(out)) {
      const text = readFileSync(path.join(out, file), 'utf8');
      expect(text, file).not.toContain('example.com');
      expect(text, file).not.toContain('localhost');
    }

    const app = json(path.join(out, 'src/app/app-hsmeta.json')).config;
    expect(app.auth.redirectUrls).toEqual(['https://referloop.acme.io/oauth/hubspot/callback']);
    expect(app.permittedUrls.fetch).toEqual(['https://referloop.acme.io']);
    expect(app.support).toEqual({
      supportEmail: 'help@acme.io',
      documentationUrl: 'https://referloop.acme.io',
      supportUrl: 'https://referloop.acme.io',
      supportPhone: '+18005550100',
    });
    // Everything else as the source declares it: the scopes, the name, the distribution.
    const { auth, permittedUrls, support, ...rest } = json(path.join(source, 'src/app/app-hsmeta.json')).config;
    expect(app).toMatchObject({ ...rest, auth: { ...auth, redirectUrls: app.auth.redirectUrls } });
    expect(permittedUrls.fetch).not.toEqual(app.permittedUrls.fetch);
    expect(support.supportEmail).not.toBe(app.support.supportEmail);

    const hooks = json(path.join(out, 'src/app/webhooks/webhooks-hsmeta.json')).config;
    expect(hooks.settings.targetUrl).toBe('https://referloop.acme.io/webhooks/hubspot');
    expect(hooks.subscriptions).toEqual(json(path.join(source, 'src/app/webhooks/webhooks-hsmeta.json')).config.subscriptions);
    expect(readFileSync(path.join(out, 'src/app/cards/referloop.ts'), 'utf8')).toContain(
      'export const REFERLOOP_API = "https://referloop.acme.io/api/v1";',
    );
    // Each card's API calls go to a URL the app permits.
    expect('https://referloop.acme.io/api/v1/referrals'.startsWith(app.permittedUrls.fetch[0])).toBe(true);
  });

  it('takes --base-url over PUBLIC_BASE_URL, a path prefix included', async () => {
    const out = path.join(scratch, 'prefixed');
    const rendered = await render(['--out', out, '--base-url', 'https://tools.acme.io/referloop', '--support-email', 'help@acme.io'], {
      PUBLIC_BASE_URL: 'https://ignored.acme.io',
    });
    expect(rendered.code, rendered.output).toBe(0);
    expect(json(path.join(out, 'src/app/webhooks/webhooks-hsmeta.json')).config.settings.targetUrl).toBe(
      'https://tools.acme.io/referloop/webhooks/hubspot',
    );
    expect(json(path.join(out, 'src/app/app-hsmeta.json')).config.support).not.toHaveProperty('supportPhone');
  });

  it.each([
    [['--base-url', 'http://localhost:3000'], /must be an https:\/\/ URL/],
    [['--base-url', 'https://localhost'], /is this machine: HubSpot calls it from its own servers/],
    [['--base-url', 'https://referloop.example.com'], /is the placeholder/],
    [[], /Pass --base-url <https:\/\/…> or set PUBLIC_BASE_URL/],
    [['--base-url', 'https://referloop.acme.io', '--support-email', 'nobody'], /the support email "nobody" is not an email address/],
  ])('refuses %j in one line, writing nothing', async (args, reason) => {
    const out = path.join(scratch, `refused-${Math.random().toString(36).slice(2)}`);
    const rendered = await render(['--out', out, '--support-email', 'help@acme.io', ...args]);
    expect(rendered.code).toBe(2);
    expect(rendered.output.split('\n')).toEqual([expect.stringMatching(reason)]);
    expect(existsSync(out)).toBe(false);
  });

  it('asks for the support email, and never writes into a folder that has files', async () => {
    const missing = await render(['--out', path.join(scratch, 'no-email'), '--base-url', 'https://referloop.acme.io']);
    expect(missing.code).toBe(2);
    expect(missing.output).toMatch(/^referloop: Pass --support-email <address>/);

    const used = path.join(scratch, 'used');
    const first = await render(['--out', used, '--base-url', 'https://referloop.acme.io', '--support-email', 'help@acme.io']);
    expect(first.code, first.output).toBe(0);
    writeFileSync(path.join(used, 'notes.txt'), 'mine');
    const again = await render(['--out', used, '--base-url', 'https://other.acme.io', '--support-email', 'help@acme.io']);
    expect(again.code).toBe(2);
    expect(again.output).toMatch(/is not empty: render into a new folder/);
    expect(readFileSync(path.join(used, 'src/app/cards/referloop.ts'), 'utf8')).toContain('https://referloop.acme.io/api/v1');
  });
});
