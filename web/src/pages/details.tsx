import { api } from '../api.ts';
import { useLoad } from '../app.tsx';

const NOTIFICATION_WORDS = { every_step: 'An email at every step', digest: 'A daily summary', none: 'No emails' } as const;

export function DetailsPage({ installationId }: { installationId: string }) {
  const { data, error } = useLoad(() => api.me(installationId), installationId);
  if (error) return <p className="notice bad">{error}</p>;
  if (!data) return <p>Loading…</p>;
  return (
    <dl className="card details">
      <dt>Name</dt>
      <dd>{data.name}</dd>
      <dt>Email</dt>
      <dd>{data.email}</dd>
      <dt>Company</dt>
      <dd>{data.company ?? '—'}</dd>
      <dt>Notifications</dt>
      <dd>{NOTIFICATION_WORDS[data.notifications]}</dd>
    </dl>
  );
}
