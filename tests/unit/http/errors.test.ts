import express from 'express';
import { describe, expect, it } from 'vitest';
import { errorHandler } from '../../../src/http/errors.ts';

/** Answers every request by throwing `err` into the error mapper, as a library would. */
async function answerTo(err: unknown): Promise<{ status: number; body: unknown; unexpected: boolean }> {
  let unexpected = false;
  const app = express();
  app.use(() => {
    throw err;
  });
  app.use(errorHandler(() => (unexpected = true)));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}/`);
    return { status: res.status, body: await res.json(), unexpected };
  } finally {
    server.close();
  }
}

const libraryError = (status: number, message: string, fields: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), { status, statusCode: status, expose: status < 500, ...fields });

describe('the error mapper keeps the status an upstream library set', () => {
  it.each([
    [400, 'bad_request'],
    [401, 'unauthorized'],
    [403, 'forbidden'],
    [404, 'not_found'],
    [405, 'method_not_allowed'],
    [409, 'conflict'],
    [412, 'precondition_failed'],
    [413, 'payload_too_large'],
    [415, 'unsupported_media_type'],
    [416, 'range_not_satisfiable'],
    [429, 'rate_limited'],
  ])('%i → %s, with the message the library marked safe to show', async (status, code) => {
    expect(await answerTo(libraryError(status, `library says ${status}`))).toEqual({
      status,
      body: { error: { code, message: `library says ${status}`, details: {} } },
      unexpected: false,
    });
  });

  it('reads statusCode as well as status', async () => {
    expect((await answerTo(Object.assign(new Error('x'), { statusCode: 404, expose: true }))).status).toBe(404);
  });

  it("answers express's undecodable path parameter (a URIError marked 400) as a 400 that says so", async () => {
    const err = Object.assign(new URIError("Failed to decode param '%ZZ'"), { status: 400, statusCode: 400 });
    expect(await answerTo(err)).toEqual({
      status: 400,
      body: { error: { code: 'bad_request', message: 'The path has a malformed percent-escape and could not be decoded.', details: {} } },
      unexpected: false,
    });
  });

  it('hides the message of an error not marked safe to show', async () => {
    expect((await answerTo(libraryError(403, 'secret path /etc/x', { expose: false }))).body).toEqual({
      error: { code: 'forbidden', message: 'The request could not be understood.', details: {} },
    });
  });

  it('keeps a 4xx outside the table a client error (400), naming the status', async () => {
    expect(await answerTo(libraryError(418, 'teapot'))).toEqual({
      status: 400,
      body: { error: { code: 'bad_request', message: 'teapot (HTTP 418)', details: {} } },
      unexpected: false,
    });
  });

  it.each([
    ['a 5xx from a library', libraryError(502, 'upstream')],
    ['a status that is not a number', Object.assign(new Error('x'), { status: '400' })],
    ['a plain bug', new TypeError('x is undefined')],
  ])('maps %s to internal, reported as unexpected', async (_, err) => {
    expect(await answerTo(err)).toEqual({
      status: 500,
      body: { error: { code: 'internal', message: 'Something went wrong on our side.', details: {} } },
      unexpected: true,
    });
  });
});
