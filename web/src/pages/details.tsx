import { type FormEvent, useState } from 'react';
import { api, type Me } from '../api.ts';
import { useLoad } from '../app.tsx';
import { WebhookEndpoints } from './webhooks.tsx';

const NOTIFICATIONS = [
  ['every_step', 'An email at every step'],
  ['digest', 'A daily summary'],
  ['none', 'No emails'],
] as const;

export function DetailsPage({ installationId, csrf }: { installationId: string; csrf: string }) {
  const { data, error } = useLoad(() => api.me(installationId), installationId);
  if (error) return <p className="notice bad">{error}</p>;
  if (!data) return <p>Loading…</p>;
  return <DetailsForm installationId={installationId} csrf={csrf} me={data} />;
}

function DetailsForm({ installationId, csrf, me }: { installationId: string; csrf: string; me: Me }) {
  const [name, setName] = useState(me.name);
  const [notifications, setNotifications] = useState(me.notifications);
  const [payoutEmail, setPayoutEmail] = useState(me.payoutEmail ?? '');
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  const attempt = async (work: () => Promise<string>) => {
    try {
      setMessage({ ok: true, text: await work() });
    } catch (failure) {
      setMessage({ ok: false, text: failure instanceof Error ? failure.message : String(failure) });
    }
  };

  const save = (e: FormEvent) => {
    e.preventDefault();
    void attempt(async () => {
      await api.updateMe(installationId, csrf, { name, notifications, payoutEmail: payoutEmail.trim() });
      return 'Your details are saved.';
    });
  };

  const requestDeletion = () => {
    if (!window.confirm('Ask the program to delete your data? You will no longer be able to follow your referrals.')) return;
    void attempt(async () => (await api.requestDeletion(installationId, csrf)).message);
  };

  return (
    <>
      <form onSubmit={save} className="card grid">
        <label htmlFor="name">Name</label>
        <input id="name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} autoComplete="name" />
        <span className="label">Email</span>
        <span>{me.email}</span>
        <label htmlFor="payout-email">Payout email</label>
        <input
          id="payout-email"
          type="email"
          value={payoutEmail}
          onChange={(e) => setPayoutEmail(e.target.value)}
          placeholder={me.email}
          autoComplete="email"
          aria-describedby="payout-hint"
        />
        <span id="payout-hint" className="hint muted">
          Where we pay your rewards; empty means {me.email}.
        </span>
        <fieldset>
          <legend>Emails about your referrals</legend>
          {NOTIFICATIONS.map(([value, label]) => (
            <label key={value} className="choice">
              <input
                type="radio"
                name="notifications"
                value={value}
                checked={notifications === value}
                onChange={() => setNotifications(value)}
              />
              {label}
            </label>
          ))}
        </fieldset>
        <button type="submit">Save</button>
      </form>
      <WebhookEndpoints installationId={installationId} csrf={csrf} />
      <section className="card" aria-labelledby="your-data">
        <h2 id="your-data">Your data</h2>
        <p>
          <a href={api.exportUrl(installationId)} download>
            Download my data (JSON)
          </a>
        </p>
        <button type="button" className="secondary" onClick={requestDeletion}>
          Ask to delete my data
        </button>
      </section>
      <div role="status" aria-live="polite">
        {message && <p className={`notice ${message.ok ? 'ok' : 'bad'}`}>{message.text}</p>}
      </div>
    </>
  );
}
