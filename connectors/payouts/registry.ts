import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PayoutProductKind, PayoutProvider } from './provider.ts';
import type { TremendousSettings } from './tremendous/client.ts';
import type { TremendousSandbox } from './tremendous/sandbox/index.ts';

/**
 * Which payout provider runs, from the environment: `csv` (the default: runs are exported and paid
 * by hand, as before any provider) or `tremendous`, live with its API key or, under `SANDBOX=auto`
 * with none set, against the emulator in `tremendous/sandbox`. The app imports this file and
 * `provider.ts` only (.dependency-cruiser.cjs). Reading the configuration loads no provider code:
 * `startPayoutProvider` imports the client (and the emulator) only when one runs, as the CRM
 * registrations do.
 */
export const payoutProviderKinds = ['csv', 'tremendous'] as const;
export type PayoutProviderKind = (typeof payoutProviderKinds)[number];

export type ConfiguredPayoutProvider =
  | { kind: 'csv' }
  | { kind: 'tremendous'; mode: 'live'; settings: TremendousSettings }
  | { kind: 'tremendous'; mode: 'sandbox' };

export class PayoutSettingsError extends Error {
  override readonly name = 'PayoutSettingsError';
}

export interface PayoutEnv {
  PAYOUT_PROVIDER?: string;
  TREMENDOUS_API_KEY?: string;
  TREMENDOUS_WEBHOOK_SECRET?: string;
  TREMENDOUS_API_BASE_URL?: string;
  TREMENDOUS_FUNDING_SOURCE_ID?: string;
  TREMENDOUS_PRODUCTS?: string;
}

const TREMENDOUS_PRODUCTION_API = 'https://www.tremendous.com/api/v2';
const PRODUCT_KINDS: PayoutProductKind[] = ['cash', 'gift_card', 'donation'];
const ORDER_TIMEOUT_MS = 15_000;

/** Reads and checks the payout variables; a wrong or half-set one throws a one-line {@link PayoutSettingsError}. */
export function configurePayoutProvider(env: PayoutEnv, app: { sandbox: 'auto' | 'off' }): ConfiguredPayoutProvider {
  const kind = env.PAYOUT_PROVIDER?.trim() || 'csv';
  if (!(payoutProviderKinds as readonly string[]).includes(kind))
    throw new PayoutSettingsError(`Invalid PAYOUT_PROVIDER=${JSON.stringify(kind)}: expected one of ${payoutProviderKinds.join(', ')}`);
  if (kind === 'csv') return { kind: 'csv' };
  const apiKey = env.TREMENDOUS_API_KEY?.trim();
  const webhookSecret = env.TREMENDOUS_WEBHOOK_SECRET?.trim();
  if (!apiKey && !webhookSecret) {
    if (app.sandbox === 'auto') return { kind: 'tremendous', mode: 'sandbox' };
    throw new PayoutSettingsError('PAYOUT_PROVIDER=tremendous needs TREMENDOUS_API_KEY and TREMENDOUS_WEBHOOK_SECRET (SANDBOX=off)');
  }
  if (!apiKey) throw new PayoutSettingsError('TREMENDOUS_WEBHOOK_SECRET is set without TREMENDOUS_API_KEY');
  if (!webhookSecret)
    throw new PayoutSettingsError('TREMENDOUS_API_KEY is set without TREMENDOUS_WEBHOOK_SECRET: delivery webhooks could not be verified');
  const baseUrl = env.TREMENDOUS_API_BASE_URL?.trim() || TREMENDOUS_PRODUCTION_API;
  if (!/^https?:\/\/[^/]/.test(baseUrl))
    throw new PayoutSettingsError(`Invalid TREMENDOUS_API_BASE_URL=${JSON.stringify(baseUrl)}: expected an http(s) URL`);
  return {
    kind: 'tremendous',
    mode: 'live',
    settings: {
      baseUrl,
      apiKey,
      webhookSecret,
      fundingSourceId: env.TREMENDOUS_FUNDING_SOURCE_ID?.trim() || 'balance',
      products: parseProducts(env.TREMENDOUS_PRODUCTS),
      timeoutMs: ORDER_TIMEOUT_MS,
    },
  };
}

/** `gift_card=OKMHM2X2OHYV,cash=…,donation=…`: every kind named once, since catalog ids differ per account. */
function parseProducts(value: string | undefined): Record<PayoutProductKind, string> {
  const refuse = (cause: string) =>
    new PayoutSettingsError(
      `Invalid TREMENDOUS_PRODUCTS=${JSON.stringify(value ?? '')}: ${cause} (expected cash=ID,gift_card=ID,donation=ID)`,
    );
  const products: Partial<Record<PayoutProductKind, string>> = {};
  for (const pair of (value ?? '').split(',').filter((part) => part.trim() !== '')) {
    const [name, id] = pair.split('=').map((part) => part.trim());
    if (!PRODUCT_KINDS.includes(name as PayoutProductKind) || !id) throw refuse(`"${pair.trim()}" is not kind=product-id`);
    products[name as PayoutProductKind] = id;
  }
  const missing = PRODUCT_KINDS.filter((name) => !products[name]);
  if (missing.length > 0) throw refuse(`${missing.join(', ')} missing`);
  return products as Record<PayoutProductKind, string>;
}

/** A running provider: `close()` stops the emulator when it is one. */
export interface RunningPayoutProvider {
  provider: PayoutProvider;
  /** Set in sandbox mode: tests and the tour drive deliveries through it. */
  sandbox?: TremendousSandbox;
  /** In sandbox mode, the emulator's API, for the app to serve at `path` as it serves the CRM sandboxes. */
  mount?: { path: string; handler: (req: IncomingMessage, res: ServerResponse) => void };
  close(): Promise<void>;
}

/** Where the app serves the emulator in sandbox mode. */
export const PAYOUT_SANDBOX_PATH = '/sandbox/tremendous';

/**
 * Starts the configured provider, or `undefined` for `csv`. In sandbox mode the emulator is served
 * by the app at {@link PAYOUT_SANDBOX_PATH} under `publicBaseUrl` and sends its webhooks to
 * `webhookUrl` (the app's `/webhooks/payouts/tremendous`).
 */
export async function startPayoutProvider(
  configured: ConfiguredPayoutProvider,
  app: { publicBaseUrl: string; webhookUrl: string },
): Promise<RunningPayoutProvider | undefined> {
  if (configured.kind === 'csv') return undefined;
  const { createTremendousProvider } = await import('./tremendous/client.ts');
  if (configured.mode === 'live') return { provider: createTremendousProvider(configured.settings), close: async () => {} };
  const { createTremendousSandbox, SANDBOX_PRODUCTS } = await import('./tremendous/sandbox/index.ts');
  const sandbox = createTremendousSandbox({ webhookUrl: app.webhookUrl });
  const provider = createTremendousProvider({
    baseUrl: `${app.publicBaseUrl}${PAYOUT_SANDBOX_PATH}/api/v2`,
    apiKey: sandbox.apiKey,
    webhookSecret: sandbox.webhookSecret,
    fundingSourceId: 'balance',
    products: { ...SANDBOX_PRODUCTS },
    timeoutMs: ORDER_TIMEOUT_MS,
  });
  return { provider, sandbox, mount: { path: PAYOUT_SANDBOX_PATH, handler: sandbox.handler }, close: () => sandbox.close() };
}

export type { PayoutEvent, PayoutOrder, PayoutOrderResult, PayoutProductKind, PayoutProvider } from './provider.ts';
export { PayoutProviderError, PayoutWebhookRefused } from './provider.ts';
