import nodemailer from 'nodemailer';

export interface OutgoingEmail {
  from: { name: string; address: string };
  to: { name: string; address: string };
  subject: string;
  text: string;
  html: string;
  /** Derived from the delivery key, so a resend after a crash is recognisably the same message. */
  messageId: string;
  date: Date;
  headers: Record<string, string>;
}

/** The email port: SMTP in production and tests, or null when SMTP_URL is unset (logged only). */
export interface EmailChannel {
  send(email: OutgoingEmail): Promise<{ response: string }>;
  close(): void;
}

/**
 * nodemailer over `SMTP_URL` (e.g. `smtp://user:pass@host:587`; query options as nodemailer reads them). Timeouts are kept well under
 * the notifier's lease so a hung server cannot outlive the claim on the message.
 * https://nodemailer.com/smtp/
 */
export function createSmtpEmailChannel(smtpUrl: string): EmailChannel {
  const transport = nodemailer.createTransport({
    url: smtpUrl,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  return {
    async send(email) {
      const info = await transport.sendMail({
        from: email.from,
        to: email.to,
        subject: email.subject,
        text: email.text,
        html: email.html,
        messageId: email.messageId,
        date: email.date,
        headers: email.headers,
      });
      return { response: String(info.response) };
    },
    close() {
      transport.close();
    },
  };
}
