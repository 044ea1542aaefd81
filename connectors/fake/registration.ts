import { z } from 'zod';
import { defineCrm, envVar } from '../crm-registration.ts';

/**
 * The fake CRM as the app can run it: only with `FAKE_CRM=on` (tests, demos of a third CRM), never
 * for a plain `npm start`. Its OAuth approves at once, so `/oauth/fake/install` installs it.
 */
export const fakeRegistration = defineCrm({
  kind: 'fake',
  label: 'Fake CRM',
  env: z.object({
    FAKE_CRM: z.enum(['on', 'off'], { error: 'expected on or off' }).default('off'),
    FAKE_CRM_ACCOUNT_ID: envVar.text(),
    FAKE_CRM_WEBHOOK_SECRET: envVar.text(),
  }),
  // Turned on by FAKE_CRM, never live: it has no app credentials.
  credentials: [],
  configure: (env) => ({
    mode: env.FAKE_CRM === 'on' ? 'sandbox' : 'off',
    settings: {
      ...(env.FAKE_CRM_ACCOUNT_ID ? { accountId: env.FAKE_CRM_ACCOUNT_ID } : {}),
      ...(env.FAKE_CRM_WEBHOOK_SECRET ? { webhookSecret: env.FAKE_CRM_WEBHOOK_SECRET } : {}),
    },
  }),
  create: async (settings) => (await import('./index.ts')).createFakeCrm(settings).connector,
});
