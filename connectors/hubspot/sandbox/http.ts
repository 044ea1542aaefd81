import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** A HubSpot-shaped failure; the router turns it into the HTTP answer. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(String(body.message ?? status));
  }
}

/** HubSpot's error body: `{status:"error", message, correlationId, category, ...}` (spec `Error`). */
export function hubspotError(status: number, category: string, message: string, extra: Record<string, unknown> = {}): HttpError {
  return new HttpError(status, { status: 'error', message, correlationId: randomUUID(), category, ...extra });
}

export const invalid = (message: string, extra: Record<string, unknown> = {}) => hubspotError(400, 'VALIDATION_ERROR', message, extra);
export const notFound = (message: string) => hubspotError(404, 'OBJECT_NOT_FOUND', message);

/** The `StandardError` items of a 207 batch answer. */
export function standardError(category: string, message: string, context: Record<string, string[]>) {
  return { status: 'error', category, message, context, errors: [], links: {} };
}

const MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * The raw request body. When an outer express app already parsed it (express.json / urlencoded),
 * the stream is spent, so the parsed value is turned back into bytes.
 */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const parsed = (req as IncomingMessage & { body?: unknown }).body;
  if (req.readableEnded && parsed !== undefined) {
    if (Buffer.isBuffer(parsed)) return parsed;
    if (typeof parsed === 'string') return Buffer.from(parsed);
    const form = String(req.headers['content-type'] ?? '').includes('x-www-form-urlencoded');
    return Buffer.from(form ? new URLSearchParams(parsed as Record<string, string>).toString() : JSON.stringify(parsed));
  }
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req) {
    size += (part as Buffer).length;
    if (size > MAX_BODY_BYTES) throw invalid('request body too large');
    parts.push(part as Buffer);
  }
  return Buffer.concat(parts);
}

export function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw invalid('Invalid input JSON on line 1: the request body could not be parsed');
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
