/** What a request logs, the use case it calls included, carries its request id. */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { startTestService, type TestService } from '../support/service.ts';

const lines: Record<string, unknown>[] = [];
const destination = new Writable({
  write(chunk: Buffer, _enc, done) {
    lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
    done();
  },
});

let svc: TestService;
beforeAll(async () => {
  svc = await startTestService({}, { log: createLogger({ level: 'info', destination }) });
});
afterAll(async () => svc?.stop());

describe('request logs', () => {
  it('the request line and the webhook refusal carry the request id', async () => {
    const res = await fetch(`${svc.url}/webhooks/hubspot`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'req-log-1' },
      body: '[]',
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-request-id')).toBe('req-log-1');
    await expect.poll(() => lines.filter((l) => l.requestId === 'req-log-1').map((l) => l.msg)).toEqual(['webhook refused', 'request']);
    expect(lines.find((l) => l.msg === 'request' && l.requestId === 'req-log-1')).toMatchObject({
      method: 'POST',
      path: '/webhooks/hubspot',
      status: 401,
    });
  });

  it('a request without an id gets one', async () => {
    const res = await fetch(`${svc.url}/healthz`);
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await expect.poll(() => lines.some((l) => l.msg === 'request' && l.requestId === id)).toBe(true);
  });
});
