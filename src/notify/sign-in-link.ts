import type { Store } from '../store/contract.ts';
import { messageIdFor } from './message-id.ts';
import type { EmailPayload, Recipient, Sender } from './topics.ts';

/**
 * Queues an email carrying a single-use link (a portal or console sign-in, a console invite) on
 * the outbox, keyed by the link's hash: a retry of the same request sends it once, a new link sends
 * again. Told whether or not the recipient unsubscribed from updates: they asked for it.
 */
export async function enqueueLinkEmail(
  outbox: Store['outbox'],
  email: {
    topic: 'portal.sign_in' | 'console.sign_in' | 'console.invite';
    installationId: string;
    referrerId: string | null;
    tokenHash: string;
    data: EmailPayload['data'];
  },
  program: Sender,
  to: Recipient,
  now: Date,
): Promise<void> {
  const at = now.toISOString();
  const deliveryKey = `${email.topic}:${email.tokenHash}:email`;
  const payload: EmailPayload = {
    topic: email.topic,
    messageId: messageIdFor(deliveryKey),
    occurredAt: at,
    program,
    audience: 'internal',
    data: email.data,
    to,
  };
  await outbox.add([
    {
      installationId: email.installationId,
      referrerId: email.referrerId,
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
