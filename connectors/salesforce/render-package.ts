import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RenderError } from '../crm-registration.ts';

/** The package in the source tree, found from this file in the source tree and in dist/. */
const PACKAGE = 'app-manifest/salesforce';
/** The host the source package is written with; rendering replaces every use of it. */
const PLACEHOLDER_HOST = 'referloop.example.com';
const PLACEHOLDER_ORIGIN = `https://${PLACEHOLDER_HOST}`;
const PLACEHOLDER_INTEGRATION_USER = `referloop.integration@${PLACEHOLDER_HOST}`;
const PLACEHOLDER_CONTACT = `support@${PLACEHOLDER_HOST}`;

export interface SalesforceRenderOptions {
  /** Referloop's public base URL (PUBLIC_BASE_URL): the Named Credential, the OAuth callback, the outbound messages' endpoint. */
  baseUrl: string;
  outDir: string;
  /** The org user outbound messages are sent as (it must exist in the org the package is deployed to). */
  integrationUser: string;
  /** The connected app's contact email. */
  contactEmail: string;
}

/**
 * Writes the Salesforce package (sfdx source format) for one deployment of Referloop, ready for
 * `sf project deploy start`: the Named Credential (and so the cards' Apex callouts) points at the
 * base URL, which a Named Credential needs no Remote Site Setting for; OAuth redirects to
 * `<baseUrl>/oauth/salesforce/callback`; outbound messages go to `<baseUrl>/webhooks/salesforce`,
 * sent as the integration user. No placeholder is left. The card key is not in the package: an
 * admin pastes it into the External Credential in Setup.
 */
export function renderSalesforcePackage(options: SalesforceRenderOptions): { outDir: string; files: string[] } {
  const base = httpsBase(options.baseUrl);
  const integrationUser = email(options.integrationUser, 'the integration user (--integration-user)');
  const contactEmail = email(options.contactEmail, 'the contact email (--contact-email)');
  const outDir = path.resolve(options.outDir);
  if (existsSync(outDir) && readdirSync(outDir).length > 0) throw new RenderError(`${outDir} is not empty: render into a new folder.`);

  cpSync(packageSource(), outDir, { recursive: true });
  try {
    const files = filesUnder(outDir);
    for (const file of files) {
      const full = path.join(outDir, file);
      const text = readFileSync(full, 'utf8');
      // The e-mail placeholders first: the origin's host is part of them.
      const rendered = text
        .replaceAll(PLACEHOLDER_INTEGRATION_USER, integrationUser)
        .replaceAll(PLACEHOLDER_CONTACT, contactEmail)
        .replaceAll(PLACEHOLDER_ORIGIN, base);
      if (rendered !== text) writeFileSync(full, rendered);
    }
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

function packageSource(): string {
  const found = ['../../', '../../../']
    .map((up) => fileURLToPath(new URL(`${up}${PACKAGE}`, import.meta.url)))
    .find((candidate) => existsSync(path.join(candidate, 'sfdx-project.json')));
  if (!found) throw new Error(`rendering the Salesforce package needs ${PACKAGE}`);
  return found;
}

/** Salesforce calls Referloop from its own servers, and packaged outbound messages take HTTPS only. */
function httpsBase(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new RenderError(`the base URL (PUBLIC_BASE_URL) ${JSON.stringify(value)} is not a URL.`);
  }
  if (url.protocol !== 'https:') throw new RenderError(`the base URL ${value} must be an https:// URL: Salesforce calls only HTTPS.`);
  if (url.search || url.hash) throw new RenderError(`the base URL ${value} must have no query or fragment.`);
  if (['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) {
    throw new RenderError(
      `the base URL ${value} is this machine: Salesforce calls it from its own servers, so give the public HTTPS address.`,
    );
  }
  if (url.hostname === PLACEHOLDER_HOST) throw new RenderError(`${value} is the placeholder: give Referloop's public address.`);
  return url.href.replace(/\/+$/, '');
}

function email(value: string | undefined, what: string): string {
  if (!value || !/^[^\s@<>&"']+@[^\s@<>&"']+\.[^\s@<>&"']+$/.test(value))
    throw new RenderError(`${what} ${JSON.stringify(value ?? '')} is not an email address.`);
  if (value.endsWith(`@${PLACEHOLDER_HOST}`)) throw new RenderError(`${value} is the placeholder: give ${what}.`);
  return value;
}

function filesUnder(root: string, dir = root): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? filesUnder(root, full) : [path.relative(root, full)];
  });
}
