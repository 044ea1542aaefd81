import type { OutboxRepo } from '../store/outbox.repo.ts';
import { messageIdFor } from './message-id.ts';
import type { EmailPayload, Recipient, Sender } from './topics.ts';

/**
 * Queues a portal sign-in link on the outbox, keyed by the link's hash: a retry of the same
 * request sends it once. Told to the referrer whether or not they unsubscribed from updates:
 * they asked for it.
 */
export function enqueueSignInLink(
  outbox: OutboxRepo,
  link: { installationId: string; referrerId: string; tokenHash: string; url: string; expiresAt: Date; minutes: number },
  program: Sender,
  to: Recipient,
  now: Date,
): void {
  const at = now.toISOString();
  const deliveryKey = `portal.sign_in:${link.tokenHash}:email`;
  const payload: EmailPayload = {
    topic: 'portal.sign_in',
    messageId: messageIdFor(deliveryKey),
    occurredAt: at,
    program,
    audience: 'internal',
    data: { signIn: { url: link.url, expiresAt: link.expiresAt.toISOString(), minutes: link.minutes } },
    to,
  };
  outbox.add([
    {
      installationId: link.installationId,
      referrerId: link.referrerId,
      channel: 'email',
      topic: payload.topic,
      deliveryKey,
      payload,
      status: 'pending',
      nextAttemptAt: at,
      createdAt: at,
    },
  ]);
}
