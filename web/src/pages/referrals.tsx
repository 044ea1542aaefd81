import { api, formatDate } from '../api.ts';
import { useLoad } from '../app.tsx';
import { ShareLink } from './share-link.tsx';

export function ReferralsPage({ installationId }: { installationId: string }) {
  const { data, error } = useLoad(() => api.referrals(installationId), installationId);
  if (error) return <p className="notice bad">{error}</p>;
  if (!data) return <p>Loading…</p>;
  if (data.items.length === 0)
    return (
      <>
        <ShareLink installationId={installationId} />
        <p>You have not referred anyone yet.</p>
      </>
    );
  return (
    <>
      <ShareLink installationId={installationId} />
      <ul className="cards">
        {data.items.map((r) => (
          <li key={r.id} className="card">
            <h2>
              {r.referee.name}
              {r.referee.company && <span className="muted"> · {r.referee.company}</span>}
            </h2>
            <p className={`status status-${r.status}`}>{r.statusText}</p>
            {r.claimWaiting && <p className="notice">Your claim on their open deal is waiting for the team's approval.</p>}
            <p className="muted">
              Referred on {formatDate(r.submittedAt)} · {r.program.name}
            </p>
            {r.timeline.length > 0 && (
              <ol className="timeline" aria-label={`Timeline of ${r.referee.name}`}>
                {r.timeline.map((step) => (
                  <li key={`${step.status}-${step.at}`}>
                    <time dateTime={step.at}>{formatDate(step.at)}</time> {step.statusText}
                  </li>
                ))}
              </ol>
            )}
          </li>
        ))}
      </ul>
    </>
  );
}
