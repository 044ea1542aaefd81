import { CrmError, type CrmClient } from '../../connectors/connector.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/index.ts';
import type { OutboxRow, OutboxSettlement } from '../store/outbox.repo.ts';
import type { WebhookEndpointRow } from '../store/referrer-webhook-endpoints.repo.ts';
import type { EmailChannel } from './email.ts';
import { enqueueEndpointDisabledNotice } from './enqueue.ts';
import { emailMessageId, messageIdFor } from './message-id.ts';
import { signInLinkUrl } from './portal-link.ts';
import { renderDigest, renderEmail, renderNote } from './templates.ts';
import type { CrmPayload, EmailPayload, WebhookPayload } from './topics.ts';
import { createWebhookChannel, type WebhookChannel } from './referrer-webhooks.ts';

export interface DeliveryPolicy {
  /** Retry a message this long; a webhook endpoint failing this long is disabled. */
  maxAgeMs: number;
  /** How long a claim holds; a crashed notifier's messages are taken over after it. */
  leaseMs: number;
  /** Exponential: baseMs · 2^(attempt−1), capped at maxMs, then jittered down by up to half. */
  backoff: { baseMs: number; maxMs: number };
}

export const DEFAULT_POLICY: DeliveryPolicy = {
  maxAgeMs: 24 * 60 * 60_000,
  leaseMs: 2 * 60_000,
  backoff: { baseMs: 30_000, maxMs: 60 * 60_000 },
};

export interface NotifierDeps {
  store: Store;
  /** null when SMTP_URL is unset: messages are rendered into the delivery log and marked delivered. */
  email: EmailChannel | null;
  /** Defaults to signed POSTs that refuse private addresses unless `allowPrivateEndpoints`. */
  webhooks?: WebhookChannel;
  allowPrivateEndpoints?: boolean;
  /** The installation's CRM client (null: not connected, retried); absent: CRM notes are skipped. */
  crm?: (installationId: string) => Promise<Pick<CrmClient, 'addTimelineNote' | 'addCompanyNote'> | null>;
  now?: () => Date;
  log: Logger;
  /** For the unsubscribe and portal links. */
  publicBaseUrl: string;
  /** How long the sign-in link in a referrer email works (MAGIC_LINK_TTL_MINUTES, as for links asked for). */
  signInLinkTtlMs?: number;
  policy?: Partial<DeliveryPolicy>;
  /**
   * Deliveries in flight at once (NOTIFY_CONCURRENCY), each on a message it claimed: a delivery
   * mostly waits on an SMTP server or a referrer's endpoint, so one at a time leaves the process idle.
   */
  concurrency?: number;
}

export interface RunResult {
  /** Outbox rows delivered (a digest counts each row it carries). */
  delivered: number;
  /** Outbox rows whose attempt failed (retried later or given up). */
  failed: number;
  /** Webhook endpoints disabled. */
  disabled: number;
}

export interface Notifier {
  runOnce(limit?: number): Promise<RunResult>;
  start(intervalMs: number): { stop(): Promise<void> };
}

type Outcome =
  | { kind: 'delivered'; detail: string }
  | { kind: 'suppressed'; detail: string }
  | { kind: 'failed'; detail: string; retryable: boolean; retryAfterMs?: number };

/**
 * Delivers the outbox: each of `concurrency` lanes claims one due message at a time with a lease,
 * sends it, then records the attempt. A crash between send and record leaves the claim to expire and the message is sent
 * again with the same Message-ID / webhook-id, which receivers deduplicate on.
 */
