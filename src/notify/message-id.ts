import { createHash } from 'node:crypto';

/**
 * A stable id derived from a delivery key: a resend after a crash carries the same id, so the
 * receiver deduplicates. Hashed so internal source keys (CRM ids) never reach a referrer.
 */
export function messageIdFor(deliveryKey: string): string {
  return `msg_${createHash('sha256').update(deliveryKey).digest('base64url').slice(0, 32)}`;
}

/** RFC 5322 Message-ID in the sender's domain. */
export function emailMessageId(messageId: string, senderEmail: string): string {
  const domain = senderEmail.slice(senderEmail.lastIndexOf('@') + 1) || 'referloop.invalid';
  return `<${messageId}@${domain}>`;
}
