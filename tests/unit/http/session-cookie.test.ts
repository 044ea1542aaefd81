import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { cookieValue, SESSION_COOKIE } from '../../../src/http/sessions.ts';

const withCookie = (header: string) => ({ get: (name: string) => (name === 'cookie' ? header : undefined) }) as unknown as Request;

describe('reading the session cookie', () => {
  it.each([
    ['the only cookie', `${SESSION_COOKIE}=abc`, 'abc'],
    ['among others, with = in its value', `theme=dark; ${SESSION_COOKIE}=a%3Db=c; x=1`, 'a=b=c'],
    ['absent', 'theme=dark', undefined],
    ['with a malformed %-escape (no session, never a 500)', `${SESSION_COOKIE}=%E0%A4%A`, undefined],
  ])('%s', (_case, header, expected) => {
    expect(cookieValue(withCookie(header), SESSION_COOKIE)).toBe(expected);
  });
});