export function createNotifier(deps: NotifierDeps): Notifier {
  const { store, log } = deps;
  const outboxStore = store.outbox;
  const endpoints = store.referrerWebhookEndpoints;
  const clock = deps.now ?? (() => new Date());
  const policy: DeliveryPolicy = { ...DEFAULT_POLICY, ...deps.policy };
  const webhooks = deps.webhooks ?? createWebhookChannel({ allowPrivateEndpoints: deps.allowPrivateEndpoints ?? false });
  const baseUrl = deps.publicBaseUrl.replace(/\/+$/, '');
  const signInLinkTtlMs = deps.signInLinkTtlMs ?? 15 * 60_000;

  /**
   * The next message (or a digest referrer's held emails, which leave together as one summary),
   * claimed with a lease in one step of the store's own: on PostgreSQL, notifiers on other
   * machines pass over what this one is claiming instead of waiting for it or conflicting with it.
   */
  async function claimNext(now: Date): Promise<OutboxRow[]> {
    return await outboxStore.claimNext(now.toISOString(), new Date(now.getTime() + policy.leaseMs).toISOString());
  }

  async function deliver(rows: OutboxRow[], now: Date): Promise<Outcome> {
    const row = rows[0]!;
    switch (row.channel) {
      case 'email':
        return deliverEmail(rows, now);
      case 'webhook':
        return deliverWebhook(row, now);
      case 'crm':
        return deliverCrm(row);
    }
  }

  async function deliverEmail(rows: OutboxRow[], now: Date): Promise<Outcome> {
    const payloads = rows.map((r) => r.payload as EmailPayload);
    const latest = payloads[payloads.length - 1]!;
    const referrerId = rows[0]!.referrerId;
    let unsubscribeUrl: string | undefined;
    let portalUrl: string | undefined;
    if (latest.audience === 'referrer' && referrerId) {
      // Read now, not at enqueue: an unsubscribe while a message waits (a digest) still counts.
      const referrer = await outboxStore.emailPreferences(referrerId);
      if (!referrer) return { kind: 'suppressed', detail: 'referrer no longer exists' };
      if (referrer.emailOptOut) return { kind: 'suppressed', detail: 'referrer unsubscribed from email' };
      unsubscribeUrl = `${baseUrl}/unsubscribe/${encodeURIComponent(referrerId)}?key=${encodeURIComponent(referrer.accessKey)}`;
      // An ask's link lands on its page, where the champion refers their peers.
      const landing = rows.length === 1 && latest.data.ask ? `ask/${latest.data.ask.id}` : undefined;
      portalUrl = await mintSignInLink(rows[0]!.installationId, referrerId, latest.to.email, now, landing);
    }
    const digest = latest.digestAt !== undefined;
    const rendered = digest ? renderDigest(payloads, unsubscribeUrl, portalUrl) : renderEmail(latest, unsubscribeUrl, portalUrl);
    if (!deps.email) {
      log.info({ outboxIds: rows.map((r) => r.id), topic: latest.topic }, 'email logged, not sent (SMTP_URL unset)');
      return { kind: 'delivered', detail: `delivered (logged)\nSubject: ${rendered.subject}\n\n${rendered.text}` };
    }
    const { response } = await deps.email.send({
      from: { name: latest.program.senderName, address: latest.program.senderEmail },
      to: { name: latest.to.name, address: latest.to.email },
      subject: rendered.subject,
      text: rendered.text,
      html: rendered.html,
      messageId: emailMessageId(
        digest ? messageIdFor(rows.map((r) => r.deliveryKey).join('\n')) : latest.messageId,
        latest.program.senderEmail,
      ),
      date: now,
      // RFC 8058 one-click unsubscribe; the same URL serves the confirmation page on GET.
      headers: unsubscribeUrl ? { 'List-Unsubscribe': `<${unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } : {},
    });
    return { kind: 'delivered', detail: `SMTP ${response}` };
  }

  /**
   * Every referrer email signs its reader in to this installation's portal. The link is minted as the
   * email is sent, so the outbox never holds a token and a retry sends a fresh one; a used or expired
   * link lands on the page that offers a fresh one.
   */
  async function mintSignInLink(installationId: string, referrerId: string, address: string, now: Date, landing?: string): Promise<string> {
    const token = await store.sessions.addLink({
      installationId,
      email: address,
      referrerId,
      ip: 'notifier',
      origin: 'email',
      expiresAt: new Date(now.getTime() + signInLinkTtlMs).toISOString(),
      createdAt: now.toISOString(),
    });
    return signInLinkUrl(baseUrl, installationId, token, landing);
  }

  async function deliverWebhook(row: OutboxRow, now: Date): Promise<Outcome> {
    const payload = row.payload as WebhookPayload;
    const endpoint = await endpoints.get(payload.endpointId);
    if (!endpoint) return { kind: 'suppressed', detail: 'webhook endpoint deleted' };
    if (endpoint.status === 'disabled') return { kind: 'failed', detail: 'webhook endpoint disabled', retryable: false };
    const body = JSON.stringify({ type: payload.topic, id: payload.messageId, timestamp: payload.occurredAt, data: payload.data });
    const result = await webhooks.send(endpoint.url, store.cipher.decrypt(endpoint.secretEnc), {
      id: payload.messageId,
      timestamp: now,
      body,
    });
    return result.ok ? { kind: 'delivered', detail: `HTTP ${result.status}` } : { kind: 'failed', detail: result.error, retryable: true };
  }

  async function deliverCrm(row: OutboxRow): Promise<Outcome> {
    if (!deps.crm) return { kind: 'suppressed', detail: 'no CRM connection configured' };
    const client = await deps.crm(row.installationId);
    if (!client) return { kind: 'failed', detail: 'the installation has no working CRM connection', retryable: true };
    const payload = row.payload as CrmPayload;
    const note = renderNote(payload);
    if (payload.company) {
      await client.addCompanyNote({ companyId: payload.company.id, title: note.title, body: note.body, idempotencyKey: row.deliveryKey });
      return { kind: 'delivered', detail: 'CRM company timeline note written' };
    }
    await client.addTimelineNote({ person: payload.person, title: note.title, body: note.body, idempotencyKey: row.deliveryKey });
    return { kind: 'delivered', detail: 'CRM timeline note written' };
  }

  /** Records the attempt and the next state; returns whether a webhook endpoint got disabled. */
  async function record(rows: OutboxRow[], outcome: Outcome, now: Date): Promise<boolean> {
    const at = now.toISOString();
    const ids = rows.map((r) => r.id);
    const first = rows[0]!;
    return await store.transaction(async () => {
      await outboxStore.recordAttempts(
        rows.map((r) => ({ outboxId: r.id, attempt: r.attempts, ok: outcome.kind === 'delivered', detail: outcome.detail, at })),
      );
      const settle = async (next: OutboxSettlement) => await outboxStore.settle(ids, next);
      const endpoint = first.channel === 'webhook' ? await endpoints.get((first.payload as WebhookPayload).endpointId) : undefined;

      if (outcome.kind === 'delivered') {
        await settle({ status: 'delivered', deliveredAt: at, lastError: null });
        if (endpoint?.failingSince) await endpoints.setFailingSince(endpoint.id, null);
        return false;
      }
      if (outcome.kind === 'suppressed') {
        await settle({ status: 'suppressed', lastError: outcome.detail });
        return false;
      }
      if (endpoint?.status === 'enabled') {
        const failingSince = endpoint.failingSince ?? at;
        if (now.getTime() - Date.parse(failingSince) >= policy.maxAgeMs) {
          await disableEndpoint(endpoint, first, failingSince, outcome.detail, now);
          await settle({ status: 'failed', lastError: outcome.detail });
          return true;
        }
        if (!endpoint.failingSince) await endpoints.setFailingSince(endpoint.id, failingSince);
      }
      const oldest = Math.min(...rows.map((r) => Date.parse(r.createdAt)));
      // Keep trying until an attempt happens at or after maxAge, so a failing endpoint reaches it.
      if (!outcome.retryable || now.getTime() - oldest >= policy.maxAgeMs) {
        await settle({ status: 'failed', lastError: outcome.detail });
      } else {
        const delay = Math.max(backoffMs(Math.max(...rows.map((r) => r.attempts))), outcome.retryAfterMs ?? 0);
        await settle({ status: 'pending', nextAttemptAt: new Date(now.getTime() + delay).toISOString(), lastError: outcome.detail });
      }
      return false;
    });
  }

  async function disableEndpoint(
    endpoint: WebhookEndpointRow,
    row: OutboxRow,
    failingSince: string,
    lastError: string,
    now: Date,
  ): Promise<void> {
    const at = now.toISOString();
    const disabledReason = `Every delivery failed since ${failingSince}; last error: ${lastError}`;
    await endpoints.disable(endpoint, failingSince, disabledReason);
    await store.audit.record({
      installationId: endpoint.installationId,
      actor: 'notifier',
      action: 'webhook_endpoint.disabled',
      subjectType: 'webhook_endpoint',
      subjectId: endpoint.id,
      before: { status: 'enabled', failingSince },
      after: { status: 'disabled', disabledReason },
      at,
    });
    const referrer = await store.referrals.referrer(endpoint.referrerId);
    await enqueueEndpointDisabledNotice(
      outboxStore,
      {
        installationId: endpoint.installationId,
        program: (row.payload as WebhookPayload).program,
        endpoint: { id: endpoint.id, url: endpoint.url, failingSince, lastError },
        referrer,
      },
      now,
    );
    log.warn({ endpointId: endpoint.id, failingSince }, 'webhook endpoint disabled after failing for the maximum age');
  }

  function backoffMs(attempt: number): number {
    const { baseMs, maxMs } = policy.backoff;
    return Math.min(maxMs, baseMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
  }

  /** Up to `limit` claims, `concurrency` deliveries at a time; the store's claim keeps two from taking one message. */
  async function runOnce(limit = 100): Promise<RunResult> {
    const result: RunResult = { delivered: 0, failed: 0, disabled: 0 };
    let claims = limit;
    const lane = async () => {
      while (claims > 0) {
        claims--;
        const rows = await claimNext(clock());
        if (rows.length === 0) return;
        const outcome = await deliver(rows, clock()).catch(failure);
        if (await record(rows, outcome, clock())) result.disabled++;
        if (outcome.kind === 'delivered') result.delivered += rows.length;
        if (outcome.kind === 'failed') {
          result.failed += rows.length;
          log.warn({ outboxIds: rows.map((r) => r.id), channel: rows[0]!.channel, error: outcome.detail }, 'notification delivery failed');
        }
      }
    };
    // Every lane ends before the run does (the next run must not start beside one still going).
    const lanes = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(deps.concurrency ?? 1, limit)) }, lane));
    const failed = lanes.find((l) => l.status === 'rejected');
    if (failed) throw failed.reason;
    return result;
  }

  function start(intervalMs: number): { stop(): Promise<void> } {
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    let current: Promise<void> = Promise.resolve();
    const tick = () => {
      current = runOnce()
        .then(
          () => undefined,
          (err: unknown) => log.error({ err }, 'notifier run failed'),
        )
        .finally(() => {
          if (!stopped) timer = setTimeout(tick, intervalMs);
        });
    };
    tick();
    return {
      async stop() {
        stopped = true;
        clearTimeout(timer);
        await current;
      },
    };
  }

  return { runOnce, start };
}

function failure(err: unknown): Outcome {
  if (err instanceof CrmError) {
    return {
      kind: 'failed',
      detail: `${err.code}: ${err.message}`,
      retryable: err.retryable,
      ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}),
    };
  }
  const smtpCode = (err as { responseCode?: unknown } | null)?.responseCode;
  // An SMTP 5xx is permanent (no such mailbox); anything else may pass later.
  return {
    kind: 'failed',
    detail: err instanceof Error ? err.message : String(err),
    retryable: !(typeof smtpCode === 'number' && smtpCode >= 500),
  };
}
