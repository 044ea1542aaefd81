/**
 * A real SMTP server (the `smtp-server` package) in its own child process on a free port. The
 * child reports each message as a JSON line on stdout; the parent parses the raw MIME.
 * Run directly (`node --import tsx tests/support/smtp-server.ts`) it is that child.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface ReceivedMail {
  envelope: { from: string; to: string[] };
  raw: string;
}

export interface ParsedMail {
  envelope: ReceivedMail['envelope'];
  /** Lower-cased names; folded lines joined, encoded words decoded. */
  headers: Record<string, string>;
  messageId: string;
  subject: string;
  to: string;
  from: string;
  listUnsubscribe: string | undefined;
  listUnsubscribePost: string | undefined;
  text: string;
  html: string;
  raw: string;
}

export interface SmtpTestServer {
  url: string;
  /** Messages received so far, optionally only those whose envelope goes to `to`. */
  messages(to?: string): ParsedMail[];
  waitForMessages(count: number, options?: { to?: string; timeoutMs?: number }): Promise<ParsedMail[]>;
  stop(): Promise<void>;
}

export async function startSmtpServer(): Promise<SmtpTestServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const received: ParsedMail[] = [];
  const waiters = new Set<() => void>();
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`SMTP server process exited early (${code})`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as { ready?: number; mail?: ReceivedMail };
      if (event.ready) resolve(event.ready);
      if (event.mail) {
        received.push(parseMail(event.mail));
        for (const wake of waiters) wake();
      }
    });
  });
  const messages = (to?: string) => received.filter((m) => !to || m.envelope.to.includes(to));
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    waitForMessages(count, { to, timeoutMs = 10_000 } = {}) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (messages(to).length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(messages(to));
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`expected ${count} messages${to ? ` to ${to}` : ''}, SMTP server received ${messages(to).length}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    stop: () => stopChild(child),
  };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

// ---------------------------------------------------------------------------------------------
// MIME, just enough for what nodemailer writes: folded headers, RFC 2047 words, multipart,
// quoted-printable and base64 bodies, UTF-8.
// ---------------------------------------------------------------------------------------------

export function parseMail(mail: ReceivedMail): ParsedMail {
  const { headers, body } = splitEntity(mail.raw.replace(/\r\n/g, '\n'));
  const parts = leafParts(headers, body);
  const part = (type: string) => parts.find((p) => p.type === type)?.content ?? '';
  return {
    envelope: mail.envelope,
    headers,
    messageId: headers['message-id'] ?? '',
    subject: headers.subject ?? '',
    to: headers.to ?? '',
    from: headers.from ?? '',
    listUnsubscribe: headers['list-unsubscribe'],
    listUnsubscribePost: headers['list-unsubscribe-post'],
    text: part('text/plain'),
    html: part('text/html'),
    raw: mail.raw,
  };
}

function splitEntity(entity: string): { headers: Record<string, string>; body: string } {
  const end = entity.indexOf('\n\n');
  const head = end === -1 ? entity : entity.slice(0, end);
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = decodeWords(line.slice(colon + 1).trim());
  }
  return { headers, body: end === -1 ? '' : entity.slice(end + 2) };
}

function decodeWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[QqBb]\?[^?]*\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_, _charset: string, encoding: string, text: string) =>
      encoding.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('utf8') : decodeQuotedPrintable(text.replace(/_/g, ' ')),
    );
}

function decodeQuotedPrintable(text: string): string {
  const bytes = text
    .replace(/=\n/g, '')
    .replace(/=([0-9A-Fa-f]{2})|[^=]+|=/g, (m, hex: string | undefined) =>
      hex ? String.fromCharCode(parseInt(hex, 16)) : Buffer.from(m, 'utf8').toString('latin1'),
    );
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

function leafParts(headers: Record<string, string>, body: string): { type: string; content: string }[] {
  const contentType = headers['content-type'] ?? 'text/plain';
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type.startsWith('multipart/')) {
    const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
    if (!boundary) return [];
    const sections = body.split(`--${boundary}`).slice(1);
    return sections
      .filter((s) => !s.startsWith('--'))
      .flatMap((s) => {
        const entity = splitEntity(s.replace(/^\n/, ''));
        return leafParts(entity.headers, entity.body.replace(/\n$/, ''));
      });
  }
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const content =
    encoding === 'base64'
      ? Buffer.from(body, 'base64').toString('utf8')
      : encoding === 'quoted-printable'
        ? decodeQuotedPrintable(body)
        : body;
  return [{ type, content }];
}

// ---------------------------------------------------------------------------------------------
// The child process
// ---------------------------------------------------------------------------------------------

async function runChild(): Promise<void> {
  const { SMTPServer } = await import('smtp-server');
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const envelope = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
        };
        process.stdout.write(`${JSON.stringify({ mail: { envelope, raw: Buffer.concat(chunks).toString('utf8') } })}\n`);
        callback();
      });
    },
  });
  // A client killed mid-conversation resets its connection: that client's loss, not the server's end.
  server.on('error', () => {});
  server.listen(0, '127.0.0.1', () => {
    const address = server.server.address();
    process.stdout.write(`${JSON.stringify({ ready: typeof address === 'object' && address ? address.port : 0 })}\n`);
  });
  // The parent closing our stdin (or dying) ends us: no orphaned servers.
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runChild();
