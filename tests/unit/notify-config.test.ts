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

describe('NOTIFY_CONCURRENCY', () => {
  it('defaults to four deliveries at once', () => {
    expect(readEnv({}).NOTIFY_CONCURRENCY).toBe(4);
    expect(readEnv({ NOTIFY_CONCURRENCY: '16' }).NOTIFY_CONCURRENCY).toBe(16);
  });

  it.each(['0', '65', '1.5', 'many'])('refuses %s in one line naming the variable', (value) => {
    expect(() => readEnv({ NOTIFY_CONCURRENCY: value })).toThrow(/^Invalid NOTIFY_CONCURRENCY="/);
  });
});
