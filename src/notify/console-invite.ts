import type { OutboxRepo } from '../store/outbox.repo.ts';
import { messageIdFor } from './message-id.ts';
import type { EmailPayload, Recipient, Sender } from './topics.ts';

/**
 * Queues a console invite on the outbox, keyed by its link's hash: a retry of the same invite
 * sends it once, a new invite (a new link) sends again.
 */
export function enqueueConsoleInvite(
  outbox: OutboxRepo,
  invite: { installationId: string; tokenHash: string; url: string; expiresAt: Date; hours: number; role: string; invitedBy: string },
  program: Sender,
  to: Recipient,
  now: Date,
): void {
  const at = now.toISOString();
  const deliveryKey = `console.invite:${invite.tokenHash}:email`;
  const payload: EmailPayload = {
    topic: 'console.invite',
    messageId: messageIdFor(deliveryKey),
    occurredAt: at,
    program,
    audience: 'internal',
    data: {
      consoleInvite: {
        url: invite.url,
        expiresAt: invite.expiresAt.toISOString(),
        hours: invite.hours,
        role: invite.role,
        invitedBy: invite.invitedBy,
      },
    },
    to,
  };
  outbox.add([
    {
      installationId: invite.installationId,
      referrerId: null,
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

/** Queues a console sign-in link a user asked for, keyed by its hash like the portal's. */
export function enqueueConsoleSignIn(
  outbox: OutboxRepo,
  link: { installationId: string; tokenHash: string; url: string; expiresAt: Date; minutes: number },
  program: Sender,
  to: Recipient,
  now: Date,
): void {
  const at = now.toISOString();
  const deliveryKey = `console.sign_in:${link.tokenHash}:email`;
  const payload: EmailPayload = {
    topic: 'console.sign_in',
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
      referrerId: null,
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
