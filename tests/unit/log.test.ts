import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger({ level: 'info', destination }), lines };
}

describe('structured logs', () => {
  it('never print tokens, secrets or referee personal data', () => {
    const { log, lines } = capture();
    log.info(
      {
        tokens: { accessToken: 'at-123', refreshToken: 'rt-456' },
        clientSecret: 'shh',
        referee: { email: 'jordan@acme.com', firstName: 'Jordan' },
        headers: { authorization: 'Bearer rl_admin_x' },
        installationId: 'inst_1',
      },
      'working',
    );
    const text = JSON.stringify(lines);
    for (const secret of ['at-123', 'rt-456', 'shh', 'jordan@acme.com', 'Jordan', 'rl_admin_x']) expect(text).not.toContain(secret);
    expect(text).toContain('inst_1');
  });
});
