import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.ts';
import { eventually } from '../support/service.ts';

const bin = resolve(import.meta.dirname, '../../src/referloop.mjs');

describe('npm start on an empty folder', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'referloop-first-start-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  it('creates its data, prints the admin token once, serves /healthz within seconds, and stops cleanly', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const started = Date.now();
    const child = spawn(process.execPath, [bin, 'serve'], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: cwd, PORT: String(port), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    try {
      await eventually(
        async () => ((await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200 ? true : undefined),
        20_000,
        '/healthz',
      );
      expect(Date.now() - started).toBeLessThan(20_000);
      const token = readFileSync(join(cwd, 'data/admin-token'), 'utf8').trim();
      expect(output).toContain(token);
      expect(existsSync(join(cwd, 'data/referloop.db'))).toBe(true);
      expect(existsSync(join(cwd, 'data/encryption.key'))).toBe(true);
      // The sandbox HubSpot was installed through OAuth, so the API works at once.
      const installations = await eventually(async () => {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/installations`, { headers: { authorization: `Bearer ${token}` } });
        const list = (await res.json()) as unknown[];
        return list.length ? list : undefined;
      });
      expect(installations).toEqual([expect.objectContaining({ crm: 'hubspot', status: 'active' })]);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('stops with one line naming a wrong setting', async () => {
    const child = spawn(process.execPath, [bin, 'serve'], {
      cwd,
      env: { PATH: process.env.PATH ?? '', PORT: 'eighty' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/PORT="eighty".*port number/);
  });

  it('stops with one line naming the missing half of a CRM credential pair, having created nothing', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'referloop-half-configured-'));
    try {
      const child = spawn(process.execPath, [bin, 'serve'], {
        cwd: empty,
        env: { PATH: process.env.PATH ?? '', HOME: empty, HUBSPOT_CLIENT_ID: 'my-app-client-id' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((r) => child.once('exit', r));
      expect(code).toBe(2);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(/^referloop: HUBSPOT_CLIENT_SECRET is not set, but HUBSPOT_CLIENT_ID is/);
      expect(existsSync(join(empty, 'data'))).toBe(false);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
