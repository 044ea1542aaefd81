import { describe, expect, it } from 'vitest';
import { ConfigError, readEnv } from '../../src/config.ts';

describe('NOTIFY_LEASE_MS', () => {
  it('defaults to two minutes, the notifier lease before it was a setting', () => {
    expect(readEnv({}).NOTIFY_LEASE_MS).toBe(120_000);
  });

  it('takes a whole number of milliseconds of at least one second', () => {
    expect(readEnv({ NOTIFY_LEASE_MS: '5000' }).NOTIFY_LEASE_MS).toBe(5_000);
  });

  it.each(['999', '2.5', 'soon', '-1'])('refuses %s in one line naming the variable', (value) => {
    expect(() => readEnv({ NOTIFY_LEASE_MS: value })).toThrow(ConfigError);
    expect(() => readEnv({ NOTIFY_LEASE_MS: value })).toThrow(/^Invalid NOTIFY_LEASE_MS="/);
  });
});
