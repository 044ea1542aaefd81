import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';

/** The payout provider is chosen at start-up; a wrong or half-set variable stops it in one line, creating nothing. */
describe('PAYOUT_PROVIDER at start-up', () => {
  const root = mkdtempSync(join(tmpdir(), 'referloop-payouts-config-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const load = (env: Record<string, string>, folder = 'data') =>
    loadConfig({ DATABASE_URL: `file:${join(root, folder, 'db.sqlite')}`, ADMIN_API_TOKEN: 'payouts-test-token-0123', ...env });

  it('defaults to CSV export; Tremendous without credentials runs on its sandbox', () => {
    expect(load({}).payoutProvider).toEqual({ kind: 'csv' });
    expect(load({ PAYOUT_PROVIDER: 'tremendous' }).payoutProvider).toEqual({ kind: 'tremendous', mode: 'sandbox' });
  });

  it('refuses a half-configured Tremendous before anything is written', () => {
    expect(() => load({ PAYOUT_PROVIDER: 'tremendous', TREMENDOUS_API_KEY: 'key' }, 'refused')).toThrow(ConfigError);
    expect(() => load({ PAYOUT_PROVIDER: 'tremendous', TREMENDOUS_API_KEY: 'key' }, 'refused')).toThrow(
      /^TREMENDOUS_API_KEY is set without TREMENDOUS_WEBHOOK_SECRET: delivery webhooks could not be verified$/,
    );
    expect(() => load({ PAYOUT_PROVIDER: 'paypal' }, 'refused')).toThrow(/^Invalid PAYOUT_PROVIDER="paypal"/);
    expect(readdirSync(root)).not.toContain('refused');
  });
});
