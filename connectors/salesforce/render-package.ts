import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RenderError } from '../crm-registration.ts';
import { PLACEHOLDER_HOST, publicBaseUrl, renderFromSource } from '../render-package.ts';

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
  const base = publicBaseUrl(options.baseUrl, 'Salesforce');
  const integrationUser = email(options.integrationUser, 'the integration user (--integration-user)');
  const contactEmail = email(options.contactEmail, 'the contact email (--contact-email)');
  return renderFromSource({
    source: 'app-manifest/salesforce',
    marker: 'sfdx-project.json',
    outDir: options.outDir,
    edit: (outDir, files) => {
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
    },
  });
}

function email(value: string | undefined, what: string): string {
  if (!value || !/^[^\s@<>&"']+@[^\s@<>&"']+\.[^\s@<>&"']+$/.test(value))
    throw new RenderError(`${what} ${JSON.stringify(value ?? '')} is not an email address.`);
  if (value.endsWith(`@${PLACEHOLDER_HOST}`)) throw new RenderError(`${value} is the placeholder: give ${what}.`);
  return value;
}
