import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RenderError } from '../crm-registration.ts';

/** The HubSpot project in the source tree, found from this file in the source tree and in dist/. */
const PROJECT = 'app-manifest/hubspot';
/** The origin the source project is written with; rendering replaces every use of it. */
const PLACEHOLDER_HOST = 'referloop.example.com';

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
  const base = httpsBase(options.baseUrl);
  const support = {
    supportEmail: supportEmail(options.support.email),
    documentationUrl: httpsUrl(options.support.documentationUrl ?? base, 'the documentation URL'),
    supportUrl: httpsUrl(options.support.url ?? base, 'the support URL'),
    ...(options.support.phone ? { supportPhone: supportPhone(options.support.phone) } : {}),
  };
  const outDir = path.resolve(options.outDir);
  if (existsSync(outDir) && readdirSync(outDir).length > 0) throw new RenderError(`${outDir} is not empty: render into a new folder.`);

  cpSync(projectSource(), outDir, { recursive: true, filter: (from) => path.basename(from) !== 'node_modules' });
  try {
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

    const files = filesUnder(outDir);
    const left = files.filter((file) => readFileSync(path.join(outDir, file), 'utf8').includes(PLACEHOLDER_HOST));
    if (left.length)
      throw new RenderError(
        `the placeholder ${PLACEHOLDER_HOST} is still in ${left.join(', ')}: the renderer does not know that use of it.`,
      );
    return { outDir, files };
  } catch (error) {
    rmSync(outDir, { recursive: true, force: true });
    throw error;
  }
}

function projectSource(): string {
  const found = ['../../', '../../../']
    .map((up) => fileURLToPath(new URL(`${up}${PROJECT}`, import.meta.url)))
    .find((candidate) => existsSync(path.join(candidate, 'hsproject.json')));
  if (!found) throw new Error(`rendering the HubSpot project needs ${PROJECT}`);
  return found;
}

/** hubspot.fetch takes only HTTPS URLs, and no localhost: HubSpot's servers make the call. */
function httpsBase(value: string): string {
  const url = httpsUrl(value, 'the base URL (PUBLIC_BASE_URL)');
  if (['localhost', '127.0.0.1', '[::1]'].includes(new URL(url).hostname)) {
    throw new RenderError(`the base URL ${url} is this machine: HubSpot calls it from its own servers, so give the public HTTPS address.`);
  }
  if (new URL(url).hostname === PLACEHOLDER_HOST) throw new RenderError(`${url} is the placeholder: give Referloop's public address.`);
  return url.replace(/\/+$/, '');
}

function httpsUrl(value: string, what: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new RenderError(`${what} ${JSON.stringify(value)} is not a URL.`);
  }
  if (url.protocol !== 'https:') throw new RenderError(`${what} ${value} must be an https:// URL: HubSpot takes no other.`);
  if (url.search || url.hash) throw new RenderError(`${what} ${value} must have no query or fragment.`);
  return url.href.replace(/\/+$/, '');
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

function filesUnder(root: string, dir = root): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(root, full) : [path.relative(root, full)];
  });
}
