import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RenderError } from '../crm-registration.ts';
import { httpsUrl, PLACEHOLDER_HOST, publicBaseUrl, renderFromSource } from '../render-package.ts';

export interface HubSpotRenderOptions {
  /** Referloop's public base URL (PUBLIC_BASE_URL): the cards' API, the OAuth callback, the webhook target. */
  baseUrl: string;
  outDir: string;
  /** The app listing's support contact, which HubSpot shows to installers. */
  support: { email: string; url?: string; documentationUrl?: string; phone?: string };
}

/**
 * Writes the HubSpot developer project for one deployment of Referloop, ready for
 * `hs project upload`: the cards call `<baseUrl>/api/v1` (and the app permits that fetch), OAuth
 * redirects to `<baseUrl>/oauth/hubspot/callback`, webhooks go to `<baseUrl>/webhooks/hubspot`.
 * Nothing of the source's placeholder origin is left; the cards' installed packages are not copied
 * (HubSpot installs them from the cards' package.json when it builds).
 */
export function renderHubSpotProject(options: HubSpotRenderOptions): { outDir: string; files: string[] } {
  const base = publicBaseUrl(options.baseUrl, 'HubSpot');
  const support = {
    supportEmail: supportEmail(options.support.email),
    documentationUrl: httpsUrl(options.support.documentationUrl ?? base, 'the documentation URL', 'HubSpot'),
    supportUrl: httpsUrl(options.support.url ?? base, 'the support URL', 'HubSpot'),
    ...(options.support.phone ? { supportPhone: supportPhone(options.support.phone) } : {}),
  };
  return renderFromSource({
    source: 'app-manifest/hubspot',
    marker: 'hsproject.json',
    outDir: options.outDir,
    skip: (from) => path.basename(from) === 'node_modules',
    edit: (outDir) => {
      editJson(path.join(outDir, 'src/app/app-hsmeta.json'), (app) => {
        const config = app.config as { auth: { redirectUrls: string[] }; permittedUrls: { fetch: string[] }; support: unknown };
        config.auth.redirectUrls = [`${base}/oauth/hubspot/callback`];
        config.permittedUrls.fetch = [base];
        config.support = support;
      });
      editJson(path.join(outDir, 'src/app/webhooks/webhooks-hsmeta.json'), (hooks) => {
        (hooks.config as { settings: { targetUrl: string } }).settings.targetUrl = `${base}/webhooks/hubspot`;
      });
      const api = path.join(outDir, 'src/app/cards/referloop.ts');
      const apiModule = readFileSync(api, 'utf8');
      const rendered = apiModule.replace(
        /^export const REFERLOOP_API = '[^']*';$/m,
        `export const REFERLOOP_API = ${JSON.stringify(`${base}/api/v1`)};`,
      );
      if (rendered === apiModule) throw new RenderError(`${api} no longer declares REFERLOOP_API: the cards' API base cannot be set.`);
      writeFileSync(api, rendered);
    },
  });
}

function supportEmail(value: string): string {
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value))
    throw new RenderError(`the support email ${JSON.stringify(value)} is not an email address.`);
  if (value.endsWith(`@${PLACEHOLDER_HOST}`)) throw new RenderError(`${value} is the placeholder: give a real support address.`);
  return value;
}

/** HubSpot's listing takes the number in international form, e.g. +18005550100. */
function supportPhone(value: string): string {
  const phone = value.replace(/[\s().-]/g, '');
  if (!/^\+\d{6,15}$/.test(phone))
    throw new RenderError(`the support phone ${JSON.stringify(value)} must be in international form, e.g. +18005550100.`);
  return phone;
}

function editJson(file: string, edit: (json: { config: Record<string, unknown> }) => void): void {
  const json = JSON.parse(readFileSync(file, 'utf8')) as { config: Record<string, unknown> };
  edit(json);
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
}
