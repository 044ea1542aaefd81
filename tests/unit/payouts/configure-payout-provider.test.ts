import { describe, expect, it } from 'vitest';
import { configurePayoutProvider, PayoutSettingsError } from '../../../connectors/payouts/registry.ts';

const products = 'cash=ACH1,gift_card=OKMHM2X2OHYV,donation=CHARITY1';

describe('configurePayoutProvider', () => {
  it.each([
    ['nothing set', {}, 'auto', { kind: 'csv' }],
    ['csv named', { PAYOUT_PROVIDER: 'csv', TREMENDOUS_API_KEY: 'ignored' }, 'auto', { kind: 'csv' }],
    [
      'tremendous without credentials under SANDBOX=auto',
      { PAYOUT_PROVIDER: 'tremendous' },
      'auto',
      { kind: 'tremendous', mode: 'sandbox' },
    ],
  ] as const)('%s', (_, env, sandbox, expected) => {
    expect(configurePayoutProvider(env, { sandbox })).toEqual(expected);
  });

  it('live Tremendous with its key, secret and products; production API and the balance by default', () => {
    expect(
      configurePayoutProvider(
        {
          PAYOUT_PROVIDER: 'tremendous',
          TREMENDOUS_API_KEY: 'PROD_key',
          TREMENDOUS_WEBHOOK_SECRET: 'whsec',
          TREMENDOUS_PRODUCTS: products,
        },
        { sandbox: 'auto' },
      ),
    ).toEqual({
      kind: 'tremendous',
      mode: 'live',
      settings: {
        baseUrl: 'https://www.tremendous.com/api/v2',
        apiKey: 'PROD_key',
        webhookSecret: 'whsec',
        fundingSourceId: 'balance',
        products: { cash: 'ACH1', gift_card: 'OKMHM2X2OHYV', donation: 'CHARITY1' },
        timeoutMs: 15_000,
      },
    });
  });

  it.each([
    [{ PAYOUT_PROVIDER: 'stripe' }, 'auto', 'Invalid PAYOUT_PROVIDER="stripe": expected one of csv, tremendous'],
    [
      { PAYOUT_PROVIDER: 'tremendous' },
      'off',
      'PAYOUT_PROVIDER=tremendous needs TREMENDOUS_API_KEY and TREMENDOUS_WEBHOOK_SECRET (SANDBOX=off)',
    ],
    [
      { PAYOUT_PROVIDER: 'tremendous', TREMENDOUS_API_KEY: 'k', TREMENDOUS_PRODUCTS: products },
      'auto',
      'TREMENDOUS_API_KEY is set without TREMENDOUS_WEBHOOK_SECRET',
    ],
    [
      { PAYOUT_PROVIDER: 'tremendous', TREMENDOUS_WEBHOOK_SECRET: 's' },
      'auto',
      'TREMENDOUS_WEBHOOK_SECRET is set without TREMENDOUS_API_KEY',
    ],
    [
      { PAYOUT_PROVIDER: 'tremendous', TREMENDOUS_API_KEY: 'k', TREMENDOUS_WEBHOOK_SECRET: 's' },
      'auto',
      'cash, gift_card, donation missing',
    ],
    [
      { PAYOUT_PROVIDER: 'tremendous', TREMENDOUS_API_KEY: 'k', TREMENDOUS_WEBHOOK_SECRET: 's', TREMENDOUS_PRODUCTS: 'cash=A,gift=B' },
      'auto',
      '"gift=B" is not kind=product-id',
    ],
    [
      {
        PAYOUT_PROVIDER: 'tremendous',
        TREMENDOUS_API_KEY: 'k',
        TREMENDOUS_WEBHOOK_SECRET: 's',
        TREMENDOUS_PRODUCTS: products,
        TREMENDOUS_API_BASE_URL: 'ftp://x',
      },
      'auto',
      'Invalid TREMENDOUS_API_BASE_URL="ftp://x": expected an http(s) URL',
    ],
  ] as const)('refuses %j under SANDBOX=%s in one line', (env, sandbox, message) => {
    const refusal = (() => {
      try {
        configurePayoutProvider(env, { sandbox });
      } catch (error) {
        return error;
      }
    })();
    expect(refusal).toBeInstanceOf(PayoutSettingsError);
    expect((refusal as Error).message).toContain(message);
    expect((refusal as Error).message).not.toContain('\n');
  });
});
