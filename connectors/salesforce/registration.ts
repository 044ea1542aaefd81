import { z } from 'zod';
import { defineCrm, envVar, modeFromCredentials, RenderError } from '../crm-registration.ts';

/** The connected-app credentials the in-process sandbox Salesforce is created with. */
export const SANDBOX_SALESFORCE = { clientId: 'referloop-sandbox-salesforce', clientSecret: 'sandbox-salesforce-secret' };

/** Both set: the live CRM; neither: its sandbox. */
const SALESFORCE_CREDENTIALS = ['SALESFORCE_CLIENT_ID', 'SALESFORCE_CLIENT_SECRET'] as const;

export const salesforceRegistration = defineCrm({
  kind: 'salesforce',
  label: 'Salesforce',
  env: z.object({
    SALESFORCE_CLIENT_ID: envVar.text(),
    SALESFORCE_CLIENT_SECRET: envVar.text(),
    SALESFORCE_LOGIN_URL: envVar.url(),
    SALESFORCE_API_VERSION: z
      .string()
      .regex(/^\d+\.\d$/, 'expected an API version like 62.0')
      .default('62.0'),
    /** Managed-package prefix for custom objects and fields, without the `__`. */
    SALESFORCE_NAMESPACE: z
      .string()
      .regex(/^[A-Za-z0-9]*$/, 'expected letters and digits only')
      .default(''),
  }),
  credentials: SALESFORCE_CREDENTIALS,
  configure(env, app) {
    const mode = modeFromCredentials(env, SALESFORCE_CREDENTIALS, app, {
      label: 'Salesforce',
      hasSandbox: true,
    });
    return {
      mode,
      settings: {
        clientId: env.SALESFORCE_CLIENT_ID ?? SANDBOX_SALESFORCE.clientId,
        clientSecret: env.SALESFORCE_CLIENT_SECRET ?? SANDBOX_SALESFORCE.clientSecret,
        loginUrl:
          env.SALESFORCE_LOGIN_URL ?? (mode === 'live' ? 'https://login.salesforce.com' : `${app.publicBaseUrl}/sandbox/salesforce`),
        apiVersion: env.SALESFORCE_API_VERSION,
        namespace: env.SALESFORCE_NAMESPACE,
      },
    };
  },
  // The client (jsforce) and sandbox are loaded when Salesforce runs, not by every command (crm-registration.ts).
  create: async (settings) => (await import('./index.ts')).createSalesforceConnector(settings),
  sandbox: {
    async mount(settings, app) {
      const { createSalesforceSandbox } = await import('./sandbox/index.ts');
      const sandbox = createSalesforceSandbox({
        clientId: settings.clientId,
        clientSecret: settings.clientSecret,
        outboundUrl: `${app.publicBaseUrl}/webhooks/salesforce`,
        publicUrl: `${app.publicBaseUrl}/sandbox/salesforce`,
      });
      return { handler: sandbox.handler, close: () => sandbox.close() };
    },
    flags: ['outbound-url', 'client-id', 'client-secret'],
    async standalone(flags) {
      const { createSalesforceSandbox } = await import('./sandbox/index.ts');
      return createSalesforceSandbox({
        ...(flags['client-id'] ? { clientId: flags['client-id'] } : {}),
        ...(flags['client-secret'] ? { clientSecret: flags['client-secret'] } : {}),
        ...(flags['outbound-url'] ? { outboundUrl: flags['outbound-url'] } : {}),
      });
    },
  },
  packageRenderer: {
    flags: ['integration-user', 'contact-email'],
    async render({ baseUrl, outDir, flags }) {
      const { renderSalesforcePackage } = await import('./render-package.ts');
      if (!flags['integration-user'])
        throw new RenderError('Pass --integration-user <username>: outbound messages are sent as a user of the org.');
      if (!flags['contact-email']) throw new RenderError("Pass --contact-email <address>: the connected app's contact.");
      const rendered = renderSalesforcePackage({
        baseUrl,
        outDir,
        integrationUser: flags['integration-user'],
        contactEmail: flags['contact-email'],
      });
      return { files: rendered.files, next: `cd ${rendered.outDir} && sf project deploy start --target-org <org alias>` };
    },
  },
});
