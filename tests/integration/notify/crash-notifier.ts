/**
 * One notifier pass over a SQLite file, run as its own process by crash.test.ts. It kills
 * itself with SIGKILL right after the first send on CRASH_AFTER's channel: the message left the
 * process, its outcome was never recorded.
 */
import { createSmtpEmailChannel } from '../../../src/notify/email.ts';
import { createNotifier } from '../../../src/notify/notifier.ts';
import { createWebhookChannel } from '../../../src/notify/referrer-webhooks.ts';
import { openDb } from '../../../src/store/db.ts';
import { silentLog, storeOf } from './fixtures.ts';

const { DB_PATH, SMTP_URL, CRASH_AFTER, NOW } = process.env;
if (!DB_PATH || !SMTP_URL || !CRASH_AFTER || !NOW) throw new Error('DB_PATH, SMTP_URL, CRASH_AFTER and NOW are required');

const crash = () => process.kill(process.pid, 'SIGKILL');
const email = createSmtpEmailChannel(SMTP_URL);
const webhooks = createWebhookChannel({ allowPrivateEndpoints: true });

await createNotifier({
  store: storeOf(openDb(DB_PATH)),
  email: {
    async send(message) {
      const sent = await email.send(message);
      if (CRASH_AFTER === 'email') crash();
      return sent;
    },
    close: () => email.close(),
  },
  webhooks: {
    async send(url, secret, message) {
      const sent = await webhooks.send(url, secret, message);
      if (CRASH_AFTER === 'webhook') crash();
      return sent;
    },
  },
  now: () => new Date(NOW),
  log: silentLog,
  publicBaseUrl: 'http://referloop.test',
}).runOnce();
email.close();
