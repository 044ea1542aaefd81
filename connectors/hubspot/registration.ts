import { z } from 'zod';
import { defineCrm, envVar, modeFromCredentials, RenderError } from '../crm-registration.ts';

/** The app credentials the in-process sandbox HubSpot is created with. */
export const SANDBOX_HUBSPOT = { clientId: 'referloop-sandbox-hubspot', clientSecret: 'sandbox-hubspot-secret', appId: '1' };
/** Stages a pretend sales team walks a sandbox deal through. */
const SANDBOX_DEAL_STAGES = ['qualifiedtobuy', 'presentationscheduled', 'closedwon'];

/** Both set: the live CRM; neither: its sandbox. */
const HUBSPOT_CREDENTIALS = ['HUBSPOT_CLIENT_ID', 'HUBSPOT_CLIENT_SECRET'] as const;

export const hubspotRegistration = defineCrm({
  kind: 'hubspot',
  label: 'HubSpot',
  env: z.object({
    HUBSPOT_CLIENT_ID: envVar.text(),
    HUBSPOT_CLIENT_SECRET: envVar.text(),
    HUBSPOT_APP_ID: envVar.text(),
    HUBSPOT_API_BASE_URL: envVar.url(),
    HUBSPOT_AUTHORIZE_URL: envVar.url(),
    /** Calls per 10 seconds per account; HubSpot's public-app default is 110. */
    HUBSPOT_RATE_LIMIT_PER_10S: z.coerce.number().int().positive().default(110),
  }),
  credentials: HUBSPOT_CREDENTIALS,
  configure(env, app) {
    const mode = modeFromCredentials(env, HUBSPOT_CREDENTIALS, app, { label: 'HubSpot', hasSandbox: true });
    const live = mode === 'live';
    const sandboxUrl = `${app.publicBaseUrl}/sandbox/hubspot`;
    return {
      mode,
      settings: {
        clientId: env.HUBSPOT_CLIENT_ID ?? SANDBOX_HUBSPOT.clientId,
        clientSecret: env.HUBSPOT_CLIENT_SECRET ?? SANDBOX_HUBSPOT.clientSecret,
        appId: env.HUBSPOT_APP_ID ?? (live ? undefined : SANDBOX_HUBSPOT.appId),
        apiBaseUrl: env.HUBSPOT_API_BASE_URL ?? (live ? 'https://api.hubapi.com' : sandboxUrl),
        authorizeUrl: env.HUBSPOT_AUTHORIZE_URL ?? (live ? 'https://app.hubspot.com/oauth/authorize' : `${sandboxUrl}/oauth/authorize`),
        ratePer10s: env.HUBSPOT_RATE_LIMIT_PER_10S,
      },
    };
  },
  // The client, SDK and sandbox are loaded when HubSpot runs, not by every command (crm-registration.ts).
  create: async ({ appId, ...settings }) => {
    const { createHubSpotConnector } = await import('./index.ts');
    return createHubSpotConnector({ ...settings, ...(appId ? { appId } : {}) });
  },
  // HubSpot counts calls as they arrive, we count them as they leave: an 11 s window keeps a
  // margin so a slow call followed by a fast one never lands 111 in HubSpot's 10 s.
  rateLimit: (settings) => ({ points: settings.ratePer10s, durationMs: 11_000 }),
  sandbox: {
    async mount(settings, app) {
      const { createHubSpotSandbox } = await import('./sandbox/index.ts');
      const sandbox = createHubSpotSandbox({
        clientId: settings.clientId,
        clientSecret: settings.clientSecret,
        appId: Number(settings.appId),
        webhookUrl: `${app.publicBaseUrl}/webhooks/hubspot`,
      });
      return { handler: sandbox.handler, close: () => sandbox.close() };
    },
    flags: ['webhook-url', 'client-id', 'client-secret', 'app-id'],
    async standalone(flags) {
      const { createHubSpotSandbox } = await import('./sandbox/index.ts');
      return createHubSpotSandbox({
        ...(flags['client-id'] ? { clientId: flags['client-id'] } : {}),
        ...(flags['client-secret'] ? { clientSecret: flags['client-secret'] } : {}),
        ...(flags['app-id'] ? { appId: Number(flags['app-id']) } : {}),
        ...(flags['webhook-url'] ? { webhookUrl: flags['webhook-url'] } : {}),
      });
    },
    installOnFirstStart: true,
    async playDeal(settings, deal) {
      const { workSandboxDeal } = await import('./sandbox/sales-team.ts');
      return workSandboxDeal(settings.apiBaseUrl, settings, { ...deal, stages: deal.stages ?? SANDBOX_DEAL_STAGES });
    },
    async salesTeam(settings) {
      const { hubspotSalesTeam } = await import('./sandbox/sales-team.ts');
      return hubspotSalesTeam(settings.apiBaseUrl, settings);
    },
  },
  packageRenderer: {
    flags: ['support-email', 'support-url', 'documentation-url', 'support-phone'],
    async render({ baseUrl, outDir, flags }) {
      const { renderHubSpotProject } = await import('./render-project.ts');
      if (!flags['support-email'])
        throw new RenderError("Pass --support-email <address>: HubSpot shows installers the app's support contact.");
      const rendered = renderHubSpotProject({
        baseUrl,
        outDir,
        support: {
          email: flags['support-email'],
          ...(flags['support-url'] ? { url: flags['support-url'] } : {}),
          ...(flags['documentation-url'] ? { documentationUrl: flags['documentation-url'] } : {}),
          ...(flags['support-phone'] ? { phone: flags['support-phone'] } : {}),
        },
      });
      return { files: rendered.files, next: `cd ${rendered.outDir} && hs project upload` };
    },
  },
});
