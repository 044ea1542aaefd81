import type { Store } from '../store/contract.ts';
import type { ReferrerRow } from '../store/referrals.repo.ts';
import { messageIdFor } from './message-id.ts';
import type { EmailPayload, Sender } from './topics.ts';

/**
 * Tells the program's admin that a referrer asked for their data to be deleted. It goes to the
 * program's sender address: every program has one, it is the mailbox the program's team reads
 * and referrers reply to, while the finance address is optional and meant for money. One notice
 * per referrer per UTC day: asking again the same day queues nothing more.
 */
export async function enqueueDeletionRequestNotice(
  outbox: Store['outbox'],
  installationId: string,
  referrer: Pick<ReferrerRow, 'id' | 'name' | 'email' | 'company' | 'type'>,
  program: Sender,
  now: Date,
): Promise<boolean> {
  const at = now.toISOString();
  const deliveryKey = `portal.deletion_requested:${referrer.id}:${at.slice(0, 10)}:email`;
  const payload: EmailPayload = {
    topic: 'portal.deletion_requested',
    messageId: messageIdFor(deliveryKey),
    occurredAt: at,
    program,
    audience: 'internal',
    data: {
      referrer: { id: referrer.id, name: referrer.name, email: referrer.email, company: referrer.company, type: referrer.type },
    },
    to: { name: program.senderName, email: program.senderEmail },
  };
  const added = await outbox.add([
    {
      installationId,
      referrerId: referrer.id,
      channel: 'email',
      topic: payload.topic,
      deliveryKey,
      payload,
      status: 'pending',
      nextAttemptAt: at,
      createdAt: at,
    },
  ]);
  return added > 0;
}
